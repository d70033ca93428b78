// The autoregressive baseline: prompt prefill, then one token per forward pass with a KV cache (or, for
// comparison, the whole sequence recomputed each time). Same trace format, logits pipeline and recorder as the
// diffusion sampler.
import { DraftEditError, EmptyPromptError, PromptTooLongError } from '../errors.ts';
import type { CausalLM, KvCache } from '../models/types.ts';
import { TraceRecorder } from '../trace/recorder.ts';
import { round4, roundMs, type Trace, type TraceStep } from '../trace/trace.ts';
import { AR_DEFAULTS, resolveArOptions, type ArOptions } from './options.ts';
import { Rng } from './rng.ts';
import { checkTokenIds, clockOf, resumedSeed, tokenTextOf, type DraftPoint, type RunContext } from './run.ts';
import { chooseToken, LogitsPipeline, probabilityOf } from './sampling.ts';

/**
 * Continues `input` one token at a time. `from`: a draft to go on from (src/core/drafts: the same input and options
 * as the run it was taken from): its kept steps are recorded first and the text goes on from its canvas, within the
 * run's budget, with the seed's random stream at that step.
 */
export async function generateAr(
  model: CausalLM,
  input: readonly number[],
  options: Partial<ArOptions> = {},
  ctx: RunContext = {},
  from?: DraftPoint,
): Promise<Trace> {
  const now = clockOf(ctx);
  const tokenText = tokenTextOf(ctx);
  const { endOfTextId: eot, vocabSize } = model;
  if (input.length === 0) throw new EmptyPromptError();
  const room = model.contextLength - input.length;
  if (options.fillContext && room >= 1) options = { ...options, maxNewTokens: room };
  const requested = options.maxNewTokens ?? AR_DEFAULTS.maxNewTokens;
  if (input.length + requested > model.contextLength) {
    throw new PromptTooLongError(input.length, requested, model.contextLength);
  }
  const o = resolveArOptions(options, room);
  checkTokenIds(input, vocabSize);
  const kept = from?.steps ?? [];
  const rng = new Rng(kept.length ? resumedSeed(o.seed, kept.length) : o.seed);
  const logits = new LogitsPipeline(vocabSize, { cfgScale: 0, topK: o.topK, topP: o.topP });
  const P = input.length;
  const seq = from ? [...from.canvas] : [...input];
  if (seq.length < P || seq.length > P + o.maxNewTokens) {
    throw new DraftEditError('the draft', `has ${seq.length} tokens: the run writes ${P}..${P + o.maxNewTokens}`);
  }
  const written = seq.length - P; // tokens of the text already there (a draft's)
  const planned = o.maxNewTokens - written;
  const keptSteps = kept.filter((s) => !s.visitor).length;
  const basePasses = kept.at(-1)?.forwardPasses ?? 0;
  let cache: KvCache | null = null;
  const recorder = new TraceRecorder(ctx, now, {
    kind: 'ar',
    initial: [...input],
    promptLength: P,
    maskId: -1,
    endOfTextId: eot,
    plannedSteps: keptSteps + planned,
  });
  for (const s of kept) recorder.record(s);
  try {
    for (let i = 0; i < planned; i++) {
      if (ctx.signal?.aborted) {
        recorder.end('cancelled', recorder.steps.length, `cancelled after ${written + i} of ${o.maxNewTokens} tokens`);
        break;
      }
      const t0 = now();
      const feed = !o.useCache || i === 0 ? seq : seq.slice(-1);
      const out = await model.forward(feed, o.useCache ? cache : null, o.useCache);
      cache = out.cache;
      const t1 = now();
      // end-of-text is banned under minLength; at temperature 0 the argmax comes from the summary
      const banned = written + i < o.minLength ? [eot] : [];
      const { token, prob } = logits.apply(out.logits, undefined, 0, banned, (row, summary) => {
        const token = o.temperature > 0 ? chooseToken(row, o.temperature, rng) : summary.best;
        return { token, prob: probabilityOf(row, summary, token) };
      });
      seq.push(token);
      const step: TraceStep = {
        step: recorder.steps.length + 1,
        block: 0,
        forwardPasses: basePasses + i + 1,
        positions: feed.length, // the prompt, then one token a pass with the cache; the whole text without
        modelMs: roundMs(t1 - t0),
        samplerMs: roundMs(now() - t1),
        commits: [{ pos: seq.length - 1, token, text: tokenText(token), conf: round4(prob) }],
        edits: [],
        ghosts: [],
      };
      recorder.record(step);
      await ctx.between?.();
      if (token === eot) {
        const n = written + i + 1;
        recorder.end(
          'end-of-text',
          recorder.steps.length,
          `stopped at end-of-text after ${n} of ${o.maxNewTokens} tokens`,
        );
        break;
      }
    }
  } finally {
    cache?.dispose();
  }
  return recorder.finish({
    model: model.name,
    backend: ctx.backend ?? 'unknown',
    options: o,
    final: seq,
    tokenText,
    reason: 'max-tokens',
    message: `reached maxNewTokens (${o.maxNewTokens})`,
  });
}
