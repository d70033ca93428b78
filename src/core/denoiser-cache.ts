// Fast-dLLM's approximate KV caches for a masked-diffusion denoiser (Wu et al. 2025, NVlabs/Fast-dLLM), as the
// one thing the step loop asks for: "the predictions of this step". Decoding block by block, the keys and values
// of positions outside the current block barely change within a block, so they are computed once, by a full pass
// at the first step of each block, and reused by the block's later steps:
//   off    every step is a full pass (LLaDA);
//   prefix later steps recompute the current block and everything after it, reading the prompt and the finished
//          blocks from the cache;
//   dual   later steps recompute only the current block, reading every other position from the cache.
// Positions outside the computed window get no new prediction at such a step: their ghosts stay as last shown,
// and edits and the end-of-text look-ahead only judge positions that were computed.
import { OptionError } from './errors.ts';
import type { Denoiser, DenoiserCache, WindowLogits } from './models.ts';

export type CacheMode = 'off' | 'prefix' | 'dual';
export const CACHE_MODES: readonly CacheMode[] = ['off', 'prefix', 'dual'];

/** One step's predictions, and whether the pass ran the whole sequence. */
export interface StepPass extends WindowLogits {
  full: boolean;
}

/** A denoiser as one run's step loop sees it under a cache mode. Create one per run; dispose at its end. */
export class CachedDenoiser {
  private cache: DenoiserCache | null = null;

  constructor(
    private readonly model: Denoiser,
    readonly mode: CacheMode,
  ) {
    if (mode !== 'off' && !(model.forwardAndCache && model.forwardWindow)) {
      throw new OptionError('cache', `"${mode}" needs a model with a cached graph, and ${model.name} has none`);
    }
  }

  /**
   * Predictions for `block` = [from, to), the positions being decoded, of each sequence (one, or two with
   * guidance: each keeps its own cache). `blockStart` is true at a block's first step: the cache is refreshed.
   */
  async predict(sequences: Int32Array[], block: { from: number; to: number }, blockStart: boolean): Promise<StepPass> {
    const length = sequences[0].length;
    if (this.mode === 'off') {
      const rows = await this.model.forward(sequences);
      return { rows, from: 0, to: length, computed: length, full: true };
    }
    if (blockStart || !this.cache) {
      this.cache?.dispose();
      const { logits, cache } = await this.model.forwardAndCache!(sequences);
      this.cache = cache;
      return { ...logits, full: true };
    }
    const to = this.mode === 'dual' ? block.to : length;
    return { ...(await this.model.forwardWindow!(sequences, block.from, to, this.cache)), full: false };
  }

  dispose() {
    this.cache?.dispose();
    this.cache = null;
  }
}
