// Every error the core raises, in one module. Each sets `name` and builds its message from its arguments,
// so a message always says what was wrong and what to do; the worker forwards { name, message } to the UI.

export class OptionError extends Error {
  override name = 'OptionError';
  constructor(
    readonly option: string,
    detail: string,
  ) {
    super(`${option}: ${detail}`);
  }
}

export class UnknownOptionError extends Error {
  override name = 'UnknownOptionError';
  constructor(
    readonly option: string,
    known: readonly string[],
  ) {
    super(`unknown option "${option}"; known options: ${known.join(', ')}`);
  }
}

export class PromptTooLongError extends Error {
  override name = 'PromptTooLongError';
  constructor(promptTokens: number, genLength: number, contextLength: number) {
    super(
      `the prompt has ${promptTokens} tokens and ${genLength} more are to be generated, but the model's context is ` +
        `${contextLength}; shorten the prompt to at most ${Math.max(0, contextLength - genLength)} tokens or lower the ` +
        `generation length to at most ${Math.max(0, contextLength - promptTokens)}`,
    );
  }
}

export class EmptyPromptError extends Error {
  override name = 'EmptyPromptError';
  constructor() {
    super('the prompt is empty: type at least one word (the AR model needs a token to continue from)');
  }
}

export class MaskAtStartError extends Error {
  override name = 'MaskAtStartError';
  constructor(model: string) {
    super(
      `the prompt starts with [MASK], but ${model} predicts each position from the one before it, so the very ` +
        `first position cannot be filled in: put at least one word before the first [MASK]`,
    );
  }
}

export class TokenIdError extends Error {
  override name = 'TokenIdError';
  constructor(id: number, vocabSize: number) {
    super(`token id ${id} is outside the vocabulary 0..${vocabSize - 1}`);
  }
}

export class ModelLoadError extends Error {
  override name = 'ModelLoadError';
  constructor(
    readonly file: string,
    cause: unknown,
  ) {
    super(
      `could not load the model file ${file}: ${cause instanceof Error ? cause.message : String(cause)} — ` +
        `check that the file exists and is complete (re-export it with \`npm run export\`, or \`npm run fixtures\` for the test pair)`,
    );
  }
}

export class ModelRunError extends Error {
  override name = 'ModelRunError';
  constructor(model: string, cause: unknown) {
    super(`running ${model} failed: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

export class LogitsShapeError extends Error {
  override name = 'LogitsShapeError';
  constructor(expected: string, got: string) {
    super(`the model returned logits of shape ${got}, expected ${expected}`);
  }
}

/** Structured form that crosses the worker boundary. */
export interface ErrorInfo {
  name: string;
  message: string;
}

export function toErrorInfo(err: unknown): ErrorInfo {
  if (err instanceof Error) return { name: err.name, message: err.message };
  return { name: 'Error', message: String(err) };
}

/** A trace file that cannot be replayed: `where` names the field (e.g. diffusion.steps[3].commits[0].pos). */
export class TraceFileError extends Error {
  override name = 'TraceFileError';
  constructor(
    readonly where: string,
    what: string,
  ) {
    super(`${where} ${what}`);
  }
}

/** The visitor cancelled the device benchmark: it stops between two measurements, keeping nothing half-made. */
export class BenchCancelledError extends Error {
  override name = 'BenchCancelledError';
  constructor() {
    super('the benchmark was cancelled');
  }
}

/** A visitor's edit of a draft that cannot be applied: which edit, and why (src/core/drafts). */
export class DraftEditError extends Error {
  override name = 'DraftEditError';
  constructor(edit: string, detail: string) {
    super(`${edit}: ${detail}`);
  }
}
