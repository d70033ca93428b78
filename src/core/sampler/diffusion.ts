// The masked-diffusion sampler: LLaDA's low-confidence remasking with semi-autoregressive blocks
// (Nie et al. 2025, Alg. 4-5), Dream's confidence measures, Fast-dLLM's threshold/factor parallel decoding
// (Wu et al. 2025) with its prefix and dual KV caches, classifier-free guidance (LLaDA eq. 16) and ReMDM /
// LLaDA 2.1-style editing. A block-diffusion model (BD3-LM) runs through the same loop: its blocks, its exact cache.
import { CachedDenoiser, type BlockCommit } from './denoiser-cache.ts';
import { EmptyPromptError, MaskAtStartError, OptionError, PromptTooLongError, TokenIdError } from './errors.ts';
import { blockOffsetFor, type Denoiser, type TokenText } from './models.ts';
import { DIFFUSION_DEFAULTS, fitToContext, resolveDiffusionOptions, type DiffusionOptions } from './options.ts';
import { Rng } from './rng.ts';
import {
  chooseToken,
  confidence,
  probabilityOf,
  summarizeRow,
  topKFilter,
  topPFilter,
  type LogitsRow,
} from './sampling.ts';
import {
  GHOST_PROB_STEP,
  answerOf,
  round4,
  roundMs,
  statsOf,
  type Commit,
  type Edit,
  type Ghost,
  type Termination,
  type Trace,
  type TraceStart,
  type TraceStep,
} from './trace.ts';

export interface RunContext {
  signal?: AbortSignal;
  /** Called once before the first forward pass with the initial canvas (streaming). */
  onStart?: (start: TraceStart) => void;
  /** Called after every step with that step (streaming). */
  onStep?: (step: TraceStep) => void;
  /**
   * Awaited after every step. In a worker it yields to the event loop, so a cancel message can arrive:
   * single-threaded WASM inference resolves through microtasks alone and would never let it in.
   */
  between?: () => Promise<void>;
  tokenText?: TokenText;
  backend?: string;
  now?: () => number;
  /** Block models: how finished blocks enter the cache (an execution choice: the tokens are the same). */
  blockCommit?: BlockCommit;
}

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

interface Prediction {
  /** Chosen token (Gumbel-max at the temperature; argmax at 0). */
  token: number;
  /** Confidence of the chosen token by the selected measure. */
  conf: number;
  /** Probability of the token the canvas holds now (for edit decisions on committed positions). */
  probOfCurrent: number;
  ghostToken: number;
  ghostProb: number;
}

/**
 * Generates into `genLength` masks appended after `input` (which may itself hold mask ids to infill).
 * Given tokens are never changed. Returns the whole trace; `onStep` streams each step as it happens.
 */
export async function generateDiffusion(
  model: Denoiser,
  input: readonly number[],
  options: Partial<DiffusionOptions> = {},
  ctx: RunContext = {},
): Promise<Trace> {
  const now = ctx.now ?? (() => performance.now());
  const tokenText = ctx.tokenText ?? ((id: number) => `<${id}>`);
  const { maskId, endOfTextId: eot, vocabSize } = model;
  const modelBlock = model.blockSize ?? 0;
  if (modelBlock) {
    // a block model decodes the blocks it was trained on: blocks of its size, from position 0 or the prompt's end
    if (options.blockLength !== undefined && options.blockLength !== modelBlock) {
      throw new OptionError(
        'blockLength',
        `${model.name} is a block-diffusion model trained on blocks of ${modelBlock}; got ${options.blockLength}`,
      );
    }
    if (input.includes(maskId)) {
      throw new OptionError(
        'prompt',
        `${model.name} decodes block by block after the prompt and never sees later text: it cannot fill masks inside the prompt`,
      );
    }
    options = { ...options, blockLength: modelBlock };
  }
  options = fitToContext(options, model.contextLength - input.length);
  const requested = options.genLength ?? DIFFUSION_DEFAULTS.genLength;
  if (input.length + requested > model.contextLength) {
    throw new PromptTooLongError(input.length, requested, model.contextLength);
  }
  if (input.length === 0) throw new EmptyPromptError();
  if (model.shiftedLogits && input[0] === model.maskId) throw new MaskAtStartError(model.name);
  const o = resolveDiffusionOptions(
    options,
    model.contextLength - input.length,
    input.filter((id) => id === maskId).length,
  );
  for (const id of input) if (!Number.isInteger(id) || id < 0 || id >= vocabSize) throw new TokenIdError(id, vocabSize);
  const P = input.length;
  const blockOffset = blockOffsetFor(model, P);
  const x = Int32Array.from([...input, ...new Array<number>(o.genLength).fill(maskId)]);
  const generated: number[] = [];
  for (let p = 0; p < x.length; p++) if (x[p] === maskId) generated.push(p);
  if (generated.length === 0) {
    throw new OptionError('genLength', 'nothing to generate: genLength is 0 and the input holds no masks to infill');
  }
  const isGenerated = new Uint8Array(x.length);
  for (const p of generated) isGenerated[p] = 1;
  const initial = Array.from(x);

  // Steps per block as the options count blocks (genLength / blockLength of them).
  const stepsPerBlock = o.steps / (o.genLength > 0 ? o.genLength / o.blockLength : 1);
  const dynamic = o.threshold !== null || o.factor !== null;
  // Blocks of the canvas: after the prompt (infill masks inside the given text are decoded with the first block),
  // or a block model's own: counted from position 0, so its first block may begin inside the prompt and hold fewer
  // masks, or (blockAlign 'prompt-end') from the prompt's end; a block with fewer masks than steps takes one step per
  // mask.
  const blockOf = modelBlock
    ? (p: number) => Math.floor((p + blockOffset) / modelBlock) - Math.floor((P + blockOffset) / modelBlock)
    : (p: number) => (p < P ? 0 : Math.floor((p - P) / o.blockLength));
  const numBlocks = blockOf(generated[generated.length - 1]) + 1;
  const masksPerBlock = new Array<number>(numBlocks).fill(0);
  for (const p of generated) masksPerBlock[blockOf(p)]++;
  const dllmCounts = o.schedule === 'dllm' ? masksPerBlock.map((n) => dllmTransferCounts(n, stepsPerBlock)) : [];
  const plannedSteps = dynamic
    ? generated.length
    : o.schedule === 'dllm'
      ? dllmCounts.reduce((sum, c) => sum + c.length, 0)
      : masksPerBlock.reduce((sum, n) => sum + Math.min(n, stepsPerBlock), 0);
  // End-of-text is only meaningful in the appended region, after minLength tokens.
  const eotAllowed = (p: number) => p >= P && p - P >= o.minLength;
  const rng = new Rng(o.seed);

  const steps: TraceStep[] = [];
  const lastGhost = new Map<number, Ghost>();
  let passes = 0;
  let termination: Termination | null = null;
  const started = now();
  ctx.onStart?.({ kind: 'diffusion', initial, promptLength: P, maskId, endOfTextId: eot, plannedSteps });

  // Predictions run for every masked position at every step, so the common case (no guidance, no top-k/p)
  // reads the model's float32 row in place; guidance and filters work on one reused float64 buffer.
  const buffer = new Float64Array(vocabSize);
  const inPlace = o.cfgScale === 0 && o.topK === 0 && o.topP === 1;
  const predict = (p: number, rows: Float32Array[], from: number, needSample: boolean): Prediction => {
    const off = (p - from) * vocabSize;
    const cond = rows[0];
    let row: LogitsRow;
    if (inPlace) row = cond.subarray(off, off + vocabSize);
    else {
      if (rows.length === 2) {
        const uncond = rows[1];
        for (let v = 0; v < vocabSize; v++) {
          const u = uncond[off + v];
          buffer[v] = u + (o.cfgScale + 1) * (cond[off + v] - u);
        }
      } else for (let v = 0; v < vocabSize; v++) buffer[v] = cond[off + v];
      row = buffer;
    }
    // Never predicted (the reference samplers leave the mask's logit as it is: README): the mask itself, and
    // end-of-text where it is not allowed. Set aside and put back afterwards, since an in-place row belongs to
    // the model's output.
    const banEot = !eotAllowed(p);
    const keptMask = row[maskId];
    const keptEot = row[eot];
    row[maskId] = -Infinity;
    if (banEot) row[eot] = -Infinity;
    let filtered = o.topK > 0 ? topKFilter(row, o.topK) : row;
    if (o.topP < 1) filtered = topPFilter(filtered, o.topP);
    const summary = summarizeRow(filtered);
    const ghostToken = summary.best;
    // at temperature 0 the argmax, which the summary already holds; above it Gumbel-max: the distribution of
    // LLaDA's add_gumbel_noise and Dream's Categorical draw, not their random streams
    const token = needSample && o.temperature > 0 ? chooseToken(filtered, o.temperature, rng) : ghostToken;
    const conf = needSample ? confidence(o.confidence, filtered, summary, token, rng) : summary.p1;
    const probOfCurrent = x[p] === maskId ? 0 : probabilityOf(filtered, summary, x[p]);
    row[maskId] = keptMask;
    if (banEot) row[eot] = keptEot;
    return { token, conf, probOfCurrent, ghostToken, ghostProb: summary.p1 };
  };

  // An extension (no reference sampler decides the length early; README). The first masked position after the
  // current block that the model is sure ends the text, and every masked position after it: in the training data
  // an end-of-text is only ever followed by end-of-text. Once per run: conditioned on a committed end, every
  // earlier position looks likelier to end too, and deciding again at every step walks the end back towards the
  // block (measured: stories of ~50 tokens instead of ~200).
  let lengthDecided = false;
  const endOfTextAhead = (block: number, preds: Map<number, Prediction>): Commit[] => {
    if (lengthDecided) return [];
    // only where this step predicted (a dual-cache step computes the block alone)
    const ahead = generated.filter((p) => blockOf(p) > block && x[p] === maskId && preds.has(p));
    const first = ahead.findIndex((p) => {
      const pred = preds.get(p)!;
      return pred.ghostToken === eot && pred.ghostProb >= o.endOfTextAhead!;
    });
    if (first < 0) return [];
    lengthDecided = true;
    const conf = round4(preds.get(ahead[first])!.ghostProb); // the one decision that commits them all
    return ahead.slice(first).map((p) => ({ pos: p, token: eot, text: tokenText(eot), conf }));
  };

  const denoiser = new CachedDenoiser(model, o.cache, ctx.blockCommit, blockOffset);
  try {
    outer: for (let block = 0; block < numBlocks; block++) {
      const inBlock = generated.filter((p) => blockOf(p) === block);
      const blockRange = { from: inBlock[0], to: inBlock[inBlock.length - 1] + 1 };
      let stepInBlock = 0;
      while (inBlock.some((p) => x[p] === maskId)) {
        if (ctx.signal?.aborted) {
          termination = {
            reason: 'cancelled',
            step: steps.length,
            plannedSteps,
            message: `cancelled after step ${steps.length} of ${plannedSteps}`,
          };
          break outer;
        }
        const t0 = now();
        const batch = [x.slice()];
        if (o.cfgScale > 0) {
          const uncond = x.slice();
          for (let p = 0; p < uncond.length; p++) if (!isGenerated[p]) uncond[p] = maskId;
          batch.push(uncond);
        }
        const pass = await denoiser.predict(batch, blockRange, stepInBlock === 0);
        passes += pass.passes * batch.length;
        const t1 = now();

        // Predictions where this pass computed them: sampled for this block's masks, argmax ghosts elsewhere, and
        // committed tokens for edits.
        const preds = new Map<number, Prediction>();
        const candidates: number[] = [];
        for (const p of generated) {
          const masked = x[p] === maskId;
          if (masked && blockOf(p) === block) candidates.push(p);
          if (p < pass.from || p >= pass.to) continue;
          if (masked || o.editMode !== 'off')
            preds.set(p, predict(p, pass.rows, pass.from, masked && blockOf(p) === block));
        }

        // How many to commit, and which.
        const byConfidence = candidates.slice().sort((a, b) => preds.get(b)!.conf - preds.get(a)!.conf || a - b);
        let chosen: number[];
        if (o.threshold !== null) {
          chosen = byConfidence.filter((p) => preds.get(p)!.conf >= o.threshold!);
          if (chosen.length === 0) chosen = byConfidence.slice(0, 1);
        } else {
          const k =
            o.factor !== null
              ? factorCount(
                  byConfidence.map((p) => preds.get(p)!.conf),
                  o.factor,
                )
              : o.schedule === 'dream'
                ? dreamTransferCount(candidates.length, stepsPerBlock, stepInBlock)
                : o.schedule === 'dllm'
                  ? (dllmCounts[block]?.[stepInBlock] ?? candidates.length)
                  : stepInBlock < stepsPerBlock
                    ? Math.ceil(candidates.length / (stepsPerBlock - stepInBlock)) // = floor(N/S) + [i < N mod S]
                    : candidates.length;
          chosen = o.algTemp > 0 ? sampleByConfidence(candidates, preds, k, o.algTemp, rng) : byConfidence.slice(0, k);
        }

        // Edits of tokens committed at earlier steps, judged by this step's prediction.
        const edits: Edit[] = [];
        if (o.editMode !== 'off') {
          const lastScheduled = dynamic ? stepInBlock >= o.blockLength : stepInBlock >= stepsPerBlock - 1;
          for (const p of generated) {
            const pred = preds.get(p);
            if (x[p] === maskId || !pred) continue;
            const prob = pred.probOfCurrent;
            const hit = o.editMode === 'threshold' ? prob < o.editThreshold : rng.uniform() < o.remdmSigma;
            if (!hit) continue;
            if (o.editAction === 'remask') {
              // Only inside the current block and before its last step, so every block still ends decoded.
              if (blockOf(p) !== block || lastScheduled) continue;
              edits.push({ pos: p, from: x[p], to: maskId, text: '', prob: round4(prob) });
            } else if (pred.ghostToken !== x[p]) {
              edits.push({
                pos: p,
                from: x[p],
                to: pred.ghostToken,
                text: tokenText(pred.ghostToken),
                prob: round4(prob),
              });
            }
          }
        }

        const commits: Commit[] = chosen
          .sort((a, b) => a - b)
          .map((p) => ({
            pos: p,
            token: preds.get(p)!.token,
            text: tokenText(preds.get(p)!.token),
            conf: round4(preds.get(p)!.conf),
          }));
        if (o.endOfTextAhead !== null) commits.push(...endOfTextAhead(block, preds));
        for (const e of edits) x[e.pos] = e.to;
        for (const c of commits) x[c.pos] = c.token;

        const ghosts: Ghost[] = [];
        for (const p of generated) {
          if (x[p] !== maskId) {
            lastGhost.delete(p);
            continue;
          }
          const pred = preds.get(p);
          if (!pred) continue;
          const prob = Math.round(pred.ghostProb * 100) / 100;
          const last = lastGhost.get(p);
          if (!last || last[1] !== pred.ghostToken || Math.abs(last[2] - prob) >= GHOST_PROB_STEP) {
            const ghost: Ghost = [p, pred.ghostToken, prob];
            lastGhost.set(p, ghost);
            ghosts.push(ghost);
          }
        }

        const step: TraceStep = {
          step: steps.length + 1,
          block,
          forwardPasses: passes,
          positions: pass.computed,
          fullPass: pass.full,
          modelMs: roundMs(t1 - t0),
          samplerMs: 0,
          commits,
          edits,
          ghosts,
        };

        // An extension: the reference samplers run every planned step (README)
        if (o.stopAtEndOfText) {
          const firstEot = generated.find((p) => x[p] === eot);
          if (firstEot !== undefined && !generated.some((p) => p < firstEot && x[p] === maskId)) {
            let last = x.length;
            while (last > firstEot + 1 && x[last - 1] === eot) last--;
            for (let p = firstEot + 1; p < x.length; p++) x[p] = eot;
            if (last > firstEot + 1) step.fill = { from: firstEot + 1, to: last };
            termination = {
              reason: 'end-of-text',
              step: step.step,
              plannedSteps,
              message: `terminated at step ${step.step} of ${plannedSteps}: end-of-text decoded`,
            };
          }
        }
        step.samplerMs = roundMs(now() - t1);
        steps.push(step);
        ctx.onStep?.(step);
        if (termination) break outer;
        await ctx.between?.();
        stepInBlock++;
        if (steps.length > 4 * plannedSteps + 16) throw new Error('sampler did not converge (edits kept re-masking)');
      }
    }
  } finally {
    denoiser.dispose();
  }
  termination ??= {
    reason: 'completed',
    step: steps.length,
    plannedSteps,
    message: `completed in ${steps.length} steps`,
  };
  const final = Array.from(x);
  const answer = answerOf(final, P, eot, maskId);
  const text = answer.map(tokenText).join('');
  return {
    version: 1,
    kind: 'diffusion',
    model: model.name,
    backend: ctx.backend ?? 'unknown',
    options: o,
    maskId,
    endOfTextId: eot,
    promptLength: P,
    initial,
    steps,
    final,
    answer,
    answerText: text,
    termination,
    stats: statsOf(steps, roundMs(now() - started), answer.length),
  };
}

/** k positions drawn without replacement from softmax(confidence / algTemp), by the Gumbel-top-k trick. */
function sampleByConfidence(
  candidates: number[],
  preds: Map<number, Prediction>,
  k: number,
  algTemp: number,
  rng: Rng,
): number[] {
  return candidates
    .map((p) => ({ p, key: preds.get(p)!.conf / algTemp + rng.gumbel() }))
    .sort((a, b) => b.key - a.key || a.p - b.p)
    .slice(0, k)
    .map((e) => e.p);
}
