// Scripted fakes for tests: the caller decides the logits of every forward pass, so a test can state the
// exact commits each step must make.
import type { CausalLM, Denoiser, DenoiserCache, KvCache, WindowLogits } from '../../src/core/models/types.ts';

export interface ForwardCall {
  /** Sequences of the call (a CFG call has two). */
  sequences: number[][];
  /** 0-based index of the call. */
  call: number;
  /** Caching fakes: 'cache' for a full pass that fills the cache, [from, to) for a window pass. */
  pass?: 'cache' | { from: number; to: number } | { positions: number[] };
  /** Block fakes: how many of the window's positions entered the cache. */
  keep?: number;
  /** Block fakes: the block offset the call was given (blockOffsetFor). */
  offset?: number;
}

/** Logits for one sequence: row-major (seq * vocab). */
export type ScriptedLogits = (seq: Int32Array, call: number, batchIndex: number) => Float32Array;

export class FakeDenoiser implements Denoiser {
  readonly calls: ForwardCall[] = [];
  readonly name: string = 'fake-denoiser';
  /** Set by tests of models with Dream's shifted logits. */
  shiftedLogits = false;

  constructor(
    readonly vocabSize: number,
    private readonly script: ScriptedLogits,
    readonly maskId = 1,
    readonly endOfTextId = 0,
    readonly contextLength = 1024,
  ) {}

  async forward(sequences: Int32Array[], blockOffset?: number): Promise<Float32Array[]> {
    const call = this.calls.length;
    this.calls.push({
      sequences: sequences.map((s) => Array.from(s)),
      call,
      ...(blockOffset ? { offset: blockOffset } : {}),
    });
    return sequences.map((s, i) => this.script(s, call, i));
  }
}

/**
 * A denoiser with Fast-dLLM's cached passes. Its cache is the token ids it saw when filled, and a window pass sees
 * those outside the window and the current ones inside it: exact when only the window changed since the cache
 * was filled, as within a block. Logits stay the script's, so schedules are the same as without a cache.
 */
export class FakeCachingDenoiser extends FakeDenoiser {
  async forwardAndCache(sequences: Int32Array[]): Promise<{ logits: WindowLogits; cache: DenoiserCache }> {
    const rows = await this.forward(sequences);
    this.calls[this.calls.length - 1].pass = 'cache';
    const length = sequences[0].length;
    const from = this.shiftedLogits ? 1 : 0;
    const logits = { rows: rows.map((r) => r.subarray(from * this.vocabSize)), from, to: length, computed: length };
    return { logits, cache: new FakeDenoiserCache(sequences.map((s) => s.slice())) };
  }

  async forwardWindow(sequences: Int32Array[], from: number, to: number, cache: DenoiserCache): Promise<WindowLogits> {
    const snapshot = (cache as FakeDenoiserCache).sequences;
    const start = this.shiftedLogits ? from - 1 : from;
    const seen = sequences.map((s, i) => {
      const out = snapshot[i].slice();
      out.set(s.subarray(start, to), start);
      return out;
    });
    const rows = await this.forward(seen);
    this.calls[this.calls.length - 1].pass = { from, to };
    const computed = to - start;
    return { rows: rows.map((r) => r.subarray(from * this.vocabSize)), from, to, computed };
  }

  /** The sparse cache's pass: the cache's tokens with the current ones at `positions`, which then enter it. */
  async forwardPositions(
    sequences: Int32Array[],
    positions: readonly number[],
    cache: DenoiserCache,
  ): Promise<WindowLogits> {
    const held = (cache as FakeDenoiserCache).sequences;
    const seen = sequences.map((s, i) => {
      const out = held[i].slice();
      for (const p of positions) out[p] = s[p];
      return out;
    });
    const rows = await this.forward(seen);
    this.calls[this.calls.length - 1].pass = { positions: [...positions] };
    sequences.forEach((s, i) => positions.forEach((p) => (held[i][p] = s[p])));
    // the script's row p is position p's prediction; with shifted logits the state at p gives p + 1's
    const predicted = positions.map((p) => p + (this.shiftedLogits ? 1 : 0));
    const v = this.vocabSize;
    const out = rows.map((r) => {
      const picked = new Float32Array(predicted.length * v);
      predicted.forEach((p, j) => p < seen[0].length && picked.set(r.subarray(p * v, (p + 1) * v), j * v));
      return picked;
    });
    const [from, to] = [predicted[0], predicted[predicted.length - 1] + 1];
    return { rows: out, from, to, computed: positions.length, positions: predicted };
  }
}

class FakeDenoiserCache implements DenoiserCache {
  constructor(readonly sequences: Int32Array[]) {}
  get length() {
    return this.sequences[0].length;
  }
  dispose() {}
}

/** Builds a logits row set from per-position probability-like scores (log taken), others get -30. */
export function logitsFrom(
  seqLen: number,
  vocab: number,
  scores: (pos: number) => { [token: number]: number | undefined },
): Float32Array {
  const out = new Float32Array(seqLen * vocab).fill(-30);
  for (let p = 0; p < seqLen; p++) {
    for (const [tok, s] of Object.entries(scores(p))) if (s !== undefined) out[p * vocab + Number(tok)] = Math.log(s);
  }
  return out;
}

export class FakeCausalLM implements CausalLM {
  readonly calls: { ids: number[]; cached: number }[] = [];
  readonly name = 'fake-causal';

  constructor(
    readonly vocabSize: number,
    /** Logits of the next token given the whole sequence so far. */
    private readonly next: (sequence: number[]) => Float32Array,
    readonly endOfTextId = 0,
    readonly contextLength = 1024,
  ) {}

  async forward(ids: number[], cache: KvCache | null, useCache: boolean) {
    const past = (cache as FakeCache | null)?.tokens ?? [];
    this.calls.push({ ids: [...ids], cached: past.length });
    const all = [...past, ...ids];
    return { logits: this.next(all), cache: useCache ? new FakeCache(all) : null };
  }
}

class FakeCache implements KvCache {
  constructor(readonly tokens: number[]) {}
  get length() {
    return this.tokens.length;
  }
  dispose() {}
}

/**
 * Predictions for a block-diffusion fake: `visible` is what the model sees (the tokens before the end of the
 * pass's window); returns (visible.length + 1) * vocab, row p the prediction for position p (shift applied), so
 * the state at the last visible position can predict the one after it.
 */
export type ScriptedBlockLogits = (visible: Int32Array, call: number, batchIndex: number) => Float32Array;

/**
 * A block-diffusion (BD3-LM) fake: blocks of `blockSize` from position 0, an exact cache holding the token ids of
 * the positions that entered it. Every pass checks that the cache still holds what the sequence holds there (an
 * exact cache is never stale) and records its window.
 */
export class FakeBlockDenoiser extends FakeDenoiser {
  override readonly name = 'fake-block';
  /** Set by tests of models whose blocks begin at the prompt's end (dLLM's BD3LM). */
  blockAlign: 'zero' | 'prompt-end' = 'zero';

  constructor(
    vocabSize: number,
    readonly blockSize: number,
    private readonly blockScript: ScriptedBlockLogits,
    maskId = 1,
    endOfTextId = 0,
    contextLength = 1024,
  ) {
    // a full pass (cache off) sees the sequence it is given: the script's rows for its positions
    super(
      vocabSize,
      (s, call, i) => blockScript(s, call, i).subarray(0, s.length * vocabSize),
      maskId,
      endOfTextId,
      contextLength,
    );
  }

  async forwardBlock(sequences: Int32Array[], to: number, cache: KvCache | null, keep: number, blockOffset = 0) {
    const cached = (cache as FakeDenoiserCache | null)?.sequences ?? sequences.map(() => new Int32Array(0));
    const from = cached[0].length;
    const call = this.calls.length;
    const visible = sequences.map((s, i) => {
      if (s.subarray(0, from).some((id, p) => id !== cached[i][p])) throw new Error('the block cache went stale');
      return s.slice(0, to);
    });
    this.calls.push({
      sequences: visible.map((s) => Array.from(s)),
      call,
      pass: { from, to },
      keep,
      ...(blockOffset ? { offset: blockOffset } : {}),
    });
    const V = this.vocabSize;
    const rows = visible.map((s, i) => {
      const predictions = this.blockScript(s, call, i);
      const out = new Float32Array((to - from) * V);
      // unshifted: row j is the state at from + j, which predicts from + j + 1 when logits are shifted
      const offset = this.shiftedLogits ? 1 : 0;
      for (let j = 0; j < to - from; j++)
        out.set(predictions.subarray((from + j + offset) * V, (from + j + offset + 1) * V), j * V);
      return out;
    });
    if (keep === 0) return { rows, cache };
    return { rows, cache: new FakeDenoiserCache(visible.map((s) => s.slice(0, from + keep))) };
  }
}
