// The engine: loads a model pair (tokenizer, diffusion denoiser, AR baseline, and a block-diffusion model when the
// pair has one) and runs generation requests, streaming steps. It runs inside the Web Worker on the page and directly in Node (CLI, tests, benchmarks).
import { generateAr } from './ar-sampler.ts';
import { generateDiffusion } from './diffusion-sampler.ts';
import { ModelLoadError } from './errors.ts';
import { expandInfillMarkers, hasInfillMarkers } from './infill.ts';
import { parseManifest, type Manifest } from './manifest.ts';
import type { Mode, ModelKind } from './modes.ts';
import { blockModelOptions, DIFFUSION_DEFAULTS, type ArOptions, type DiffusionOptions } from './options.ts';
import {
  OrtCausalLM,
  OrtDenoiser,
  chooseBackend,
  createSession,
  parseModelConfig,
  type Backend,
  type BackendChoice,
  type ModelConfig,
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

export type { Mode, ModelKind };

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

export interface GenerateResult {
  diffusion?: Trace;
  block?: Trace;
  ar?: Trace;
  /** Why the AR model did not run (infill prompts), for the UI to say. */
  arSkipped?: string;
  /** Why the block model did not run (infill prompts), for the UI to say. */
  blockSkipped?: string;
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
    readonly block: OrtDenoiser | null,
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
    const tokenizer = await loadTokenizer(readJson, pair.diffusion);
    const read = (path: string) =>
      readFile(path, (loaded, total) => opts.onProgress?.({ file: path, loaded, total })).catch((err) => {
        throw new ModelLoadError(`${root}${path}`, err);
      });
    const load = async (folder: string, graph = 'onnx/model.onnx', compressed = false) => {
      const path = `${folder}/${graph}`;
      const bytes = await read(path);
      // weights past 2 GB live in one file beside the graph (export_hf.py), named as the graph refers to it
      const external = pair.files && Object.hasOwn(pair.files, `${path}_data`) ? `${path}_data` : null;
      const externalData = external ? [{ path: external.split('/').pop()!, data: await read(external) }] : [];
      return createSession(ort, bytes, `${root}${path}`, backend.backend, externalData, compressed);
    };
    const compressed = (c: ModelConfig) => c.weights_dtype !== 'fp32';
    const diffSession = diffConfig.cached_only ? null : await load(pair.diffusion, undefined, compressed(diffConfig));
    const arSession = await load(pair.ar, undefined, compressed(arConfig));
    const windowSession = diffConfig.cached_graph
      ? await load(pair.diffusion, diffConfig.cached_graph, compressed(diffConfig))
      : null;
    const diffusion = new OrtDenoiser(ort, diffSession, diffConfig, `${pairName}/diffusion`, undefined, windowSession);
    const ar = new OrtCausalLM(ort, arSession, arConfig, `${pairName}/ar`);
    let block: OrtDenoiser | null = null;
    if (pair.block !== undefined) {
      const file = `${root}${pair.block}/config.json`;
      const blockConfig = parseModelConfig(await readJson(`${pair.block}/config.json`), file);
      if (!blockConfig.block_size || !blockConfig.cached_graph) {
        throw new ModelLoadError(
          file,
          new Error('not a block-diffusion model (no diffusion.block_size and cache graph)'),
        );
      }
      const sessions = [
        blockConfig.cached_only ? null : await load(pair.block, undefined, compressed(blockConfig)),
        await load(pair.block, blockConfig.cached_graph, compressed(blockConfig)),
      ];
      block = new OrtDenoiser(ort, sessions[0], blockConfig, `${pairName}/block`, undefined, sessions[1]);
    }
    for (const [model, folder] of [
      [diffusion, pair.diffusion],
      [block, pair.block],
    ] as const) {
      if (model && (tokenizer.maskId !== model.maskId || tokenizer.endOfTextId !== model.endOfTextId)) {
        throw new ModelLoadError(
          `${root}${folder}/config.json`,
          new Error('special-token ids differ from the tokenizer'),
        );
      }
    }
    opts.onPhase?.('warm-up');
    await diffusion.forward([Int32Array.of(tokenizer.endOfTextId)]);
    await block?.forward([Int32Array.of(tokenizer.endOfTextId)]);
    await ar.forward([tokenizer.endOfTextId], null, false);
    opts.onPhase?.('ready');
    const info: EngineInfo = {
      pair: pairName,
      backend,
      contextLength: Math.min(diffusion.contextLength, ar.contextLength, block?.contextLength ?? Infinity),
      vocabSize: diffusion.vocabSize,
      genLength: pair.genLength ?? DIFFUSION_DEFAULTS.genLength,
      cachedGraph: windowSession !== null,
      blockSize: block?.blockSize ?? null,
      chat: tokenizer.hasChatTemplate,
      converted: pair.converted ?? false,
    };
    return new Engine(info, tokenizer, diffusion, ar, manifest, block);
  }

  /** Prompt text to ids; `[MASK]` / `[MASK:n]` markers become masks to infill; a chat message through the template. */
  encodePrompt(prompt: string, infillSpan = 8, chat = false): { ids: number[]; infill: boolean } {
    if (chat) return { ids: this.tokenizer.encodeChat(prompt), infill: false };
    const infill = hasInfillMarkers(prompt);
    const text = infill ? expandInfillMarkers(prompt, '<|mask|>', infillSpan) : prompt;
    return { ids: this.tokenizer.encode(text), infill };
  }

  /** Runs diffusion, then block diffusion, then AR (one at a time: they share the device), streaming steps. */
  async generate(
    request: GenerateRequest,
    ctx: {
      signal?: AbortSignal;
      onStart?: (kind: ModelKind, start: TraceStart) => void;
      onStep?: (kind: ModelKind, step: TraceStep) => void;
    } = {},
  ): Promise<GenerateResult> {
    if (request.chat && !this.info.chat) {
      throw new ModelLoadError(this.info.pair, new Error('this model has no chat template: send the prompt as text'));
    }
    const { ids, infill } = this.encodePrompt(request.prompt, request.infillSpan, request.chat);
    const common = (kind: ModelKind) => ({
      signal: ctx.signal,
      onStart: (start: TraceStart) => ctx.onStart?.(kind, start),
      onStep: (step: TraceStep) => ctx.onStep?.(kind, step),
      between: yieldToEventLoop,
      tokenText: (id: number) => this.tokenizer.tokenText(id),
      backend: this.info.backend.backend,
    });
    const mode = request.mode;
    const result: GenerateResult = {};
    if (mode === 'diffusion' || mode === 'both' || mode === 'all') {
      const options = infill ? spansOnly(request.diffusion) : request.diffusion;
      result.diffusion = await generateDiffusion(this.diffusion, ids, options, common('diffusion'));
    }
    if (mode === 'block' && !this.block) {
      throw new ModelLoadError(this.info.pair, new Error('this pair has no block-diffusion model'));
    }
    if ((mode === 'block' || mode === 'all') && this.block) {
      if (infill) {
        result.blockSkipped =
          'block diffusion decodes left to right block by block and never sees later text: it cannot fill a gap';
      } else if (!ctx.signal?.aborted) {
        const options = request.block ?? blockModelOptions(request.diffusion ?? {}, this.block.blockSize!);
        result.block = await generateDiffusion(this.block, ids, options, common('block'));
      }
    }
    if (mode === 'ar' || mode === 'both' || mode === 'all') {
      if (infill) {
        result.arSkipped =
          'left-to-right generation cannot fill a gap inside the text: the AR model only continues a prefix';
      } else if (!ctx.signal?.aborted) {
        result.ar = await generateAr(this.ar, ids, request.ar, common('ar'));
      }
    }
    return result;
  }

  async release(): Promise<void> {
    await this.diffusion.release();
    await this.block?.release();
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
