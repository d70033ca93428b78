// Which models a run uses. Its own module, free of the runtime: the page's main bundle reads it (the URL, the
// settings) while only the worker loads the engine and onnxruntime-web.

/** The models of a pair, in the order they run. */
export type ModelKind = 'diffusion' | 'block' | 'ar';

/** Which models run: one, the diffusion and AR pair (both), or every model of the pair (all). */
export type Mode = 'diffusion' | 'block' | 'ar' | 'both' | 'all';
export const MODES: readonly Mode[] = ['all', 'both', 'diffusion', 'block', 'ar'];
