// The sample-quality measures behind `npm run eval` and the gates of the default pair.
import { describe, expect, it } from 'vitest';
import {
  cleanTermination,
  distinct2,
  firstSentence,
  heldOutOpenings,
  repeated4,
  words,
} from '../../src/cli/eval-quality.ts';
import type { Trace } from '../../src/core/trace.ts';

describe('held-out openings', () => {
  it('are the first sentence of a story, closing quote included', () => {
    expect(firstSentence('  Tom ran. He fell.')).toBe('Tom ran.');
    expect(firstSentence('"Look!" said Sue. Then...')).toBe('"Look!"');
    expect(firstSentence('No end here\nnext line')).toBe('No end here'); // no sentence end: the first line
  });

  it('skip a story whose opening is already taken, so n prompts are n different prompts', () => {
    const stories = [
      'Once upon a time, a cat sat. A.',
      'Once upon a time, a cat sat. B.',
      'Lily ran. C.',
      'Max hid. D.',
    ];
    expect(heldOutOpenings(stories, 3)).toEqual(['Once upon a time, a cat sat.', 'Lily ran.', 'Max hid.']);
    expect(heldOutOpenings(stories, 10)).toHaveLength(3);
  });
});

describe('text measures', () => {
  it('words are lower-case letters with inner apostrophes', () => {
    expect(words("Tom's dog RAN, fast!")).toEqual(["tom's", 'dog', 'ran', 'fast']);
  });

  it('distinct-2 is unique bigrams over bigrams', () => {
    expect(distinct2('a b a b')).toBeCloseTo(2 / 3); // ab, ba, ab
    expect(distinct2('one')).toBe(1);
  });

  it('repeated 4-grams count each 4-gram seen earlier in the same text', () => {
    expect(repeated4('a b c d a b c d')).toBeCloseTo(1 / 5); // abcd bcda cdab dabc abcd
    expect(repeated4('a b c d e')).toBe(0);
  });
});

describe('clean termination', () => {
  const trace = (final: number[]) => ({ final, promptLength: 2, endOfTextId: 0 }) as unknown as Trace;
  it('needs an end-of-text after the prompt followed only by end-of-text', () => {
    expect(cleanTermination(trace([5, 6, 7, 0, 0]))).toBe(true);
    expect(cleanTermination(trace([5, 6, 7, 0, 8]))).toBe(false);
    expect(cleanTermination(trace([5, 6, 7, 8, 9]))).toBe(false);
    expect(cleanTermination(trace([0, 6, 7, 8]))).toBe(false); // an end-of-text in the prompt does not count
  });
});
