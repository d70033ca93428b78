// Records a run as a trace, for every sampler: the start (streamed), each step (streamed), how the run ended, and
// the finished trace with its answer and stats. Ghost guesses are recorded as deltas (GhostTracker).
import {
  GHOST_PROB_STEP,
  answerOf,
  roundMs,
  statsOf,
  type Ghost,
  type Termination,
  type TerminationReason,
  type Trace,
  type TraceStart,
  type TraceStep,
} from './trace.ts';

export interface RecorderHooks {
  onStart?: (start: TraceStart) => void;
  onStep?: (step: TraceStep) => void;
}

export class TraceRecorder {
  readonly steps: TraceStep[] = [];
  termination: Termination | null = null;
  private readonly started: number;

  constructor(
    private readonly hooks: RecorderHooks,
    private readonly now: () => number,
    readonly start: TraceStart,
  ) {
    this.started = now();
    hooks.onStart?.(start);
  }

  get plannedSteps(): number {
    return this.start.plannedSteps;
  }

  /** The run ends (cancelled, end-of-text): after `step` steps, with the message shown to the user. */
  end(reason: TerminationReason, step: number, message: string): void {
    this.termination = { reason, step, plannedSteps: this.plannedSteps, message };
  }

  record(step: TraceStep): void {
    this.steps.push(step);
    this.hooks.onStep?.(step);
  }

  /** The finished trace; a run that did not end otherwise ends with `reason` after its last step. */
  finish(run: {
    model: string;
    backend: string;
    options: Trace['options'];
    final: number[];
    tokenText: (id: number) => string;
    reason: TerminationReason;
    message: string;
  }): Trace {
    const termination = this.termination ?? {
      reason: run.reason,
      step: this.steps.length,
      plannedSteps: this.plannedSteps,
      message: run.message,
    };
    const { kind, initial, promptLength, maskId, endOfTextId } = this.start;
    const answer = answerOf(run.final, promptLength, endOfTextId, maskId);
    return {
      version: 1,
      kind,
      model: run.model,
      backend: run.backend,
      options: run.options,
      maskId,
      endOfTextId,
      promptLength,
      initial,
      steps: this.steps,
      final: run.final,
      answer,
      answerText: answer.map(run.tokenText).join(''),
      termination,
      stats: statsOf(this.steps, roundMs(this.now() - this.started), answer.length),
    };
  }
}

/** The ghosts last sent per masked position: a ghost is sent again only when it changed (GHOST_PROB_STEP). */
export class GhostTracker {
  private readonly last = new Map<number, Ghost>();

  /** Position p was written: its ghost is gone. */
  clear(p: number): void {
    this.last.delete(p);
  }

  /** The model's current guess at masked position p; returns the ghost to send, or null when unchanged. */
  offer(p: number, token: number, probability: number): Ghost | null {
    const prob = Math.round(probability * 100) / 100;
    const last = this.last.get(p);
    if (last && last[1] === token && Math.abs(last[2] - prob) < GHOST_PROB_STEP) return null;
    const ghost: Ghost = [p, token, prob];
    this.last.set(p, ghost);
    return ghost;
  }
}
