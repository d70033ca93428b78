// Where tests find the fixture pair and the shared corpora, plus small ORT helpers.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-web';

export const ROOT = resolve(import.meta.dirname, '..', '..');
/** The pair under test: the committed fixture, or another exported pair (the CI pipeline smoke sets PAIR_DIR). */
export const PAIR_DIR = process.env.PAIR_DIR ? resolve(process.env.PAIR_DIR) : join(ROOT, 'models', 'pairs', 'fixture');
export const CORPUS_DIR = resolve(ROOT, '..', 'shared', 'corpora');

export function readJson<T = any>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

export function corpusPath(file: string): string {
  const path = join(CORPUS_DIR, file);
  if (!existsSync(path)) throw new Error(`corpus file ${path} is missing: clone the project with ../shared beside it`);
  return path;
}

ort.env.wasm.numThreads = 1;

export async function session(kind: 'ar' | 'diffusion'): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(readFileSync(join(PAIR_DIR, kind, 'onnx', 'model.onnx')));
}

export function int64(values: number[], dims: number[]): ort.Tensor {
  return new ort.Tensor('int64', BigInt64Array.from(values.map(BigInt)), dims);
}

/** Golden logits written by export_onnx.py --golden: inputs, dims (batch, seq, vocab) and the flat logits. */
export interface GoldenLogits {
  input_ids: number[][];
  dims: [number, number, number];
  logits: number[];
}

/** Largest absolute difference between two equally long arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export { ort };
