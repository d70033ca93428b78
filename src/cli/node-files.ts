// ReadFile over the local file system, for Node (CLI, tests, benchmarks); the page uses fetch instead.
import { readFile } from 'node:fs/promises';
import type { ReadFile } from '../core/engine.ts';

export function nodeReadFile(root: string): ReadFile {
  return async (path) => new Uint8Array(await readFile(root + path));
}
