// "8 samples" (issue 28): the diversity figures of a model's samples for one prompt.
import { describe, expect, it } from 'vitest';
import { bleu4, diversityOf } from '../../../src/core/measure/diversity.ts';

const w = (s: string) => s.split(' ');

describe('diversity across samples', () => {
  it('BLEU-4: 1 for a sample its reference holds whole, smoothed and length-penalised otherwise', () => {
    expect(bleu4(w('the cat sat on the mat'), [w('the cat sat on the mat')])).toBeCloseTo(1, 12);
    // 6 words against 6: unigrams 4/6 (the second "the" is clipped... and a, rug miss), bigrams 3/5, trigrams 2/4,
    // 4-grams 1/3
    const expected = Math.exp((Math.log(4 / 6) + Math.log(3 / 5) + Math.log(2 / 4) + Math.log(1 / 3)) / 4);
    expect(bleu4(w('the cat sat on a rug'), [w('the cat sat on the mat')])).toBeCloseTo(expected, 12);
    // every n-gram found, but shorter than the closest reference: the brevity penalty exp(1 - 6/5) alone
    const short = bleu4(w('the cat sat on the'), [w('the cat sat on the mat')]);
    expect(short).toBeCloseTo(Math.exp(1 - 6 / 5), 12);
    expect(bleu4(w('the cat sat'), [w('the cat sat on the mat')])).toBe(0); // no 4-gram at all
    expect(bleu4([], [w('a b')])).toBe(0);
  });

  it('says when every sample opens alike and how alike they are', () => {
    const same = diversityOf(['Once upon a time, a dog.', 'Once upon a time, a cat.', 'Once there was a fox.']);
    expect(same).toMatchObject({ samples: 3, sameFirstWord: 1, firstWord: 'once' });
    const varied = diversityOf(['Tom ran home.', 'A bird sang.', 'Lily had a red ball.', 'Tom saw a dog.']);
    expect(varied.sameFirstWord).toBe(0.5);
    expect(varied.firstWord).toBe('tom');
    expect(varied.distinct2).toBe(1); // no word pair appears twice across them
    expect(varied.selfBleu).toBeLessThan(same.selfBleu);
    const copies = diversityOf(['The dog ran to the park.', 'The dog ran to the park.']);
    expect(copies.selfBleu).toBeCloseTo(1, 12);
    expect(copies.distinct2).toBe(0.5);
    expect(diversityOf([])).toMatchObject({ samples: 0, sameFirstWord: 0, firstWord: null, selfBleu: 0 });
  });
});
