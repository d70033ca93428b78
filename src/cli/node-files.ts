// ReadFile over the local file system, for Node (CLI, tests, benchmarks); the page uses fetch instead.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { Engine, type ReadFile } from '../core/engine.ts';

export function nodeReadFile(root: string): ReadFile {
  return async (path) => new Uint8Array(await readFile(root + path));
}

/** A model tree's pair (its manifest's default when `pair` is empty) loaded in Node on WASM with `threads`. */
export async function nodeEngine(models: string, pair = '', threads = 1): Promise<Engine> {
  ort.env.wasm.numThreads = threads;
  const root = join(models, '/');
  return Engine.load({ ort, root, readFile: nodeReadFile(root), pair: pair || undefined, backend: 'wasm' });
}
