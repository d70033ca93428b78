// The converted family at Qwen3-0.6B's real size (issue 26), in Node on WASM (1 thread), the documented command
// behind the README's real-size table (too heavy for CI: minutes and gigabytes):
//   bash scripts/make-hf-real.sh DIR            (random checkpoints of Qwen3-0.6B's exact shape, real tokenizer,
//                                                 converted as q4 and q8 families: DIR/q4, DIR/q8)
//   npx tsx src/bench/real-size.ts --family DIR/q4 [--out FILE.md]
// Each model in a process of its own (its memory its own): load time, resident memory, and the cost of a step at
// the page's settings for converted models (one token a step): AR a token with its KV cache after a 32-token
// prompt; MDLM a whole pass over the prompt and 128 masks (dLLM's sampler has no cache); BD3LM a 32-token block
// against the exact cache of a 32-token prompt. Then the whole family in one engine as the page loads it (one
// runtime for the three models, WASM's 4 GB address space), and a short chat run of each model.
//   npx tsx src/bench/real-size.ts --one DIR/q4/ar    (one model's row, JSON on stdout)
import * as ort from 'onnxruntime-web';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from '../../models/ts/args.ts';
import { figure } from '../core/measure/bench-core.ts';
import { parseModelConfig } from '../core/models/onnx/config.ts';
import type { BlockDenoiser, CausalLM, Denoiser } from '../core/models/types.ts';
import { MODEL_KINDS } from '../core/modes.ts';
import { pageSettings } from '../core/page-settings.ts';
import { nodeEngine } from '../cli/node-files.ts';
import { loadFolderModel } from './dtype-bench.ts';
import { matmulModel } from './matmul-model.ts';

const args = parseArgs(
  process.argv.slice(2),
  { family: '', one: '', out: '', prompt: 32, repeats: 5, gen: 32, familyRun: 1 },
  'usage: npx tsx src/bench/real-size.ts --family DIR [--out FILE.md] [--repeats 5] [--gen 32] [--family-run 0]',
);
const PROMPT = Number(args.prompt);
const MASKED = 128; // the page's canvas for converted models (CONVERTED_SETTINGS: 128 new tokens)
/** Memory in MiB (as the process reports it); downloads are in MB. */
const mb = (bytes: number) => bytes / 1024 ** 2;

interface Row {
  kind: string;
  dtype: string;
  downloadMB: number;
  loadMs: number;
  residentMB: number;
  /** What one step costs at the page's settings, and what that step is. */
  step: { what: string; ms: number; min: number; max: number };
}

/** Ordinary token ids (the low ones; a tokenizer's special tokens come last): a fixed pseudo-random text. */
const text = (n: number, vocab: number) =>
  Array.from({ length: n }, (_, i) => 4 + ((i * 7919 + 13) % Math.min(vocab - 64, 20000)));

async function timed(n: number, f: () => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await f();
    times.push(performance.now() - t0);
  }
  return times;
}

async function one(folder: string): Promise<Row> {
  ort.env.wasm.numThreads = 1;
  const warm = await ort.InferenceSession.create(matmulModel()); // the runtime itself before the base
  await warm.release();
  const base = process.memoryUsage().rss;
  const raw = JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8'));
  const config = parseModelConfig(raw, folder);
  const t0 = performance.now();
  const model = await loadFolderModel(folder, config);
  const loadMs = performance.now() - t0;
  const vocab = config.vocab_size;
  const prompt = text(PROMPT, vocab);
  const repeats = Number(args.repeats);
  let step: Row['step'];
  if (config.is_causal) {
    const lm = model as unknown as CausalLM;
    let { cache } = await lm.forward(prompt, null, true);
    const times = await timed(repeats + 1, async () => {
      const out = await lm.forward([prompt[0]], cache, true);
      cache = out.cache;
    });
    cache?.dispose();
    step = { what: `a token with the KV cache after ${PROMPT}`, ...spread(times.slice(1)) };
  } else if ((model as unknown as BlockDenoiser).forwardBlock && config.block_size > 0) {
    const bd = model as unknown as BlockDenoiser;
    const size = config.block_size;
    const seq = Int32Array.from([...prompt, ...new Array<number>(size).fill(config.mask_token_id)]);
    const { cache } = await bd.forwardBlock([seq], PROMPT, null, PROMPT, 0);
    const times = await timed(repeats + 1, () => bd.forwardBlock([seq], PROMPT + size, cache, 0, 0));
    cache?.dispose();
    step = { what: `a ${size}-token block against the cache of ${PROMPT}`, ...spread(times.slice(1)) };
  } else {
    const d = model as unknown as Denoiser;
    const seq = Int32Array.from([...prompt, ...new Array<number>(MASKED).fill(config.mask_token_id)]);
    const times = await timed(Math.max(2, Math.ceil(repeats / 2)) + 1, () => d.forward([seq]));
    step = { what: `a whole pass over ${PROMPT} + ${MASKED} masks`, ...spread(times.slice(1)) };
  }
  const onnx = join(folder, 'onnx');
  return {
    kind: basename(folder),
    dtype: config.weights_dtype,
    downloadMB: readdirSync(onnx).reduce((n, f) => n + statSync(join(onnx, f)).size, 0) / 1e6,
    loadMs,
    residentMB: mb(process.memoryUsage().rss - base),
    step,
  };
}

function spread(times: number[]) {
  const { median, min, max } = figure(times);
  return { ms: median, min, max };
}

/** The family in one engine, as the page loads it: load time, memory, and a short chat run of each model. */
async function family(dir: string) {
  const base = process.memoryUsage().rss;
  const t0 = performance.now();
  const engine = await nodeEngine(dir);
  const loadMs = performance.now() - t0;
  const residentMB = mb(process.memoryUsage().rss - base);
  const settings = pageSettings(engine.info, { diffusion: { genLength: Number(args.gen) } });
  const r = await engine.generate({ prompt: 'Tell me a story.', chat: true, mode: 'all', ...settings });
  const runs = MODEL_KINDS.flatMap((kind) => {
    const t = r.traces[kind];
    return t ? [{ kind, passes: t.stats.forwardPasses, wallMs: t.stats.wallMs, msPerPass: t.stats.msPerPass }] : [];
  });
  const peakMB = mb(process.memoryUsage().rss - base);
  await engine.release();
  return { loadMs, residentMB, peakMB, genLength: Number(args.gen), runs };
}

if (args.one) {
  console.log(JSON.stringify(await one(resolve(args.one))));
} else if (args.family) {
  const dir = resolve(args.family);
  const rows: (Row | { kind: string; failed: string })[] = [];
  for (const kind of ['ar', 'mdlm', 'bd3lm']) {
    const folder = join(dir, kind);
    if (!existsSync(folder)) continue;
    try {
      const out = execFileSync(
        'npx',
        ['tsx', import.meta.filename, '--one', folder, '--repeats', String(args.repeats)],
        {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      rows.push(JSON.parse(out.trim().split('\n').at(-1)!));
    } catch (err) {
      const lines = String((err as { stderr?: string }).stderr ?? err).split('\n');
      rows.push({ kind, failed: lines.find((l) => /Error\b/.test(l))?.trim() ?? lines.filter(Boolean).at(-1)! });
    }
    console.log(JSON.stringify(rows.at(-1)));
  }
  let whole: Awaited<ReturnType<typeof family>> | { failed: string };
  try {
    whole = Number(args.familyRun) ? await family(dir) : { failed: 'not run (--family-run 0)' };
  } catch (err) {
    whole = { failed: (err as Error).message };
  }
  console.log(JSON.stringify(whole));
  const md = [
    `## ${dir}: each model in its own process (Node, onnxruntime-web WASM, 1 thread)`,
    '',
    '| model | weights | download MB | load s | resident MB | one step at the page settings | ms (min-max) |',
    '|---|---|---|---|---|---|---|',
    ...rows.map((r) =>
      'failed' in r
        ? `| ${r.kind} | — | — | — | — | did not run: ${r.failed} | — |`
        : `| ${r.kind} | ${r.dtype} | ${r.downloadMB.toFixed(r.downloadMB < 10 ? 1 : 0)} | ${(r.loadMs / 1000).toFixed(1)} | ${r.residentMB.toFixed(0)} | ${r.step.what} | ${r.step.ms.toFixed(0)} (${r.step.min.toFixed(0)}-${r.step.max.toFixed(0)}) |`,
    ),
    '',
    '## The family in one engine, as the page loads it',
    '',
    'failed' in whole
      ? `did not load: ${whole.failed}`
      : [
          `load ${(whole.loadMs / 1000).toFixed(1)} s, resident ${whole.residentMB.toFixed(0)} MB after load, ${whole.peakMB.toFixed(0)} MB after a chat run of ${whole.genLength} new tokens:`,
          '',
          '| model | passes | wall s | ms per pass |',
          '|---|---|---|---|',
          ...whole.runs.map(
            (r) => `| ${r.kind} | ${r.passes} | ${(r.wallMs / 1000).toFixed(1)} | ${r.msPerPass.toFixed(0)} |`,
          ),
        ].join('\n'),
    '',
  ].join('\n');
  console.log(md);
  if (args.out) writeFileSync(args.out, md);
} else {
  throw new Error('give --family DIR (or --one FOLDER)');
}
