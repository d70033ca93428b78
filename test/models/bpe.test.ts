import { AutoTokenizer, env } from '@huggingface/transformers';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BpeTokenizer,
  END_OF_TEXT_ID,
  MASK_ID,
  fromTokenizerJson,
  pretokenize,
  toTokenizerConfig,
  toTokenizerJson,
  trainBpe,
  type BpeModel,
} from '../../models/ts/bpe.ts';
import { parseTinyStories } from '../../models/ts/corpus.ts';
import { corpusPath } from '../helpers/fixture.ts';

// Inputs chosen to hit what a byte-level BPE can get wrong: characters never seen in training (CJK, emoji
// with ZWJ and skin tone, combining marks, RTL), control characters, CRLF, runs of spaces, digits, and
// the literal special-token strings.
const TRICKY = [
  '',
  'Once upon a time, there was a little girl named Lily.',
  '  leading and trailing spaces  ',
  'tabs\tand\r\nCRLF\n\n\nnewlines',
  '日本語のテキスト 中文 한국어',
  'emoji 👩🏽‍🚀 family 👨‍👩‍👧 flag 🇫🇷',
  'e\u0301 combining, ﬁ ligature, ÅΩ≈ç√',
  'עברית ومرحبا mixed direction',
  '\u0000\u0001\u007f control \u200b zero-width',
  "it's we'll they're I'd 12345 3.14159",
  'tokens <|mask|> and <|endoftext|> inline',
];

let stories: string[];
let model: BpeModel;

beforeAll(() => {
  stories = parseTinyStories(readFileSync(corpusPath('tinystories.txt'), 'utf8')).slice(0, 400);
  model = trainBpe(stories, { vocabSize: 400 });
});

describe('trainBpe', () => {
  it('reaches the requested vocabulary size with fixed special-token ids', () => {
    expect(model.vocab.length).toBe(400);
    expect(model.merges.length).toBe(400 - 258);
    expect(model.vocab[END_OF_TEXT_ID]).toBe('<|endoftext|>');
    expect(model.vocab[MASK_ID]).toBe('<|mask|>');
  });

  it('is deterministic', () => {
    expect(trainBpe(stories, { vocabSize: 400 })).toEqual(model);
  });

  it('learns common words as single tokens', () => {
    const tok = new BpeTokenizer(model);
    expect(tok.encode(' the')).toHaveLength(1);
    expect(tok.encode('Once upon a time').length).toBeLessThanOrEqual('Once upon a time'.length / 2);
  });

  it('rejects a vocabulary smaller than the byte alphabet', () => {
    expect(() => trainBpe(['a'], { vocabSize: 100 })).toThrow(/vocabSize must be an integer in \[258, 65536\]/);
  });

  it('pre-tokenizes like GPT-2 (a space stays with the following word)', () => {
    expect(pretokenize("Hi there, it's  me")).toEqual(['Hi', 'Ġthere', ',', 'Ġit', "'s", 'Ġ', 'Ġme']);
  });
});

describe('BpeTokenizer round-trips', () => {
  it.each(TRICKY.map((s) => [JSON.stringify(s).slice(0, 40), s]))('decode(encode(%s)) is exact', (_, text) => {
    const tok = new BpeTokenizer(model);
    expect(tok.decode(tok.encode(text))).toBe(text);
  });

  it('maps the literal special-token strings to their ids', () => {
    const ids = new BpeTokenizer(model).encode('a<|mask|><|endoftext|>');
    expect(ids.slice(-2)).toEqual([MASK_ID, END_OF_TEXT_ID]);
  });

  it('rejects ids outside the vocabulary', () => {
    expect(() => new BpeTokenizer(model).decode([400])).toThrow(/token id 400 is outside the vocabulary/);
  });
});

describe('tokenizer.json for @huggingface/transformers', () => {
  let dir: string;
  beforeAll(() => {
    const root = mkdtempSync(join(tmpdir(), 'bpe-'));
    dir = join(root, 'tok');
    mkdirSync(dir);
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(toTokenizerJson(model)));
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(toTokenizerConfig(128)));
    env.allowLocalModels = true;
    env.allowRemoteModels = false;
    env.localModelPath = root + '/';
  });

  it('AutoTokenizer encodes every input to the same ids and decodes it exactly', async () => {
    const auto = await AutoTokenizer.from_pretrained('tok');
    const ours = new BpeTokenizer(model);
    const texts = [...TRICKY, ...stories.slice(0, 20)];
    for (const text of texts) {
      const ids = auto.encode(text);
      expect(ids).toEqual(ours.encode(text));
      // transformers.js refuses to decode an empty list; the empty text must encode to none.
      if (text === '') expect(ids).toEqual([]);
      else expect(auto.decode(ids)).toBe(text);
    }
  });

  it('AutoTokenizer knows the special tokens', async () => {
    const auto = await AutoTokenizer.from_pretrained('tok');
    expect(auto.eos_token_id).toBe(END_OF_TEXT_ID);
    expect(auto.mask_token_id).toBe(MASK_ID);
  });

  it('survives a write/read of tokenizer.json', () => {
    const reread = fromTokenizerJson(JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')));
    expect(reread).toEqual(model);
  });
});
