// What the page runs when the visitor changes nothing: one definition, used by the page (AppState), the command
// line (npm run generate) and the quality eval (npm run eval), so the eval can never measure something the page
// does not do. The sampler's own defaults (options.ts) say what an option means when it is left out; this says
// which values the demo shows for a given pair.
import type { CacheMode } from './models/caches.ts';
import {
  AR_DEFAULTS,
  DIFFUSION_DEFAULTS,
  defaultBlockLength,
  resolveArOptions,
  resolveDiffusionOptions,
  type ArOptions,
  type DiffusionOptions,
} from './sampler/options.ts';

/** What the page's settings depend on: facts of the loaded pair (EngineInfo has them). */
export interface PairFacts {
  /** The pair's canvas length (its manifest genLength). */
  genLength: number;
  /** The denoiser has a cached graph, so Fast-dLLM's caches can run. */
  cachedGraph: boolean;
  /** Published models converted by export_hf.py: their own recommended settings apply (CONVERTED_SETTINGS). */
  converted?: boolean;
}

/**
 * dLLM's settings for its A2D models (examples/a2d/{mdlm,bd3lm}/sample.py and chat.py): greedy, low-confidence
 * remasking with its own schedule, blocks of 32, one token per step, no early end-of-text decision, and MDLM without
 * a cache (dLLM's MDLMSampler has none; Fast-dLLM's dual cache is a choice in Settings, an approximation: README);
 * the canvas is the manifest's length (128, its max_new_tokens), not the context (40,960 for Qwen3). The BD3LM keeps
 * its exact cache (blockModelOptions), as dLLM's BD3LMSampler does.
 */
export const CONVERTED_SETTINGS: Partial<DiffusionOptions> = {
  cache: 'off',
  temperature: 0,
  schedule: 'dllm',
  endOfTextAhead: null,
  fillContext: false,
};
export const CONVERTED_BLOCK = 32;

/**
 * The dual cache where the model has one: measured at these settings on both prompt sets of `npm run eval`
 * (docs/sweep/cache.md), it computes ~4x fewer positions per story at no loss the gates can see.
 */
export const PAGE_CACHE: CacheMode = 'dual';

/**
 * The canvas runs to the context end: the models were trained on context-long sequences only, and with the
 * canvas filling the context the old pair ended 94% / 62% of texts cleanly on the two eval sets instead of
 * 84% / 42% with a fixed 224-position canvas, at the same or lower gen-PPL (docs/sweep/canvas.md). A length
 * given explicitly (a link, --gen-length) turns it off unless fillContext is given too.
 */
export const PAGE_FILL_CONTEXT = true;

export interface PageSettings {
  diffusion: DiffusionOptions;
  ar: ArOptions;
}

/**
 * The settings the page starts from for a pair, with `overrides` (a link's or the command line's) on top. A
 * length given without steps or blocks keeps the page's rule for them: one token per step, the default blocks.
 */
export function pageSettings(
  pair: PairFacts,
  overrides: { diffusion?: Partial<DiffusionOptions>; ar?: Partial<ArOptions> } = {},
): PageSettings {
  const given = overrides.diffusion ?? {};
  const genLength = given.genLength ?? pair.genLength;
  const diffusion = resolveDiffusionOptions({
    ...DIFFUSION_DEFAULTS,
    genLength,
    steps: genLength,
    blockLength: defaultBlockLength(genLength),
    cache: pair.cachedGraph ? PAGE_CACHE : 'off',
    fillContext: given.genLength === undefined && PAGE_FILL_CONTEXT,
    ...(pair.converted
      ? { ...CONVERTED_SETTINGS, blockLength: genLength % CONVERTED_BLOCK ? genLength : CONVERTED_BLOCK }
      : {}),
    ...given,
  });
  const ar = resolveArOptions({
    ...AR_DEFAULTS,
    maxNewTokens: genLength,
    // token choice is the diffusion model's, so the comparison is fair
    temperature: diffusion.temperature,
    topK: diffusion.topK,
    topP: diffusion.topP,
    seed: diffusion.seed,
    minLength: diffusion.minLength,
    fillContext: diffusion.fillContext && overrides.ar?.maxNewTokens === undefined,
    ...overrides.ar,
  });
  return { diffusion, ar };
}
