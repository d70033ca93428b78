// The autoregressive baseline: prompt prefill, then one token per forward pass with a KV cache (or, for
// comparison, the whole sequence recomputed each time). Same trace format as the diffusion sampler.
import { EmptyPromptError, PromptTooLongError, TokenIdError } from './errors.ts';
import type { CausalLM, KvCache } from './models.ts';
import { AR_DEFAULTS, resolveArOptions, type ArOptions } from './options.ts';
import { Rng } from './rng.ts';
import { chooseToken, probabilityOf, summarizeRow, topKFilter, topPFilter, type LogitsRow } from './sampling.ts';
import { answerOf, round4, roundMs, statsOf, type Termination, type Trace, type TraceStep } from './trace.ts';
import type { RunContext } from './diffusion-sampler.ts';

export async function generateAr(
  model: CausalLM,
  input: readonly number[],
  options: Partial<ArOptions> = {},
  ctx: RunContext = {},
): Promise<Trace> {
  const now = ctx.now ?? (() => performance.now());
  const tokenText = ctx.tokenText ?? ((id: number) => `<${id}>`);
  const { endOfTextId: eot, vocabSize } = model;
  if (input.length === 0) throw new EmptyPromptError();
  const room = model.contextLength - input.length;
  if (options.fillContext && room >= 1) options = { ...options, maxNewTokens: room };
  const requested = options.maxNewTokens ?? AR_DEFAULTS.maxNewTokens;
  if (input.length + requested > model.contextLength) {
    throw new PromptTooLongError(input.length, requested, model.contextLength);
  }
  const o = resolveArOptions(options, room);
  for (const id of input) if (!Number.isInteger(id) || id < 0 || id >= vocabSize) throw new TokenIdError(id, vocabSize);
  const rng = new Rng(o.seed);
  const seq = [...input];
  const P = input.length;
  const steps: TraceStep[] = [];
  let cache: KvCache | null = null;
  let termination: Termination | null = null;
  const started = now();
  ctx.onStart?.({
    kind: 'ar',
    initial: [...input],
    promptLength: P,
    maskId: -1,
    endOfTextId: eot,
    plannedSteps: o.maxNewTokens,
  });
  try {
    for (let i = 0; i < o.maxNewTokens; i++) {
      if (ctx.signal?.aborted) {
        termination = {
          reason: 'cancelled',
          step: i,
          plannedSteps: o.maxNewTokens,
          message: `cancelled after ${i} of ${o.maxNewTokens} tokens`,
        };
        break;
      }
      const t0 = now();
      const feed = !o.useCache || i === 0 ? seq : seq.slice(-1);
      const out = await model.forward(feed, o.useCache ? cache : null, o.useCache);
      cache = out.cache;
      const t1 = now();
      // The row is read in place (the model's output is ours to use; end-of-text is set aside and put back
      // under minLength), and at temperature 0 the argmax comes from the summary: two passes over the row.
      const row = out.logits;
      const keptEot = row[eot];
      if (i < o.minLength) row[eot] = -Infinity;
      let filtered: LogitsRow = o.topK > 0 ? topKFilter(row, o.topK) : row;
      if (o.topP < 1) filtered = topPFilter(filtered, o.topP);
      const summary = summarizeRow(filtered);
      const token = o.temperature > 0 ? chooseToken(filtered, o.temperature, rng) : summary.best;
      const prob = probabilityOf(filtered, summary, token);
      row[eot] = keptEot;
      seq.push(token);
      const step: TraceStep = {
        step: i + 1,
        block: 0,
        forwardPasses: i + 1,
        positions: feed.length, // the prompt, then one token a pass with the cache; the whole text without
        modelMs: roundMs(t1 - t0),
        samplerMs: roundMs(now() - t1),
        commits: [{ pos: P + i, token, text: tokenText(token), conf: round4(prob) }],
        edits: [],
        ghosts: [],
      };
      steps.push(step);
      ctx.onStep?.(step);
      await ctx.between?.();
      if (token === eot) {
        termination = {
          reason: 'end-of-text',
          step: i + 1,
          plannedSteps: o.maxNewTokens,
          message: `stopped at end-of-text after ${i + 1} of ${o.maxNewTokens} tokens`,
        };
        break;
      }
    }
  } finally {
    cache?.dispose();
  }
  termination ??= {
    reason: 'max-tokens',
    step: steps.length,
    plannedSteps: o.maxNewTokens,
    message: `reached maxNewTokens (${o.maxNewTokens})`,
  };
  const answer = answerOf(seq, P, eot, -1);
  return {
    version: 1,
    kind: 'ar',
    model: model.name,
    backend: ctx.backend ?? 'unknown',
    options: o,
    maskId: -1,
    endOfTextId: eot,
    promptLength: P,
    initial: [...input],
    steps,
    final: seq,
    answer,
    answerText: answer.map(tokenText).join(''),
    termination,
    stats: statsOf(steps, roundMs(now() - started), answer.length),
  };
}
