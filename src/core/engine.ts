// The engine: loads a model pair (tokenizer, diffusion denoiser, AR baseline) and runs generation requests,
// streaming steps. It runs inside the Web Worker on the page and directly in Node (CLI, tests, benchmarks).
import { generateAr } from './ar-sampler.ts';
import { generateDiffusion } from './diffusion-sampler.ts';
import { ModelLoadError } from './errors.ts';
import { expandInfillMarkers, hasInfillMarkers } from './infill.ts';
import { parseManifest, type Manifest } from './manifest.ts';
import { DIFFUSION_DEFAULTS, type ArOptions, type DiffusionOptions } from './options.ts';
import {
  OrtCausalLM,
  OrtDenoiser,
  chooseBackend,
  createSession,
  parseModelConfig,
  type Backend,
  type BackendChoice,
  type OrtModule,
} from './ort-models.ts';
import { loadTokenizer, type TextTokenizer } from './tokenizer.ts';
import type { Trace, TraceStart, TraceStep } from './trace.ts';

/** Reads one file of the model tree (fetch in the browser, fs in Node), reporting bytes as they arrive. */
export type ReadFile = (path: string, onProgress?: (loaded: number, total: number) => void) => Promise<Uint8Array>;

export interface LoadProgress {
  file: string;
  loaded: number;
  total: number;
}

export interface LoadOptions {
  ort: OrtModule;
  /** Root of the model tree: a URL prefix such as '/models/' or a directory path ending in '/'. */
  root: string;
  readFile: ReadFile;
  /** Pair name from the manifest; its default when omitted. */
  pair?: string;
  backend?: 'auto' | Backend;
  onProgress?: (p: LoadProgress) => void;
  onPhase?: (phase: 'download' | 'warm-up' | 'ready') => void;
}

export type Mode = 'diffusion' | 'ar' | 'both';

export interface GenerateRequest {
  prompt: string;
  mode: Mode;
  diffusion?: Partial<DiffusionOptions>;
  ar?: Partial<ArOptions>;
  /** Length of a bare `[MASK]` marker in the prompt. */
  infillSpan?: number;
}

export interface GenerateResult {
  diffusion?: Trace;
  ar?: Trace;
  /** Why the AR model did not run (infill prompts), for the UI to say. */
  arSkipped?: string;
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
}

/**
 * An infill prompt generates only its spans: the options that shape an appended canvas (length, steps, blocks,
 * minimum length, filling the context) do not apply, so the page's settings for continuing a prompt can be sent as they are.
 */
function spansOnly(options: Partial<DiffusionOptions> = {}): Partial<DiffusionOptions> {
  const { genLength: _genLength, steps: _steps, blockLength: _blockLength, minLength: _minLength, ...rest } = options;
  return { ...rest, genLength: 0, fillContext: false };
}

export class Engine {
  private constructor(
    readonly info: EngineInfo,
    readonly tokenizer: TextTokenizer,
    readonly diffusion: OrtDenoiser,
    readonly ar: OrtCausalLM,
    readonly manifest: Manifest,
  ) {}

  static async load(opts: LoadOptions): Promise<Engine> {
    const { ort, root, readFile } = opts;
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
    opts.onPhase?.('download');
    const readJson = async (path: string) => {
      try {
        return JSON.parse(text(await readFile(path)));
      } catch (err) {
        throw new ModelLoadError(`${root}${path}`, err);
      }
    };
    const diffConfig = parseModelConfig(
      await readJson(`${pair.diffusion}/config.json`),
      `${root}${pair.diffusion}/config.json`,
    );
    const arConfig = parseModelConfig(await readJson(`${pair.ar}/config.json`), `${root}${pair.ar}/config.json`);
    const tokenizer = await loadTokenizer(root, pair.diffusion);
    const load = async (folder: string, graph = 'onnx/model.onnx') => {
      const path = `${folder}/${graph}`;
      const bytes = await readFile(path, (loaded, total) => opts.onProgress?.({ file: path, loaded, total })).catch(
        (err) => {
          throw new ModelLoadError(`${root}${path}`, err);
        },
      );
      return createSession(ort, bytes, `${root}${path}`, backend.backend);
    };
    const [diffSession, arSession] = [await load(pair.diffusion), await load(pair.ar)];
    const windowSession = diffConfig.cached_graph ? await load(pair.diffusion, diffConfig.cached_graph) : null;
    const diffusion = new OrtDenoiser(ort, diffSession, diffConfig, `${pairName}/diffusion`, undefined, windowSession);
    const ar = new OrtCausalLM(ort, arSession, arConfig, `${pairName}/ar`);
    if (tokenizer.maskId !== diffusion.maskId || tokenizer.endOfTextId !== diffusion.endOfTextId) {
      throw new ModelLoadError(
        `${root}${pair.diffusion}/config.json`,
        new Error('special-token ids differ from the tokenizer'),
      );
    }
    opts.onPhase?.('warm-up');
    await diffusion.forward([Int32Array.of(tokenizer.endOfTextId)]);
    await ar.forward([tokenizer.endOfTextId], null, false);
    opts.onPhase?.('ready');
    const info: EngineInfo = {
      pair: pairName,
      backend,
      contextLength: Math.min(diffusion.contextLength, ar.contextLength),
      vocabSize: diffusion.vocabSize,
      genLength: pair.genLength ?? DIFFUSION_DEFAULTS.genLength,
      cachedGraph: windowSession !== null,
    };
    return new Engine(info, tokenizer, diffusion, ar, manifest);
  }

  /** Prompt text to ids; `[MASK]` / `[MASK:n]` markers become masks to infill. */
  encodePrompt(prompt: string, infillSpan = 8): { ids: number[]; infill: boolean } {
    const infill = hasInfillMarkers(prompt);
    const text = infill ? expandInfillMarkers(prompt, '<|mask|>', infillSpan) : prompt;
    return { ids: this.tokenizer.encode(text), infill };
  }

  /** Runs diffusion, then AR (one at a time: they share the device), streaming steps. */
  async generate(
    request: GenerateRequest,
    ctx: {
      signal?: AbortSignal;
      onStart?: (start: TraceStart) => void;
      onStep?: (kind: 'diffusion' | 'ar', step: TraceStep) => void;
    } = {},
  ): Promise<GenerateResult> {
    const { ids, infill } = this.encodePrompt(request.prompt, request.infillSpan);
    const common = {
      signal: ctx.signal,
      onStart: ctx.onStart,
      between: yieldToEventLoop,
      tokenText: (id: number) => this.tokenizer.tokenText(id),
      backend: this.info.backend.backend,
    };
    const result: GenerateResult = {};
    if (request.mode !== 'ar') {
      const options = infill ? spansOnly(request.diffusion) : request.diffusion;
      result.diffusion = await generateDiffusion(this.diffusion, ids, options, {
        ...common,
        onStep: (s) => ctx.onStep?.('diffusion', s),
      });
    }
    if (request.mode !== 'diffusion') {
      if (infill) {
        result.arSkipped =
          'left-to-right generation cannot fill a gap inside the text: the AR model only continues a prefix';
      } else if (!ctx.signal?.aborted) {
        result.ar = await generateAr(this.ar, ids, request.ar, { ...common, onStep: (s) => ctx.onStep?.('ar', s) });
      }
    }
    return result;
  }

  async release(): Promise<void> {
    await this.diffusion.release();
    await this.ar.release();
  }
}

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
