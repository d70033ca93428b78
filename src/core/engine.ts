// The engine: loads a model pair (tokenizer, diffusion denoiser, AR baseline, and a block-diffusion model when the
// pair has one) and runs generation requests, streaming steps. It runs inside the Web Worker on the page and directly in Node (CLI, tests, benchmarks).
import { generateAr } from './sampler/ar.ts';
import { generateDiffusion, type RunContext } from './sampler/diffusion.ts';
import { ModelLoadError } from './errors.ts';
import { expandInfillMarkers, hasInfillMarkers } from './sampler/infill.ts';
import type { DraftEdit } from './drafts/edits.ts';
import { resolveEdits, resumeAr, resumeDiffusion, type DraftRequest, type Resumed } from './drafts/resume.ts';
import { parseManifest, type Manifest } from './models/manifest.ts';
import { KINDS_OF_MODE, MODEL_KINDS, type Mode, type ModelKind, type PerKind } from './modes.ts';
import { blockModelOptions, DIFFUSION_DEFAULTS, type ArOptions, type DiffusionOptions } from './sampler/options.ts';
import { OrtBlockDenoiser } from './models/onnx/block-denoiser.ts';
import { OrtCausalLM } from './models/onnx/causal-lm.ts';
import { keepsWeightsCompressed, parseModelConfig, type ModelConfig } from './models/onnx/config.ts';
import { chooseBackend, createSession, type Backend, type BackendChoice, type OrtModule } from './models/onnx/graph.ts';
import { loadOnnxModel, type OnnxModel } from './models/onnx/load.ts';
import { isBlockDenoiser, type Denoiser } from './models/types.ts';
import { loadTokenizer, type TextTokenizer } from './models/tokenizer.ts';
import type { Trace, TraceStart, TraceStep } from './trace/trace.ts';

/** Reads one file of the model tree (fetch in the browser, fs in Node), reporting bytes as they arrive. */
export type ReadFile = (path: string, onProgress?: (loaded: number, total: number) => void) => Promise<Uint8Array>;

export interface LoadProgress {
  file: string;
  loaded: number;
  total: number;
}

export interface LoadOptions {
  /**
   * The onnxruntime-web module, or the module for the backend chosen (the page loads the plain WASM build for WASM
   * and the WebGPU build only for WebGPU: the WebGPU build's WASM path is several times slower, issue 27).
   */
  ort: OrtModule | ((backend: Backend) => Promise<OrtModule>);
  /** Root of the model tree: a URL prefix such as '/models/' or a directory path ending in '/'. */
  root: string;
  readFile: ReadFile;
  /** Pair name from the manifest; its default when omitted. */
  pair?: string;
  backend?: 'auto' | Backend;
  onProgress?: (p: LoadProgress) => void;
  onPhase?: (phase: 'download' | 'warm-up' | 'ready') => void;
}

export type { Mode, ModelKind, PerKind };

export interface GenerateRequest {
  prompt: string;
  mode: Mode;
  diffusion?: Partial<DiffusionOptions>;
  /** The block model's options; when absent, the diffusion options with the block model's blocks (blockModelOptions). */
  block?: Partial<DiffusionOptions>;
  ar?: Partial<ArOptions>;
  /** Length of a bare `[MASK]` marker in the prompt. */
  infillSpan?: number;
  /** The prompt is the user's message of a chat: it goes through the tokenizer's chat template (no infill). */
  chat?: boolean;
}

/** How a caller follows runs as they happen: cancellation, and each kind's start and steps. */
export interface StreamHooks {
  signal?: AbortSignal;
  onStart?: (kind: ModelKind, start: TraceStart) => void;
  onStep?: (kind: ModelKind, step: TraceStep) => void;
}

export interface GenerateResult {
  /** Each kind's trace, for the kinds that ran. */
  traces: PerKind<Trace>;
  /** Why a kind of the mode did not run (infill prompts), for the UI to say. */
  skipped: PerKind<string>;
  /** What to know of a kind's run (a resumed AR run: what it kept and could not revise). */
  notes?: PerKind<string>;
}

export interface EngineInfo {
  pair: string;
  backend: BackendChoice;
  contextLength: number;
  vocabSize: number;
  /** The pair's generation length for the page and the CLI (its manifest `genLength`, else the options' default). */
  genLength: number;
  /** The denoiser has a cached graph: Fast-dLLM's prefix and dual caches can run. */
  cachedGraph: boolean;
  /** The pair's block-diffusion model's block size, or null when the pair has none. */
  blockSize: number | null;
  /** The tokenizer has a chat template: prompts can go through it (GenerateRequest.chat). */
  chat: boolean;
  /** A published model converted by export_hf.py (the manifest says so): the page uses its recommended settings. */
  converted: boolean;
  /** How the denoiser's weights are stored and read (config.json weights: "q4, MatMulNBits"; "fp32" as trained). */
  weights: string;
}

/**
 * An infill prompt generates only its spans: the options that shape an appended canvas (length, steps, blocks,
 * minimum length, filling the context) do not apply, so the page's settings for continuing a prompt can be sent as they are.
 */
function spansOnly(options: Partial<DiffusionOptions> = {}): Partial<DiffusionOptions> {
  const { genLength: _genLength, steps: _steps, blockLength: _blockLength, minLength: _minLength, ...rest } = options;
  return { ...rest, genLength: 0, fillContext: false };
}

/** A denoiser as the engine holds it: runnable and releasable. */
type LoadedDenoiser = Denoiser & { release(): Promise<void> };

function weightsLabel(config: ModelConfig): string {
  const compute = {
    kernels: 'MatMulNBits',
    rebuild: 'rebuilt as float32 each pass',
    fold: 'folded to float32 at load',
  }[config.weights_compute];
  return compute && config.weights_dtype !== 'fp32' ? `${config.weights_dtype}, ${compute}` : config.weights_dtype;
}

/** What each kind of a pair must be, how it warms up, and how it runs a request: the engine's one table. */
interface KindRole {
  /** Why a folder's config cannot fill this role, or null when it can. */
  refuse(config: ModelConfig): string | null;
  warmUp(engine: Engine, endOfText: number): Promise<unknown>;
  /** Why an infill prompt cannot run on this kind (null: it fills gaps). */
  infill: string | null;
  run(engine: Engine, ids: number[], infill: boolean, request: GenerateRequest, ctx: RunContext): Promise<Trace>;
  /** Goes on from a visitor's draft of one of its runs (src/core/drafts). */
  resume(engine: Engine, trace: Trace, atStep: number, edits: DraftEdit[], ctx: RunContext): Promise<Resumed>;
}

const ROLES: Record<ModelKind, KindRole> = {
  diffusion: {
    refuse: (c) => (c.is_causal ? 'a causal (AR) model, not a denoiser' : null),
    warmUp: (e, eot) => e.diffusion.forward([Int32Array.of(eot)]),
    infill: null,
    run: (e, ids, infill, r, ctx) =>
      generateDiffusion(e.diffusion, ids, infill ? spansOnly(r.diffusion) : r.diffusion, ctx),
    resume: async (e, trace, at, edits, ctx) => ({
      trace: await resumeDiffusion(e.diffusion, trace, at, edits, ctx),
      note: null,
    }),
  },
  block: {
    refuse: (c) =>
      c.block_size && c.cached_graph ? null : 'not a block-diffusion model (no diffusion.block_size and cache graph)',
    warmUp: (e, eot) => e.block!.forward([Int32Array.of(eot)]),
    infill: 'block diffusion decodes left to right block by block and never sees later text: it cannot fill a gap',
    run: (e, ids, _infill, r, ctx) =>
      generateDiffusion(e.block!, ids, r.block ?? blockModelOptions(r.diffusion ?? {}, e.block!.blockSize), ctx),
    resume: async (e, trace, at, edits, ctx) => ({
      trace: await resumeDiffusion(e.block!, trace, at, edits, ctx),
      note: null,
    }),
  },
  ar: {
    refuse: (c) => (c.is_causal ? null : 'not a causal (AR) model'),
    warmUp: (e, eot) => e.ar.forward([eot], null, false),
    infill: 'left-to-right generation cannot fill a gap inside the text: the AR model only continues a prefix',
    run: (e, ids, _infill, r, ctx) => generateAr(e.ar, ids, r.ar, ctx),
    resume: (e, trace, at, edits, ctx) => resumeAr(e.ar, trace, at, edits, ctx),
  },
};

export class Engine {
  private constructor(
    readonly info: EngineInfo,
    readonly tokenizer: TextTokenizer,
    readonly manifest: Manifest,
    /** The pair's models by kind (the diffusion and AR models always, the block model when the pair has one). */
    readonly models: PerKind<OnnxModel>,
  ) {}

  get diffusion(): LoadedDenoiser {
    return this.models.diffusion as LoadedDenoiser;
  }

  get block(): OrtBlockDenoiser | null {
    return (this.models.block as OrtBlockDenoiser | undefined) ?? null;
  }

  get ar(): OrtCausalLM {
    return this.models.ar as OrtCausalLM;
  }

  static async load(opts: LoadOptions): Promise<Engine> {
    const { root, readFile } = opts;
    const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
    const manifestBytes = await readFile('manifest.json').catch((err) => {
      throw new ModelLoadError(`${root}manifest.json`, err);
    });
    const manifest = parseManifest(JSON.parse(text(manifestBytes)), `${root}manifest.json`);
    const pairName = opts.pair ?? manifest.default;
    const pair = Object.hasOwn(manifest.pairs, pairName) ? manifest.pairs[pairName] : undefined; // not 'constructor'
    if (!pair) {
      throw new ModelLoadError(
        `${root}manifest.json`,
        new Error(`no pair "${pairName}"; pairs: ${Object.keys(manifest.pairs).join(', ')}`),
      );
    }
    const backend = await chooseBackend(opts.backend ?? 'auto');
    const ort = typeof opts.ort === 'function' ? await opts.ort(backend.backend) : opts.ort;
    opts.onPhase?.('download');
    const readJson = async (path: string) => {
      try {
        return JSON.parse(text(await readFile(path)));
      } catch (err) {
        throw new ModelLoadError(`${root}${path}`, err);
      }
    };
    // every folder's config first (a wrong folder is refused before anything is downloaded), then the tokenizer
    const configs: PerKind<ModelConfig> = {};
    for (const kind of MODEL_KINDS) {
      const folder = pair[kind];
      if (folder === undefined) continue;
      const file = `${root}${folder}/config.json`;
      const config = parseModelConfig(await readJson(`${folder}/config.json`), file);
      const refusal = ROLES[kind].refuse(config);
      if (refusal) throw new ModelLoadError(file, new Error(refusal));
      configs[kind] = config;
    }
    const tokenizer = await loadTokenizer(readJson, pair.diffusion);
    const read = (path: string) =>
      readFile(path, (loaded, total) => opts.onProgress?.({ file: path, loaded, total })).catch((err) => {
        throw new ModelLoadError(`${root}${path}`, err);
      });
    const open = async (folder: string, graph: string, compressed: boolean) => {
      const path = `${folder}/${graph}`;
      const bytes = await read(path);
      // weights past 2 GB live in one file beside the graph (export_hf.py), named as the graph refers to it
      const external = pair.files && Object.hasOwn(pair.files, `${path}_data`) ? `${path}_data` : null;
      const externalData = external ? [{ path: external.split('/').pop()!, data: await read(external) }] : [];
      return createSession(ort, bytes, `${root}${path}`, backend.backend, externalData, compressed);
    };
    const models: PerKind<OnnxModel> = {};
    for (const kind of MODEL_KINDS) {
      const config = configs[kind];
      if (!config) continue;
      const folder = pair[kind]!;
      const compressed = keepsWeightsCompressed(config);
      const model = await loadOnnxModel(ort, config, `${pairName}/${kind}`, (g) => open(folder, g, compressed));
      const denoiser = model as Partial<Denoiser>;
      if (
        denoiser.maskId !== undefined &&
        (tokenizer.maskId !== denoiser.maskId || tokenizer.endOfTextId !== model.endOfTextId)
      ) {
        throw new ModelLoadError(
          `${root}${folder}/config.json`,
          new Error('special-token ids differ from the tokenizer'),
        );
      }
      models[kind] = model;
    }
    const diffusion = models.diffusion as LoadedDenoiser;
    const block = models.block && isBlockDenoiser(models.block as Denoiser) ? (models.block as OrtBlockDenoiser) : null;
    const contexts = Object.values(models).map((m) => m.contextLength);
    const info: EngineInfo = {
      pair: pairName,
      backend,
      contextLength: Math.min(...contexts),
      vocabSize: diffusion.vocabSize,
      genLength: pair.genLength ?? DIFFUSION_DEFAULTS.genLength,
      cachedGraph: configs.diffusion!.cached_graph !== null,
      blockSize: block?.blockSize ?? null,
      chat: tokenizer.hasChatTemplate,
      converted: pair.converted ?? false,
      weights: weightsLabel(configs.diffusion!),
    };
    const engine = new Engine(info, tokenizer, manifest, models);
    opts.onPhase?.('warm-up');
    for (const kind of MODEL_KINDS) if (models[kind]) await ROLES[kind].warmUp(engine, tokenizer.endOfTextId);
    opts.onPhase?.('ready');
    return engine;
  }

  /** Prompt text to ids; `[MASK]` / `[MASK:n]` markers become masks to infill; a chat message through the template. */
  encodePrompt(prompt: string, infillSpan = 8, chat = false): { ids: number[]; infill: boolean } {
    if (chat) return { ids: this.tokenizer.encodeChat(prompt), infill: false };
    const infill = hasInfillMarkers(prompt);
    const text = infill ? expandInfillMarkers(prompt, '<|mask|>', infillSpan) : prompt;
    return { ids: this.tokenizer.encode(text), infill };
  }

  /**
   * Runs the mode's kinds in order (diffusion, block diffusion, AR: one at a time, they share the device),
   * streaming steps. The first always runs (a cancelled run still returns its trace); later ones only while the
   * request is not cancelled.
   */
  async generate(request: GenerateRequest, ctx: StreamHooks = {}): Promise<GenerateResult> {
    if (request.chat && !this.info.chat) {
      throw new ModelLoadError(this.info.pair, new Error('this model has no chat template: send the prompt as text'));
    }
    const { ids, infill } = this.encodePrompt(request.prompt, request.infillSpan, request.chat);
    const result: GenerateResult = { traces: {}, skipped: {} };
    const kinds = KINDS_OF_MODE[request.mode];
    for (const kind of kinds) {
      if (!this.models[kind]) {
        if (kinds.length === 1)
          throw new ModelLoadError(this.info.pair, new Error(`this pair has no ${KIND_NAMES[kind]}`));
        continue;
      }
      const role = ROLES[kind];
      if (infill && role.infill) result.skipped[kind] = role.infill;
      else if (kind === kinds[0] || !ctx.signal?.aborted) {
        result.traces[kind] = await role.run(this, ids, infill, request, this.runContext(kind, ctx));
      }
    }
    return result;
  }

  /**
   * "8 samples" (issue 28): the request run `count` times, seed after seed (the request's seed, then + 1, ...), each
   * as generate runs it; `onSample` hears each as it ends. A cancel ends the series: the samples finished stay, the
   * one cut short is dropped.
   */
  async samples(
    request: GenerateRequest,
    count: number,
    ctx: { signal?: AbortSignal; onSample?: (index: number, result: GenerateResult) => void } = {},
  ): Promise<GenerateResult[]> {
    const seeded = <T extends { seed?: number }>(o: T | undefined, i: number): T =>
      ({ ...o, seed: (o?.seed ?? DIFFUSION_DEFAULTS.seed) + i }) as T;
    const out: GenerateResult[] = [];
    for (let i = 0; i < count && !ctx.signal?.aborted; i++) {
      const result = await this.generate(
        {
          ...request,
          diffusion: seeded(request.diffusion, i),
          ar: seeded(request.ar, i),
          ...(request.block ? { block: seeded(request.block, i) } : {}),
        },
        { signal: ctx.signal },
      );
      if (ctx.signal?.aborted) break;
      out.push(result);
      ctx.onSample?.(i, result);
    }
    return out;
  }

  /**
   * Goes on from a visitor's draft: `kind`'s run taken back to `atStep`, the edits applied there (a typed word
   * through the tokenizer), streamed as a whole run (the kept steps first). Throws DraftEditError for an edit that
   * cannot apply, before any pass.
   */
  async resume(kind: ModelKind, request: DraftRequest, ctx: StreamHooks = {}): Promise<Resumed> {
    if (!this.models[kind]) throw new ModelLoadError(this.info.pair, new Error(`this pair has no ${KIND_NAMES[kind]}`));
    const run = this.runContext(kind, ctx);
    const edits = resolveEdits(request, request.trace.maskId, run.tokenText!, (t) => this.tokenizer.encode(t));
    return ROLES[kind].resume(this, request.trace, request.atStep, edits, run);
  }

  /** A kind's run context: the caller's hooks told which kind streams, the tokenizer's text, yields between steps. */
  private runContext(kind: ModelKind, ctx: StreamHooks): RunContext {
    return {
      signal: ctx.signal,
      onStart: (start: TraceStart) => ctx.onStart?.(kind, start),
      onStep: (step: TraceStep) => ctx.onStep?.(kind, step),
      between: yieldToEventLoop,
      tokenText: (id: number) => this.tokenizer.tokenText(id),
      backend: this.info.backend.backend,
    };
  }

  async release(): Promise<void> {
    for (const kind of MODEL_KINDS) await this.models[kind]?.release();
  }
}

/** How an error names a kind's model. */
const KIND_NAMES: Record<ModelKind, string> = {
  diffusion: 'diffusion model',
  block: 'block-diffusion model',
  ar: 'AR model',
};

/** Resolves on a fresh macrotask (MessageChannel: no 4 ms timer clamp), letting queued messages in. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}
