// Measurements shared by the Node benchmark (npm run bench) and the page's "Benchmark this device" panel:
// robust figures, generation runs over the sampler configurations of the quality-speed frontier, gen-PPL
// scored by the AR model, and the frontier chart's layout.
import { generateAr } from '../sampler/ar.ts';
import { generateDiffusion } from '../sampler/diffusion.ts';
import { CACHE_MODES, type BlockCommit, type CacheMode } from '../models/caches.ts';
import type { Engine } from '../engine.ts';
import type { ModelKind } from '../modes.ts';
import { BLOCKS_OF_32, pageSettings } from '../page-settings.ts';
import { cleanTermination, doomLoop, draftSpread, repeated4, unigramEntropy } from './text-measures.ts';
import type { OrtCausalLM } from '../models/onnx/causal-lm.ts';
import { tokenLogProbs } from '../models/onnx/causal-lm.ts';
import type { CausalLM, Denoiser } from '../models/types.ts';
import { blockModelOptions, type ArOptions, type DiffusionOptions } from '../sampler/options.ts';
import type { Trace } from '../trace/trace.ts';

export interface Figure {
  median: number;
  min: number;
  max: number;
}

export function figure(xs: number[]): Figure {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return { median: s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2, min: s[0], max: s[s.length - 1] };
}

export type Runner = (ids: number[], length: number) => Promise<Trace>;

/** Greedy, and for diffusion one block: the strategies differ only in how many tokens a pass commits. */
export const GREEDY_ONE_BLOCK = (genLength: number) => ({ genLength, blockLength: genLength, temperature: 0 });

/**
 * The frontier's sampler configurations. End-of-text is suppressed (minLength = length) so every run writes
 * the same number of tokens and speeds compare.
 */

export function frontierConfigs(diffusion: Denoiser, ar: CausalLM): [string, Runner][] {
  const d = (ids: number[], L: number, o: Partial<DiffusionOptions>) =>
    generateDiffusion(diffusion, ids, { ...GREEDY_ONE_BLOCK(L), minLength: L, ...o });
  const a = (ids: number[], L: number, o: Partial<ArOptions>) =>
    generateAr(ar, ids, { maxNewTokens: L, minLength: L, temperature: 0, ...o });
  return [
    ['AR, KV cache', (ids, L) => a(ids, L, {})],
    ['AR, no cache', (ids, L) => a(ids, L, { useCache: false })],
    ...[1, 2, 4].map((k): [string, Runner] => [
      `diffusion, ${k} token${k > 1 ? 's' : ''}/step`,
      (ids, L) => d(ids, L, { steps: L / k }),
    ]),
    ...[0.9, 0.7].map((tau): [string, Runner] => [
      `diffusion, threshold ${tau}`,
      (ids, L) => d(ids, L, { threshold: tau }),
    ]),
    ['diffusion, factor 1', (ids, L) => d(ids, L, { factor: 1 })],
  ];
}

/** Negative log-likelihood (nats) of a trace's answer under the AR model, and how many tokens it covers. */
export async function answerNll(ar: OrtCausalLM, t: Trace): Promise<{ nll: number; tokens: number }> {
  if (!t.answer.length) return { nll: 0, tokens: 0 };
  const ids = [...t.final.slice(0, t.promptLength), ...t.answer];
  const lp = tokenLogProbs(await ar.allLogits(ids), ids, ar.vocabSize, t.promptLength);
  return { nll: -lp.reduce((a, b) => a + b, 0), tokens: lp.length };
}

/** Generative perplexity of a trace's answer under the AR model (the MDLM/SEDD methodology). */
export async function genPerplexity(ar: OrtCausalLM, t: Trace): Promise<number> {
  const { nll, tokens } = await answerNll(ar, t);
  return tokens ? Math.exp(nll / tokens) : NaN;
}

export interface FrontierRun {
  name: string;
  tokens: number;
  passes: Figure;
  wallMs: Figure;
  tokensPerSecond: Figure;
  genPpl: Figure;
  /** Mean unigram entropy of the answers' tokens (nats): repetition never passes as low gen-PPL unseen. */
  entropy: number;
  /** Share of answers with a doom loop (when the caller gave a decoder). */
  doomLoops: number | null;
  /** Mean draft spread of the answers (text-measures.ts: 0.25 left to right, near 1 an outline across the text). */
  draftSpread: number;
  samplerShare: Figure;
}

/** Runs every configuration on every prompt: one warm-up, then `repeats` measured runs each. */
export async function measureFrontier(
  diffusion: Denoiser,
  ar: OrtCausalLM,
  prompts: number[][],
  length: number,
  repeats: number,
  /** Called before each configuration runs; a promise it returns is awaited (and may reject to stop). */
  onProgress?: (name: string) => void | Promise<void>,
  decode?: (ids: number[]) => string,
): Promise<FrontierRun[]> {
  const out: FrontierRun[] = [];
  for (const [name, run] of frontierConfigs(diffusion, ar)) {
    await onProgress?.(name);
    const passes: number[] = [];
    const wall: number[] = [];
    const tps: number[] = [];
    const ppl: number[] = [];
    const share: number[] = [];
    const entropy: number[] = [];
    const doom: boolean[] = [];
    const spread: number[] = [];
    let L = length;
    for (const ids of prompts) {
      L = Math.min(length, Math.min(diffusion.contextLength, ar.contextLength) - ids.length);
      L -= L % 4;
      if (ids === prompts[0]) await run(ids, L); // warm-up (JIT, allocator), not counted
      for (let r = 0; r < repeats; r++) {
        const t = await run(ids, L);
        passes.push(t.stats.forwardPasses);
        wall.push(t.stats.wallMs);
        tps.push(t.stats.tokensPerSecond);
        share.push(t.stats.samplerShare);
        if (r > 0) continue;
        ppl.push(await genPerplexity(ar, t));
        entropy.push(unigramEntropy(t.answer));
        const s = draftSpread(t);
        if (s !== null) spread.push(s);
        if (decode) doom.push(doomLoop(decode(t.answer)));
      }
    }
    out.push({
      name,
      tokens: L,
      passes: figure(passes),
      wallMs: figure(wall),
      tokensPerSecond: figure(tps),
      genPpl: figure(ppl),
      entropy: entropy.reduce((a, b) => a + b, 0) / entropy.length,
      doomLoops: decode ? doom.filter(Boolean).length / doom.length : null,
      draftSpread: spread.reduce((a, b) => a + b, 0) / Math.max(1, spread.length),
      samplerShare: figure(share),
    });
  }
  return out;
}

export interface FrontierPoint {
  name: string;
  x: number;
  y: number;
  ar: boolean;
}

/** Chart coordinates: tokens/s to the right, gen-PPL downwards is better (lower on the chart). */
export function frontierLayout(runs: FrontierRun[], width: number, height: number, margin = 50): FrontierPoint[] {
  const maxX = Math.max(...runs.map((r) => r.tokensPerSecond.median), 1) * 1.1;
  const maxY = Math.max(...runs.map((r) => r.genPpl.median).filter(Number.isFinite), 1) * 1.1;
  return runs.map((r) => ({
    name: r.name,
    ar: r.name.startsWith('AR'),
    x: margin + (r.tokensPerSecond.median / maxX) * (width - margin - 20),
    y: height - 40 - ((Number.isFinite(r.genPpl.median) ? r.genPpl.median : 0) / maxY) * (height - 60),
  }));
}

export interface CacheRun {
  name: string;
  model: ModelKind;
  blocks: 'page' | 'blocks of 32';
  cache: CacheMode | null;
  genLength: number;
  passes: Figure;
  fullPasses: Figure;
  positions: Figure;
  wallMs: Figure;
  tokensPerSecond: Figure;
  genPpl: number;
  repeated4: number;
  doomLoops: number;
  cleanEndings: number;
}

/**
 * Whole stories as the page writes them, with Fast-dLLM's caches off, prefix and dual (at the page's blocks and at
 * blocks of 32), the block-diffusion model when the pair has one (its exact cache on and off, and threshold
 * decoding inside blocks), and the cached AR model: each configuration on each prompt, a warm-up on the first, then
 * `repeats` runs; quality from the first run. `genLength` shortens the canvas (the device benchmark's short form).
 */
export async function measureCaches(
  engine: Engine,
  prompts: string[],
  repeats: number,
  {
    genLength,
    blocksOf32 = true,
    encode = (text: string) => engine.tokenizer.encode(text),
    onProgress,
  }: {
    genLength?: number;
    blocksOf32?: boolean;
    /** Prompt text to ids (a chat model's device bench sends its prompts through the chat template). */
    encode?: (text: string) => number[];
    onProgress?: (name: string) => void | Promise<void>;
  } = {},
): Promise<CacheRun[]> {
  const length = genLength === undefined ? {} : { genLength };
  const page = pageSettings(engine.info, { diffusion: length });
  interface Config {
    name: string;
    model: CacheRun['model'];
    blocks: CacheRun['blocks'];
    cache: CacheMode | null;
    /** Options on top of the page's (block rows: threshold decoding). */
    extra?: Partial<DiffusionOptions>;
    blockCommit?: BlockCommit;
  }
  const configs: Config[] = [];
  for (const blocks of blocksOf32 ? (['page', 'blocks of 32'] as const) : (['page'] as const)) {
    for (const cache of CACHE_MODES) {
      const oneBlock = page.diffusion.blockLength >= page.diffusion.genLength;
      const label =
        blocks === 'page' ? `${oneBlock ? 'outline' : `blocks of ${page.diffusion.blockLength}`} (page)` : blocks;
      configs.push({ name: `diffusion, ${label}, cache ${cache}`, model: 'diffusion', blocks, cache });
    }
  }
  if (engine.block) {
    const name = `block diffusion, blocks of ${engine.block.blockSize}`;
    const block = { model: 'block', blocks: 'page', cache: 'dual' } as const;
    configs.push({ ...block, name: `${name}, exact cache (page)` });
    configs.push({ ...block, name: `${name}, exact cache, a pass per finished block`, blockCommit: 'separate' });
    configs.push({ ...block, name: `${name}, no cache`, cache: 'off' });
    configs.push({ ...block, name: `${name}, exact cache, threshold 0.9`, extra: { threshold: 0.9 } });
  }
  configs.push({ name: 'AR with its KV cache (page)', model: 'ar', blocks: 'page', cache: null });
  const out: CacheRun[] = [];
  for (const { name, model, blocks, cache, extra, blockCommit } of configs) {
    await onProgress?.(name);
    let options = pageSettings(engine.info, {
      diffusion: {
        ...length,
        cache: cache ?? 'off',
        ...(blocks === 'blocks of 32' ? BLOCKS_OF_32 : {}),
        ...extra,
      },
    }).diffusion as Partial<DiffusionOptions>;
    if (model === 'block') options = blockModelOptions(options, engine.block!.blockSize!, cache !== 'off');
    const run = (ids: number[]) =>
      model === 'ar'
        ? generateAr(engine.ar, ids, page.ar)
        : generateDiffusion(model === 'block' ? engine.block! : engine.diffusion, ids, options, { blockCommit });
    const m = {
      passes: [] as number[],
      full: [] as number[],
      positions: [] as number[],
      wall: [] as number[],
      tps: [] as number[],
    };
    let nll = 0;
    let scored = 0;
    const texts: string[] = [];
    const clean: boolean[] = [];
    for (const [i, prompt] of prompts.entries()) {
      const ids = encode(prompt);
      if (i === 0) await run(ids); // warm-up
      for (let r = 0; r < repeats; r++) {
        const t = await run(ids);
        m.passes.push(t.stats.forwardPasses);
        m.full.push(t.steps.filter((s) => s.fullPass !== false).length);
        m.positions.push(t.steps.reduce((a, s) => a + (s.positions ?? t.initial.length), 0));
        m.wall.push(t.stats.wallMs);
        m.tps.push(t.stats.tokensPerSecond);
        if (r > 0) continue;
        const s = await answerNll(engine.ar, t);
        nll += s.nll;
        scored += s.tokens;
        texts.push(engine.tokenizer.decode(t.answer));
        clean.push(cleanTermination(t));
      }
    }
    out.push({
      name,
      model,
      blocks,
      cache,
      genLength: options.genLength ?? page.diffusion.genLength,
      passes: figure(m.passes),
      fullPasses: figure(m.full),
      positions: figure(m.positions),
      wallMs: figure(m.wall),
      tokensPerSecond: figure(m.tps),
      genPpl: Math.exp(nll / Math.max(1, scored)),
      repeated4: texts.reduce((a, x) => a + repeated4(x), 0) / texts.length,
      doomLoops: texts.filter(doomLoop).length / texts.length,
      cleanEndings: clean.filter(Boolean).length / clean.length,
    });
  }
  return out;
}
