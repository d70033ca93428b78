// npm run sweep:data -- [--corpus-dir ../shared/corpora] [--out docs/sweep]
// The data side of choosing the default pair's shape, measured: for each vocabulary size, how long the BPE
// trainer takes, how many tokens the train split becomes, and which share of stories (with their end-of-text)
// fits a context of 128 / 256 / 512 tokens; and what share of a d=256 model the embedding table is.
// Writes <out>/data.json and <out>/data.md.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from './args.ts';
import { BpeTokenizer, trainBpe } from './bpe.ts';
import { DEFAULT_CORPUS_DIR, readCorpus, splitDocuments } from './corpus.ts';

const VOCAB_SIZES = [512, 1024, 2048, 4096];
const CONTEXTS = [128, 256, 512];
/** Non-embedding parameters of the 4-layer, d=256 transformer (attention 4d^2 + SwiGLU 3 * d * 704 per layer). */
const BODY_PARAMS = 4 * (4 * 256 * 256 + 3 * 256 * 704 + 2 * 256) + 256;

const args = parseArgs(
  process.argv.slice(2),
  { corpusDir: DEFAULT_CORPUS_DIR, out: 'docs/sweep' },
  'usage: npm run sweep:data -- [--corpus-dir DIR] [--out docs/sweep]',
);
const { train } = splitDocuments(readCorpus('tinystories', args.corpusDir));
const bytes = train.reduce((n, d) => n + Buffer.byteLength(d, 'utf8'), 0);
const rows = VOCAB_SIZES.map((vocabSize) => {
  const t0 = performance.now();
  const tok = new BpeTokenizer(trainBpe(train, { vocabSize }));
  const trainSeconds = (performance.now() - t0) / 1000;
  const lengths = train.map((d) => tok.encode(d).length + 1); // + end-of-text
  const tokens = lengths.reduce((a, b) => a + b, 0);
  const fits = Object.fromEntries(CONTEXTS.map((c) => [c, lengths.filter((n) => n <= c).length / lengths.length]));
  const embedding = vocabSize * 256;
  return {
    vocabSize,
    trainSeconds,
    tokens,
    tokensPerStory: tokens / train.length,
    bytesPerToken: bytes / tokens,
    fits,
    embeddingShare: embedding / (embedding + BODY_PARAMS),
  };
});
mkdirSync(args.out, { recursive: true });
writeFileSync(join(args.out, 'data.json'), JSON.stringify({ stories: train.length, bytes, rows }, null, 2));
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const md = [
  `# Vocabulary and context, measured on the TinyStories train split (${train.length.toLocaleString('en')} stories, ${(bytes / 1e6).toFixed(2)} MB)`,
  '',
  `| vocabulary | BPE training | train tokens | tokens/story | bytes/token | ${CONTEXTS.map((c) => `fits ${c}`).join(' | ')} | embedding share (d 256, 4 layers) |`,
  `|---|---|---|---|---|${CONTEXTS.map(() => '---|').join('')}---|`,
  ...rows.map(
    (r) =>
      `| ${r.vocabSize} | ${r.trainSeconds.toFixed(1)} s | ${r.tokens.toLocaleString('en')} | ${r.tokensPerStory.toFixed(0)} | ${r.bytesPerToken.toFixed(2)} | ${CONTEXTS.map((c) => pct(r.fits[c])).join(' | ')} | ${pct(r.embeddingShare)} |`,
  ),
  '',
  '"fits N": share of stories whose tokens plus one end-of-text fit a context of N, i.e. that the model sees whole,',
  'ending, and can learn to end (the denoiser learns the end-of-text tail only from such stories).',
];
writeFileSync(join(args.out, 'data.md'), md.join('\n') + '\n');
console.log(md.join('\n'));
