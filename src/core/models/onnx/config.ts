// The parts of a model folder's config.json the runtime needs, checked. The cached graph's layout is checked
// against models/cache-layout.json, the schema the exporters write it from.
import cacheLayout from '../../../../models/cache-layout.json' with { type: 'json' };
import configLimits from '../../../../models/config-limits.json' with { type: 'json' };
import { ModelLoadError } from '../../errors.ts';
import type { BlockAlign } from '../types.ts';

/** The parts of a Hugging Face config.json the runtime needs. */
export interface ModelConfig {
  vocab_size: number;
  max_position_embeddings: number;
  num_hidden_layers: number;
  num_key_value_heads: number;
  head_dim: number;
  eos_token_id: number;
  mask_token_id: number;
  is_causal: boolean;
  /** From `diffusion.shift_logits_in_graph`: row i predicts position i from the state at i - 1. */
  shifted_logits: boolean;
  /** From `diffusion.cache.graph`: the denoiser's graph over a window against cached keys/values, if any. */
  cached_graph: string | null;
  /** From `diffusion.block_size`: a block-diffusion (BD3-LM) model's block; 0 for any other model. */
  block_size: number;
  /** From `diffusion.block_align`: where a block model's blocks begin ('zero' when absent). */
  block_align: BlockAlign;
  /**
   * From `diffusion.graphs` "cached-only": the folder has no onnx/model.onnx; the cached graph runs whole sequences
   * too (an empty cache), so the model is downloaded and held once (export_hf.py).
   */
  cached_only: boolean;
  /** From `weights.dtype` (export_hf.py): how the graph stores its weights; 'fp32' when absent. */
  weights_dtype: string;
  /**
   * From `weights.compute`: 'kernels' (MatMulNBits), 'rebuild' (standard operators, rebuilt each pass), 'fold'
   * (standard operators folded to float32 when the session is made: a small embedded model, export_onnx.py
   * --weights), or 'fp32'.
   */
  weights_compute: string;
}

/**
 * Whether a graph's compressed weights must stay compressed in memory (the session must not fold their rebuild):
 * every converted dtype but fp32; an embedded model's 'fold' weights are widened once, at load.
 */
export function keepsWeightsCompressed(config: ModelConfig): boolean {
  return config.weights_dtype !== 'fp32' && config.weights_compute !== 'fold';
}

/** The cache layouts the runtime speaks (models/cache-layout.json): a block model's, and a windowed denoiser's. */
export const CACHE_LAYOUTS: Record<'window' | 'block', Record<string, string>> = cacheLayout.layouts;

/** The largest sizes the runtime accepts (models/config-limits.json, the converter's limits too). */
const LIMITS: Record<string, number> = configLimits.limits;

function fail(file: string, message: string): never {
  throw new ModelLoadError(file, new Error(message));
}

export function parseModelConfig(json: unknown, file: string): ModelConfig {
  const c = json as Record<string, unknown>;
  const need = [
    'vocab_size',
    'max_position_embeddings',
    'num_hidden_layers',
    'num_key_value_heads',
    'head_dim',
    'eos_token_id',
    'mask_token_id',
  ];
  for (const key of need) {
    if (typeof c?.[key] !== 'number') fail(file, `config.json has no numeric "${key}"`);
  }
  // sizes past any model this page could hold are refused before a byte of a graph is read (a link is untrusted)
  for (const [key, limit] of Object.entries(LIMITS)) {
    const n = c[key] as number;
    if (n === undefined && !need.includes(key)) continue; // a size the runtime does not read may be left out
    if (!Number.isInteger(n) || n < 1 || n > limit) {
      fail(
        file,
        `config.json "${key}" is ${JSON.stringify(n)}: expected an integer in 1..${limit.toLocaleString('en')}`,
      );
    }
  }
  for (const key of ['eos_token_id', 'mask_token_id']) {
    const id = c[key] as number;
    if (!Number.isInteger(id) || id < 0 || id >= (c.vocab_size as number)) {
      fail(file, `config.json "${key}" is ${JSON.stringify(id)}: not a token of the vocabulary of ${c.vocab_size}`);
    }
  }
  const diffusion = c.diffusion as Record<string, unknown> | undefined;
  const cache = diffusion?.cache as Record<string, unknown> | undefined;
  if (cache !== undefined) {
    const want = CACHE_LAYOUTS[diffusion?.block_size !== undefined ? 'block' : 'window'];
    for (const [key, value] of Object.entries(want)) {
      if (cache[key] !== value)
        fail(file, `diffusion.cache.${key} must be "${value}", got ${JSON.stringify(cache[key])}`);
    }
    if (typeof cache.graph !== 'string') fail(file, 'diffusion.cache.graph is not a path');
  }
  const block = diffusion?.block_size;
  if (block !== undefined && !(Number.isInteger(block) && (block as number) > 0)) {
    fail(file, `diffusion.block_size must be a positive integer, got ${JSON.stringify(block)}`);
  }
  const align = diffusion?.block_align ?? 'zero';
  if (align !== 'zero' && align !== 'prompt-end') {
    fail(file, `diffusion.block_align must be "zero" or "prompt-end", got ${JSON.stringify(align)}`);
  }
  const cachedOnly = diffusion?.graphs === 'cached-only';
  if (cachedOnly && typeof cache?.graph !== 'string') fail(file, 'diffusion.graphs "cached-only" needs a cached graph');
  const weights = c.weights as Record<string, unknown> | undefined;
  return {
    ...(c as unknown as ModelConfig),
    block_size: (block as number | undefined) ?? 0,
    block_align: align,
    cached_only: cachedOnly,
    weights_dtype: typeof weights?.dtype === 'string' ? weights.dtype : 'fp32',
    weights_compute: typeof weights?.compute === 'string' ? weights.compute : 'fp32',
    is_causal: c.is_causal !== false,
    shifted_logits: diffusion?.shift_logits_in_graph === true,
    cached_graph: typeof cache?.graph === 'string' ? cache.graph : null,
  };
}
