// Sampler options: defaults, and validation that names the option, the allowed range and, for values
// that must divide, the values that would work. Unknown keys are errors, never silently ignored.
import { OptionError, UnknownOptionError } from '../errors.ts';
import { CACHE_MODES, type CacheMode } from '../models/caches.ts';
import type { ConfidenceKind } from './sampling.ts';

export type EditMode = 'off' | 'threshold' | 'remdm';
export type EditAction = 'remask' | 'replace';
/**
 * How many masks the fixed schedule commits per step: LLaDA's even split, Dream's time-based one, or the dLLM
 * library's (its A2D models' sampler: the linear schedule rounded half to even).
 */
export type StepSchedule = 'llada' | 'dream' | 'dllm';

export interface DiffusionOptions {
  /** Masked positions appended after the prompt (1..context - prompt). */
  genLength: number;
  /** Denoising steps in total for the fixed schedule; a multiple of the number of blocks, at most genLength. */
  steps: number;
  /** Semi-autoregressive block size; divides genLength. genLength = one block (pure diffusion). Default: see defaultBlockLength. */
  blockLength: number;
  /**
   * Fixed schedule only: llada commits floor(N/S) + [i < N mod S] of a block's N masks at step i of S; dream
   * commits int(n (1 - s/t)) of the n left as time goes t -> s from 1 to eps (fewer early, more late); dllm commits
   * round(n (1 - s/t)) of the n left, t from 1 to 0, dropping steps that would commit none (dllmTransferCounts).
   */
  schedule: StepSchedule;
  /** How sure the model is of a position: probability, margin, entropy, or random order. */
  confidence: ConfidenceKind;
  /** > 0: sample the positions to commit from softmax(confidence / algTemp) instead of taking the top ones. */
  algTemp: number;
  /** Gumbel-max temperature for token choice; 0 = argmax. */
  temperature: number;
  /** Keep only the k most likely tokens (0 = off). */
  topK: number;
  /** Nucleus sampling mass (1 = off). */
  topP: number;
  /** Classifier-free guidance scale w (0 = off): logits = u + (w + 1)(c - u). */
  cfgScale: number;
  /** Fast-dLLM threshold parallel decoding: commit every position with confidence >= tau (null = off). */
  threshold: number | null;
  /** Fast-dLLM factor parallel decoding: largest n with (m + 1)(1 - c(m)) <= f for all m <= n (null = off). */
  factor: number | null;
  /** Editing of committed tokens: off, below a probability threshold (LLaDA 2.1), or ReMDM's sigma per step. */
  editMode: EditMode;
  /** threshold mode: a committed token whose probability falls below this is edited. */
  editThreshold: number;
  /** remdm mode: probability per step that a committed token of the current block is edited. */
  remdmSigma: number;
  /** What an edit does: put the mask back (decoded again later) or replace with the current prediction. */
  editAction: EditAction;
  /** End-of-text is suppressed at the first minLength generated positions. */
  minLength: number;
  /** Stop once the first end-of-text and everything before it are decoded; fill the rest with end-of-text. */
  stopAtEndOfText: boolean;
  /**
   * Blocks only: the first time the model predicts end-of-text with at least this probability somewhere after
   * the current block, that position and every one after it are committed as end-of-text in the same step, once
   * per run (null = off). Sets the text's length early, as one-block decoding does, while the text itself still
   * goes block by block.
   */
  endOfTextAhead: number | null;
  /**
   * At the first step, set the text's length to the model's expected length (the sum over the appended masks of
   * 1 - p(end-of-text)): the positions after it become end-of-text at once and end-of-text is banned before it, for
   * any block layout (one block included). Replaces endOfTextAhead when on.
   */
  decideLength: boolean;
  /**
   * >= 2: a candidate whose token would complete an n-gram of this many tokens already on the canvas ranks below
   * every other candidate at that step (the surest that do not repeat are committed first); 0 = off.
   */
  noRepeatNgram: number;
  /**
   * >= 0: positions are ranked by confidence x exp(-positionDecay x), x their place in the block from 0 (first)
   * to 1 (last), after PC-Sampler's position-aware weighting; 0 = off. How many commit still follows the raw
   * confidences (the schedule or rule).
   */
  positionDecay: number;
  /**
   * >= 0: every token's logit is lowered by this much for each time it already stands in the generated text
   * (end-of-text aside), as OpenAI's frequency penalty; 0 = off. An extension (README): it moves the token choice
   * and the confidence ranking away from the words the canvas already holds.
   */
  frequencyPenalty: number;
  /**
   * Fast-dLLM's caches (denoiser-cache.ts): off, prefix (the prompt and finished blocks from the cache) or dual
   * (only the current block recomputed); both refresh the cache with a full pass at each block's first step.
   */
  cache: CacheMode;
  /**
   * The canvas runs from the prompt to the context end, in whole blocks: genLength and steps are fitted to the
   * prompt when a run starts (fitToContext). The models are trained on context-long sequences only; a shorter
   * canvas ends texts less often (docs/sweep/canvas.md).
   */
  fillContext: boolean;
  seed: number;
}

export interface ArOptions {
  /** At most this many tokens (end-of-text stops sooner). */
  maxNewTokens: number;
  temperature: number;
  topK: number;
  topP: number;
  minLength: number;
  /** false: recompute the whole sequence every token (for comparison); true: KV cache. */
  useCache: boolean;
  /** maxNewTokens is the context left after the prompt (the diffusion canvas's fillContext, for a fair race). */
  fillContext: boolean;
  seed: number;
}

/**
 * The page's defaults, chosen by `npm run eval -- --sweep FILE` on the default pair (docs/sweep/sampler.md): at
 * temperature 0 both models loop, the diffusion model far more (repeated 4-grams 0.50 vs 0.14); lower
 * temperatures or top-p 0.9 widen the gen-PPL gap to the AR model, higher ones narrow it little and cost the AR
 * model known words. At 0.8 for both, smaller blocks cut the diffusion model's repetition steadily (one block
 * 0.231, 8: 0.088, 4: 0.055) while each block still shows out-of-order decoding. Decoded block by block, the
 * end-of-text tail would come last and most texts ran to the end of the canvas (9% ended cleanly within 256
 * positions); deciding the length at the first step (`endOfTextAhead` 0.5) ends 91% cleanly (32 openings).
 * With the denoiser trained 4x longer (8,000 steps), temperature 0.9 for both: blocks of 4 repeat less than the
 * AR model's rate + 0.05 there (0.041 vs 0.056; at 0.8, 0.070 vs 0.061) at about the same gen-PPL ratio to the
 * AR model (1.54; 1.52 at 0.8). Blocks of 8 have the better ratio (1.28) but repeat far more (0.117); blocks of
 * 2 repeat least but double the ratio (2.0 at 0.8). The shipped denoiser, annealed 4,500 steps more, keeps these
 * defaults and meets both gates there (ratio 1.39, repeated 4-grams 0.043 vs 0.055; docs/sweep/sampler.md).
 */
export const DEFAULT_TEMPERATURE = 0.9;
export const DEFAULT_BLOCK_LENGTH = 4;

/** Semi-autoregressive blocks of DEFAULT_BLOCK_LENGTH, or the largest smaller length that divides genLength. */
export function defaultBlockLength(genLength: number): number {
  let b = Math.max(1, Math.min(DEFAULT_BLOCK_LENGTH, genLength));
  while (genLength % b !== 0) b--;
  return b;
}

export const DIFFUSION_DEFAULTS: DiffusionOptions = {
  genLength: 64,
  steps: 64,
  blockLength: defaultBlockLength(64),
  schedule: 'llada',
  confidence: 'probability',
  algTemp: 0,
  temperature: DEFAULT_TEMPERATURE,
  topK: 0,
  topP: 1,
  cfgScale: 0,
  threshold: null,
  factor: null,
  editMode: 'off',
  editThreshold: 0.1,
  remdmSigma: 0.05,
  editAction: 'remask',
  minLength: 0,
  stopAtEndOfText: true,
  endOfTextAhead: 0.5,
  decideLength: false,
  noRepeatNgram: 0,
  positionDecay: 0,
  frequencyPenalty: 0,
  cache: 'off',
  fillContext: false,
  seed: 0,
};

export const AR_DEFAULTS: ArOptions = {
  maxNewTokens: 64,
  temperature: DEFAULT_TEMPERATURE, // the same as the diffusion model's, so the comparison is fair
  topK: 0,
  topP: 1,
  minLength: 0,
  useCache: true,
  fillContext: false,
  seed: 0,
};

const CONFIDENCE_KINDS: readonly ConfidenceKind[] = ['probability', 'margin', 'entropy', 'random'];

function checkKeys(given: object, known: object) {
  for (const key of Object.keys(given)) {
    if (!Object.hasOwn(known, key)) throw new UnknownOptionError(key, Object.keys(known));
  }
}

/** A value as a message shows it (an emptied number field gives NaN, which JSON would call null). */
const shown = (v: unknown) => (typeof v === 'number' && Number.isNaN(v) ? 'an empty value' : JSON.stringify(v));

function int(name: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new OptionError(name, `must be an integer in [${min}, ${max}], got ${shown(v)}`);
  }
  return v;
}

function num(name: string, v: unknown, min: number, max: number, { openMin = false } = {}): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (openMin && v === min)) {
    throw new OptionError(name, `must be a number in ${openMin ? '(' : '['}${min}, ${max}], got ${shown(v)}`);
  }
  return v;
}

function oneOf<T extends string>(name: string, v: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(v as T))
    throw new OptionError(name, `must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
  return v as T;
}

function divisors(n: number): number[] {
  const out: number[] = [];
  for (let d = 1; d <= n; d++) if (n % d === 0) out.push(d);
  return out;
}

/**
 * Full diffusion options from a partial set. `maxGenLength` is the context left after the prompt;
 * `infillMasks` counts masks inside the prompt, which are generated too (with the first block).
 */
export function resolveDiffusionOptions(
  given: Partial<DiffusionOptions>,
  maxGenLength = Infinity,
  infillMasks = 0,
): DiffusionOptions {
  checkKeys(given, DIFFUSION_DEFAULTS);
  const genLength = given.genLength ?? DIFFUSION_DEFAULTS.genLength;
  // Unless said otherwise: the default blocks, and about one token per step (the most steps that are a
  // multiple of the number of blocks; infill masks decode with the first block).
  const blockLength = given.blockLength ?? (genLength > 0 ? defaultBlockLength(genLength) : 1);
  const blockCount = genLength > 0 && Number.isInteger(genLength / blockLength) ? genLength / blockLength : 1;
  const o: DiffusionOptions = {
    ...DIFFUSION_DEFAULTS,
    steps: Math.max(1, blockCount * Math.floor((genLength + infillMasks) / blockCount)),
    blockLength,
    ...given,
  };
  const toGenerate = o.genLength + infillMasks;
  int('genLength', o.genLength, 0, Number.isFinite(maxGenLength) ? maxGenLength : undefined);
  int('blockLength', o.blockLength, 1);
  if (o.genLength > 0 && o.genLength % o.blockLength !== 0) {
    throw new OptionError(
      'blockLength',
      `${o.blockLength} does not divide genLength ${o.genLength}; blockLength values that work: ${divisors(o.genLength).join(', ')}`,
    );
  }
  const blocks = Math.max(1, o.genLength / o.blockLength);
  int('steps', o.steps, 1);
  if (o.threshold === null && o.factor === null) {
    if (o.steps % blocks !== 0) {
      const options = [];
      for (let s = blocks; s <= Math.max(blocks, o.genLength) && options.length < 8; s += blocks) options.push(s);
      throw new OptionError(
        'steps',
        `${o.steps} is not a multiple of the ${blocks} blocks (genLength ${o.genLength} / blockLength ${o.blockLength}); ` +
          `steps that work: ${options.join(', ')}${options.length === 8 ? ', …' : ''}`,
      );
    }
    if (toGenerate > 0 && o.steps > toGenerate) {
      throw new OptionError(
        'steps',
        `${o.steps} is more than the ${toGenerate} masks to generate: a step would commit nothing`,
      );
    }
  }
  oneOf('schedule', o.schedule, ['llada', 'dream', 'dllm'] as const);
  oneOf('confidence', o.confidence, CONFIDENCE_KINDS);
  num('algTemp', o.algTemp, 0, 100);
  num('temperature', o.temperature, 0, 100);
  int('topK', o.topK, 0);
  num('topP', o.topP, 0, 1, { openMin: true });
  num('cfgScale', o.cfgScale, 0, 100);
  if (o.threshold !== null) num('threshold', o.threshold, 0, 1);
  if (o.factor !== null) num('factor', o.factor, 0, 100, { openMin: true });
  if (o.threshold !== null && o.factor !== null) {
    throw new OptionError('threshold', 'threshold and factor are two ways to decode in parallel; set only one');
  }
  oneOf('editMode', o.editMode, ['off', 'threshold', 'remdm'] as const);
  num('editThreshold', o.editThreshold, 0, 1);
  num('remdmSigma', o.remdmSigma, 0, 1);
  oneOf('editAction', o.editAction, ['remask', 'replace'] as const);
  int('minLength', o.minLength, 0);
  if (o.minLength > o.genLength) {
    throw new OptionError('minLength', `${o.minLength} is more than genLength ${o.genLength}`);
  }
  if (typeof o.stopAtEndOfText !== 'boolean') throw new OptionError('stopAtEndOfText', 'must be true or false');
  if (o.endOfTextAhead !== null) num('endOfTextAhead', o.endOfTextAhead, 0.5, 1);
  if (typeof o.decideLength !== 'boolean') throw new OptionError('decideLength', 'must be true or false');
  int('noRepeatNgram', o.noRepeatNgram, 0, 16);
  num('positionDecay', o.positionDecay, 0, 100);
  num('frequencyPenalty', o.frequencyPenalty, 0, 100);
  if (o.noRepeatNgram === 1) throw new OptionError('noRepeatNgram', 'must be 0 (off) or an n-gram length of 2 to 16');
  oneOf('cache', o.cache, CACHE_MODES);
  if (typeof o.fillContext !== 'boolean') throw new OptionError('fillContext', 'must be true or false');
  int('seed', o.seed, 0, 2 ** 32 - 1);
  return o;
}

/**
 * fillContext: the options with the canvas fitted to `room` (the context left after the prompt). Blocks keep
 * their length and their steps each (the canvas is cut to whole blocks; a prompt that leaves less than one block
 * gets one block of what is left); one block over the whole canvas grows with it, its steps in proportion.
 * Options without fillContext come back as they are.
 */
export function fitToContext(given: Partial<DiffusionOptions>, room: number): Partial<DiffusionOptions> {
  if (!given.fillContext || room < 1) return given;
  const length = given.genLength ?? DIFFUSION_DEFAULTS.genLength;
  const block = given.blockLength ?? defaultBlockLength(length);
  const oneBlock = length === 0 || block >= length;
  const blockLength = oneBlock || block > room ? room : block;
  const genLength = blockLength * Math.floor(room / blockLength);
  const fitted: Partial<DiffusionOptions> = { ...given, genLength, blockLength };
  if (given.steps !== undefined && length > 0) {
    const perBlock = oneBlock ? (given.steps * blockLength) / length : (given.steps * block) / length;
    fitted.steps = Math.min(blockLength, Math.max(1, Math.round(perBlock))) * (genLength / blockLength);
  }
  return fitted;
}

/**
 * A block-diffusion model's options from the settings of the page's other denoiser: its own blocks (`blockSize`,
 * the size it was trained on) replace blockLength, the canvas is cut to whole blocks (at least one) and each
 * block keeps the steps per token the settings ask for. Decoding inside a block follows every other option.
 * The block model's cache is exact (the same tokens as full passes; tests run both), so it is on whatever the cache
 * setting, which chooses among Fast-dLLM's approximate caches for the other denoiser (a published MDLM runs
 * without one, as dLLM does); `exactCache` false runs full passes (the bench's no-cache row). The page's outline
 * options apply too (decideLength does nothing here: a block model never sees the tail): measured on both sets of
 * `npm run eval`, its n-gram rule and frequency penalty take the block model's doom loops at temperature 0 from 25%
 * / 33% of openings to 0% (the AR model: 13% / 21%) and its clean endings from 94% to 100% / 98%, for a higher
 * gen-PPL (13.7 -> 16.2, 14.7 -> 17.8; docs/sweep/large-blocks.md).
 */
export function blockModelOptions(
  given: Partial<DiffusionOptions>,
  blockSize: number,
  exactCache = true,
): Partial<DiffusionOptions> {
  const length = given.genLength ?? DIFFUSION_DEFAULTS.genLength;
  const genLength = Math.max(blockSize, blockSize * Math.floor(length / blockSize));
  const cache = !exactCache ? 'off' : given.cache === undefined || given.cache === 'off' ? 'prefix' : given.cache;
  const options: Partial<DiffusionOptions> = { ...given, blockLength: blockSize, genLength, cache };
  if (given.steps !== undefined && length > 0) {
    const perBlock = Math.min(blockSize, Math.max(1, Math.round((given.steps * blockSize) / length)));
    options.steps = perBlock * (genLength / blockSize);
  }
  return options;
}

export function resolveArOptions(given: Partial<ArOptions>, maxNewTokens = Infinity): ArOptions {
  checkKeys(given, AR_DEFAULTS);
  const o: ArOptions = { ...AR_DEFAULTS, ...given };
  int('maxNewTokens', o.maxNewTokens, 1, Number.isFinite(maxNewTokens) ? maxNewTokens : undefined);
  num('temperature', o.temperature, 0, 100);
  int('topK', o.topK, 0);
  num('topP', o.topP, 0, 1, { openMin: true });
  int('minLength', o.minLength, 0);
  if (typeof o.useCache !== 'boolean') throw new OptionError('useCache', 'must be true or false');
  if (typeof o.fillContext !== 'boolean') throw new OptionError('fillContext', 'must be true or false');
  int('seed', o.seed, 0, 2 ** 32 - 1);
  return o;
}
