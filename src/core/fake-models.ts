// Scripted fakes for tests: the caller decides the logits of every forward pass, so a test can state the
// exact commits each step must make.
import type { CausalLM, Denoiser, KvCache } from './models.ts';

export interface ForwardCall {
  /** Sequences of the call (a CFG call has two). */
  sequences: number[][];
  /** 0-based index of the call. */
  call: number;
}

/** Logits for one sequence: row-major (seq * vocab). */
export type ScriptedLogits = (seq: Int32Array, call: number, batchIndex: number) => Float32Array;

export class FakeDenoiser implements Denoiser {
  readonly calls: ForwardCall[] = [];
  readonly name = 'fake-denoiser';
  /** Set by tests of models with Dream's shifted logits. */
  shiftedLogits = false;

  constructor(
    readonly vocabSize: number,
    private readonly script: ScriptedLogits,
    readonly maskId = 1,
    readonly endOfTextId = 0,
    readonly contextLength = 1024,
  ) {}

  async forward(sequences: Int32Array[]): Promise<Float32Array[]> {
    const call = this.calls.length;
    this.calls.push({ sequences: sequences.map((s) => Array.from(s)), call });
    return sequences.map((s, i) => this.script(s, call, i));
  }
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
