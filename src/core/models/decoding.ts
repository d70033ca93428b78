// How each kind of denoiser is decoded: the one table the diffusion sampler consults, once per run, before its
// step loop. A kind's row says which blocks a run's canvas falls into and how a step's predictions are computed
// (caches.ts). A new kind of denoiser adds an interface and a guard (types.ts), a class (onnx/) and a row here:
// the sampler does not change.
import { OptionError } from '../errors.ts';
import {
  BlockPasses,
  FullPasses,
  LOCAL_REACH,
  LOCAL_REFRESH,
  SparsePasses,
  WindowedPasses,
  noCachedGraph,
  type BlockCommit,
  type CacheMode,
  type StepPredictor,
} from './caches.ts';
import {
  blockOffsetFor,
  isBlockDenoiser,
  isWindowedDenoiser,
  type BlockDenoiser,
  type Denoiser,
  type WindowedDenoiser,
} from './types.ts';

/** What a run asks of the canvas, before the kind has its say. */
export interface LayoutRequest {
  /** The block length the run's options give (undefined: the sampler's default). */
  blockLength?: number;
  /** The prompt holds masks to fill. */
  infill: boolean;
}

/** The blocks of one run: which block a position falls in (0 = the first decoded), and the model's offset. */
export interface BlockLayout {
  blockOf(p: number): number;
  /** Block models aligned at the prompt's end: the offset passed to every pass (blockOffsetFor); else 0. */
  offset: number;
}

export interface Decoding<M extends Denoiser = Denoiser> {
  readonly name: string;
  matches(model: Denoiser): model is M;
  /** The block length the run must use (checks the request; throws OptionError), or the request's own. */
  blockLength(model: M, request: LayoutRequest): number | undefined;
  /** The canvas's blocks for a prompt of `promptLength` tokens and the run's resolved block length. */
  layout(model: M, promptLength: number, blockLength: number): BlockLayout;
  predictor(model: M, mode: CacheMode, blockCommit: BlockCommit | undefined, layout: BlockLayout): StepPredictor;
}

/**
 * Semi-autoregressive blocks of the run's length after the prompt (LLaDA); infill masks inside the given text
 * are decoded with the first block.
 */
function canvasBlocks(promptLength: number, blockLength: number): BlockLayout {
  return { blockOf: (p) => (p < promptLength ? 0 : Math.floor((p - promptLength) / blockLength)), offset: 0 };
}

/** A block-diffusion model decodes the blocks it was trained on, against its exact cache. */
const blockModel: Decoding<BlockDenoiser> = {
  name: 'block',
  matches: isBlockDenoiser,
  blockLength(model, request) {
    if (request.blockLength !== undefined && request.blockLength !== model.blockSize) {
      throw new OptionError(
        'blockLength',
        `${model.name} is a block-diffusion model trained on blocks of ${model.blockSize}; got ${request.blockLength}`,
      );
    }
    if (request.infill) {
      throw new OptionError(
        'prompt',
        `${model.name} decodes block by block after the prompt and never sees later text: it cannot fill masks inside the prompt`,
      );
    }
    return model.blockSize;
  },
  // counted from position 0, so the first block may begin inside the prompt and hold fewer masks, or
  // (blockAlign 'prompt-end') from the prompt's end
  layout(model, promptLength) {
    const size = model.blockSize;
    const offset = blockOffsetFor(model, promptLength);
    const first = Math.floor((promptLength + offset) / size);
    return { blockOf: (p) => Math.floor((p + offset) / size) - first, offset };
  },
  predictor: (model, mode, blockCommit, layout) => new BlockPasses(model, mode, blockCommit, layout.offset),
};

/** A denoiser with a cached graph: Fast-dLLM's prefix and dual caches, the sparse cache, or full passes. */
const windowed: Decoding<WindowedDenoiser> = {
  name: 'windowed',
  matches: isWindowedDenoiser,
  blockLength: (_model, request) => request.blockLength,
  layout: (_model, promptLength, blockLength) => canvasBlocks(promptLength, blockLength),
  predictor(model, mode) {
    if (mode === 'off') return new FullPasses(model);
    if (mode === 'sparse') return new SparsePasses(model);
    return mode === 'local' ? new SparsePasses(model, LOCAL_REFRESH, LOCAL_REACH) : new WindowedPasses(model, mode);
  },
};

/** Any other denoiser: a full pass at every step. */
const plain: Decoding = {
  name: 'denoiser',
  matches: (_model): _model is Denoiser => true,
  blockLength: (_model, request) => request.blockLength,
  layout: (_model, promptLength, blockLength) => canvasBlocks(promptLength, blockLength),
  predictor(model, mode) {
    if (mode !== 'off') throw noCachedGraph(model, mode);
    return new FullPasses(model);
  },
};

/** The table, most specific first: the first row whose guard accepts the model decodes it. */
export const DECODINGS: readonly Decoding[] = [blockModel as Decoding, windowed as Decoding, plain];

export function decodingOf(model: Denoiser): Decoding {
  return DECODINGS.find((d) => d.matches(model))!;
}
