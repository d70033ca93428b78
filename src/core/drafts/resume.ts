// A run taken back to a step, edited by the visitor and resumed (issue 28): the one function the page's worker
// and `npm run generate -- --resume` call. A diffusion or block-diffusion run goes on from exactly the edited
// canvas with the run's own options (its sampler's `from`); an AR run keeps the text before the first edit and
// writes the rest anew, which is all a left-to-right model can do.
import { decodingOf } from '../models/decoding.ts';
import type { CausalLM, Denoiser, TokenText } from '../models/types.ts';
import { generateAr } from '../sampler/ar.ts';
import { generateDiffusion } from '../sampler/diffusion.ts';
import type { ArOptions, DiffusionOptions } from '../sampler/options.ts';
import { tokenTextOf, type RunContext } from '../sampler/run.ts';
import { canvasAt, type Trace } from '../trace/trace.ts';
import { arDraft, describeEdit, diffusionDraft, typedEdits, type DraftEdit, type TypedEdit } from './edits.ts';

/** What the visitor asks: the run, the step to go back to (0..its steps), and the edits there. */
export interface DraftRequest {
  trace: Trace;
  atStep: number;
  edits: readonly (DraftEdit | TypedEdit)[];
}

/** A resumed run, and what an AR model could not keep (edits after its first one). */
export interface Resumed {
  trace: Trace;
  /** The AR model's note: it cannot revise what came after the first edit (null for diffusion runs). */
  note: string | null;
}

/** The run's prompt: what it was given before its generated region (infill masks included). */
const promptOf = (trace: Trace) => trace.initial.slice(0, trace.promptLength);

/** Typed words as tokens on the canvas at the step (typedEdits), the other edits as they are. */
export function resolveEdits(
  request: DraftRequest,
  maskId: number,
  tokenText: TokenText,
  encode: (text: string) => number[],
): DraftEdit[] {
  const canvas = canvasAt(request.trace, Math.max(0, Math.min(request.atStep, request.trace.steps.length)));
  return request.edits.flatMap((e) => (e.kind === 'type' ? typedEdits(canvas, e, maskId, tokenText, encode) : [e]));
}

/** A diffusion or block-diffusion run resumed from the visitor's draft. */
export async function resumeDiffusion(
  model: Denoiser,
  trace: Trace,
  atStep: number,
  edits: readonly DraftEdit[],
  ctx: RunContext = {},
): Promise<Trace> {
  const o = trace.options as DiffusionOptions;
  const input = promptOf(trace);
  const layout = decodingOf(model).layout(model, trace.promptLength, o.blockLength);
  const tokenText = tokenTextOf(ctx);
  const draft = diffusionDraft(trace, atStep, edits, model.vocabSize, tokenText, layout.blockOf);
  return generateDiffusion(model, input, o, ctx, draft);
}

/** An AR run resumed from the visitor's draft: the text up to the first edit kept, the rest written anew. */
export async function resumeAr(
  model: CausalLM,
  trace: Trace,
  atStep: number,
  edits: readonly DraftEdit[],
  ctx: RunContext = {},
): Promise<Resumed> {
  const o = trace.options as ArOptions;
  const input = promptOf(trace);
  const tokenText = tokenTextOf(ctx);
  const limit = Math.min(model.contextLength, trace.promptLength + o.maxNewTokens);
  const draft = arDraft(trace, atStep, edits, model.vocabSize, tokenText, limit);
  const resumed = await generateAr(model, input, { ...o, fillContext: false }, ctx, draft);
  const cut = draft.steps.at(-1)?.truncate;
  const notes = [
    ...(cut !== undefined
      ? [`the AR model kept the text before position ${cut} and wrote the rest anew: it cannot revise what comes after`]
      : []),
    ...(draft.dropped.length
      ? [`not applied (after the first edit): ${draft.dropped.map(describeEdit).join(', ')}`]
      : []),
  ];
  return { trace: resumed, note: notes.length ? notes.join('; ') : null };
}
