// npm run eval -- [--pair NAME] [--prompts 32] [--out FILE]
// Sample quality of a pair on held-out story openings (the first sentence of validation stories):
// generative perplexity scored by the AR model (MDLM/SEDD methodology), distinct-2, repeated-4-gram rate,
// share of words found in the training corpus, and for diffusion the share of clean terminations.
// Prints PASS/FAIL for the quality gates of the default pair and writes everything to JSON.
import * as ort from 'onnxruntime-web';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from '../../models/ts/args.ts';
import { DEFAULT_CORPUS_DIR, readCorpus, splitDocuments } from '../../models/ts/corpus.ts';
import { generateAr } from '../core/ar-sampler.ts';
import { answerNll } from '../core/bench-core.ts';
import { generateDiffusion } from '../core/diffusion-sampler.ts';
import { Engine } from '../core/engine.ts';
import { nodeReadFile } from '../core/node-files.ts';
import {
  DEFAULT_BLOCK_LENGTH,
  DEFAULT_TEMPERATURE,
  DIFFUSION_DEFAULTS,
  resolveDiffusionOptions,
  type ArOptions,
  type DiffusionOptions,
} from '../core/options.ts';
import type { Trace } from '../core/trace.ts';

const USAGE = `usage: npm run eval -- [--pair NAME] [--prompts 32] [--gen-length 128] [--temperature ${DEFAULT_TEMPERATURE}]
       [--top-p ${DIFFUSION_DEFAULTS.topP}] [--out FILE]
       [--models models/pairs] [--corpus-dir ${DEFAULT_CORPUS_DIR}] [--sweep FILE]
  --sweep FILE: instead of the gates, evaluate each named set of diffusion options in FILE
                ({"name": {options}, ...}) beside the AR model, to choose sampler defaults by measurement`;

/** First sentence of a story: up to and including the first . ! or ? */
export function firstSentence(story: string): string {
  const m = /^[\s\S]*?[.!?]["”']?(?=\s|$)/.exec(story.trim());
  return (m ? m[0] : story.trim().split('\n')[0]).trim();
}

/** The first sentences of the first n validation stories that open differently (some share an opening). */
export function heldOutOpenings(stories: string[], n: number): string[] {
  return [...new Set(stories.map(firstSentence))].slice(0, n);
}

export const words = (text: string) => text.toLowerCase().match(/[a-z]+(?:'[a-z]+)?/g) ?? [];

function ngrams(ws: string[], n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i + n <= ws.length; i++) out.push(ws.slice(i, i + n).join(' '));
  return out;
}

/** Unique bigrams / bigrams, over one sample's words. */
export function distinct2(text: string): number {
  const g = ngrams(words(text), 2);
  return g.length ? new Set(g).size / g.length : 1;
}

/** Share of a sample's 4-grams that repeat an earlier 4-gram of the same sample. */
export function repeated4(text: string): number {
  const g = ngrams(words(text), 4);
  const seen = new Set<string>();
  let repeats = 0;
  for (const x of g) {
    if (seen.has(x)) repeats++;
    seen.add(x);
  }
  return g.length ? repeats / g.length : 0;
}

/** An end-of-text was generated and everything after it is end-of-text too. */
export function cleanTermination(trace: Trace): boolean {
  const gen = trace.final.slice(trace.promptLength);
  const first = gen.indexOf(trace.endOfTextId);
  return first >= 0 && gen.slice(first).every((id) => id === trace.endOfTextId);
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

interface SetResult {
  name: string;
  model: 'diffusion' | 'ar';
  genPpl: number;
  distinct2: number;
  repeated4: number;
  knownWords: number;
  cleanTerminations?: number;
  forwardPasses: number;
  samples: string[];
}

async function main() {
  const args = parseArgs(
    process.argv.slice(2),
    {
      pair: '',
      prompts: 32,
      genLength: 128,
      temperature: DEFAULT_TEMPERATURE,
      topP: DIFFUSION_DEFAULTS.topP,
      out: '',
      models: 'models/pairs',
      corpusDir: DEFAULT_CORPUS_DIR,
      sweep: '',
    },
    USAGE,
  );
  ort.env.wasm.numThreads = 1;
  const root = join(resolve(args.models), '/');
  const engine = await Engine.load({
    ort,
    root,
    readFile: nodeReadFile(root),
    pair: args.pair || undefined,
    backend: 'wasm',
  });
  const docs = readCorpus('tinystories', args.corpusDir);
  const { train, validation } = splitDocuments(docs);
  const vocabulary = new Set(train.flatMap(words));
  const openings = heldOutOpenings(validation, args.prompts);
  const tok = engine.tokenizer;

  const runSet = async (
    name: string,
    model: 'diffusion' | 'ar',
    gen: (ids: number[]) => Promise<Trace>,
  ): Promise<SetResult> => {
    let nll = 0;
    let n = 0;
    const d2: number[] = [];
    const r4: number[] = [];
    const known: number[] = [];
    const clean: boolean[] = [];
    const samples: string[] = [];
    let passes = 0;
    for (const opening of openings) {
      const ids = tok.encode(opening);
      const t = await gen(ids);
      const s = await answerNll(engine.ar, t);
      nll += s.nll;
      n += s.tokens;
      const text = tok.decode(t.answer);
      samples.push(text);
      d2.push(distinct2(text));
      r4.push(repeated4(text));
      const ws = words(text);
      if (ws.length) known.push(ws.filter((w) => vocabulary.has(w)).length / ws.length);
      clean.push(cleanTermination(t));
      passes += t.stats.forwardPasses;
    }
    const result: SetResult = {
      name,
      model,
      genPpl: Math.exp(nll / Math.max(1, n)),
      distinct2: mean(d2),
      repeated4: mean(r4),
      knownWords: mean(known),
      forwardPasses: passes / openings.length,
      samples,
    };
    if (model === 'diffusion') result.cleanTerminations = clean.filter(Boolean).length / clean.length;
    console.log(
      `${name.padEnd(34)} gen-PPL ${result.genPpl.toFixed(2).padStart(7)}  distinct-2 ${result.distinct2.toFixed(3)}  ` +
        `rep-4 ${result.repeated4.toFixed(3)}  known words ${(100 * result.knownWords).toFixed(1)}%  ` +
        `passes ${result.forwardPasses.toFixed(1)}` +
        (result.cleanTerminations !== undefined ? `  clean ends ${(100 * result.cleanTerminations).toFixed(0)}%` : ''),
    );
    return result;
  };

  const G = args.genLength;
  const roundDown = (n: number) => (n >= DEFAULT_BLOCK_LENGTH ? n - (n % DEFAULT_BLOCK_LENGTH) : n);
  const T = args.temperature;
  const topP = args.topP; // token choice is the same for both models, as on the page
  const ctx = engine.info.contextLength;
  const diff =
    (o: Partial<DiffusionOptions>, length = G) =>
    (ids: number[]) =>
      generateDiffusion(
        engine.diffusion,
        ids,
        // whole default blocks, so every prompt gets the page's schedule
        { genLength: roundDown(Math.min(length, ctx - ids.length)), temperature: T, topP, ...o },
        { tokenText: tok.tokenText },
      );
  const ar = (o: Partial<ArOptions>) => (ids: number[]) =>
    generateAr(
      engine.ar,
      ids,
      { maxNewTokens: Math.min(G, ctx - ids.length), temperature: T, topP, ...o },
      { tokenText: tok.tokenText },
    );

  console.log(
    `pair ${engine.info.pair}: ${openings.length} held-out openings, ${G} tokens, temperature ${T}, top-p ${topP}\n`,
  );
  /** Writes the results (with what they were measured on) to --out, and releases the models. */
  const finish = async (results: object) => {
    if (args.out) {
      const { blockLength, endOfTextAhead } = resolveDiffusionOptions({ genLength: G });
      const pageDefaults = { blockLength, endOfTextAhead }; // what "default page settings" meant for this run
      const run = { pair: engine.info.pair, openings, genLength: G, temperature: T, topP, pageDefaults };
      writeFileSync(args.out, JSON.stringify({ ...run, ...results }, null, 2));
      console.log(`\nwritten to ${args.out}`);
    }
    await engine.release();
  };
  if (args.sweep) {
    const candidates = JSON.parse(readFileSync(args.sweep, 'utf8')) as Record<string, Partial<DiffusionOptions>>;
    const sets = [await runSet('AR (default page settings)', 'ar', ar({}))];
    for (const [name, options] of Object.entries(candidates)) sets.push(await runSet(name, 'diffusion', diff(options)));
    return finish({ candidates, sets });
  }
  const sets = [
    await runSet('AR (default page settings)', 'ar', ar({})),
    await runSet('diffusion (default page settings)', 'diffusion', diff({})),
    await runSet('diffusion, threshold 0.9', 'diffusion', diff({ threshold: 0.9 })),
    await runSet(`diffusion, up to ${ctx} positions`, 'diffusion', diff({}, ctx)),
  ];
  const [arSet, diffSet, , longSet] = sets;
  const gates = [
    {
      gate: 'diffusion gen-PPL <= 1.5 x AR gen-PPL (default settings)',
      pass: diffSet.genPpl <= 1.5 * arSet.genPpl,
      value: `${diffSet.genPpl.toFixed(2)} vs ${(1.5 * arSet.genPpl).toFixed(2)}`,
    },
    {
      gate: `>= 90% clean terminations for diffusion within ${ctx} positions`,
      pass: (longSet.cleanTerminations ?? 0) >= 0.9,
      value: `${(100 * (longSet.cleanTerminations ?? 0)).toFixed(0)}% (within ${Math.min(256, ctx)} positions incl. prompt)`,
    },
    {
      gate: '>= 95% of words from the corpus word list (both)',
      pass: arSet.knownWords >= 0.95 && diffSet.knownWords >= 0.95,
      value: `AR ${(100 * arSet.knownWords).toFixed(1)}%, diffusion ${(100 * diffSet.knownWords).toFixed(1)}%`,
    },
    {
      gate: 'diffusion repeated-4-gram rate <= AR + 0.05',
      pass: diffSet.repeated4 <= arSet.repeated4 + 0.05,
      value: `${diffSet.repeated4.toFixed(3)} vs ${(arSet.repeated4 + 0.05).toFixed(3)}`,
    },
  ];
  console.log('');
  for (const g of gates) console.log(`${g.pass ? 'PASS' : 'FAIL'}  ${g.gate}: ${g.value}`);
  await finish({ sets, gates });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err) => {
    console.error(err instanceof Error ? `${err.name}: ${err.message}` : err);
    process.exit(1);
  });
}
