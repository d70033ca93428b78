// What the visitor sets: the prompt, which models run, and every sampler option, with the rules by which
// steps and blocks follow the length, and the inline validation (the worker's own checks, as the visitor types).
import type { EngineInfo, GenerateRequest } from '../../core/engine.ts';
import type { Mode } from '../../core/modes.ts';
import type { CacheMode } from '../../core/models/caches.ts';
import { CONVERTED_SETTINGS, PAGE_OUTLINE, pageSettings } from '../../core/page-settings.ts';
import { expandInfillMarkers, MAX_SPAN } from '../../core/sampler/infill.ts';
import {
  AR_DEFAULTS,
  defaultBlockLength,
  DIFFUSION_DEFAULTS,
  fitToContext,
  resolveArOptions,
  resolveDiffusionOptions,
  type ArOptions,
  type DiffusionOptions,
} from '../../core/sampler/options.ts';
import { PRESETS, type Preset } from '../presets.ts';
import type { SharedState } from '../url-state.ts';

export const DEFAULT_PROMPT = 'Once upon a time, there was a little girl named Lily.';

export class SettingsState {
  prompt = $state(DEFAULT_PROMPT);
  /** Every model of the pair by default: diffusion, block diffusion (when the pair has it) and AR. */
  mode = $state<Mode>('all');
  // Every option is present, so each control shows (and binds to) a real value.
  diffusion = $state<DiffusionOptions>({
    ...DIFFUSION_DEFAULTS,
    ...PAGE_OUTLINE,
    blockLength: DIFFUSION_DEFAULTS.genLength,
  });
  ar = $state<ArOptions>({ ...AR_DEFAULTS, maxNewTokens: DIFFUSION_DEFAULTS.genLength });
  infillSpan = $state(8);
  /** Chat models: the prompt is sent as the user's message through the model's chat template. */
  chat = $state(true);
  /**
   * What the block length follows when the generation length changes: the sampler's default blocks, one block (the
   * page's outline), or a typed length.
   */
  blockRule: 'default' | 'one' | 'fixed' = 'one';
  readonly presets = PRESETS;
  /** Set once the user (or the URL) chose a generation length; until then each pair's own length applies. */
  private lengthChosen = false;
  /** Set once the link chose a cache mode; until then the page's setting for the pair applies. */
  private cacheChosen = false;
  /** The settings a converted model's load put in place (restored to the page's when embedded models load). */
  private convertedApplied = false;

  /** `contextLength`: the loaded models' context (Infinity before any loads). */
  constructor(private readonly contextLength: () => number) {}

  /** Option problems, checked as the user types (same validation as the worker's). */
  readonly validation = $derived.by(() => {
    const context = this.contextLength();
    const problems: string[] = [];
    try {
      // the canvas to the context end: the options as a run fits them, here for the widest canvas (a one-token
      // prompt); a longer prompt only cuts whole blocks off it
      const d = Number.isFinite(context) ? fitToContext(this.diffusion, context - 1) : this.diffusion;
      resolveDiffusionOptions(d, context);
    } catch (err) {
      problems.push(`diffusion ${(err as Error).message}`);
    }
    try {
      resolveArOptions(this.ar, context);
    } catch (err) {
      problems.push(`AR ${(err as Error).message}`);
    }
    if (!this.prompt.trim()) problems.push('the prompt is empty');
    const span = this.infillSpan;
    const spanOk = Number.isInteger(span) && span >= 1 && span <= MAX_SPAN;
    if (!spanOk)
      problems.push(
        `infill [MASK] length must be an integer in [1, ${MAX_SPAN}], got ${Number.isNaN(span) ? 'an empty value' : JSON.stringify(span)}`,
      );
    try {
      expandInfillMarkers(this.prompt, '', spanOk ? span : 1); // the markers, as the worker checks them
    } catch (err) {
      problems.push((err as Error).message);
    }
    return problems;
  });

  /** The request a Generate click sends. */
  request(chatAvailable: boolean): GenerateRequest {
    return {
      prompt: this.prompt,
      mode: this.mode,
      diffusion: $state.snapshot(this.diffusion),
      ar: $state.snapshot(this.ar),
      infillSpan: this.infillSpan,
      chat: this.chat && chatAvailable,
    };
  }

  /** The page's settings for a loaded pair, for what the visitor (or the link) has not chosen. */
  forPair(info: EngineInfo) {
    const page = pageSettings(info);
    if (!this.lengthChosen) {
      this.setGenLength(page.diffusion.genLength, false);
      this.diffusion.fillContext = page.diffusion.fillContext;
      this.ar.fillContext = page.ar.fillContext;
    }
    if (!this.cacheChosen) this.diffusion.cache = page.diffusion.cache;
    const converted = info.converted;
    if (converted || this.convertedApplied) {
      // a published model's own settings (dLLM's), and the page's back when embedded models return
      for (const key of Object.keys(CONVERTED_SETTINGS) as (keyof DiffusionOptions)[]) {
        if (key === 'cache' && this.cacheChosen) continue; // the visitor's (or the link's) cache stays
        (this.diffusion as unknown as Record<string, unknown>)[key] = page.diffusion[key];
      }
      this.blockRule = converted ? 'fixed' : 'one';
      this.setGenLength(page.diffusion.genLength, false);
      this.diffusion.blockLength = page.diffusion.blockLength;
      this.ar.temperature = page.ar.temperature;
      this.ar.fillContext = page.ar.fillContext;
      this.convertedApplied = converted;
    }
  }

  /** What a link sets (url-state.ts has checked it). */
  fromLink(state: Partial<SharedState>) {
    if (state.prompt !== undefined) this.prompt = state.prompt;
    if (state.mode) this.mode = state.mode;
    if (state.diffusion) {
      // a length from the link brings the page's steps and blocks for it, unless the link sets those too
      const { genLength, ...rest } = state.diffusion;
      if (rest.blockLength !== undefined) this.blockRule = 'fixed';
      if (genLength !== undefined) this.setGenLength(genLength);
      this.diffusion = { ...this.diffusion, ...rest };
    }
    if (state.diffusion?.cache !== undefined) this.cacheChosen = true;
    if (state.ar) this.ar = { ...this.ar, ...state.ar };
  }

  /**
   * Sets the generation length for both models; steps and blocks that followed the old length (1 token per
   * step; one block or the default blocks) keep following it. `byUser` false: the pair's length on load.
   */
  setGenLength(length: number, byUser = true) {
    const d = this.diffusion;
    const old = d.genLength;
    if (d.steps === old) d.steps = length;
    // by the rule the blocks follow, not by their value: typing 100 passes through 1 and 10, where the default
    // blocks and one block are the same length
    if (this.blockRule === 'one') d.blockLength = Math.max(1, length);
    else if (this.blockRule === 'default') d.blockLength = defaultBlockLength(length);
    d.genLength = length;
    this.ar.maxNewTokens = length;
    if (byUser) {
      // a length typed is a length wanted: the canvas no longer runs to the context end
      d.fillContext = this.ar.fillContext = false;
      this.lengthChosen = true;
    }
  }

  /** Both canvases to the context end (the length then follows the prompt), or the length in the field. */
  setFillContext(on: boolean) {
    this.diffusion.fillContext = this.ar.fillContext = on;
    this.lengthChosen = true;
  }

  /** The visitor's cache mode, kept when another pair loads. */
  setCache(mode: CacheMode) {
    this.diffusion.cache = mode;
    this.cacheChosen = true;
  }

  /** A block length the visitor typed: kept whatever the generation length becomes. */
  setBlockLength(length: number) {
    this.diffusion.blockLength = length;
    this.blockRule = 'fixed';
  }

  applyPreset(preset: Preset) {
    this.diffusion = { ...this.diffusion, ...preset.diffusion };
    const length = this.diffusion.genLength;
    this.blockRule = preset.blocks ?? (preset.diffusion.blockLength !== undefined ? 'fixed' : this.blockRule);
    if (preset.blocks === 'one') this.diffusion.blockLength = Math.max(1, length);
    if (preset.blocks === 'default') this.diffusion.blockLength = defaultBlockLength(length);
    if (preset.diffusion.temperature !== undefined) this.ar.temperature = preset.diffusion.temperature;
    if (preset.diffusion.threshold === null && preset.diffusion.factor === null && this.diffusion.genLength) {
      // a fixed schedule: one token per step unless the preset says otherwise
      this.diffusion.steps = this.diffusion.genLength;
    }
    if (preset.prompt) this.prompt = preset.prompt;
  }
}
