// Where tests find the fixture pair and the shared corpora, plus small ORT helpers.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-web';
import { expect } from 'vitest';
import { parseModelConfig, type ModelConfig } from '../../src/core/models/onnx/config.ts';

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

/** The AR model's graph. */
export async function session(kind: 'ar'): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(readFileSync(join(PAIR_DIR, kind, 'onnx', 'model.onnx')));
}

/**
 * A denoiser folder's model as the engine builds it: its whole-sequence graph when the folder has one (null for a
 * cached-only folder, whose cached graph then runs whole sequences) and its cached graph. `make` is the kind's
 * class (OrtWindowedDenoiser, OrtBlockDenoiser).
 */
export async function denoiserIn<T>(
  dir: string,
  make: (whole: ort.InferenceSession | null, config: ModelConfig, cached: ort.InferenceSession) => T,
): Promise<T> {
  const config = parseModelConfig(readJson(join(dir, 'config.json')), join(dir, 'config.json'));
  const open = (graph: string) => ort.InferenceSession.create(readFileSync(join(dir, graph)));
  const whole = existsSync(join(dir, 'onnx', 'model.onnx')) ? await open('onnx/model.onnx') : null;
  expect(whole === null, `${dir}: cached-only says whether onnx/model.onnx is there`).toBe(config.cached_only);
  return make(whole, config, await open(config.cached_graph!));
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
