// Serves the shipped model folders (models/pairs) at /models/ in dev and preview, and copies them into the
// build. A missing file is a real 404, never index.html, so a missing model reports itself clearly.
import { cpSync, createReadStream, existsSync, statSync } from 'node:fs';
import { extname, join, normalize, resolve } from 'node:path';
import type { Connect, Plugin } from 'vite';

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
      if (existsSync(PAIRS_DIR)) {
        cpSync(PAIRS_DIR, join(outDir, 'models'), {
          recursive: true,
          // golden/ holds test data (parity logits, sampler outputs), not model files
          filter: (src) => !src.split(/[\\/]/).includes('golden'),
        });
      }
    },
  };
}
