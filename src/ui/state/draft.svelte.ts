// The visitor's draft (issue 28): which run is being edited, the positions selected on its canvas, and the edits
// waiting to be applied (re-mask the selection, type a word at its start). Resume sends them, with the step shown,
// to the worker (RunState.resume); nothing here runs a model or checks an edit: the core does (src/core/drafts).
import type { DraftEdit, TypedEdit } from '../../core/drafts/edits.ts';
import type { LiveTraces } from './run.svelte.ts';

export type DraftKind = 'diffusion' | 'block';

export interface DraftDeps {
  traces(): LiveTraces;
  /** The step each panel shows now: the draft is that step's canvas. */
  shownStep(kind: DraftKind): number;
  /** The page can start a run now. */
  ready(): boolean;
  /** Runs the draft; false when it was refused (an edit that cannot apply: the page says why). */
  resume(kind: DraftKind, atStep: number, edits: (DraftEdit | TypedEdit)[]): Promise<boolean>;
}

export class DraftState {
  /** The run being edited (null: no draft open). */
  kind = $state<DraftKind | null>(null);
  /** The selection: the position picked first and the one it was extended to. */
  anchor = $state<number | null>(null);
  focus = $state<number | null>(null);
  /** Edits waiting for Resume, in the order made. */
  edits = $state.raw<(DraftEdit | TypedEdit)[]>([]);
  /** The word in the box, typed at the selection's start. */
  word = $state('');

  constructor(private readonly deps: DraftDeps) {}

  /** The selected positions [from, to), or null. */
  readonly selection = $derived.by(() => {
    if (this.anchor === null) return null;
    const other = this.focus ?? this.anchor;
    return { from: Math.min(this.anchor, other), to: Math.max(this.anchor, other) + 1 };
  });

  /** What each position waiting for Resume will become: masked, or the start of a typed word. */
  readonly pending = $derived.by(() => {
    const out = new Map<number, 'remask' | 'type'>();
    for (const e of this.edits) {
      if (e.kind === 'remask') for (let p = e.from; p < e.to; p++) out.set(p, 'remask');
      else out.set(e.pos, 'type');
    }
    return out;
  });

  /** A run that can be edited: finished (or paused), a diffusion or block-diffusion run, with the page idle. */
  canEdit(kind: string): kind is DraftKind {
    return (kind === 'diffusion' || kind === 'block') && Boolean(this.deps.traces()[kind]?.done) && this.deps.ready();
  }

  open(kind: DraftKind) {
    if (this.kind !== kind) this.clear();
    this.kind = kind;
  }

  close() {
    this.kind = null;
    this.clear();
  }

  private clear() {
    this.anchor = this.focus = null;
    this.edits = [];
    this.word = '';
  }

  /** Picks a position of `kind`'s canvas: a new selection, or (extend) the selection stretched to it. */
  pick(kind: DraftKind, pos: number, extend: boolean) {
    this.open(kind);
    if (extend && this.anchor !== null) this.focus = pos;
    else {
      this.anchor = pos;
      this.focus = null;
    }
  }

  /** The selection becomes masks again. */
  remaskSelection() {
    const s = this.selection;
    if (!s) return;
    this.edits = [...this.edits, { kind: 'remask', from: s.from, to: s.to }];
    this.anchor = this.focus = null;
  }

  /** The word in the box is typed at the selection's start. */
  typeWord() {
    const s = this.selection;
    const text = this.word.trim();
    if (!s || !text) return;
    this.edits = [...this.edits, { kind: 'type', pos: s.from, text }];
    this.word = '';
    this.anchor = this.focus = null;
  }

  drop(index: number) {
    this.edits = this.edits.filter((_, i) => i !== index);
  }

  /** The run goes on from the step shown, with the edits; refused, the draft stays open with its edits. */
  async resume() {
    const kind = this.kind;
    if (!kind || !this.deps.ready()) return;
    const edits = this.edits;
    const atStep = this.deps.shownStep(kind);
    this.close();
    if (!(await this.deps.resume(kind, atStep, edits))) {
      this.kind = kind;
      this.edits = edits;
    }
  }
}
