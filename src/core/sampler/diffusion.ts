// The masked-diffusion sampler: LLaDA's low-confidence remasking with semi-autoregressive blocks
// (Nie et al. 2025, Alg. 4-5), Dream's confidence measures, Fast-dLLM's threshold/factor parallel decoding
// (Wu et al. 2025) with its prefix and dual KV caches, classifier-free guidance (LLaDA eq. 16) and ReMDM /
// LLaDA 2.1-style editing. Every kind of denoiser runs through the same loop; what differs between kinds (which
// blocks, which cache) is its decoding's row (models/decoding.ts), looked up once before the loop.
//
// The loop, per step of a block: predict (one pass, every position the pass computed) -> decide the length (once,
// decideLength) -> choose (how many by the run's commit policy, which by confidence) -> edit (committed tokens the
// model now doubts) -> commit -> record.
import { DraftEditError, EmptyPromptError, MaskAtStartError, OptionError, PromptTooLongError } from '../errors.ts';
import type { BlockRange, StepPass } from '../models/caches.ts';
import { decodingOf, type BlockLayout, type Decoding } from '../models/decoding.ts';
import { rowIndexOf, type Denoiser, type TokenText } from '../models/types.ts';
import { GhostTracker, TraceRecorder } from '../trace/recorder.ts';
import {
  canvasAt,
  round4,
  roundMs,
  type Commit,
  type Edit,
  type Ghost,
  type Trace,
  type TraceStep,
} from '../trace/trace.ts';
import { DIFFUSION_DEFAULTS, fitToContext, resolveDiffusionOptions, type DiffusionOptions } from './options.ts';
import { Rng } from './rng.ts';
import { checkTokenIds, clockOf, resumedSeed, tokenTextOf, type DraftPoint, type RunContext } from './run.ts';
import { chooseToken, confidence, LogitsPipeline, probabilityOf } from './sampling.ts';
import { commitPolicy, type CommitPolicy } from './schedule.ts';

export type { RunContext } from './run.ts';

/**
 * Generates into `genLength` masks appended after `input` (which may itself hold mask ids to infill).
 * Given tokens are never changed. Returns the whole trace; `onStep` streams each step as it happens.
 * `from`: a draft to go on from (src/core/drafts: the same input and options as the run it was taken from): its
 * kept steps are recorded first, then each block still holding masks is decoded, the block the run was in with
 * the steps it had left, any other from its first step; the random stream is the seed's at that point's step.
 */
export async function generateDiffusion(
  model: Denoiser,
  input: readonly number[],
  options: Partial<DiffusionOptions> = {},
  ctx: RunContext = {},
  from?: DraftPoint,
): Promise<Trace> {
  const now = clockOf(ctx);
  const tokenText = tokenTextOf(ctx);
  const decoding = decodingOf(model);
  const o = resolveRun(model, decoding, input, options);
  const canvas = planCanvas(model, decoding, input, o);
  const { maskId, endOfTextId: eot } = model;
  const { x } = canvas;
  const initial = Array.from(x);
  const kept = from ? resumeAt(canvas, from, maskId, eot) : { steps: [], started: [], modelSteps: 0 };
  const policy = commitPolicy(
    o,
    canvas.blocks.map((b) => b.positions.filter((p) => x[p] === maskId).length),
    kept.started,
  );
  const step = new StepMath(model, o, canvas, policy, tokenText, kept.steps);
  const recorder = new TraceRecorder(ctx, now, {
    kind: 'diffusion',
    initial,
    promptLength: canvas.promptLength,
    maskId,
    endOfTextId: eot,
    plannedSteps: kept.modelSteps + policy.plannedSteps,
  });
  for (const s of kept.steps) recorder.record(s);
  const ghosts = new GhostTracker();
  const predictor = decoding.predictor(model, o.cache, ctx.blockCommit, canvas.layout);
  let passes = kept.steps.at(-1)?.forwardPasses ?? 0;
  try {
    outer: for (const [block, { positions, range }] of canvas.blocks.entries()) {
      const first = kept.started[block] ?? 0;
      for (let stepInBlock = first; positions.some((p) => x[p] === maskId); stepInBlock++) {
        const done = recorder.steps.length;
        if (ctx.signal?.aborted) {
          recorder.end('cancelled', done, `cancelled after step ${done} of ${recorder.plannedSteps}`);
          break outer;
        }
        const t0 = now();
        const batch = step.batch();
        const pass = await predictor.predict(batch, range, stepInBlock === first);
        passes += pass.passes * batch.length;
        const t1 = now();

        const { preds, candidates } = step.predict(pass, block);
        const ending = step.decideLength(preds);
        const tail = new Set(ending.map((c) => c.pos));
        const chosen = step.choose(
          candidates.filter((p) => !tail.has(p)),
          preds,
          block,
          stepInBlock,
        );
        const edits = step.edits(preds, block, stepInBlock);
        const commits = [...step.commitsOf(chosen, preds), ...ending, ...step.endOfTextAhead(block, preds)];
        for (const e of edits) x[e.pos] = e.to;
        for (const c of commits) x[c.pos] = c.token;

        const record: TraceStep = {
          step: done + 1,
          block,
          forwardPasses: passes,
          positions: pass.computed,
          fullPass: pass.full,
          modelMs: roundMs(t1 - t0),
          samplerMs: 0,
          commits,
          edits,
          ghosts: ghostsOf(canvas, maskId, preds, ghosts),
        };
        // An extension: the reference samplers run every planned step (README)
        const fill = o.stopAtEndOfText ? endOfTextReached(canvas, maskId, eot) : null;
        if (fill) {
          if (fill.to > fill.from) record.fill = fill;
          const message = `terminated at step ${record.step} of ${recorder.plannedSteps}: end-of-text decoded`;
          recorder.end('end-of-text', record.step, message);
        }
        record.samplerMs = roundMs(now() - t1);
        recorder.record(record);
        if (recorder.termination) break outer;
        await ctx.between?.();
        if (recorder.steps.length > 4 * recorder.plannedSteps + 16) {
          throw new Error('sampler did not converge (edits kept re-masking)');
        }
      }
    }
  } finally {
    predictor.dispose();
  }
  const steps = recorder.steps.length;
  return recorder.finish({
    model: model.name,
    backend: ctx.backend ?? 'unknown',
    options: o,
    final: Array.from(x),
    tokenText,
    reason: 'completed',
    message: `completed in ${steps} steps`,
  });
}

/** The run's options, checked against the model and the prompt (the kind's blocks, the context, the ids). */
function resolveRun(
  model: Denoiser,
  decoding: Decoding,
  input: readonly number[],
  options: Partial<DiffusionOptions>,
): DiffusionOptions {
  const { maskId } = model;
  const blockLength = decoding.blockLength(model, { blockLength: options.blockLength, infill: input.includes(maskId) });
  if (blockLength !== undefined) options = { ...options, blockLength };
  options = fitToContext(options, model.contextLength - input.length);
  const requested = options.genLength ?? DIFFUSION_DEFAULTS.genLength;
  if (input.length + requested > model.contextLength) {
    throw new PromptTooLongError(input.length, requested, model.contextLength);
  }
  if (input.length === 0) throw new EmptyPromptError();
  if (model.shiftedLogits && input[0] === maskId) throw new MaskAtStartError(model.name);
  const o = resolveDiffusionOptions(
    options,
    model.contextLength - input.length,
    input.filter((id) => id === maskId).length,
  );
  checkTokenIds(input, model.vocabSize);
  return o;
}

/** The canvas of a run: the prompt, the masks to generate, and the blocks they are decoded in. */
interface Canvas {
  x: Int32Array;
  promptLength: number;
  /** The positions to generate (masks after the prompt and inside it), in order. */
  generated: number[];
  /** 1 where a position is generated (guidance masks every such position in its unconditional copy). */
  isGenerated: Uint8Array;
  layout: BlockLayout;
  /** Each block's positions to generate and the range a step decodes. */
  blocks: { positions: number[]; range: BlockRange }[];
}

function planCanvas(model: Denoiser, decoding: Decoding, input: readonly number[], o: DiffusionOptions): Canvas {
  const { maskId } = model;
  const P = input.length;
  const x = Int32Array.from([...input, ...new Array<number>(o.genLength).fill(maskId)]);
  const generated: number[] = [];
  for (let p = 0; p < x.length; p++) if (x[p] === maskId) generated.push(p);
  if (generated.length === 0) {
    throw new OptionError('genLength', 'nothing to generate: genLength is 0 and the input holds no masks to infill');
  }
  const isGenerated = new Uint8Array(x.length);
  for (const p of generated) isGenerated[p] = 1;
  const layout = decoding.layout(model, P, o.blockLength);
  const count = layout.blockOf(generated[generated.length - 1]) + 1;
  const blocks = Array.from({ length: count }, () => ({ positions: [] as number[], range: { from: 0, to: 0 } }));
  for (const p of generated) blocks[layout.blockOf(p)].positions.push(p);
  for (const b of blocks) if (b.positions.length) b.range = { from: b.positions[0], to: b.positions.at(-1)! + 1 };
  return { x, promptLength: P, generated, isGenerated, layout, blocks };
}

/**
 * A draft to go on from, on this run's canvas: the canvas set to the draft's, and how many steps each block has
 * had — the block the run was in when it stopped keeps its count (it resumes with the steps it had left) unless it
 * was finished then (re-masked by the visitor, it starts again); every other block starts again.
 */
function resumeAt(canvas: Canvas, from: DraftPoint, maskId: number, eot: number) {
  const { x } = canvas;
  if (from.canvas.length !== x.length) {
    throw new DraftEditError(
      'the draft',
      `has ${from.canvas.length} positions where this run's canvas has ${x.length}: resume with the run's own options`,
    );
  }
  // the block of the last step the model ran, how many steps it had had, and whether it was finished then
  let block = -1;
  let taken = 0;
  let last = -1;
  from.steps.forEach((s, i) => {
    if (s.visitor) return;
    if (s.block !== block) [block, taken] = [s.block, 0];
    taken++;
    last = i;
  });
  const before = canvasAt({ initial: Array.from(x), steps: from.steps, endOfTextId: eot }, last + 1);
  const finished = block < 0 || (canvas.blocks[block]?.positions.every((p) => before[p] !== maskId) ?? true);
  x.set(from.canvas);
  const started: number[] = [];
  if (block >= 0 && !finished) started[block] = taken;
  return { steps: from.steps, started, modelSteps: from.steps.filter((s) => !s.visitor).length };
}

/** One position's prediction at a step. */
interface Prediction {
  /** Chosen token (Gumbel-max at the temperature; argmax at 0). */
  token: number;
  /** Confidence of the chosen token by the selected measure. */
  conf: number;
  /** Probability of the token the canvas holds now (for edit decisions on committed positions). */
  probOfCurrent: number;
  /** Probability of end-of-text here (decideLength only; 0 where it is banned or not asked for). */
  eotProb: number;
  ghostToken: number;
  ghostProb: number;
}

type Predictions = Map<number, Prediction>;

/** The math of one step, by name: the loop above calls these in order. */
class StepMath {
  private readonly rng: Rng;
  private readonly logits: LogitsPipeline;
  private readonly x: Int32Array;
  private lengthDecided = false;
  /** decideLength: where the text ends once decided (end-of-text is banned before it); 0 until then. */
  private end = 0;
  /** decideLength is tried once, at the run's first step. */
  private lengthTried = false;
  /** frequencyPenalty at this step (null: off). */
  private penalties: Map<number, number> | null = null;
  /** Each candidate's last prediction (the local cache computes only the masks near a change). */
  private readonly lastPreds: Predictions = new Map();

  constructor(
    private readonly model: Denoiser,
    private readonly o: DiffusionOptions,
    private readonly canvas: Canvas,
    private readonly policy: CommitPolicy,
    private readonly tokenText: TokenText,
    kept: readonly TraceStep[] = [],
  ) {
    this.rng = new Rng(kept.length ? resumedSeed(o.seed, kept.length) : o.seed);
    this.logits = new LogitsPipeline(model.vocabSize, o);
    this.x = canvas.x;
    this.restore(kept);
  }

  /**
   * A resumed draft: what the kept steps decided about the length. decideLength ran at the first step when that
   * pass saw the whole canvas (its end is the first end-of-text it committed; none: the whole canvas is the text);
   * the look-ahead rule, when a step committed end-of-text past its own block.
   */
  private restore(kept: readonly TraceStep[]): void {
    const steps = kept.filter((s) => !s.visitor);
    if (steps.length === 0) return;
    const { endOfTextId: eot } = this.model;
    const P = this.canvas.promptLength;
    this.lengthTried = true;
    const first = steps[0];
    if (this.o.decideLength && (first.positions ?? this.x.length) >= this.x.length) {
      const ends = first.commits.filter((c) => c.token === eot && c.pos >= P).map((c) => c.pos);
      this.end = ends.length ? Math.min(...ends) : this.x.length;
      this.lengthDecided = true;
    }
    const ahead = (s: TraceStep) => s.commits.some((c) => c.token === eot && this.blockOf(c.pos) > s.block);
    if (steps.some(ahead)) this.lengthDecided = true;
  }

  private blockOf(p: number): number {
    return this.canvas.layout.blockOf(p);
  }

  /** The sequences of a pass: the canvas, and with guidance its copy with every generated position masked. */
  batch(): Int32Array[] {
    const batch = [this.x.slice()];
    if (this.o.cfgScale > 0) {
      const uncond = this.x.slice();
      for (let p = 0; p < uncond.length; p++) if (!this.canvas.isGenerated[p]) uncond[p] = this.model.maskId;
      batch.push(uncond);
    }
    return batch;
  }

  /**
   * Predictions where this pass computed them: sampled for this block's masks (the candidates), argmax ghosts
   * elsewhere, and the committed tokens' probabilities for edits.
   */
  predict(pass: StepPass, block: number): { preds: Predictions; candidates: number[] } {
    const { x, o } = this;
    const maskId = this.model.maskId;
    const preds: Predictions = new Map();
    const candidates: number[] = [];
    this.penalties = this.frequencyPenalties();
    const rowOf = rowIndexOf(pass);
    for (const p of this.canvas.generated) {
      const masked = x[p] === maskId;
      const current = masked && this.blockOf(p) === block;
      if (current) candidates.push(p);
      const row = rowOf(p);
      if (row < 0) {
        // a candidate this pass did not compute (the local cache) keeps its last prediction, unless it chose a
        // token banned there since (end-of-text before the length decided at the first step)
        const last = current ? this.lastPreds.get(p) : undefined;
        if (last && !(last.token === this.model.endOfTextId && p < this.end)) preds.set(p, last);
        continue;
      }
      if (masked || o.editMode !== 'off') preds.set(p, this.predictAt(p, row, pass, current));
    }
    for (const p of candidates) if (preds.has(p)) this.lastPreds.set(p, preds.get(p)!);
    return { preds, candidates: candidates.filter((p) => preds.has(p)) };
  }

  /**
   * Never predicted (the reference samplers leave the mask's logit as it is: README): the mask itself, and
   * end-of-text where it is not allowed (before minLength, or inside the prompt).
   */
  private predictAt(p: number, row: number, pass: StepPass, needSample: boolean): Prediction {
    const { o, rng, x } = this;
    const { maskId, endOfTextId: eot, vocabSize } = this.model;
    const P = this.canvas.promptLength;
    const eotAllowed = p >= P && p - P >= o.minLength && p >= this.end;
    const banned = eotAllowed ? [maskId] : [maskId, eot];
    const offset = row * vocabSize;
    return this.logits.apply(
      pass.rows[0],
      pass.rows[1],
      offset,
      banned,
      (row, summary) => {
        // at temperature 0 the argmax, which the summary already holds; above it Gumbel-max: the distribution of
        // LLaDA's add_gumbel_noise and Dream's Categorical draw, not their random streams
        const token = needSample && o.temperature > 0 ? chooseToken(row, o.temperature, rng) : summary.best;
        const conf = needSample ? confidence(o.confidence, row, summary, token, rng) : summary.p1;
        const probOfCurrent = x[p] === maskId ? 0 : probabilityOf(row, summary, x[p]);
        const eotProb = o.decideLength && eotAllowed ? probabilityOf(row, summary, eot) : 0; // read by decideLength only
        return { token, conf, probOfCurrent, eotProb, ghostToken: summary.best, ghostProb: summary.p1 };
      },
      this.penalties,
    );
  }

  /** frequencyPenalty: each token's penalty at this step, from how often it stands in the generated text. */
  private frequencyPenalties(): Map<number, number> | null {
    const alpha = this.o.frequencyPenalty;
    if (!(alpha > 0)) return null;
    const { maskId, endOfTextId: eot } = this.model;
    const counts = new Map<number, number>();
    for (const p of this.canvas.generated) {
      const t = this.x[p];
      if (t !== maskId && t !== eot) counts.set(t, (counts.get(t) ?? 0) + alpha);
    }
    return counts;
  }

  /**
   * decideLength, at the run's first step (an extension; README): the text's length is the model's expected length,
   * E[L] = sum over the appended masks of 1 - p(end-of-text there) (in the training data an end-of-text is only
   * followed by end-of-text, so p(end-of-text at i) is the chance the text has ended by i). Every masked position
   * from there on is committed as end-of-text at once, and end-of-text is banned before it for the rest of the run:
   * no pass is spent committing the tail one position at a time, and the end cannot walk back.
   */
  decideLength(preds: Predictions): Commit[] {
    if (!this.o.decideLength || this.lengthTried) return [];
    this.lengthTried = true;
    const { x } = this;
    const { maskId, endOfTextId: eot } = this.model;
    const P = this.canvas.promptLength;
    const tail = this.canvas.generated.filter((p) => p >= P);
    // a pass that does not see the whole tail (a block model's, which never sees later blocks) cannot decide it
    if (tail.some((p) => !preds.has(p))) return [];
    let expected = 0;
    for (const p of tail) expected += 1 - preds.get(p)!.eotProb;
    this.end = P + Math.max(1, this.o.minLength, Math.round(expected));
    this.lengthDecided = true; // the look-ahead rule has nothing left to decide
    const conf = round4(expected / Math.max(1, tail.length)); // the one decision that commits them all
    return tail
      .filter((p) => p >= this.end && x[p] === maskId)
      .map((p) => ({ pos: p, token: eot, text: this.tokenText(eot), conf }));
  }

  /** Which candidates to commit: how many by the policy, which by confidence (or drawn by it, algTemp). */
  choose(candidates: number[], preds: Predictions, block: number, stepInBlock: number): number[] {
    const conf = (p: number) => preds.get(p)!.conf;
    const sorted = (score: (p: number) => number) => candidates.slice().sort((a, b) => score(b) - score(a) || a - b);
    let byConfidence = sorted(conf);
    const k = this.policy.count(byConfidence.map(conf), block, stepInBlock);
    if (this.policy.drawn && this.o.algTemp > 0) return this.drawByConfidence(candidates, conf, k);
    const lambda = this.o.positionDecay;
    if (lambda > 0) {
      // an extension after PC-Sampler (Huang et al. 2025): confidence weighted by exp(-lambda x), x the position's
      // place in its block from 0 (first) to 1 (last), so far positions need more confidence to go first
      const { from, to } = this.canvas.blocks[block].range;
      byConfidence = sorted((p) => conf(p) * Math.exp((-lambda * (p - from)) / Math.max(1, to - from)));
    }
    const n = this.o.noRepeatNgram;
    if (n < 2) return byConfidence.slice(0, k);
    // an extension (README): a candidate whose token would complete an n-gram already on the canvas ranks below
    // every other, so the k committed are the surest that do not repeat, while any are left
    const seen = ngramsOf(this.x, n, this.model.maskId);
    const repeats = (p: number) => (completesSeenNgram(this.x, p, preds.get(p)!.token, n, seen) ? 1 : 0);
    const flags = new Map(byConfidence.map((p) => [p, repeats(p)]));
    return byConfidence.sort((a, b) => flags.get(a)! - flags.get(b)!).slice(0, k);
  }

  /** k positions drawn without replacement from softmax(confidence / algTemp), by the Gumbel-top-k trick. */
  private drawByConfidence(candidates: number[], conf: (p: number) => number, k: number): number[] {
    return candidates
      .map((p) => ({ p, key: conf(p) / this.o.algTemp + this.rng.gumbel() }))
      .sort((a, b) => b.key - a.key || a.p - b.p)
      .slice(0, k)
      .map((e) => e.p);
  }

  /** Edits of tokens committed at earlier steps, judged by this step's prediction (LLaDA 2.1 threshold, ReMDM). */
  edits(preds: Predictions, block: number, stepInBlock: number): Edit[] {
    const { o, x, rng } = this;
    const maskId = this.model.maskId;
    const edits: Edit[] = [];
    if (o.editMode === 'off') return edits;
    const lastStep = this.policy.isLastStep(stepInBlock);
    for (const p of this.canvas.generated) {
      const pred = preds.get(p);
      if (x[p] === maskId || !pred) continue;
      const prob = pred.probOfCurrent;
      const hit = o.editMode === 'threshold' ? prob < o.editThreshold : rng.uniform() < o.remdmSigma;
      if (!hit) continue;
      if (o.editAction === 'remask') {
        // Only inside the current block and before its last step, so every block still ends decoded.
        if (this.blockOf(p) !== block || lastStep) continue;
        edits.push({ pos: p, from: x[p], to: maskId, text: '', prob: round4(prob) });
      } else if (pred.ghostToken !== x[p]) {
        edits.push({
          pos: p,
          from: x[p],
          to: pred.ghostToken,
          text: this.tokenText(pred.ghostToken),
          prob: round4(prob),
        });
      }
    }
    return edits;
  }

  commitsOf(chosen: number[], preds: Predictions): Commit[] {
    return chosen
      .sort((a, b) => a - b)
      .map((p) => {
        const { token, conf } = preds.get(p)!;
        return { pos: p, token, text: this.tokenText(token), conf: round4(conf) };
      });
  }

  /**
   * An extension (no reference sampler decides the length early; README). The first masked position after the
   * current block that the model is sure ends the text, and every masked position after it: in the training data
   * an end-of-text is only ever followed by end-of-text. Once per run: conditioned on a committed end, every
   * earlier position looks likelier to end too, and deciding again at every step walks the end back towards the
   * block (measured: stories of ~50 tokens instead of ~200).
   */
  endOfTextAhead(block: number, preds: Predictions): Commit[] {
    const sure = this.o.endOfTextAhead;
    if (sure === null || this.lengthDecided) return [];
    const { x } = this;
    const { maskId, endOfTextId: eot } = this.model;
    // only where this step predicted (a dual-cache step computes the block alone)
    const ahead = this.canvas.generated.filter((p) => this.blockOf(p) > block && x[p] === maskId && preds.has(p));
    const first = ahead.findIndex((p) => preds.get(p)!.ghostToken === eot && preds.get(p)!.ghostProb >= sure);
    if (first < 0) return [];
    this.lengthDecided = true;
    const conf = round4(preds.get(ahead[first])!.ghostProb); // the one decision that commits them all
    return ahead.slice(first).map((p) => ({ pos: p, token: eot, text: this.tokenText(eot), conf }));
  }
}

/** The ghosts (best guesses at masked positions) that changed since they were last sent. */
function ghostsOf(canvas: Canvas, maskId: number, preds: Predictions, tracker: GhostTracker): Ghost[] {
  const ghosts: Ghost[] = [];
  for (const p of canvas.generated) {
    if (canvas.x[p] !== maskId) {
      tracker.clear(p);
      continue;
    }
    const pred = preds.get(p);
    const ghost = pred ? tracker.offer(p, pred.ghostToken, pred.ghostProb) : null;
    if (ghost) ghosts.push(ghost);
  }
  return ghosts;
}

/**
 * Once the first end-of-text and every position before it are decoded, the rest of the canvas becomes end-of-text:
 * returns the positions [from, to) that this filled (to = from when none were left), or null while the text is
 * not finished.
 */
function endOfTextReached(canvas: Canvas, maskId: number, eot: number): { from: number; to: number } | null {
  const { x, generated } = canvas;
  const firstEot = generated.find((p) => x[p] === eot);
  if (firstEot === undefined || generated.some((p) => p < firstEot && x[p] === maskId)) return null;
  let last = x.length;
  while (last > firstEot + 1 && x[last - 1] === eot) last--;
  for (let p = firstEot + 1; p < x.length; p++) x[p] = eot;
  return { from: firstEot + 1, to: Math.max(firstEot + 1, last) };
}

/** Every n-gram of committed tokens on the canvas (no mask inside), as keys. */
function ngramsOf(x: Int32Array, n: number, maskId: number): Set<string> {
  const seen = new Set<string>();
  for (let i = 0; i + n <= x.length; i++) {
    const gram = x.subarray(i, i + n);
    if (!gram.includes(maskId)) seen.add(gram.join(','));
  }
  return seen;
}

/** Writing `token` at masked position p completes an n-gram (its other tokens committed) that is already in `seen`. */
function completesSeenNgram(x: Int32Array, p: number, token: number, n: number, seen: Set<string>): boolean {
  const prev = x[p];
  x[p] = token;
  let found = false;
  for (let i = Math.max(0, p - n + 1); i <= p && i + n <= x.length && !found; i++) {
    const gram = x.subarray(i, i + n);
    found = seen.has(gram.join(','));
  }
  x[p] = prev;
  return found;
}
