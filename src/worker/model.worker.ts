// The Web Worker that owns tokenizer and models. It maps protocol messages onto an EngineHost and
// streams progress and steps back; the main thread never runs a model.
import * as ort from 'onnxruntime-web/webgpu';
import wasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import mjsUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.mjs?url';
import { toErrorInfo } from '../core/errors.ts';
import { EngineHost } from './engine-host.ts';
import { fetchWithProgress } from './fetch-progress.ts';
import { cachedFile, cachedUrls, forgetModels } from './model-cache.ts';
import type { Reply, Request } from './protocol.ts';

// The runtime's own files come from this app, never from a CDN.
ort.env.wasm.wasmPaths = {
  wasm: new URL(wasmUrl, self.location.href).href,
  mjs: new URL(mjsUrl, self.location.href).href,
};
ort.env.logLevel = 'error'; // node-placement warnings are expected (shape ops stay on the CPU)
ort.env.wasm.numThreads = self.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;

const MODELS = '/models/';
const memory = (navigator as { deviceMemory?: number }).deviceMemory;
const host = new EngineHost(ort, MODELS, (path, onProgress) => fetchWithProgress(MODELS + path, onProgress), {
  read: cachedFile,
  cached: cachedUrls,
  forget: forgetModels,
  ...(typeof memory === 'number' ? { deviceMemoryGB: memory } : {}),
});
const post = (reply: Reply) => self.postMessage(reply);

self.onmessage = async (event: MessageEvent<Request>) => {
  const req = event.data;
  try {
    switch (req.kind) {
      case 'load': {
        if (req.load.threads) ort.env.wasm.numThreads = self.crossOriginIsolated ? req.load.threads : 1;
        const loaded = await host.load(req.load, {
          onProgress: (progress) => post({ id: req.id, kind: 'progress', progress }),
          onPhase: (phase) => post({ id: req.id, kind: 'phase', phase }),
        });
        post({ id: req.id, kind: 'loaded', loaded });
        break;
      }
      case 'generate': {
        const result = await host.generate(req.request, {
          onStart: (model, start) => post({ id: req.id, kind: 'start', model, start }),
          onStep: (model, step) => post({ id: req.id, kind: 'step', model, step }),
        });
        post({ id: req.id, kind: 'done', result });
        break;
      }
      case 'cancel':
        host.cancel();
        break;
      case 'plan':
        post({ id: req.id, kind: 'plan-done', plan: await host.plan(req.source, req.backend) });
        break;
      case 'forget':
        post({ id: req.id, kind: 'forgotten', freed: await host.forget() });
        break;
      case 'bench': {
        const result = await host.bench((what) => post({ id: req.id, kind: 'bench-progress', what }));
        post({ id: req.id, kind: 'bench-done', result });
        break;
      }
    }
  } catch (err) {
    post({ id: req.id, kind: 'error', error: toErrorInfo(err) });
  }
};
