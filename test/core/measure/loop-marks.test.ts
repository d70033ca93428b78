// Loops made visible (issue 28): the marks on a canvas and the eval's figures come from one function, so they agree.
import { describe, expect, it } from 'vitest';
import { describeLoop, loopMarks } from '../../../src/core/measure/loop-marks.ts';
import {
  doomLoop,
  repeated4,
  repetitionOf,
  sampleMeasures,
  unigramEntropy,
  distinct2,
} from '../../../src/core/measure/text-measures.ts';

/** A text as tokens at positions from 10: each word with the space before it one token, punctuation its own. */
const tokensOf = (text: string) =>
  (text.match(/ ?[A-Za-z']+|[^A-Za-z' ]/g) ?? []).map((t, i) => ({ pos: 10 + i, text: t }));

describe('repetition and its marks', () => {
  const text = ' We went to the park. We went to the park. We went to the park. Then we went home.';

  it('finds the doom loop and the repeated 4-grams the eval counts', () => {
    const r = repetitionOf(text);
    expect(r.doomLoop).toBe(true);
    expect(r.repeated4).toBeCloseTo(repeated4(text), 12);
    // 19 words: 16 4-grams, of which 9 distinct (5 in the loop, 4 after it) -> 7 repeat an earlier one
    expect(r.repeated4).toBeCloseTo(7 / 16, 12);
    expect(r.repeats[0]).toMatchObject({ kind: 'sentence', text: 'we went to the park', count: 3 });
    expect(doomLoop(' We went to the park. We went to the park. Then home.')).toBe(false);
    expect(sampleMeasures(text, [3, 4, 4])).toEqual({
      repeated4: repeated4(text),
      distinct2: distinct2(text),
      entropy: unigramEntropy([3, 4, 4]),
      doomLoop: true,
    });
    expect(sampleMeasures('', []).entropy).toBeNull();
  });

  it('marks every position of a repeated sentence as it, and of a repeated 4-gram elsewhere, with where each is', () => {
    const tokens = tokensOf(text);
    const marks = loopMarks(tokens);
    // the three sentences: 6 tokens each (5 words and the full stop), at 10, 16 and 22
    const sentence = marks.get(10)!;
    expect(sentence).toMatchObject({ kind: 'sentence', count: 3, at: [10, 16, 22] });
    for (let p = 10; p < 28; p++) expect(marks.get(p)?.kind, `position ${p}`).toBe('sentence');
    // " Then we went home." repeats no 4-gram ("we went to the" needs "to the")
    for (let p = 28; p < 33; p++) expect(marks.has(p)).toBe(false);
    expect(describeLoop(sentence)).toBe('repeated sentence "we went to the park": 3 times, at positions 10, 16, 22');
    // a mask reads as a space: no word runs across it, and nothing is marked on it
    const gram = loopMarks([
      ...tokensOf(' a big red ball and a big red ball'),
      { pos: 99, text: null },
      ...tokensOf(' a big red ball').map((t) => ({ ...t, pos: t.pos + 100 })),
    ]);
    expect(gram.get(10)).toMatchObject({ kind: '4-gram', text: 'a big red ball', count: 3, at: [10, 15, 110] });
    expect(gram.has(99)).toBe(false);
    expect(gram.has(14)).toBe(false); // " and"
  });
});
