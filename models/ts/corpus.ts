// Corpus readers: turn the shared corpora into lists of documents, and split them into
// train/validation deterministically by document content (so the split never depends on order).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export type CorpusName = 'tinystories' | 'tinyshakespeare';
export type Split = 'train' | 'validation';

/** Default location of the corpora, relative to the repository root (never committed). */
export const DEFAULT_CORPUS_DIR = '../shared/corpora';

/**
 * The files of each corpus, read in this order. TinyStories comes in two files with no story in common (the
 * extra one arrived later); a story's split depends only on its text, so adding a file never moves a
 * validation story into train.
 */
export const CORPUS_FILES: Record<CorpusName, readonly string[]> = {
  tinystories: ['tinystories.txt', 'tinystories-extra.txt'],
  tinyshakespeare: ['tinyshakespeare.txt'],
};

/** TinyStories: each story is followed by a line holding exactly `<|endoftext|>`. */
export function parseTinyStories(text: string): string[] {
  return text
    .replace(/\r\n/g, '\n')
    .split(/^<\|endoftext\|>$/m)
    .map((doc) => doc.trim())
    .filter((doc) => doc.length > 0);
}

/** Tiny Shakespeare: speeches (a `NAME:` line, then verse) separated by blank lines. */
export function parseTinyShakespeare(text: string): string[] {
  return text
    .replace(/\r\n/g, '\n')
    .split(/\n\s*\n/)
    .map((doc) => doc.trim())
    .filter((doc) => doc.length > 0);
}

export function parseCorpus(name: CorpusName, text: string): string[] {
  return name === 'tinystories' ? parseTinyStories(text) : parseTinyShakespeare(text);
}

/** Every document of a corpus, file after file, from `dir` (the folder holding CORPUS_FILES[name]). */
export function readCorpus(name: CorpusName, dir: string): string[] {
  return CORPUS_FILES[name].flatMap((file) => {
    const path = join(dir, file);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new Error(
        `cannot read the ${name} corpus at ${path} (${(err as Error).message}); ` +
          `pass --corpus-dir to point at the folder holding ${CORPUS_FILES[name].join(' and ')}`,
      );
    }
    return parseCorpus(name, text);
  });
}

/** FNV-1a, 32 bit, over UTF-16 code units: tiny, stable across platforms, good enough for a split. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** A document goes to validation when its hash falls in the lowest `validationShare` of the range. */
export function splitOf(doc: string, validationShare = 0.02): Split {
  if (!(validationShare >= 0 && validationShare < 1)) {
    throw new Error(`validationShare must be in [0, 1), got ${validationShare}`);
  }
  return fnv1a(doc) / 2 ** 32 < validationShare ? 'validation' : 'train';
}

export function splitDocuments(docs: string[], validationShare = 0.02): Record<Split, string[]> {
  const out: Record<Split, string[]> = { train: [], validation: [] };
  for (const doc of docs) out[splitOf(doc, validationShare)].push(doc);
  return out;
}
