// How many masked positions a step commits: the schedules' math (LLaDA, Dream, dLLM, Fast-dLLM) and the one
// commit policy a run picks before its step loop (commitPolicy).
import type { DiffusionOptions } from './options.ts';

/**
 * Tokens committed at step i (0-based) of S for a block with N masks: floor(N/S) + [i < N mod S], as LLaDA's
 * get_num_transfer_tokens (generate.py); Dream's own schedule is dreamTransferCount.
 */
export function transferCount(nMasked: number, steps: number, i: number): number {
  return Math.floor(nMasked / steps) + (i < nMasked % steps ? 1 : 0);
}

/**
 * dLLM's step schedule (its get_num_transfer_tokens with LinearAlphaScheduler, the default of its MDLM and BD3LM
 * samplers): at step j of S, round(n_left * (1 - (1 - alpha(s)) / (1 - alpha(t)))) with alpha(u) = 1 - u, t = (S - j)
 * / S, s = t - 1 / S, the ratio in float32 as there and round half to even as torch.round; steps that would commit
 * nothing are dropped. Returns the counts of the steps that remain.
 */
export function dllmTransferCounts(nMasked: number, steps: number): number[] {
  const f = Math.fround;
  const counts: number[] = [];
  let left = nMasked;
  for (let j = 0; j < steps && left > 0; j++) {
    const t = f((steps - j) / steps);
    const s = f((steps - j - 1) / steps);
    const ratio = f(f(1 - f(1 - s)) / f(1 - f(1 - t)));
    const k = Math.min(left, roundHalfEven(left * (1 - ratio)));
    left -= k;
    if (k > 0) counts.push(k);
  }
  return counts;
}

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Dream's eps: its time grid runs from 1 down to eps, never to 0 (DreamGenerationConfig's default). */
export const DREAM_EPS = 1e-3;

/**
 * Dream's step schedule (its `_sample`): at step i of S the time goes t -> s on torch.linspace(1, eps, S + 1), and
 * int(n * (1 - s / t)) of the n masks left are committed (all of them at the last step), in float32 as there. It
 * commits fewer tokens early and more late than LLaDA's even split, and may commit none at a step.
 */
export function dreamTransferCount(nMasked: number, steps: number, i: number): number {
  if (i >= steps - 1) return nMasked;
  const f = Math.fround;
  const grid = (k: number) => {
    // torch.linspace in float32: from the start for the first half of the points, from the end for the rest
    const step = f(f(DREAM_EPS - 1) / steps);
    return k < (steps + 1) / 2 ? f(1 + f(step * k)) : f(f(DREAM_EPS) - f(step * (steps - k)));
  };
  const t = grid(i);
  const s = grid(i + 1);
  return Math.trunc(f(nMasked * f(1 - f(s / t))));
}

/**
 * Fast-dLLM factor rule: the largest n with (m + 1)(1 - c(m)) <= f for every m <= n (1-based), at least 1.
 * Differs from Fast-dLLM's code, which commits every mask when the first failing bound is the last (README).
 */
export function factorCount(sortedConfidences: number[], factor: number): number {
  let n = 0;
  while (n < sortedConfidences.length && (n + 2) * (1 - sortedConfidences[n]) <= factor) n++;
  return Math.max(1, n);
}

/** How many of a block's masks each step commits; chosen once per run (commitPolicy). */
export interface CommitPolicy {
  /** Steps the run plans (a dynamic rule plans one per mask, its worst case). */
  readonly plannedSteps: number;
  /**
   * How many of the block's masks to commit at its step `stepInBlock`, given their confidences from highest to
   * lowest (one per mask left in the block).
   */
  count(sortedConfidences: number[], block: number, stepInBlock: number): number;
  /** The positions may be drawn by confidence (algTemp > 0) instead of taken from the top. */
  readonly drawn: boolean;
  /** The block's last scheduled step: re-masking edits stop there, so every block ends decoded. */
  isLastStep(stepInBlock: number): boolean;
}

/** Steps per block as the options count blocks (genLength / blockLength of them). */
export function stepsPerBlockOf(o: DiffusionOptions): number {
  return o.steps / (o.genLength > 0 ? o.genLength / o.blockLength : 1);
}

/** Fast-dLLM's threshold rule: every mask whose confidence reaches tau, at least one. */
function thresholdRule(tau: number, masks: number, blockLength: number): CommitPolicy {
  return {
    plannedSteps: masks,
    drawn: false,
    count: (sorted) => Math.max(1, sorted.filter((c) => c >= tau).length),
    isLastStep: (i) => i >= blockLength,
  };
}

/** Fast-dLLM's factor rule (factorCount). */
function factorRule(factor: number, masks: number, blockLength: number): CommitPolicy {
  return {
    plannedSteps: masks,
    drawn: true,
    count: (sorted) => factorCount(sorted, factor),
    isLastStep: (i) => i >= blockLength,
  };
}

/**
 * A fixed number of steps per block; a block with fewer masks than steps takes one step per mask. `started[b]`:
 * steps block b has already had (a resumed draft, src/core/drafts): its masks left go over the steps it has left.
 */
function fixedSchedule(o: DiffusionOptions, masksPerBlock: number[], started: readonly number[]): CommitPolicy {
  const S = stepsPerBlockOf(o);
  const isLastStep = (i: number) => i >= S - 1;
  const begun = (b: number) => started[b] ?? 0;
  if (o.schedule === 'dllm') {
    const counts = masksPerBlock.map((n, b) => dllmTransferCounts(n, Math.max(0, S - begun(b))));
    return {
      plannedSteps: counts.reduce((sum, c, b) => sum + (masksPerBlock[b] ? Math.max(c.length, 1) : 0), 0),
      drawn: true,
      count: (sorted, block, i) => counts[block]?.[i - begun(block)] ?? sorted.length,
      isLastStep,
    };
  }
  const plannedSteps = masksPerBlock.reduce((sum, n, b) => sum + Math.min(n, Math.max(1, S - begun(b))), 0);
  if (o.schedule === 'dream') {
    return { plannedSteps, drawn: true, count: (sorted, _b, i) => dreamTransferCount(sorted.length, S, i), isLastStep };
  }
  return {
    plannedSteps,
    drawn: true,
    // = floor(N/S) + [i < N mod S] of the block's N masks (transferCount), from the masks left
    count: (sorted, _b, i) => (i < S ? Math.ceil(sorted.length / (S - i)) : sorted.length),
    isLastStep,
  };
}

/** The run's commit policy; `started`: steps each block has already had (a resumed draft; none for a new run). */
export function commitPolicy(
  o: DiffusionOptions,
  masksPerBlock: number[],
  started: readonly number[] = [],
): CommitPolicy {
  const masks = masksPerBlock.reduce((a, b) => a + b, 0);
  if (o.threshold !== null) return thresholdRule(o.threshold, masks, o.blockLength);
  if (o.factor !== null) return factorRule(o.factor, masks, o.blockLength);
  return fixedSchedule(o, masksPerBlock, started);
}
