// The house rules of src/core (README, "Architecture"): data flows models/ -> src/core -> src/worker -> src/ui, so
// core imports nothing from the worker, the page or the command line; models/ (what a model is) knows nothing of
// how it is sampled; and each room stays small enough to read.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const CORE = join(ROOT, 'src/core');

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** Every relative import of a file, resolved to a path from the repository root. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]);
  return specs.map((s) => relative(ROOT, resolve(dirname(file), s)));
}

const coreFiles = filesUnder(CORE).filter((f) => f.endsWith('.ts'));

describe('src/core', () => {
  it('imports nothing from the worker, the page, the command line or the benchmarks', () => {
    expect(coreFiles.length).toBeGreaterThan(20);
    const outside = coreFiles.flatMap((f) =>
      importsOf(f)
        // models/'s shared contracts (cache-layout.json, config-limits.json) flow into core, as models/ -> src/core
        .filter((target) => !target.startsWith('src/core/') && !/^models\/[\w-]+\.json$/.test(target))
        .map((target) => `${relative(ROOT, f)} -> ${target}`),
    );
    expect(outside).toEqual([]);
  });

  it('models/ imports nothing of the samplers, the traces, the measures or the engine (errors only)', () => {
    const models = coreFiles.filter((f) => f.startsWith(join(CORE, 'models') + '/'));
    expect(models.length).toBeGreaterThan(5);
    const wrong = models.flatMap((f) =>
      importsOf(f)
        .filter((t) => t.startsWith('src/core/') && !t.startsWith('src/core/models/') && t !== 'src/core/errors.ts')
        .map((t) => `${relative(ROOT, f)} -> ${t}`),
    );
    expect(wrong).toEqual([]);
  });

  it('has no folder of more than 8 files', () => {
    const folders = new Map<string, number>();
    for (const f of coreFiles) folders.set(dirname(f), (folders.get(dirname(f)) ?? 0) + 1);
    const crowded = [...folders].filter(([, n]) => n > 8).map(([d, n]) => `${relative(ROOT, d)}: ${n}`);
    expect(crowded).toEqual([]);
    expect(folders.size).toBeGreaterThanOrEqual(6); // the root and its rooms
  });
});
