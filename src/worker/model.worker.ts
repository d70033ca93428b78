// The Web Worker that owns tokenizer and models. It maps protocol messages onto an EngineHost and
// streams progress and steps back; the main thread never runs a model.
import type * as Ort from 'onnxruntime-web';
import plainWasm from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';
import plainMjs from 'onnxruntime-web/ort-wasm-simd-threaded.mjs?url';
import gpuWasm from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import gpuMjs from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.mjs?url';
import { toErrorInfo } from '../core/errors.ts';
import type { Backend } from '../core/models/onnx/graph.ts';
import { EngineHost } from './engine-host.ts';
import { fetchWithProgress } from './fetch-progress.ts';
import { cachedFile, cachedUrls, forgetModels } from './model-cache.ts';
import type { GenerateEvents, Reply, Request } from './protocol.ts';

/**
 * One onnxruntime-web build per backend, loaded when a load first chooses it: on WASM the plain build (its WASM
 * path is several times faster than the WebGPU build's asyncify one: issue 27), on WebGPU the WebGPU build. Both
 * come from the one onnxruntime-web package transformers.js pins; their files come from this app, never a CDN.
 */
const RUNTIME_BUILDS: Record<Backend, { load: () => Promise<typeof Ort>; wasm: string; mjs: string }> = {
  wasm: { load: () => import('onnxruntime-web'), wasm: plainWasm, mjs: plainMjs },
  webgpu: { load: () => import('onnxruntime-web/webgpu'), wasm: gpuWasm, mjs: gpuMjs },
};
const runtimes = new Map<Backend, Promise<typeof Ort>>();
let threads = self.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;

function runtime(backend: Backend): Promise<typeof Ort> {
  if (!runtimes.has(backend)) {
    const build = RUNTIME_BUILDS[backend];
    runtimes.set(
      backend,
      build.load().then((ort) => {
        ort.env.wasm.wasmPaths = {
          wasm: new URL(build.wasm, self.location.href).href,
          mjs: new URL(build.mjs, self.location.href).href,
        };
        ort.env.logLevel = 'error'; // node-placement warnings are expected (shape ops stay on the CPU)
        ort.env.wasm.numThreads = threads;
        return ort;
      }),
    );
  }
  return runtimes.get(backend)!;
}

const MODELS = '/models/';
const memory = (navigator as { deviceMemory?: number }).deviceMemory;
const host = new EngineHost(runtime, MODELS, (path, onProgress) => fetchWithProgress(MODELS + path, onProgress), {
  read: (url, onProgress, expected, onNotKept) => cachedFile(url, onProgress, expected, undefined, onNotKept),
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
        if (req.load.threads) {
          // a runtime's thread count is fixed once it has started: a runtime not yet started takes the new one
          threads = self.crossOriginIsolated ? req.load.threads : 1;
          for (const started of runtimes.values()) (await started).env.wasm.numThreads = threads;
        }
        const loaded = await host.load(req.load, {
          onProgress: (progress) => post({ id: req.id, kind: 'progress', progress }),
          onPhase: (phase) => post({ id: req.id, kind: 'phase', phase }),
        });
        post({ id: req.id, kind: 'loaded', loaded });
        break;
      }
      case 'generate':
      case 'resume': {
        const events: GenerateEvents = {
          onStart: (model, start) => post({ id: req.id, kind: 'start', model, start }),
          onStep: (model, step) => post({ id: req.id, kind: 'step', model, step }),
        };
        const result =
          req.kind === 'generate' ? await host.generate(req.request, events) : await host.resume(req.request, events);
        post({ id: req.id, kind: 'done', result });
        break;
      }
      case 'samples': {
        const count = await host.samples(req.request, req.count, (index, result) =>
          post({ id: req.id, kind: 'sample', index, result }),
        );
        post({ id: req.id, kind: 'samples-done', count });
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
