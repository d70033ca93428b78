// corpus -> tokenizer -> token streams. Trains a byte-level BPE on the train split of a corpus and writes
//   <out>/tokenizer.json, <out>/tokenizer_config.json   (Hugging Face layout, loaded by AutoTokenizer)
//   <out>/train.bin, <out>/validation.bin               (uint16 token ids, each document followed by <|endoftext|>)
//   <out>/data.json                                     (sizes, timings, ids of the special tokens)
// The Python trainer reads only these files, so the tokenizer exists once, in TypeScript.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from './args.ts';
import { BpeTokenizer, END_OF_TEXT_ID, MASK_ID, toTokenizerConfig, toTokenizerJson, trainBpe } from './bpe.ts';
import { CORPUS_FILES, DEFAULT_CORPUS_DIR, readCorpus, splitDocuments, type CorpusName } from './corpus.ts';

const usage = `usage: npm run tokenizer -- --out DIR [--corpus tinystories|tinyshakespeare] [--corpus-dir ${DEFAULT_CORPUS_DIR}]
       [--vocab-size 2048] [--context 256] [--validation-share 0.02] [--max-train-docs 0 (all)]`;

export function prepare(opts: {
  out: string;
  corpus: CorpusName;
  corpusDir: string;
  vocabSize: number;
  context: number;
  validationShare: number;
  maxTrainDocs: number;
}): Record<string, unknown> {
  const t0 = performance.now();
  const docs = readCorpus(opts.corpus, opts.corpusDir);
  const split = splitDocuments(docs, opts.validationShare);
  const train = opts.maxTrainDocs > 0 ? split.train.slice(0, opts.maxTrainDocs) : split.train;
  const model = trainBpe(train, { vocabSize: opts.vocabSize });
  const trainSeconds = (performance.now() - t0) / 1000;
  const tokenizer = new BpeTokenizer(model);
  mkdirSync(opts.out, { recursive: true });
  writeFileSync(join(opts.out, 'tokenizer.json'), JSON.stringify(toTokenizerJson(model)));
  writeFileSync(join(opts.out, 'tokenizer_config.json'), JSON.stringify(toTokenizerConfig(opts.context), null, 2));

  const counts: Record<string, { documents: number; tokens: number; bytes: number }> = {};
  for (const [name, list] of [
    ['train', train],
    ['validation', split.validation],
  ] as const) {
    const ids: number[] = [];
    let bytes = 0;
    for (const doc of list) {
      for (const id of tokenizer.encode(doc)) ids.push(id);
      ids.push(END_OF_TEXT_ID);
      bytes += Buffer.byteLength(doc, 'utf8');
    }
    writeFileSync(join(opts.out, `${name}.bin`), Uint16Array.from(ids));
    counts[name] = { documents: list.length, tokens: ids.length, bytes };
  }
  const meta = {
    corpus: opts.corpus,
    corpus_files: CORPUS_FILES[opts.corpus],
    vocab_size: tokenizer.vocabSize,
    requested_vocab_size: opts.vocabSize,
    context: opts.context,
    validation_share: opts.validationShare,
    end_of_text_id: END_OF_TEXT_ID,
    mask_id: MASK_ID,
    splits: counts,
    tokenizer_train_seconds: Number(trainSeconds.toFixed(2)),
    total_seconds: Number(((performance.now() - t0) / 1000).toFixed(2)),
  };
  writeFileSync(join(opts.out, 'data.json'), JSON.stringify(meta, null, 2));
  return meta;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = parseArgs(
    process.argv.slice(2),
    {
      out: '',
      corpus: 'tinystories',
      corpusDir: DEFAULT_CORPUS_DIR,
      vocabSize: 2048,
      context: 256,
      validationShare: 0.02,
      maxTrainDocs: 0,
    },
    usage,
  );
  if (!args.out) throw new Error(`--out is required\n${usage}`);
  if (args.corpus !== 'tinystories' && args.corpus !== 'tinyshakespeare') {
    throw new Error(`--corpus must be tinystories or tinyshakespeare, got ${args.corpus}`);
  }
  console.log(JSON.stringify(prepare({ ...args, corpus: args.corpus as CorpusName }), null, 2));
}
