// Infill markers in user text: `[MASK]` stands for `defaultLength` masks, `[MASK:n]` for n masks.
// They become the tokenizer's literal mask token, which it encodes as the mask id.
import { OptionError } from './errors.ts';

export const MASK_MARKER = /\[MASK(?::(\d+))?\]/g;
const MAX_SPAN = 256;

export function hasInfillMarkers(text: string): boolean {
  return new RegExp(MASK_MARKER.source).test(text);
}

/** Replaces every marker by its count of `maskToken` strings. */
export function expandInfillMarkers(text: string, maskToken: string, defaultLength: number): string {
  return text.replace(MASK_MARKER, (_, n: string | undefined) => {
    const count = n === undefined ? defaultLength : Number(n);
    if (!Number.isInteger(count) || count < 1 || count > MAX_SPAN) {
      throw new OptionError('infill', `a [MASK:n] span needs 1 <= n <= ${MAX_SPAN}, got ${n}`);
    }
    return maskToken.repeat(count);
  });
}
