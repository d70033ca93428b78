// Text <-> ids through @huggingface/transformers' AutoTokenizer, loaded from the model folder itself.
import { AutoTokenizer, env } from '@huggingface/transformers';
import { ModelLoadError } from './errors.ts';

export interface TextTokenizer {
  readonly vocabSize: number;
  readonly maskId: number;
  readonly endOfTextId: number;
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
  /** Display text of one token (cached); may be a partial UTF-8 character. */
  tokenText(id: number): string;
}

/**
 * Loads the tokenizer of the folder `root + name` (a URL prefix in the browser, a directory in Node).
 * Remote (hub) loading stays off: the demo only ever reads its own files.
 */
export async function loadTokenizer(root: string, name: string): Promise<TextTokenizer> {
  env.allowLocalModels = true;
  env.allowRemoteModels = false;
  env.localModelPath = root.endsWith('/') ? root : root + '/';
  let tok: Awaited<ReturnType<typeof AutoTokenizer.from_pretrained>>;
  try {
    tok = await AutoTokenizer.from_pretrained(name);
  } catch (err) {
    throw new ModelLoadError(`${env.localModelPath}${name}/tokenizer.json`, err);
  }
  const maskId = tok.mask_token_id;
  const endOfTextId = tok.eos_token_id;
  if (typeof maskId !== 'number' || typeof endOfTextId !== 'number') {
    throw new ModelLoadError(`${name}/tokenizer_config.json`, new Error('no mask_token or eos_token is declared'));
  }
  const cache = new Map<number, string>();
  return {
    vocabSize: vocabSizeOf(tok.get_vocab()),
    maskId,
    endOfTextId,
    encode: (text) => tok.encode(text, { add_special_tokens: false }),
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
