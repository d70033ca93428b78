// The weight dtypes of a converted family side by side (issue 26): for each folder of DIR that holds a converted
// MDLM (fp32, fp16, q8, q4; q8-rebuild and q4-rebuild with --compute rebuild; fp16-compute, the products in float16),
// in a process of its own so that its memory is its own: time per whole-sequence pass (median after warm-ups, 1
// thread, WASM), the process's resident memory and the runtime's WebAssembly heap once loaded and run, the download,
// and the logits' error against the fp32 folder's on the same input. `npm run bench -- --dtypes DIR` runs it; scripts/make-hf-bench.sh writes a ~25 M-parameter family for it.
//   npx tsx src/bench/dtype-bench.ts --one DIR/q4/mdlm --length 128 --repeats 7   (one row, JSON on stdout)
import * as ort from 'onnxruntime-web';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { keepsWeightsCompressed, parseModelConfig, type ModelConfig } from '../core/models/onnx/config.ts';
import { createSession } from '../core/models/onnx/graph.ts';
import { loadOnnxModel } from '../core/models/onnx/load.ts';
import type { Denoiser } from '../core/models/types.ts';
import { matmulModel } from './matmul-model.ts';

/** The folders `--dtypes DIR` may hold, in the order the table lists them (scripts/make-hf-bench.sh writes all). */
export const DTYPE_ROWS = ['fp32', 'fp16', 'fp16-compute', 'q8', 'q8-rebuild', 'q4', 'q4-rebuild'];

export interface DtypeRow {
  name: string;
  dtype: string;
  compute: string;
  /** Reading the graph and making its session (no download: the files are on disk). */
  loadMs: number;
  /** Median wall time of one whole-sequence pass, and its spread. */
  msPerPass: { median: number; min: number; max: number };
  /**
   * Resident set of the process after load and the passes, less before loading: the runtime already started and all
   * its WebAssembly compiled to the top tier, so what is left is the model's (V8 would otherwise compile the kernels a
   * model first runs during the measurement: ~100 MB of code counted as the model's, measured).
   */
  residentMB: number;
  /** How far the runtime's WebAssembly memory grew for the model (weights, activations, scratch): it never shrinks. */
  heapMB: number;
  baseMB: number;
  downloadMB: number;
  /** max |logit - fp32 logit| / max |fp32 logit| over the same input; 0 for fp32 itself. */
  error: number | null;
  /** Why the row could not run (the model did not load in this runtime), instead of figures. */
  failed?: string;
}

const mb = (bytes: number) => bytes / 1024 ** 2;

/** The input every row runs: a fixed sequence of token ids, a third of them masks. */
function input(vocab: number, mask: number, length: number): Int32Array {
  const ids = new Int32Array(length);
  for (let i = 0; i < length; i++) ids[i] = i % 3 === 2 ? mask : (i * 7919 + 13) % Math.min(vocab, 500);
  return ids;
}

/**
 * A model folder on disk loaded as the page loads it (WASM; weights in a `*_data` file beside a graph read too;
 * compressed weights kept so where the config says): for the benchmarks that time one model in its own process.
 */
export function loadFolderModel(folder: string, config: ModelConfig) {
  const open = async (graph: string) => {
    const path = join(folder, graph);
    const external = existsSync(path + '_data')
      ? [{ path: graph.split('/').at(-1)! + '_data', data: readFileSync(path + '_data') }]
      : [];
    return createSession(ort, readFileSync(path), path, 'wasm', external, keepsWeightsCompressed(config));
  };
  return loadOnnxModel(ort, config, folder, open);
}

/**
 * The WebAssembly memories made from now on, to read the runtime's heap size (onnxruntime-web does not expose its
 * module): watched by wrapping the constructor before the runtime starts.
 */
function watchWasmMemory(): () => number {
  const made: WebAssembly.Memory[] = [];
  WebAssembly.Memory = new Proxy(WebAssembly.Memory, {
    construct(target, args: [WebAssembly.MemoryDescriptor]) {
      const memory = new target(...args);
      made.push(memory);
      return memory;
    },
  });
  return () => made.reduce((n, m) => n + m.buffer.byteLength, 0);
}

/** Node's flags for a row's process: all of the runtime's WebAssembly compiled to the top tier as it loads. */
export const COMPILE_UP_FRONT = ['--no-wasm-lazy-compilation', '--no-wasm-dynamic-tiering'];

/** One folder, in this process: loads its graph as the page does and times it. */
async function one(folder: string, length: number, repeats: number, logitsOut: string) {
  ort.env.wasm.numThreads = 1;
  const heap = watchWasmMemory();
  // the runtime itself (its compiled WebAssembly, ~500 MB resident when compiled up front) before the base, so the
  // figures are the model's
  const warm = await ort.InferenceSession.create(matmulModel());
  await warm.release();
  const base = process.memoryUsage().rss;
  const baseHeap = heap();
  const config = parseModelConfig(JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8')), folder);
  const t0 = performance.now();
  const model = (await loadFolderModel(folder, config)) as unknown as Denoiser;
  const loadMs = performance.now() - t0;
  const ids = input(config.vocab_size, config.mask_token_id, length);
  let logits = (await model.forward([ids]))[0];
  for (let i = 0; i < 2; i++) logits = (await model.forward([ids]))[0]; // warm-ups
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await model.forward([ids]);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  writeFileSync(logitsOut, Buffer.from(logits.buffer, logits.byteOffset, logits.byteLength));
  const weights = JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8')).weights ?? {};
  const onnx = join(folder, 'onnx');
  const download = readdirSync(onnx).reduce((n, f) => n + statSync(join(onnx, f)).size, 0);
  console.log(
    JSON.stringify({
      dtype: config.weights_dtype,
      compute: weights.compute ?? 'fp32',
      loadMs,
      msPerPass: { median: times[Math.floor(times.length / 2)], min: times[0], max: times.at(-1)! },
      residentMB: mb(process.memoryUsage().rss - base),
      heapMB: mb(heap() - baseHeap),
      baseMB: mb(base),
      downloadMB: mb(download),
    }),
  );
}

/** Every dtype folder of `root` (each with an mdlm/ of its own), each in a child process; rows in the order given. */
export function benchDtypes(root: string, names: string[], length = 128, repeats = 7): DtypeRow[] {
  const rows: DtypeRow[] = [];
  let reference: Float32Array | null = null;
  for (const name of names) {
    const folder = join(resolve(root), name, 'mdlm');
    if (!existsSync(folder)) throw new Error(`${folder} is missing: run scripts/make-hf-bench.sh ${root}`);
    const logitsFile = join(resolve(root), `${name}.logits.bin`);
    let printed: string;
    try {
      printed = execFileSync(
        process.execPath,
        [
          ...COMPILE_UP_FRONT,
          '--import',
          'tsx',
          import.meta.filename,
          '--one',
          folder,
          '--length',
          String(length),
          '--repeats',
          String(repeats),
          '--logits',
          logitsFile,
        ],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
      );
    } catch (err) {
      // a model this runtime cannot hold (fp32 past WASM's 4 GB) is a row that says so, not the end of the bench
      const why = String((err as { stderr?: string }).stderr ?? err)
        .split('\n')
        .find((l) => /^\w*Error\b.*: /.test(l))
        ?.replace(/^.*ERROR_MESSAGE: /, '')
        .replace(/ — check that .*$/, '');
      rows.push({ name, failed: (why ?? 'failed').trim().slice(0, 200) } as DtypeRow);
      continue;
    }
    const row = JSON.parse(printed.trim().split('\n').at(-1)!);
    const bytes = readFileSync(logitsFile);
    const logits = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    if (name === 'fp32') reference = logits;
    let error: number | null = null;
    if (reference) {
      let diff = 0;
      let top = 0;
      for (let i = 0; i < reference.length; i++) {
        diff = Math.max(diff, Math.abs(logits[i] - reference[i]));
        top = Math.max(top, Math.abs(reference[i]));
      }
      error = diff / top;
    }
    rows.push({ name, ...row, error });
  }
  return rows;
}

/** The rows as a Markdown table, with each row's time and memory as a ratio to fp32's. */
export function dtypeTable(rows: DtypeRow[]): string {
  const fp32 = rows.find((r) => r.name === 'fp32' && !r.failed);
  const ratio = (x: number, y: number | undefined) => (y ? ` (${(x / y).toFixed(2)}x)` : '');
  const lines = [
    '| weights | computed by | load s | ms / pass (min–max) | resident MB (model) | WASM heap MB (model) | download MB | error vs fp32 |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.map((r) =>
      r.failed
        ? `| ${r.name} | — | — | could not run: ${r.failed} | — | — | — | — |`
        : `| ${r.name} | ${r.compute} | ${(r.loadMs / 1000).toFixed(1)} | ${r.msPerPass.median.toFixed(1)} (${r.msPerPass.min.toFixed(1)}–${r.msPerPass.max.toFixed(1)})${ratio(r.msPerPass.median, fp32?.msPerPass.median)} | ` +
          `${r.residentMB.toFixed(0)}${ratio(r.residentMB, fp32?.residentMB)} | ` +
          `${r.heapMB.toFixed(0)}${ratio(r.heapMB, fp32?.heapMB)} | ${r.downloadMB.toFixed(1)} | ` +
          `${r.error === null ? '—' : r.error.toExponential(1)} |`,
    ),
  ];
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const arg = (name: string, fallback: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : fallback;
  };
  await one(arg('one', ''), Number(arg('length', '128')), Number(arg('repeats', '7')), arg('logits', '/dev/null'));
}
