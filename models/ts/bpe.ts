// Byte-level BPE (GPT-2 style): a trainer, an encoder/decoder, and writers for the Hugging Face
// `tokenizer.json` / `tokenizer_config.json` that @huggingface/transformers' AutoTokenizer loads.
// Ids: 0 = <|endoftext|>, 1 = <|mask|>, 2..257 = the 256 bytes, then one id per merge in order.

export const END_OF_TEXT = '<|endoftext|>';
export const MASK = '<|mask|>';
export const SPECIAL_TOKENS = [END_OF_TEXT, MASK] as const;
export const END_OF_TEXT_ID = 0;
export const MASK_ID = 1;
const FIRST_BYTE_ID = SPECIAL_TOKENS.length;
export const MIN_VOCAB_SIZE = FIRST_BYTE_ID + 256;

/** The pre-tokenizer regex of GPT-2, identical to what the ByteLevel pre-tokenizer (use_regex) applies. */
export const PRETOKENIZE = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** GPT-2's reversible map from bytes to printable characters, so every token is a visible string. */
export function bytesToUnicode(): string[] {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const table: string[] = new Array(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    table[b] = String.fromCharCode(printable.includes(b) ? b : 256 + extra++);
  }
  return table;
}

const BYTE_TO_CHAR = bytesToUnicode();
const CHAR_TO_BYTE = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));
const utf8 = new TextEncoder();

export interface BpeModel {
  /** Token strings in the byte-level alphabet, indexed by id (specials included). */
  vocab: string[];
  /** Merges in rank order, each a pair of token strings. */
  merges: [string, string][];
}

export interface TrainOptions {
  vocabSize: number;
  /** Pairs seen fewer times than this are never merged (stops early on small corpora). */
  minFrequency?: number;
}

/** Pre-tokenized chunks of a text in the byte-level alphabet. */
export function pretokenize(text: string): string[] {
  const chunks = text.match(PRETOKENIZE) ?? [];
  return chunks.map((chunk) => Array.from(utf8.encode(chunk), (b) => BYTE_TO_CHAR[b]).join(''));
}

/** Learns merges until `vocabSize` tokens exist. Deterministic: ties go to the smaller pair key. */
export function trainBpe(docs: Iterable<string>, options: TrainOptions): BpeModel {
  const { vocabSize, minFrequency = 2 } = options;
  if (!Number.isInteger(vocabSize) || vocabSize < MIN_VOCAB_SIZE || vocabSize > 65536) {
    throw new Error(`vocabSize must be an integer in [${MIN_VOCAB_SIZE}, 65536], got ${vocabSize}`);
  }
  const vocab: string[] = [...SPECIAL_TOKENS, ...BYTE_TO_CHAR];
  const idOf = new Map(vocab.map((t, i) => [t, i]));

  const wordCounts = new Map<string, number>();
  for (const doc of docs) {
    for (const chunk of pretokenize(doc)) wordCounts.set(chunk, (wordCounts.get(chunk) ?? 0) + 1);
  }
  const words: number[][] = [];
  const counts: number[] = [];
  for (const [word, count] of wordCounts) {
    words.push(Array.from(word, (c) => idOf.get(c)!));
    counts.push(count);
  }

  // Pair key = a * 65536 + b; occurrences counted over words, weighted by word frequency.
  const pairCount = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  const addPairs = (w: number, sign: 1 | -1) => {
    const sym = words[w];
    for (let i = 0; i + 1 < sym.length; i++) {
      const key = sym[i] * 65536 + sym[i + 1];
      pairCount.set(key, (pairCount.get(key) ?? 0) + sign * counts[w]);
      if (sign > 0) {
        let set = pairWords.get(key);
        if (!set) pairWords.set(key, (set = new Set()));
        set.add(w);
      }
    }
  };
  for (let w = 0; w < words.length; w++) addPairs(w, 1);

  const merges: [string, string][] = [];
  while (vocab.length < vocabSize) {
    let bestKey = -1;
    let bestCount = 0;
    for (const [key, count] of pairCount) {
      if (count > bestCount || (count === bestCount && count > 0 && key < bestKey)) {
        bestKey = key;
        bestCount = count;
      }
    }
    if (bestKey < 0 || bestCount < minFrequency) break;
    const a = Math.floor(bestKey / 65536);
    const b = bestKey % 65536;
    const newId = vocab.length;
    vocab.push(vocab[a] + vocab[b]);
    merges.push([vocab[a], vocab[b]]);
    for (const w of pairWords.get(bestKey) ?? []) {
      addPairs(w, -1);
      const sym = words[w];
      const merged: number[] = [];
      for (let i = 0; i < sym.length; i++) {
        if (i + 1 < sym.length && sym[i] === a && sym[i + 1] === b) {
          merged.push(newId);
          i++;
        } else merged.push(sym[i]);
      }
      words[w] = merged;
      addPairs(w, 1);
    }
    pairWords.delete(bestKey);
    pairCount.delete(bestKey);
  }
  return { vocab, merges };
}

/** Encoder/decoder for a trained model; the reference for what AutoTokenizer must reproduce. */
export class BpeTokenizer {
  private readonly idOf: Map<string, number>;
  private readonly rank: Map<string, number>;
  private readonly cache = new Map<string, number[]>();

  constructor(readonly model: BpeModel) {
    this.idOf = new Map(model.vocab.map((t, i) => [t, i]));
    this.rank = new Map(model.merges.map(([a, b], i) => [a + ' ' + b, i]));
  }

  get vocabSize(): number {
    return this.model.vocab.length;
  }

  /** Text to ids; literal special-token strings become their ids, as in Hugging Face tokenizers. */
  encode(text: string): number[] {
    const ids: number[] = [];
    const parts = text.split(/(<\|endoftext\|>|<\|mask\|>)/);
    for (const part of parts) {
      if (part === END_OF_TEXT) ids.push(END_OF_TEXT_ID);
      else if (part === MASK) ids.push(MASK_ID);
      else for (const chunk of pretokenize(part)) ids.push(...this.encodeChunk(chunk));
    }
    return ids;
  }

  private encodeChunk(chunk: string): number[] {
    const cached = this.cache.get(chunk);
    if (cached) return cached;
    let parts = Array.from(chunk);
    for (;;) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i + 1 < parts.length; i++) {
        const r = this.rank.get(parts[i] + ' ' + parts[i + 1]);
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) break;
      parts = [...parts.slice(0, best), parts[best] + parts[best + 1], ...parts.slice(best + 2)];
    }
    const ids = parts.map((p) => this.idOf.get(p)!);
    if (this.cache.size < 200_000) this.cache.set(chunk, ids);
    return ids;
  }

  /** Raw bytes of the ids (specials as their literal text), for exact round-trips. */
  decodeBytes(ids: readonly number[]): Uint8Array {
    const bytes: number[] = [];
    for (const id of ids) {
      const token = this.model.vocab[id];
      if (token === undefined) throw new Error(`token id ${id} is outside the vocabulary (0..${this.vocabSize - 1})`);
      if (id < FIRST_BYTE_ID) bytes.push(...utf8.encode(token));
      else for (const c of token) bytes.push(CHAR_TO_BYTE.get(c)!);
    }
    return Uint8Array.from(bytes);
  }

  decode(ids: readonly number[]): string {
    return new TextDecoder('utf-8').decode(this.decodeBytes(ids));
  }
}

/** The `tokenizer.json` of the Hugging Face tokenizers library (model BPE, byte-level pre-tokenizer and decoder). */
export function toTokenizerJson(model: BpeModel): object {
  const vocab: Record<string, number> = {};
  model.vocab.forEach((t, i) => (vocab[t] = i));
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((content, id) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: model.merges,
    },
  };
}

export function toTokenizerConfig(modelMaxLength: number): object {
  return {
    tokenizer_class: 'PreTrainedTokenizerFast',
    bos_token: null,
    eos_token: END_OF_TEXT,
    pad_token: END_OF_TEXT,
    mask_token: MASK,
    unk_token: null,
    add_bos_token: false,
    add_eos_token: false,
    // Clean-up would rewrite " ," to "," and break exact round-trips.
    clean_up_tokenization_spaces: false,
    model_max_length: modelMaxLength,
    special_token_ids: { end_of_text: END_OF_TEXT_ID, mask: MASK_ID },
  };
}

/** Rebuilds the model from a `tokenizer.json` written by `toTokenizerJson`. */
export function fromTokenizerJson(json: {
  model: { vocab: Record<string, number>; merges: [string, string][] };
}): BpeModel {
  const vocab: string[] = [];
  for (const [token, id] of Object.entries(json.model.vocab)) vocab[id] = token;
  return { vocab, merges: json.model.merges };
}
