// Models from elsewhere: what a visitor types becomes a model tree's root (or a clear refusal), the plan lists what
// loading reads with its sizes and what the cache holds, and a device that cannot run the models is told why.
import { describe, expect, it } from 'vitest';
import { parseManifest, type Manifest } from '../../../src/core/models/manifest.ts';
import {
  filesToLoad,
  planLoad,
  refusalFor,
  resolveSource,
  runtimeBytes,
  WASM_LIMIT,
} from '../../../src/core/models/model-source.ts';
import { pageSettings } from '../../../src/core/page-settings.ts';

describe('resolveSource', () => {
  it('a Hugging Face id reads the hub (or a stand-in) at main', () => {
    expect(resolveSource('dllm-hub/Qwen3-0.6B-diffusion-mdlm-v0.1')).toEqual({
      root: 'https://huggingface.co/dllm-hub/Qwen3-0.6B-diffusion-mdlm-v0.1/resolve/main/',
      label: 'dllm-hub/Qwen3-0.6B-diffusion-mdlm-v0.1',
    });
    expect(resolveSource(' me/family ', 'http://127.0.0.1:9/').root).toBe('http://127.0.0.1:9/me/family/resolve/main/');
  });

  it('a URL of the folder or of its manifest.json is the folder, without query or fragment', () => {
    const root = 'https://example.org/models/qwen3/';
    expect(resolveSource('https://example.org/models/qwen3').root).toBe(root);
    expect(resolveSource('https://example.org/models/qwen3/manifest.json?x=1#y').root).toBe(root);
  });

  it('refuses what is neither, other schemes, credentials and a bad hub, saying why', () => {
    expect(() => resolveSource('')).toThrow(/type a URL .* or a Hugging Face id/);
    expect(() => resolveSource('just words')).toThrow(/neither a URL .* nor a Hugging Face id/);
    expect(() => resolveSource('a/../b')).toThrow(/neither a URL/);
    expect(() => resolveSource('javascript:alert(1)')).toThrow(/only http and https/);
    expect(() => resolveSource('file:///etc/passwd')).toThrow(/only http and https/);
    expect(() => resolveSource('https://user:pw@example.org/m/')).toThrow(/user name or password/);
    expect(() => resolveSource('a/b', 'ftp://hub')).toThrow(/the hub address: only http and https/);
  });
});

const manifest: Manifest = parseManifest(
  {
    default: 'qwen3',
    pairs: {
      qwen3: {
        title: 'Qwen3 (converted, q4)',
        description: '',
        diffusion: 'mdlm',
        ar: 'ar',
        block: 'bd3lm',
        dtype: 'q4',
        converted: true,
        files: {
          'mdlm/config.json': 1000,
          'mdlm/tokenizer.json': 11_000_000,
          'mdlm/tokenizer_config.json': 5000,
          'mdlm/onnx/model_cached.onnx': 400_000_000,
          'mdlm/README.md': 900,
          'ar/config.json': 1000,
          'ar/tokenizer.json': 11_000_000,
          'ar/onnx/model.onnx': 1000,
          'ar/onnx/model.onnx_data': 399_000_000,
          'bd3lm/config.json': 1000,
          'bd3lm/tokenizer.json': 11_000_000,
          'bd3lm/onnx/model_cached.onnx': 400_000_000,
        },
      },
    },
  },
  'test',
);
const pair = manifest.pairs.qwen3;

describe('the load plan', () => {
  it('lists only what loading reads: configs, graphs and their external weights, one tokenizer', () => {
    expect(Object.keys(filesToLoad(pair)).sort()).toEqual([
      'ar/config.json',
      'ar/onnx/model.onnx',
      'ar/onnx/model.onnx_data',
      'bd3lm/config.json',
      'bd3lm/onnx/model_cached.onnx',
      'mdlm/config.json',
      'mdlm/onnx/model_cached.onnx',
      'mdlm/tokenizer.json',
      'mdlm/tokenizer_config.json',
    ]);
  });

  it('sizes, what the cache holds, and the memory at run time', () => {
    const source = { root: 'https://h/x/resolve/main/', label: 'x' };
    const plan = planLoad(manifest, source, undefined, (f) => f.startsWith('ar/'), { backend: 'webgpu' });
    expect(plan.total).toBe(3000 + 11_005_000 + 400_000_000 * 2 + 399_001_000);
    expect(plan.toDownload).toBe(plan.total - 399_002_000);
    expect(plan.files.filter((f) => f.cached).map((f) => f.path)).toEqual([
      'ar/config.json',
      'ar/onnx/model.onnx',
      'ar/onnx/model.onnx_data',
    ]);
    expect(plan.runtimeBytes).toBe(Math.round(1_199_001_000 * 1.25));
    expect(plan.refusal).toBeNull();
    // on WASM the runtime holds about three times the graphs (measured at Qwen3-0.6B): past what WASM can hold
    const wasm = planLoad(manifest, source, undefined, () => false, { backend: 'wasm' });
    expect(wasm.runtimeBytes).toBe(1_199_001_000 * 3);
    expect(wasm.refusal).toMatch(/about 3\.3 GB of memory at run time, more than WASM can hold/);
    expect(() => planLoad(manifest, source, 'other', () => false, { backend: 'webgpu' })).toThrow(
      /has no models "other"; it has qwen3/,
    );
  });

  it('refuses a manifest that does not list its files', () => {
    const bare = parseManifest(
      { default: 'p', pairs: { p: { title: 't', description: '', diffusion: 'd', ar: 'a' } } },
      't',
    );
    expect(() => planLoad(bare, { root: 'r/', label: 'r' }, undefined, () => false, { backend: 'wasm' })).toThrow(
      /does not list its files and sizes/,
    );
  });
});

describe('refusals', () => {
  const need = runtimeBytes(pair, 'webgpu');
  it('models that need WebGPU, on WASM', () => {
    expect(refusalFor({ ...pair, requires: 'webgpu' }, 1, { backend: 'wasm' })).toMatch(
      /need WebGPU, and this browser has none/,
    );
    expect(refusalFor({ ...pair, requires: 'webgpu' }, 1, { backend: 'webgpu' })).toBeNull();
  });
  it('models computed in float16, on a WebGPU adapter without shader-f16', () => {
    const half = { ...pair, compute: 'fp16' as const };
    expect(refusalFor(half, 1, { backend: 'webgpu', shaderF16: false })).toMatch(
      /compute in float16, and this browser's WebGPU adapter does not offer shader-f16/,
    );
    expect(refusalFor(half, 1, { backend: 'webgpu', shaderF16: true })).toBeNull();
    // WASM widens float16 products to float32 (onnxruntime's CPU code): slower, but it runs
    expect(refusalFor(half, 1, { backend: 'wasm' })).toBeNull();
    expect(refusalFor(pair, 1, { backend: 'webgpu', shaderF16: false })).toBeNull();
  });
  it('more memory than WASM can hold, on WASM', () => {
    expect(refusalFor(pair, WASM_LIMIT + 1, { backend: 'wasm' })).toMatch(/more than WASM can hold .* need WebGPU/);
    expect(refusalFor(pair, WASM_LIMIT + 1, { backend: 'webgpu' })).toBeNull();
  });
  it('more memory than the device reports', () => {
    expect(refusalFor(pair, need, { backend: 'webgpu', deviceMemoryGB: 1 })).toMatch(
      /need about 1\.4 GB .* this device reports 1 GB/,
    );
    expect(refusalFor(pair, need, { backend: 'webgpu', deviceMemoryGB: 8 })).toBeNull();
  });
});

describe('manifest fields of converted families', () => {
  it('validates files, dtype, compute and requires', () => {
    const base = { title: 't', description: '', diffusion: 'd', ar: 'a' };
    const parse = (extra: object) => parseManifest({ default: 'p', pairs: { p: { ...base, ...extra } } }, 'm.json');
    expect(() => parse({ files: { 'a/b': -1 } })).toThrow(/"files" that are not \{ path: bytes \}/);
    expect(() => parse({ dtype: 'int3' })).toThrow(/dtype "int3"; expected fp32, fp16, q8 or q4/);
    expect(() => parse({ requires: 'npu' })).toThrow(/requires "npu"; only "webgpu" is known/);
    expect(() => parse({ compute: 'bf16' })).toThrow(/compute "bf16"; only "fp16" is known/);
    const hex = 'ab'.repeat(32);
    expect(() => parse({ files: { 'a/b': 1 }, sha256: { 'a/c': hex } })).toThrow(/"sha256" that is not/);
    expect(() => parse({ files: { 'a/b': 1 }, sha256: { 'a/b': 'xyz' } })).toThrow(/"sha256" that is not/);
    // the plan carries each file's hash, for the download to be checked against
    const m = parse({ files: { 'd/config.json': 1, 'd/onnx/model.onnx': 2 }, sha256: { 'd/onnx/model.onnx': hex } });
    const plan = planLoad(m, { root: 'r/', label: 'l' }, undefined, () => false, { backend: 'wasm' });
    expect(plan.files.find((f) => f.path === 'd/onnx/model.onnx')?.sha256).toBe(hex);
  });
});

describe('page settings of converted models', () => {
  it("dLLM's: greedy, its schedule, blocks of 32, no early length decision, the manifest's canvas", () => {
    const { diffusion, ar } = pageSettings({ genLength: 128, cachedGraph: true, converted: true });
    expect(diffusion).toMatchObject({
      genLength: 128,
      steps: 128,
      blockLength: 32,
      temperature: 0,
      schedule: 'dllm',
      endOfTextAhead: null,
      fillContext: false,
    });
    expect(ar).toMatchObject({ maxNewTokens: 128, temperature: 0, fillContext: false });
    // the embedded pair's stay as they were
    expect(pageSettings({ genLength: 128, cachedGraph: true }).diffusion).toMatchObject({
      schedule: 'llada',
      fillContext: true,
    });
  });
});
