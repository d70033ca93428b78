// The cursor on the shared time axis: which step of each model's run is shown, playback, and the view options.
import { MODEL_KINDS, perKind, type ModelKind } from '../../core/modes.ts';
import { stepAt, stepTimes, type TimeAxis } from '../../core/trace/replay.ts';
import type { LiveTraces } from './run.svelte.ts';

export class PlaybackState {
  axis = $state<TimeAxis>('passes');
  /** Cursor on the shared time axis (forward passes or ms). */
  time = $state(0);
  /** While generating, the cursor follows the newest step unless the user moved it. */
  following = $state(true);
  playing = $state(false);
  /** Playback speed multiplier. */
  speed = $state(1);
  showGhosts = $state(true);

  constructor(private readonly traces: () => LiveTraces) {}

  /** Each model's step times on the axis. */
  readonly times = $derived.by(() => perKind((kind) => this.timesOf(kind)));

  readonly maxTime = $derived(Math.max(0, ...MODEL_KINDS.map((kind) => this.times[kind].at(-1) ?? 0)));

  /** Steps shown for each model at the cursor. */
  readonly shownStep = $derived(perKind((kind) => stepAt(this.times[kind], this.time)));

  private timesOf(kind: ModelKind): number[] {
    const t = this.traces()[kind];
    return t ? stepTimes(t.steps, this.axis) : [];
  }

  /** A new run: the cursor at its start, following its newest step. */
  restart() {
    this.time = 0;
    this.following = true;
    this.playing = false;
  }

  /** Steps arrived: a following cursor moves to the newest. */
  follow() {
    if (this.following) this.time = this.maxTime;
  }

  /** A trace opened for replay: its end shown, the cursor left where the visitor puts it. */
  showEnd() {
    this.time = this.maxTime;
    this.following = false;
  }

  /** Moves the cursor to the previous/next step time of any trace. */
  stepBy(direction: 1 | -1) {
    this.following = false;
    this.playing = false;
    const all = [...MODEL_KINDS.flatMap((kind) => this.times[kind]), 0].sort((a, b) => a - b);
    if (direction > 0) this.time = all.find((t) => t > this.time + 1e-9) ?? this.maxTime;
    else this.time = [...all].reverse().find((t) => t < this.time - 1e-9) ?? 0;
  }

  /** Shows `step` (1-based) of one model's run: the cursor moves to that step's time on the shared axis. */
  seekStep(model: ModelKind, step: number) {
    const t = this.times[model][step - 1];
    if (t !== undefined) this.seek(t);
  }

  seek(t: number) {
    this.following = false;
    this.time = Math.max(0, Math.min(this.maxTime, t));
  }

  togglePlay() {
    if (this.playing) {
      this.playing = false;
      return;
    }
    if (this.time >= this.maxTime) this.time = 0;
    this.following = false;
    this.playing = true;
    let last = performance.now();
    const unitsPerSecond = () => (this.axis === 'passes' ? 12 : 1000) * this.speed;
    const tick = (now: number) => {
      if (!this.playing) return;
      this.time = Math.min(this.maxTime, this.time + ((now - last) / 1000) * unitsPerSecond());
      last = now;
      if (this.time >= this.maxTime) this.playing = false;
      else requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  }
}
