// Models from elsewhere: what a visitor types (a URL, or a Hugging Face id) -> the root of a model tree in this
// project's layout (a manifest.json beside the model folders, as `npm run export:hf -- --manifest` writes it), what
// loading it will download, and whether this device can run it. Pure: the worker does the fetching and caching.
import type { Manifest, PairEntry } from './manifest.ts';

export const DEFAULT_HUB = 'https://huggingface.co';

export class SourceError extends Error {
  override name = 'SourceError';
}

/** A Hugging Face repository id: owner/name, each of letters, digits, '-', '_' and '.', not starting with '.'. */
const HUB_ID = /^[A-Za-z0-9][\w.-]{0,95}\/[A-Za-z0-9][\w.-]{0,95}$/;

/**
 * The model tree's root URL (ending in '/') for `input`: an http(s) URL of the folder or of its manifest.json, or a
 * Hugging Face id, read from `hub` (https://huggingface.co, or a stand-in) at its main revision.
 */
export function resolveSource(input: string, hub = DEFAULT_HUB): { root: string; label: string } {
  const text = input.trim();
  if (!text)
    throw new SourceError('type a URL (https://…/manifest.json or its folder) or a Hugging Face id (owner/name)');
  if (HUB_ID.test(text) && !text.includes('..')) {
    const base = checkedUrl(hub, 'the hub address').href.replace(/\/+$/, '');
    return { root: `${base}/${text}/resolve/main/`, label: text };
  }
  const url = checkedUrl(text, `"${text}"`);
  url.hash = '';
  url.search = '';
  let path = url.pathname.replace(/manifest\.json$/, '');
  if (!path.endsWith('/')) path += '/';
  url.pathname = path;
  return { root: url.href, label: url.href };
}

function checkedUrl(text: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new SourceError(`${what} is neither a URL (https://…) nor a Hugging Face id (owner/name)`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new SourceError(`${what}: only http and https addresses can be loaded, not ${url.protocol}`);
  }
  if (url.username || url.password)
    throw new SourceError(`${what}: addresses with a user name or password are refused`);
  return url;
}

export interface PlannedFile {
  path: string;
  bytes: number;
  /** The manifest's SHA-256 of the file, when it lists one: a download with other bytes is refused. */
  sha256?: string;
  /** Already in the browser's cache: loading it downloads nothing. */
  cached: boolean;
}

export interface LoadPlan {
  root: string;
  label: string;
  pair: string;
  title: string;
  files: PlannedFile[];
  /** Bytes in all; bytes still to download. */
  total: number;
  toDownload: number;
  /** Memory the models take at run time (their weights rebuilt as float32), estimated. */
  runtimeBytes: number;
  /** Null when it can run here; else why not, to show instead of a download button. */
  refusal: string | null;
}

/**
 * Run-time memory per byte of graph, by backend. WASM: measured (README, "Published models at their real size";
 * Node, onnxruntime-web WASM, one thread, one pass, the process's resident memory over the graph's size): Qwen3-0.6B
 * MDLM q4 with MatMulNBits 1,098 MB for a 0.36 GB graph (3.1x), q8 1,669 MB for 0.60 GB (2.8x); the runtime's
 * buffers and activations come on top of the weights. WebGPU: the weights live in GPU buffers and the page holds
 * little beside them; 1.25x is a rule of thumb there, not a measurement.
 */
export const RUNTIME_FACTOR: Record<'wasm' | 'webgpu', number> = { wasm: 3, webgpu: 1.25 };

/**
 * Memory at run time, estimated from the download: the graphs' weights as stored (compressed ones stay compressed;
 * MatMulNBits computes on them, or each is rebuilt as float32 only while in use), times the backend's factor
 * (RUNTIME_FACTOR). Tokenizers and configs are ignored.
 */
export function runtimeBytes(pair: PairEntry, backend: 'wasm' | 'webgpu'): number {
  let bytes = 0;
  for (const [path, n] of Object.entries(filesToLoad(pair))) {
    if (path.endsWith('.onnx') || path.endsWith('.onnx_data')) bytes += n;
  }
  return Math.round(bytes * RUNTIME_FACTOR[backend]);
}

/** WASM addresses at most 4 GB, and the runtime needs room beside the weights. */
export const WASM_LIMIT = 2 * 1024 ** 3;

export interface DeviceFacts {
  backend: 'webgpu' | 'wasm';
  /** navigator.deviceMemory (GB, rounded down and capped at 8 by browsers), when the browser tells. */
  deviceMemoryGB?: number;
  /** WebGPU: whether the adapter offers shader-f16 (chooseBackend). */
  shaderF16?: boolean;
}

/** Null when the models fit this device; else the reason, in words a visitor can act on. */
export function refusalFor(pair: PairEntry, need: number, device: DeviceFacts): string | null {
  const gb = (n: number) => `${(n / 1024 ** 3).toFixed(1)} GB`;
  if (device.backend === 'wasm' && pair.requires === 'webgpu') {
    return 'these models need WebGPU, and this browser has none (WASM would be far too slow for them): try a recent Chrome or Edge on a machine with a GPU';
  }
  if (device.backend === 'webgpu' && pair.compute === 'fp16' && device.shaderF16 === false) {
    return "these models compute in float16, and this browser's WebGPU adapter does not offer shader-f16 (float16 in shaders): load the same models stored as fp16 but computed in float32, or as q8 or q4";
  }
  if (device.backend === 'wasm' && need > WASM_LIMIT) {
    return `these models need about ${gb(need)} of memory at run time, more than WASM can hold (${gb(WASM_LIMIT)}); they need WebGPU, and this browser has none`;
  }
  if (device.deviceMemoryGB !== undefined && need > device.deviceMemoryGB * 1024 ** 3 * 0.75) {
    return `these models need about ${gb(need)} of memory at run time and this device reports ${device.deviceMemoryGB} GB: choose a smaller dtype (q4) or another device`;
  }
  return null;
}

/**
 * The files loading a pair reads (engine.ts): each model's config.json and graphs (with their external weights),
 * and the tokenizer of the diffusion model's folder (the pair shares one).
 */
export function filesToLoad(pair: PairEntry): Record<string, number> {
  const folders = [pair.diffusion, pair.ar, pair.block].filter((f): f is string => f !== undefined);
  const wanted = (path: string) =>
    folders.some((folder) => {
      if (!path.startsWith(folder + '/')) return false;
      const rest = path.slice(folder.length + 1);
      if (rest === 'config.json' || rest.endsWith('.onnx') || rest.endsWith('.onnx_data')) return true;
      return folder === pair.diffusion && (rest === 'tokenizer.json' || rest === 'tokenizer_config.json');
    });
  return Object.fromEntries(Object.entries(pair.files ?? {}).filter(([path]) => wanted(path)));
}

/** The plan for loading `pairName` (the manifest's default when undefined) of the tree at `root`. */
export function planLoad(
  manifest: Manifest,
  source: { root: string; label: string },
  pairName: string | undefined,
  isCached: (path: string) => boolean,
  device: DeviceFacts,
): LoadPlan {
  const name = pairName ?? manifest.default;
  if (!Object.hasOwn(manifest.pairs, name)) {
    throw new SourceError(`${source.label} has no models "${name}"; it has ${Object.keys(manifest.pairs).join(', ')}`);
  }
  const pair = manifest.pairs[name];
  if (!pair.files) {
    throw new SourceError(
      `${source.label}'s manifest.json does not list its files and sizes ("files"): convert it with npm run export:hf -- --manifest`,
    );
  }
  const files = Object.entries(filesToLoad(pair))
    .map(([path, bytes]) => ({
      path,
      bytes,
      cached: isCached(path),
      ...(pair.sha256?.[path] ? { sha256: pair.sha256[path] } : {}),
    }))
    .sort((a, b) => a.path.localeCompare(b.path));
  const need = runtimeBytes(pair, device.backend);
  return {
    ...source,
    pair: name,
    title: pair.title,
    files,
    total: files.reduce((n, f) => n + f.bytes, 0),
    toDownload: files.filter((f) => !f.cached).reduce((n, f) => n + f.bytes, 0),
    runtimeBytes: need,
    refusal: refusalFor(pair, need, device),
  };
}
