import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fnv1a, parseTinyShakespeare, parseTinyStories, splitDocuments, splitOf } from '../../models/ts/corpus.ts';
import { corpusPath } from '../helpers/fixture.ts';

describe('corpus readers', () => {
  it('splits TinyStories on lines that hold exactly <|endoftext|>', () => {
    const text = 'One.\n\nTwo lines.\n<|endoftext|>\nSecond <|endoftext|> inline.\n<|endoftext|>\n';
    expect(parseTinyStories(text)).toEqual(['One.\n\nTwo lines.', 'Second <|endoftext|> inline.']);
  });

  it('splits Tiny Shakespeare into speeches on blank lines', () => {
    expect(parseTinyShakespeare('A:\nline one\nline two\n\nB:\nreply\n\n\n')).toEqual([
      'A:\nline one\nline two',
      'B:\nreply',
    ]);
  });

  it('reads every story of the shared corpus', () => {
    const docs = parseTinyStories(readFileSync(corpusPath('tinystories.txt'), 'utf8'));
    expect(docs.length).toBe(6271); // the corpus README's count
    expect(docs.every((d) => !d.includes('\n<|endoftext|>'))).toBe(true);
  });
});

describe('train/validation split', () => {
  it('depends only on the document text', () => {
    expect(fnv1a('hello')).toBe(0x4f9f2cab); // FNV-1a reference value
    expect(splitOf('a story')).toBe(splitOf('a story'));
    const docs = Array.from({ length: 200 }, (_, i) => `doc ${i}`);
    const forward = splitDocuments(docs);
    const backward = splitDocuments([...docs].reverse());
    expect(new Set(backward.validation)).toEqual(new Set(forward.validation));
  });

  it('puts about 2% of TinyStories in validation, disjoint from train', () => {
    const docs = parseTinyStories(readFileSync(corpusPath('tinystories.txt'), 'utf8'));
    const { train, validation } = splitDocuments(docs, 0.02);
    expect(train.length + validation.length).toBe(docs.length);
    expect(validation.length / docs.length).toBeGreaterThan(0.012);
    expect(validation.length / docs.length).toBeLessThan(0.028);
    const trainSet = new Set(train);
    expect(validation.some((d) => trainSet.has(d))).toBe(false);
  });

  it('rejects a share outside [0, 1)', () => {
    expect(() => splitOf('x', 1)).toThrow(/validationShare must be in \[0, 1\)/);
  });
});
