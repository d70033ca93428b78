// The autoregressive baseline: prompt prefill, then one token per forward pass with a KV cache (or, for
// comparison, the whole sequence recomputed each time). Same trace format, logits pipeline and recorder as the
// diffusion sampler.
import { EmptyPromptError, PromptTooLongError } from '../errors.ts';
import type { CausalLM, KvCache } from '../models/types.ts';
import { TraceRecorder } from '../trace/recorder.ts';
import { round4, roundMs, type Trace, type TraceStep } from '../trace/trace.ts';
import { AR_DEFAULTS, resolveArOptions, type ArOptions } from './options.ts';
import { Rng } from './rng.ts';
import { checkTokenIds, clockOf, tokenTextOf, type RunContext } from './run.ts';
import { chooseToken, LogitsPipeline, probabilityOf } from './sampling.ts';

export async function generateAr(
  model: CausalLM,
  input: readonly number[],
  options: Partial<ArOptions> = {},
  ctx: RunContext = {},
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
  const rng = new Rng(o.seed);
  const logits = new LogitsPipeline(vocabSize, { cfgScale: 0, topK: o.topK, topP: o.topP });
  const seq = [...input];
  const P = input.length;
  const planned = o.maxNewTokens;
  let cache: KvCache | null = null;
  const recorder = new TraceRecorder(ctx, now, {
    kind: 'ar',
    initial: [...input],
    promptLength: P,
    maskId: -1,
    endOfTextId: eot,
    plannedSteps: planned,
  });
  try {
    for (let i = 0; i < planned; i++) {
      if (ctx.signal?.aborted) {
        recorder.end('cancelled', i, `cancelled after ${i} of ${planned} tokens`);
        break;
      }
      const t0 = now();
      const feed = !o.useCache || i === 0 ? seq : seq.slice(-1);
      const out = await model.forward(feed, o.useCache ? cache : null, o.useCache);
      cache = out.cache;
      const t1 = now();
      // end-of-text is banned under minLength; at temperature 0 the argmax comes from the summary
      const banned = i < o.minLength ? [eot] : [];
      const { token, prob } = logits.apply(out.logits, undefined, 0, banned, (row, summary) => {
        const token = o.temperature > 0 ? chooseToken(row, o.temperature, rng) : summary.best;
        return { token, prob: probabilityOf(row, summary, token) };
      });
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
      recorder.record(step);
      await ctx.between?.();
      if (token === eot) {
        recorder.end('end-of-text', i + 1, `stopped at end-of-text after ${i + 1} of ${planned} tokens`);
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
    message: `reached maxNewTokens (${planned})`,
  });
}
