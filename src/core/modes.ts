// The model kinds of a pair and which of them a run uses: the one table the engine, the worker, the CLI and the
// page share. Its own module, free of the runtime: the page's main bundle reads it (the URL, the settings) while
// only the worker loads the engine and onnxruntime-web.

/** The models of a pair, in the order they run. */
export type ModelKind = 'diffusion' | 'block' | 'ar';
export const MODEL_KINDS: readonly ModelKind[] = ['diffusion', 'block', 'ar'];

/** Which models run: one, the diffusion and AR pair (both), or every model of the pair (all). */
export type Mode = 'diffusion' | 'block' | 'ar' | 'both' | 'all';
export const MODES: readonly Mode[] = ['all', 'both', 'diffusion', 'block', 'ar'];

/** The kinds a mode runs, in the order they run. */
export const KINDS_OF_MODE: Record<Mode, readonly ModelKind[]> = {
  diffusion: ['diffusion'],
  block: ['block'],
  ar: ['ar'],
  both: ['diffusion', 'ar'],
  all: ['diffusion', 'block', 'ar'],
};

/** One value per model kind (a run's traces, the reasons a kind did not run, the page's panels). */
export type PerKind<T> = Partial<Record<ModelKind, T>>;

/** One value for every model kind, in the kinds' order. */
export function perKind<T>(of: (kind: ModelKind) => T): Record<ModelKind, T> {
  return Object.fromEntries(MODEL_KINDS.map((kind) => [kind, of(kind)])) as Record<ModelKind, T>;
}
