// Serves the shipped model folders (models/pairs) at /models/ in dev and preview, and copies them into the
// build. A missing file is a real 404, never index.html, so a missing model reports itself clearly.
import { cpSync, createReadStream, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { extname, join, normalize, relative, resolve } from 'node:path';
import type { Connect, Plugin } from 'vite';
import type { PairEntry } from '../src/core/models/manifest.ts';

const PAIRS_DIR = resolve(import.meta.dirname, '..', 'models', 'pairs');
const MOUNT = '/models/';
const TYPES: Record<string, string> = {
  '.json': 'application/json',
  '.onnx': 'application/octet-stream',
  '.md': 'text/markdown; charset=utf-8',
};

function serveModels(): Connect.NextHandleFunction {
  return (req, res, next) => {
    const url = req.url?.split('?')[0] ?? '';
    if (!url.startsWith(MOUNT)) return next();
    const rel = normalize(decodeURIComponent(url.slice(MOUNT.length)));
    const file = join(PAIRS_DIR, rel);
    if (rel.startsWith('..') || !file.startsWith(PAIRS_DIR) || !existsSync(file) || !statSync(file).isFile()) {
      res.statusCode = 404;
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.end(`not found: ${url}`);
      return;
    }
    res.setHeader('Content-Type', TYPES[extname(file)] ?? 'application/octet-stream');
    res.setHeader('Content-Length', String(statSync(file).size));
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    createReadStream(file).pipe(res);
  };
}

/** The top folders of the pairs marked testOnly: folders no other pair uses. */
export function testOnlyFolders(pairs: Record<string, PairEntry>): string[] {
  const top = (p: PairEntry) => [p.diffusion, p.ar, p.block].flatMap((f) => (f ? [f.split('/')[0]] : []));
  const kept = new Set(Object.values(pairs).flatMap((p) => (p.testOnly ? [] : top(p))));
  return [...new Set(Object.values(pairs).flatMap((p) => (p.testOnly ? top(p) : [])))].filter((f) => !kept.has(f));
}

export function modelsPlugin(): Plugin {
  let outDir = 'dist';
  return {
    name: 'diffusion-demo-models',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    configureServer(server) {
      server.middlewares.use(serveModels());
    },
    configurePreviewServer(server) {
      server.middlewares.use(serveModels());
    },
    closeBundle() {
      if (!existsSync(PAIRS_DIR)) return;
      // pairs marked testOnly (the fixture) stay out of a production build; the e2e build asks for them
      const manifestPath = join(PAIRS_DIR, 'manifest.json');
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { pairs: Record<string, PairEntry> };
      const left = process.env.DEMO_TEST_PAIRS === '1' ? [] : testOnlyFolders(manifest.pairs);
      cpSync(PAIRS_DIR, join(outDir, 'models'), {
        recursive: true,
        // golden/ holds test data (parity logits, sampler outputs), not model files
        filter: (src) => {
          const parts = relative(PAIRS_DIR, src).split(/[\\/]/);
          return !parts.includes('golden') && !left.includes(parts[0]);
        },
      });
      if (left.length) {
        for (const [name, pair] of Object.entries(manifest.pairs)) if (pair.testOnly) delete manifest.pairs[name];
        writeFileSync(join(outDir, 'models', 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
      }
    },
  };
}
