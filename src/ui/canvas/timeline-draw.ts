// Draws a denoising timeline (core/timeline.ts) on a 2D canvas: position across, step down. A decision is a
// strong cell at its step and a light band below it for as long as it stands; white is still masked. One rect per
// mark, so redrawing it for every streamed step costs well under a millisecond.
import type { MarkKind, Timeline } from '../../core/trace/timeline.ts';

/** Colours of the picture and of its legend (hue of a commit: red unsure -> green sure, as the token cells). */
export const MARK_COLOURS: Record<MarkKind, { strong: string; band: string; label: string }> = {
  commit: { strong: 'hsl(120 60% 40%)', band: 'hsl(120 60% 85%)', label: 'token decided (hue: confidence)' },
  end: { strong: '#4b5563', band: '#d1d5db', label: 'end-of-text' },
  fill: { strong: '#9ca3af', band: '#e5e7eb', label: 'end-of-text tail set at once' },
  edit: { strong: '#ea580c', band: '#fed7aa', label: 'token replaced (edit)' },
  remask: { strong: '#dc2626', band: '#ffffff', label: 're-masked' },
  typed: { strong: '#7c3aed', band: '#ddd6fe', label: 'a word you typed' },
  cleared: { strong: '#a21caf', band: '#ffffff', label: 'a token you re-masked' },
};

const commitColour = (conf: number, band: boolean) => {
  const hue = Math.round(120 * Math.max(0, Math.min(1, conf)));
  return band ? `hsl(${hue} 60% 86%)` : `hsl(${hue} 65% 42%)`;
};

export interface TimelineView {
  /** Canvas pixels. */
  width: number;
  height: number;
  /** Rows: the planned steps (so a streaming run fills the picture downwards), at least the steps so far. */
  rows: number;
  /** The step the page shows (a line across), 0 for none. */
  cursor: number;
}

/** Pixel geometry shared by drawing and hit-testing. */
export function geometry(t: Timeline, view: TimelineView) {
  const columns = Math.max(1, t.to - t.from);
  const rows = Math.max(1, view.rows, t.steps);
  return { cellW: view.width / columns, rowH: view.height / rows, columns, rows };
}

export function drawTimeline(ctx: CanvasRenderingContext2D, t: Timeline, view: TimelineView) {
  const { cellW, rowH } = geometry(t, view);
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, view.width, view.height);
  const x = (pos: number) => (pos - t.from) * cellW;
  const y = (step: number) => (step - 1) * rowH;
  const w = Math.max(1, cellW);
  // bands first, so decisions stay on top
  for (const m of t.marks) {
    const end = Math.min(m.until, t.steps + 1);
    if (end <= m.step + 1 || m.kind === 'remask' || m.kind === 'cleared') continue;
    ctx.fillStyle = m.kind === 'commit' ? commitColour(m.conf, true) : MARK_COLOURS[m.kind].band;
    ctx.fillRect(x(m.pos), y(m.step + 1), w, (end - m.step - 1) * rowH);
  }
  for (const m of t.marks) {
    ctx.fillStyle = m.kind === 'commit' ? commitColour(m.conf, false) : MARK_COLOURS[m.kind].strong;
    ctx.fillRect(x(m.pos), y(m.step), w, Math.max(1, rowH));
  }
  if (view.cursor > 0) {
    ctx.fillStyle = 'rgba(17, 24, 39, 0.8)';
    ctx.fillRect(0, Math.min(view.height - 1, view.cursor * rowH - 1), view.width, 1.5);
  }
}

/** The cell under canvas pixel (px, py): position and 1-based step, or null outside the drawn steps. */
export function cellAt(t: Timeline, view: TimelineView, px: number, py: number): { pos: number; step: number } | null {
  const { cellW, rowH, columns } = geometry(t, view);
  const col = Math.floor(px / cellW);
  const step = Math.floor(py / rowH) + 1;
  if (col < 0 || col >= columns || step < 1 || step > t.steps) return null;
  return { pos: t.from + col, step };
}
