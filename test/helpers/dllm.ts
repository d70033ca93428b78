// What the tests of converted models share: a dLLM sampler case (reference goldens and make-hf-random.sh's goldens
// alike), the project's options that run dLLM's samplers, and flat logits.
import type { DiffusionOptions } from '../../src/core/sampler/options.ts';

/** One run of a dLLM sampler at temperature 0: the final sequence and the positions committed at each step. */
export interface SamplerCase {
  prompt: number[];
  max_new_tokens: number;
  steps: number;
  block_size: number;
  sequence: number[];
  trace: number[][];
}

/** dLLM's sampler as examples/a2d/{mdlm,bd3lm}/sample.py run it, in the project's options. */
export function dllmOptions(c: SamplerCase, block: boolean): Partial<DiffusionOptions> {
  return {
    genLength: c.max_new_tokens,
    steps: c.steps,
    ...(block ? {} : { blockLength: c.block_size }),
    schedule: 'dllm',
    temperature: 0,
    stopAtEndOfText: false, // dLLM's MDLM runs every step; its BD3LM's early stop is compared as a prefix
    endOfTextAhead: null,
  };
}

export function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
