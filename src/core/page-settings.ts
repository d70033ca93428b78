// What the page runs when the visitor changes nothing: one definition, used by the page (AppState), the command
// line (npm run generate) and the quality eval (npm run eval), so the eval can never measure something the page
// does not do. The sampler's own defaults (options.ts) say what an option means when it is left out; this says
// which values the demo shows for a given pair.
import type { CacheMode } from './models/caches.ts';
import {
  AR_DEFAULTS,
  DIFFUSION_DEFAULTS,
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
  decideLength: false,
  noRepeatNgram: 0,
  frequencyPenalty: 0,
  fillContext: false,
};
export const CONVERTED_BLOCK = 32;

/**
 * The outline: what the page's diffusion run does with an embedded pair (issue 25). One block over the whole canvas,
 * its length decided at the first step (the tail becomes end-of-text at once), then the surest guess anywhere at each
 * step, a guess that would repeat four tokens already on the canvas ranked last, and every word a little less likely
 * for each time it is already written. Measured on both prompt sets of `npm run eval` (docs/sweep/large-blocks.md):
 * the only out-of-order setting that ends its texts, does not loop and keeps the AR model's variety; blocks of 4
 * (the old default) write left to right, a diagonal like the AR model's.
 */
export const PAGE_OUTLINE: Partial<DiffusionOptions> = {
  decideLength: true,
  endOfTextAhead: null,
  noRepeatNgram: 4,
  frequencyPenalty: 0.2,
};

/** The outline's options off: the plain sampler (what the page's other presets start from). */
const OUTLINE_OFF: Partial<DiffusionOptions> = { decideLength: false, noRepeatNgram: 0, frequencyPenalty: 0 };

/**
 * The page's default before the outline: left to right in blocks of 4, the length set at the first step where the
 * model is sure of end-of-text after the current block (a preset; the bench's reference row).
 */
export const LEFT_TO_RIGHT: Partial<DiffusionOptions> = { ...OUTLINE_OFF, blockLength: 4, endOfTextAhead: 0.5 };

/**
 * Blocks of 32, out of order inside each block, with the outline's defences: the length decided at the first step,
 * a guess that would repeat four tokens ranked last, the frequency penalty (a preset, gated by `npm run eval`; the
 * bench's reference row). Without them blocks of 32 looped (doom loops 6-12%, repeated 4-grams 0.12-0.20, clean
 * endings 62% of visitor openings) and failed 7 of the row's 10 gates; with them, 1 (docs/sweep/large-blocks.md).
 */
export const BLOCKS_OF_32: Partial<DiffusionOptions> = { ...PAGE_OUTLINE, blockLength: 32 };

/**
 * The local cache where the model has one: over one block, Fast-dLLM's dual cache would recompute the whole canvas
 * at every step; the local cache recomputes only the tokens just written and the masks within 8 positions of them,
 * with a full pass every 8 steps, and the sampler keeps the other masks' last predictions (caches.ts): a third of
 * the sparse cache's positions, about a sixth of full passes'. Measured on both sets of `npm run eval`
 * (docs/sweep/large-blocks.md): every gate of the page's row still passes (gen-PPL 1.47x the AR model's on the
 * validation openings against 1.39x with the sparse cache, which computes every mask at every step).
 */
export const PAGE_CACHE: CacheMode = 'local';

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
 * length given without steps or blocks keeps the page's rule for them: one token per step, one block.
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
    blockLength: genLength,
    ...PAGE_OUTLINE,
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
