// One step's predictions, as the step loop asks for them ("the predictions of this step"), under a cache mode.
// One class per way of getting them:
//   FullPasses      every step is a full pass (LLaDA; cache off);
//   WindowedPasses  Fast-dLLM's approximate caches (Wu et al. 2025, NVlabs/Fast-dLLM) for a windowed denoiser.
//                   Decoding block by block, the keys and values of positions outside the current block barely
//                   change within a block, so they are computed once, by a full pass at the first step of each
//                   block, and reused by the block's later steps:
//                     prefix  later steps recompute the current block and everything after it, reading the prompt
//                             and the finished blocks from the cache;
//                     dual    later steps recompute only the current block, reading every other position from it.
//                   Positions outside the computed window get no new prediction at such a step: their ghosts stay
//                   as last shown, and edits and the end-of-text look-ahead only judge positions that were computed.
//   SparsePasses    the sparse cache (after dKV-Cache, Ma et al. 2025), for decoding over large blocks, where a
//                   window is the whole canvas: a step recomputes only the positions still masked in the current
//                   block and those whose token changed since their keys and values were computed, at any spread,
//                   reading every other position from the cache; what a step computes enters the cache, so a
//                   token committed at one step is recomputed once at the next and then read. A full pass refreshes
//                   the cache at each block's first step and every SPARSE_REFRESH steps after it.
//                   local: the same, but of the masks only those within LOCAL_REACH positions of a changed token
//                   are computed (a full pass every LOCAL_REFRESH steps); the sampler keeps the others' last
//                   predictions (diffusion.ts), so a mask far from what was just written is not recomputed.
//   BlockPasses     a block-diffusion model (BD3-LM): its blocks never see later ones, so its cache is exact, not an
//                   approximation. Any mode but off decodes each block against the keys/values of the finished
//                   blocks, which enter the cache with one pass when the sampler moves past them; off runs the whole
//                   sequence up to the block's end at every step. Either way only the current block is predicted
//                   (later masks get no guesses: the model does not see them).
// Which class a model gets is its decoding's choice (decoding.ts).
import { OptionError } from '../errors.ts';
import type { BlockDenoiser, Denoiser, DenoiserCache, KvCache, WindowLogits, WindowedDenoiser } from './types.ts';

export type CacheMode = 'off' | 'prefix' | 'dual' | 'sparse' | 'local';
export const CACHE_MODES: readonly CacheMode[] = ['off', 'prefix', 'dual', 'sparse', 'local'];

/**
 * How a block model's finished blocks enter its cache: a pass of their own when the next block starts ('separate'),
 * or in the next block's first pass, whose window then runs from the finished block to the end of the new one
 * ('folded': the same positions in one pass fewer; the rule keeps the finished block from seeing the new one).
 * Both give the same predictions; only the cost differs (npm run bench measures both).
 */
export type BlockCommit = 'separate' | 'folded';
export const DEFAULT_BLOCK_COMMIT: BlockCommit = 'folded';

/** One step's predictions, and whether the pass ran the whole sequence. */
export interface StepPass extends WindowLogits {
  full: boolean;
  /** Forward passes this step ran per sequence (2 when finished blocks entered a block model's cache first). */
  passes: number;
}

/** The positions a step decodes: [from, to). */
export interface BlockRange {
  from: number;
  to: number;
}

/** A denoiser as one run's step loop sees it. Create one per run; dispose at its end. */
export interface StepPredictor {
  /**
   * Predictions for `block` = [from, to), the positions being decoded, of each sequence (one, or two with
   * guidance: each keeps its own cache). `blockStart` is true at a block's first step: a cache is refreshed.
   */
  predict(sequences: Int32Array[], block: BlockRange, blockStart: boolean): Promise<StepPass>;
  dispose(): void;
}

export function noCachedGraph(model: Denoiser, mode: CacheMode): OptionError {
  return new OptionError('cache', `"${mode}" needs a model with a cached graph, and ${model.name} has none`);
}

/** Cache off: the whole sequence at every step. */
export class FullPasses implements StepPredictor {
  constructor(private readonly model: Denoiser) {}

  async predict(sequences: Int32Array[]): Promise<StepPass> {
    const length = sequences[0].length;
    const rows = await this.model.forward(sequences);
    return { rows, from: 0, to: length, computed: length, full: true, passes: 1 };
  }

  dispose() {}
}

/** Fast-dLLM's prefix or dual cache, refreshed by a full pass at each block's first step. */
export class WindowedPasses implements StepPredictor {
  private cache: DenoiserCache | null = null;

  constructor(
    private readonly model: WindowedDenoiser,
    readonly mode: 'prefix' | 'dual',
  ) {}

  async predict(sequences: Int32Array[], block: BlockRange, blockStart: boolean): Promise<StepPass> {
    if (blockStart || !this.cache) {
      this.cache?.dispose();
      const { logits, cache } = await this.model.forwardAndCache(sequences);
      this.cache = cache;
      return { ...logits, full: true, passes: 1 };
    }
    const to = this.mode === 'dual' ? block.to : sequences[0].length;
    return { ...(await this.model.forwardWindow(sequences, block.from, to, this.cache)), full: false, passes: 1 };
  }

  dispose() {
    this.cache?.dispose();
    this.cache = null;
  }
}

/** The sparse cache's full pass comes back after this many steps of a block (and at the block's first). */
export const SPARSE_REFRESH = 16;

/**
 * The local cache: masks within this many positions of a token written since the last pass are computed, and a
 * full pass every LOCAL_REFRESH steps (8 + 8 openings, the outline: reach 8 with a refresh every 8 steps keeps the
 * sparse cache's gen-PPL; every 16 steps costs ~15%; docs/sweep/large-blocks.md).
 */
export const LOCAL_REACH = 8;
export const LOCAL_REFRESH = 8;

/** The sparse cache: only masked and changed positions are computed at a step; see the file's head. */
export class SparsePasses implements StepPredictor {
  private cache: DenoiserCache | null = null;
  /** Each sequence's tokens as the cache holds them (what each position's keys and values were computed from). */
  private seen: Int32Array[] = [];
  private sinceRefresh = 0;

  constructor(
    private readonly model: WindowedDenoiser,
    readonly refreshEvery = SPARSE_REFRESH,
    /**
     * The local cache: only the masks within this many positions of a changed one are computed (null: every mask);
     * the sampler keeps the others' last predictions.
     */
    readonly reach: number | null = null,
  ) {}

  async predict(sequences: Int32Array[], block: BlockRange, blockStart: boolean): Promise<StepPass> {
    if (blockStart || !this.cache || this.sinceRefresh >= this.refreshEvery) {
      this.cache?.dispose();
      const { logits, cache } = await this.model.forwardAndCache(sequences);
      this.cache = cache;
      this.seen = sequences.map((s) => s.slice());
      this.sinceRefresh = 1;
      return { ...logits, full: true, passes: 1 };
    }
    const maskId = this.model.maskId;
    const shift = this.model.shiftedLogits ? 1 : 0; // with shifted logits a mask at p is predicted by the state at p - 1
    const computed = new Set<number>();
    const changed: number[] = [];
    for (let p = 0; p < sequences[0].length; p++) {
      if (sequences.some((s, i) => s[p] !== this.seen[i][p])) changed.push(p);
    }
    const near = (p: number) => this.reach === null || changed.some((c) => Math.abs(c - p) <= this.reach!);
    for (const p of changed) computed.add(p);
    for (let p = block.from; p < block.to; p++) {
      if (sequences.some((s) => s[p] === maskId) && near(p)) computed.add(p - shift);
    }
    if (computed.size === 0) computed.add(block.from - shift); // nothing left to compute: the step still gets a row
    const positions = [...computed].sort((a, b) => a - b);
    const logits = await this.model.forwardPositions(sequences, positions, this.cache);
    sequences.forEach((s, i) => positions.forEach((p) => (this.seen[i][p] = s[p])));
    this.sinceRefresh++;
    return { ...logits, full: false, passes: 1 };
  }

  dispose() {
    this.cache?.dispose();
    this.cache = null;
  }
}

/** A block model's own blocks: the model block holding `block.from` (from its first position), up to `block.to`. */
export class BlockPasses implements StepPredictor {
  /** The finished blocks' keys/values, and each sequence's last row of them (shifted logits). */
  private blockCache: KvCache | null = null;
  private lastRows: Float32Array[] = [];

  constructor(
    private readonly model: BlockDenoiser,
    readonly mode: CacheMode,
    readonly blockCommit: BlockCommit = DEFAULT_BLOCK_COMMIT,
    /** The run's block offset (blockOffsetFor). */
    private readonly blockOffset = 0,
  ) {}

  async predict(sequences: Int32Array[], block: BlockRange): Promise<StepPass> {
    const model = this.model;
    const size = model.blockSize;
    const vocab = model.vocabSize;
    const offset = this.blockOffset;
    const start = Math.floor((block.from + offset) / size) * size - offset;
    if (this.mode === 'off') {
      // the block-causal rule over [0, block.to): what lies after the block would not be seen anyway
      const rows = await model.forward(
        sequences.map((s) => s.subarray(0, block.to)),
        offset,
      );
      const window = rows.map((r) => r.subarray(start * vocab));
      return { rows: window, from: start, to: block.to, computed: block.to, full: true, passes: 1 };
    }
    let passes = 1;
    let computed = block.to - start;
    const cached = this.blockCache?.length ?? 0;
    let rows: Float32Array[];
    if (cached < start) {
      // the blocks finished since the last step (or the prompt's whole blocks) enter the cache, exactly
      const finished = start - cached;
      const lastRowOf = (r: Float32Array) => r.slice((finished - 1) * vocab, finished * vocab);
      if (this.blockCommit === 'folded') {
        const pass = await model.forwardBlock(sequences, block.to, this.blockCache, finished, offset);
        this.blockCache = pass.cache;
        this.lastRows = pass.rows.map(lastRowOf);
        rows = pass.rows.map((r) => r.subarray(finished * vocab));
      } else {
        const done = await model.forwardBlock(sequences, start, this.blockCache, finished, offset);
        this.blockCache = done.cache;
        this.lastRows = done.rows.map(lastRowOf);
        rows = (await model.forwardBlock(sequences, block.to, this.blockCache, 0, offset)).rows;
        passes++;
      }
      computed += finished;
    } else rows = (await model.forwardBlock(sequences, block.to, this.blockCache, 0, offset)).rows;
    if (!model.shiftedLogits) return { rows, from: start, to: block.to, computed, full: false, passes };
    // position p is read from the state at p - 1: the block's first position from the cache's last row
    const n = block.to - start;
    const shifted = rows.map((r, i) => {
      const out = new Float32Array(n * vocab);
      if (start > 0) out.set(this.lastRows[i], 0);
      out.set(r.subarray(0, (n - 1) * vocab), vocab);
      return out;
    });
    return { rows: shifted, from: start, to: block.to, computed, full: false, passes };
  }

  dispose() {
    this.blockCache?.dispose();
    this.blockCache = null;
  }
}
