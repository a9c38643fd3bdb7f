/**
 * Private tokenizer: exact BPE token counts for the `cl100k_base` and
 * `o200k_base` encodings, loaded lazily on first use.
 *
 * @module
 */
import { Tiktoken } from "js-tiktoken/lite";

/** The encodings this module knows. */
export type EncodingName = "cl100k_base" | "o200k_base";

/** A loaded encoding. */
export interface Encoding {
  /** The encoding's name. */
  readonly name: EncodingName;
  /** The exact number of tokens of `text` (special-token strings are plain text). */
  count(text: string): number;
  /** The tokens of `text` (special-token strings are plain text). */
  encode(text: string): number[];
  /** The text of `tokens`. */
  decode(tokens: number[]): string;
}

const loaded = new Map<EncodingName, Encoding>();
const loading = new Map<EncodingName, Promise<Encoding>>();

async function importRanks(name: EncodingName) {
  switch (name) {
    case "cl100k_base":
      return (await import("js-tiktoken/ranks/cl100k_base")).default;
    case "o200k_base":
      return (await import("js-tiktoken/ranks/o200k_base")).default;
  }
}

/** Loads (once) and returns the encoding `name`; concurrent calls share one load. */
export function loadEncoding(name: EncodingName): Promise<Encoding> {
  const done = loaded.get(name);
  if (done) return Promise.resolve(done);
  let pending = loading.get(name);
  if (!pending) {
    pending = importRanks(name).then((ranks) => {
      const tiktoken = new Tiktoken(ranks);
      const encoding: Encoding = {
        name,
        count: (text) => tiktoken.encode(text, [], []).length,
        encode: (text) => tiktoken.encode(text, [], []),
        decode: (tokens) => tiktoken.decode(tokens),
      };
      loaded.set(name, encoding);
      loading.delete(name);
      return encoding;
    }, (error) => {
      loading.delete(name);
      throw error;
    });
    loading.set(name, pending);
  }
  return pending;
}

/** The encoding `name` when it is already loaded, else `undefined`. */
export function loadedEncoding(name: EncodingName): Encoding | undefined {
  return loaded.get(name);
}
