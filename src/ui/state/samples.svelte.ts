// "8 samples" (issue 28): every model of the mode run on the prompt with 8 seeds, shown as small multiples with
// per-model diversity figures. Runs in the worker like a generation (the page is busy, Cancel stops it and keeps
// the samples finished).
import type { GenerateRequest, GenerateResult } from '../../core/engine.ts';
import { diversityOf, type Diversity } from '../../core/measure/diversity.ts';
import { MODEL_KINDS, perKind } from '../../core/modes.ts';
import type { DemoBackend } from '../../worker/protocol.ts';
import type { PageStatus } from './status.svelte.ts';

export const SAMPLE_COUNT = 8;

export class SamplesState {
  /** The samples finished, in seed order. */
  results = $state.raw<GenerateResult[]>([]);
  /** The prompt they answer. */
  prompt = $state<string | null>(null);
  running = $state(false);

  constructor(
    private readonly backend: DemoBackend,
    private readonly page: PageStatus,
    private readonly hasModels: () => boolean,
  ) {}

  /** Each model's diversity over its samples so far. */
  readonly diversity = $derived.by(() =>
    perKind((kind): Diversity | null => {
      const texts = this.results.flatMap((r) => (r.traces[kind] ? [r.traces[kind]!.answerText] : []));
      return texts.length ? diversityOf(texts) : null;
    }),
  );

  /** The kinds that have samples, in the page's order. */
  readonly kinds = $derived(MODEL_KINDS.filter((kind) => this.results.some((r) => r.traces[kind])));

  async run(request: GenerateRequest) {
    const { page } = this;
    if (page.status !== 'ready') return;
    page.status = 'generating';
    page.error = null;
    this.running = true;
    this.results = [];
    this.prompt = request.prompt;
    try {
      const done = await this.backend.samples(request, SAMPLE_COUNT, (_i, result) => {
        this.results = [...this.results, result];
      });
      page.notice = done < SAMPLE_COUNT ? `Samples cancelled: ${done} of ${SAMPLE_COUNT} finished are shown.` : null;
    } catch (err) {
      page.fail(err, this.hasModels());
    } finally {
      this.running = false;
      if (page.status === 'generating') page.status = 'ready';
    }
  }
}
