// Text <-> ids through @huggingface/transformers' tokenizer, built from the model folder's own tokenizer.json and
// tokenizer_config.json as the engine reads them (from disk, the page's server, or the browser's cache): the
// library never fetches anything itself.
import { PreTrainedTokenizer } from '@huggingface/transformers';
import { ModelLoadError } from '../errors.ts';

export interface TextTokenizer {
  readonly vocabSize: number;
  readonly maskId: number;
  readonly endOfTextId: number;
  /** The folder's tokenizer_config.json has a chat template (chat models: the page offers a chat box). */
  readonly hasChatTemplate: boolean;
  encode(text: string): number[];
  /**
   * The ids of a one-turn conversation: `text` as the user's message through the chat template, the assistant's
   * turn opened (add_generation_prompt), thinking off (Qwen3's enable_thinking false, as dLLM's chat runs it).
   */
  encodeChat(text: string): number[];
  decode(ids: readonly number[]): string;
  /** Display text of one token (cached); may be a partial UTF-8 character. */
  tokenText(id: number): string;
}

/** Reads one JSON file of the model tree. */
export type ReadJson = (path: string) => Promise<unknown>;

/** The tokenizer of model folder `folder` (relative to the tree `readJson` reads). */
export async function loadTokenizer(readJson: ReadJson, folder: string): Promise<TextTokenizer> {
  const [json, config] = await Promise.all([
    readJson(`${folder}/tokenizer.json`),
    readJson(`${folder}/tokenizer_config.json`),
  ]);
  let tok: PreTrainedTokenizer;
  try {
    tok = new PreTrainedTokenizer(json as object, config as object);
  } catch (err) {
    throw new ModelLoadError(`${folder}/tokenizer.json`, err);
  }
  const maskId = tok.mask_token_id;
  const endOfTextId = tok.eos_token_id;
  if (typeof maskId !== 'number' || typeof endOfTextId !== 'number') {
    throw new ModelLoadError(`${folder}/tokenizer_config.json`, new Error('no mask_token or eos_token is declared'));
  }
  const hasChatTemplate = typeof (config as { chat_template?: unknown }).chat_template === 'string';
  const cache = new Map<number, string>();
  return {
    vocabSize: vocabSizeOf(tok.get_vocab()),
    maskId,
    endOfTextId,
    hasChatTemplate,
    encode: (text) => tok.encode(text, { add_special_tokens: false }),
    encodeChat(text) {
      if (!hasChatTemplate) throw new Error(`${folder} has no chat template`);
      // extra keys reach the template as variables (transformers.js passes them to render)
      const options = { add_generation_prompt: true, tokenize: false as const, enable_thinking: false };
      const rendered = tok.apply_chat_template([{ role: 'user', content: text }], options) as unknown as string;
      return tok.encode(rendered, { add_special_tokens: false });
    },
    decode: (ids) => (ids.length === 0 ? '' : tok.decode(ids as number[], { skip_special_tokens: false })),
    tokenText(id) {
      let text = cache.get(id);
      if (text === undefined) {
        text = tok.decode([id], { skip_special_tokens: false });
        cache.set(id, text);
      }
      return text;
    },
  };
}

function vocabSizeOf(vocab: Map<string, number> | Record<string, number>): number {
  return vocab instanceof Map ? vocab.size : Object.keys(vocab).length;
}
