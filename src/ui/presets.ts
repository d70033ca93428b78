// Named sampler settings for the settings panel: each changes only the options it names.
import { BLOCKS_OF_32, LEFT_TO_RIGHT, PAGE_OUTLINE } from '../core/page-settings.ts';
import { DEFAULT_TEMPERATURE, type DiffusionOptions } from '../core/sampler/options.ts';

export interface Preset {
  name: string;
  description: string;
  diffusion: Partial<DiffusionOptions>;
  /** Replaces the prompt (the infill preset shows the marker syntax). */
  prompt?: string;
  /** Block length as a function of the generation length (one block, or the page's default blocks). */
  blocks?: 'one' | 'default';
}

const PLAIN: Partial<DiffusionOptions> = {
  confidence: 'probability',
  threshold: null,
  factor: null,
  editMode: 'off',
  algTemp: 0,
  decideLength: false,
  noRepeatNgram: 0,
  positionDecay: 0,
  frequencyPenalty: 0,
};

export const PRESETS: Preset[] = [
  {
    name: 'Page default: outline',
    description:
      'One block over the whole canvas: the first step sets the length (the expected length by the model; the tail ' +
      'becomes end-of-text at once), then every step writes the surest guess anywhere, a guess that would repeat ' +
      'four tokens already on the canvas last, and every word a little less likely for each time it is already ' +
      `written (frequency penalty ${PAGE_OUTLINE.frequencyPenalty}); temperature ${DEFAULT_TEMPERATURE} for both ` +
      'models. The timeline is not a diagonal: the opening and the ending come first, the middle last. Chosen by ' +
      'measurement: the out-of-order ' +
      "setting that ends its texts, does not loop and keeps the AR model's variety.",
    diffusion: { ...PLAIN, ...PAGE_OUTLINE, temperature: DEFAULT_TEMPERATURE },
    blocks: 'one',
  },
  {
    name: 'LLaDA: one block',
    description:
      'Low-confidence remasking over the whole canvas: every step commits the single most confident guess, anywhere.',
    diffusion: { ...PLAIN },
    blocks: 'one',
  },
  {
    name: 'Left to right: blocks of 4',
    description:
      'Semi-autoregressive blocks of 4, 1 token per step, the length set at the first step where the model is sure ' +
      "enough of end-of-text (the page's default before the outline): a diagonal, like the AR model's.",
    diffusion: { ...PLAIN, ...LEFT_TO_RIGHT },
  },
  {
    name: 'Out of order: blocks of 32',
    description:
      'Semi-autoregressive blocks of 32 decoded left to right, 1 token per step: inside each block the model writes ' +
      "wherever it is surest, with the outline's defences (the length decided first, repeats ranked last, a " +
      'frequency penalty). `npm run eval` judges this setting beside the default (GATED_ROWS).',
    diffusion: { ...PLAIN, ...BLOCKS_OF_32 },
  },
  {
    name: 'Fast: threshold 0.9',
    description: 'Fast-dLLM: commit every guess with confidence >= 0.9 at once (fewer forward passes).',
    diffusion: { ...PLAIN, threshold: 0.9 },
  },
  {
    name: 'Fast: factor 1',
    description: 'Fast-dLLM factor rule: commit n guesses while (m + 1)(1 - c(m)) <= 1.',
    diffusion: { ...PLAIN, factor: 1 },
  },
  {
    name: 'Random order',
    description: 'Positions in random order, as in the original masked-diffusion samplers.',
    diffusion: { ...PLAIN, confidence: 'random' },
  },
  {
    name: 'Edit while writing',
    description: 'Committed tokens whose probability falls below 0.1 are replaced by the current guess.',
    diffusion: { ...PLAIN, editMode: 'threshold', editThreshold: 0.1, editAction: 'replace' },
  },
  {
    name: 'ReMDM re-masking',
    description: 'Each step, committed tokens of the current block are re-masked with probability 0.05.',
    diffusion: { ...PLAIN, editMode: 'remdm', remdmSigma: 0.05, editAction: 'remask' },
  },
  {
    name: 'Infill',
    description: 'Fill [MASK:n] spans inside your own text; given tokens never change.',
    diffusion: { ...PLAIN },
    prompt: 'Once upon a time, there was a [MASK:6]. She liked to [MASK:4] every day.',
  },
];
