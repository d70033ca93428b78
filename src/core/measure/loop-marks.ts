// Loops made visible (issue 28): which token positions of a canvas belong to a sentence or a 4-gram said more
// than once, found by the eval's own repetitionOf over the text the positions spell, so a mark on the page and the
// eval's figure for the same text always agree.
import { repetitionOf, type Repeat } from './text-measures.ts';

/** A repeated sentence or 4-gram a position belongs to. */
export interface LoopMark {
  kind: Repeat['kind'];
  text: string;
  count: number;
  /** The first canvas position of each occurrence, in order. */
  at: number[];
}

/**
 * The loop marks of a canvas: `tokens` are its answer's positions in order with their text, null for a mask (read
 * as a space, so no word runs across it). A position in a repeated sentence is marked as that; else in a repeated
 * 4-gram, the first one found.
 */
export function loopMarks(tokens: readonly { pos: number; text: string | null }[]): Map<number, LoopMark> {
  let text = '';
  const posAt: number[] = []; // the position of each character
  for (const t of tokens) {
    const piece = t.text ?? ' ';
    text += piece;
    for (let i = 0; i < piece.length; i++) posAt.push(t.pos);
  }
  const marks = new Map<number, LoopMark>();
  const { repeats } = repetitionOf(text);
  // sentences first: a position in a repeated sentence is marked as the sentence
  for (const r of [...repeats.filter((x) => x.kind === 'sentence'), ...repeats.filter((x) => x.kind === '4-gram')]) {
    const mark: LoopMark = { kind: r.kind, text: r.text, count: r.count, at: r.spans.map((s) => posAt[s.start]) };
    for (const span of r.spans) {
      for (let c = span.start; c < span.end; c++) if (!marks.has(posAt[c])) marks.set(posAt[c], mark);
    }
  }
  return marks;
}

/** What a hover on a marked position says. */
export function describeLoop(mark: LoopMark): string {
  const what = mark.kind === 'sentence' ? 'sentence' : 'words';
  return `repeated ${what} "${mark.text}": ${mark.count} times, at positions ${mark.at.join(', ')}`;
}
