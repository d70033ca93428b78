// Infill markers in user text: `[MASK]` stands for `defaultLength` masks, `[MASK:n]` for n masks.
// They become the tokenizer's literal mask token, which it encodes as the mask id.
import { OptionError } from '../errors.ts';

// Anything after the colon is taken as the marker's count and checked, so `[MASK:-3]` is an error like
// `[MASK:0]`, not literal text.
export const MASK_MARKER = /\[MASK(?::([^\]]*))?\]/g;
export const MAX_SPAN = 256;

export function hasInfillMarkers(text: string): boolean {
  return new RegExp(MASK_MARKER.source).test(text);
}

/** Replaces every marker by its count of `maskToken` strings. */
export function expandInfillMarkers(text: string, maskToken: string, defaultLength: number): string {
  return text.replace(MASK_MARKER, (_, n: string | undefined) => {
    const count = n === undefined ? defaultLength : n.trim() === '' ? NaN : Number(n);
    if (!Number.isInteger(count) || count < 1 || count > MAX_SPAN) {
      throw n === undefined
        ? new OptionError(
            'infillSpan',
            `the length of a bare [MASK] must be an integer in [1, ${MAX_SPAN}], got ${JSON.stringify(defaultLength)}`,
          )
        : new OptionError('infill', `a [MASK:n] span needs an integer 1 <= n <= ${MAX_SPAN}, got [MASK:${n}]`);
    }
    return maskToken.repeat(count);
  });
}
