// What the page is doing and what it last said: shared by every part of the page state.
export type Status = 'loading' | 'ready' | 'generating' | 'error';

export class PageStatus {
  status = $state<Status>('loading');
  /** The last error, shown until the next action. */
  error = $state<{ name: string; message: string } | null>(null);
  notice = $state<string | null>(null);

  /**
   * Shows an error (prefixed with the model kind it happened in). `settle`: the page goes back to ready when models
   * are loaded (`hasModels`), else to the error state.
   */
  fail(err: unknown, hasModels: boolean, during?: string, settle = true) {
    const e = err as { name?: string; message?: string };
    this.error = { name: e.name ?? 'Error', message: (during ? `${during}: ` : '') + (e.message ?? String(err)) };
    if (settle) this.status = hasModels ? 'ready' : 'error';
  }
}
