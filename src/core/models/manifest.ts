// The manifest (models/pairs/manifest.json) names which diffusion, AR (and block-diffusion) folders form a pair:
// same tokenizer, same architecture and data, differing only in attention rule and objective.

export interface PairEntry {
  title: string;
  /** Folder of the masked-diffusion denoiser, relative to the manifest. */
  diffusion: string;
  /** Folder of the autoregressive baseline, relative to the manifest. */
  ar: string;
  /** Folder of the block-diffusion (BD3-LM) model, relative to the manifest; a pair may have none. */
  block?: string;
  description: string;
  /**
   * The page's generation length for this pair: long enough for its texts to end, so the tail settling into
   * end-of-text is part of what a visitor sees. The options' default (64) when absent.
   */
  genLength?: number;
  /**
   * Every file the pair's models need, path (relative to the manifest) -> bytes: the page shows the download
   * before it starts, and a graph's external weights (`*.onnx_data`) are found here. Written by export_hf.py.
   */
  files?: Record<string, number>;
  /** Path -> SHA-256 (hex) of the files listed in `files` (export_hf.py): a download that differs is refused. */
  sha256?: Record<string, string>;
  /** A published model converted by export_hf.py: the page applies the models' recommended settings. */
  converted?: boolean;
  /** The pair cannot run without WebGPU (the page refuses to load it on WASM). */
  requires?: 'webgpu';
  /** How converted weights are stored (export_hf.py --dtype). */
  dtype?: 'fp32' | 'fp16' | 'q8' | 'q4';
  /**
   * 'fp16': the matrix products are computed in float16 (export_hf.py --compute fp16), which WebGPU runs only on an
   * adapter with shader-f16 (the page refuses it on one without; WASM widens them). Absent: float32 arithmetic.
   */
  compute?: 'fp16';
  /** Test data (the fixture pair): left out of the production build (scripts/vite-models-plugin.ts). */
  testOnly?: boolean;
}

export interface Manifest {
  default: string;
  pairs: Record<string, PairEntry>;
}

export function parseManifest(json: unknown, source: string): Manifest {
  const m = json as Partial<Manifest>;
  if (!m || typeof m !== 'object' || typeof m.default !== 'string' || !m.pairs || typeof m.pairs !== 'object') {
    throw new Error(`${source}: expected { default, pairs } in the model manifest`);
  }
  for (const [name, p] of Object.entries(m.pairs)) {
    if (typeof p?.diffusion !== 'string' || typeof p?.ar !== 'string') {
      throw new Error(`${source}: pair "${name}" needs "diffusion" and "ar" folders`);
    }
    if (p.block !== undefined && typeof p.block !== 'string') {
      throw new Error(`${source}: pair "${name}" has a "block" that is not a folder`);
    }
    if (
      p.files !== undefined &&
      (typeof p.files !== 'object' ||
        p.files === null ||
        Object.entries(p.files).some(([f, n]) => typeof f !== 'string' || !(Number.isInteger(n) && n >= 0)))
    ) {
      throw new Error(`${source}: pair "${name}" has "files" that are not { path: bytes }`);
    }
    if (
      p.sha256 !== undefined &&
      (typeof p.sha256 !== 'object' ||
        p.sha256 === null ||
        Object.entries(p.sha256).some(
          ([f, h]) => !/^[0-9a-f]{64}$/.test(String(h)) || !Object.hasOwn(p.files ?? {}, f),
        ))
    ) {
      throw new Error(`${source}: pair "${name}" has "sha256" that is not { listed path: 64 hex digits }`);
    }
    if (p.testOnly !== undefined && typeof p.testOnly !== 'boolean') {
      throw new Error(`${source}: pair "${name}" has testOnly ${JSON.stringify(p.testOnly)}; expected true or false`);
    }
    if (p.dtype !== undefined && !['fp32', 'fp16', 'q8', 'q4'].includes(p.dtype)) {
      throw new Error(`${source}: pair "${name}" has dtype ${JSON.stringify(p.dtype)}; expected fp32, fp16, q8 or q4`);
    }
    if (p.compute !== undefined && p.compute !== 'fp16') {
      throw new Error(`${source}: pair "${name}" has compute ${JSON.stringify(p.compute)}; only "fp16" is known`);
    }
    if (p.requires !== undefined && p.requires !== 'webgpu') {
      throw new Error(`${source}: pair "${name}" requires ${JSON.stringify(p.requires)}; only "webgpu" is known`);
    }
    if (p.genLength !== undefined && !(Number.isInteger(p.genLength) && p.genLength > 0)) {
      throw new Error(`${source}: pair "${name}" has genLength ${p.genLength}; expected a positive integer`);
    }
  }
  if (!Object.hasOwn(m.pairs, m.default)) {
    throw new Error(`${source}: default pair "${m.default}" is not among ${Object.keys(m.pairs).join(', ')}`);
  }
  return m as Manifest;
}
