// "Benchmark this device": a short version of `npm run bench` that runs in the page's worker on whatever
// backend the page uses (WebGPU or WASM), so a visitor sees the measured trade-off on their own machine.
import { figure, measureCaches, measureFrontier, type CacheRun, type Figure, type FrontierRun } from './bench-core.ts';
import { yieldToEventLoop, type Engine } from '../engine.ts';
import { BenchCancelledError } from '../errors.ts';

export interface DeviceBenchResult {
  backend: string;
  /** The models measured: the pair, and how its weights are stored and read (a converted family's dtype). */
  models: string;
  forward: { length: number; diffusionMs: Figure; arMs: Figure }[];
  frontier: FrontierRun[];
  /** Generated tokens per frontier run. */
  tokens: number;
  /** Fast-dLLM's caches off / prefix / dual on a story at the page's settings, shortened to CACHE_BENCH_LENGTH. */
  caches: CacheRun[];
}

/** The canvas of the cache rows: the page's settings otherwise, short enough for a software GPU adapter. */
export const CACHE_BENCH_LENGTH = 64;

export const DEVICE_BENCH_PROMPT = 'Once upon a time, there was a little girl named Lily.';
/** A chat model's (a converted family's) prompt: a user message, through its chat template as the page sends it. */
export const DEVICE_BENCH_CHAT = 'Tell me a short story about a girl named Lily.';

/**
 * `signal`: cancels between two measurements (each reports its progress first), with BenchCancelledError.
 */
export async function runDeviceBench(
  engine: Engine,
  reportProgress?: (what: string) => void,
  { tokens = 32, repeats = 2, signal }: { tokens?: number; repeats?: number; signal?: AbortSignal } = {},
): Promise<DeviceBenchResult> {
  const onProgress = async (what: string) => {
    await yieldToEventLoop(); // a model run never yields, so a cancel message gets in only here
    if (signal?.aborted) throw new BenchCancelledError();
    reportProgress?.(what);
  };
  const ctx = engine.info.contextLength;
  const forward: DeviceBenchResult['forward'] = [];
  for (const length of [32, 64, 128].filter((l) => l <= ctx)) {
    await onProgress(`one forward pass, ${length} tokens`);
    const ids = Array.from({ length }, (_, i) => 2 + (i % (engine.info.vocabSize - 2)));
    const d: number[] = [];
    const a: number[] = [];
    for (let r = 0; r <= repeats; r++) {
      let t0 = performance.now();
      await engine.diffusion.forward([Int32Array.from(ids)]);
      const dm = performance.now() - t0;
      t0 = performance.now();
      await engine.ar.forward(ids, null, false);
      if (r > 0) {
        d.push(dm);
        a.push(performance.now() - t0);
      }
    }
    forward.push({ length, diffusionMs: figure(d), arMs: figure(a) });
  }
  const chat = engine.info.chat;
  const encode = (text: string) => (chat ? engine.tokenizer.encodeChat(text) : engine.tokenizer.encode(text));
  const text = chat ? DEVICE_BENCH_CHAT : DEVICE_BENCH_PROMPT;
  const prompt = encode(text);
  const frontier = await measureFrontier(
    engine.diffusion,
    engine.ar,
    [prompt],
    tokens,
    1,
    (name) => onProgress(`generating ${tokens} tokens: ${name}`),
    (ids) => engine.tokenizer.decode(ids),
  );
  const caches = engine.info.cachedGraph
    ? await measureCaches(engine, [text], 1, {
        encode,
        genLength: Math.min(CACHE_BENCH_LENGTH, engine.info.genLength),
        blocksOf32: false,
        onProgress: (name) => onProgress(`a story at the page's settings: ${name}`),
      })
    : [];
  const models = `${engine.info.pair} (${engine.info.weights} weights)`;
  return { backend: engine.info.backend.backend, models, forward, frontier, tokens, caches };
}
