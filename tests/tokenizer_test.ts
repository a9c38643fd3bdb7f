import assert from "node:assert/strict";
// OpenAI's own tokenizer (the Rust tiktoken compiled to WASM; a dev-only import): the counts
// the service makes. js-tiktoken, whose rank data the module uses, splits text differently
// around U+0085 and U+FEFF (JavaScript's \s is not the Rust regex's).
import { get_encoding, type Tiktoken } from "npm:tiktoken@^1.0.22";
import {
  clearTokenizerCaches,
  type EncodingName,
  loadedEncoding,
  loadEncoding,
  tokenizerCacheStats,
} from "../_tokenizer/mod.ts";
import { hashUnits, MAX_CACHED_PIECE, PieceCache } from "../_tokenizer/_cache.ts";
import { encodeUtf8Into } from "../_tokenizer/_utf8.ts";
import { adversarial, prose, rng, variety } from "../bench/corpus.ts";

const NAMES: EncodingName[] = ["cl100k_base", "o200k_base"];
const wasm: Record<EncodingName, Tiktoken> = {
  cl100k_base: get_encoding("cl100k_base"),
  o200k_base: get_encoding("o200k_base"),
};

/** tiktoken's tokens of a text, special-token strings as plain text. */
function tiktokenOf(name: EncodingName): { encode(text: string, ..._: unknown[]): number[] } {
  return { encode: (text) => Array.from(wasm[name].encode_ordinary(text)) };
}

const reference: Record<EncodingName, { encode(text: string, ..._: unknown[]): number[] }> = {
  cl100k_base: tiktokenOf("cl100k_base"),
  o200k_base: tiktokenOf("o200k_base"),
};

/** Checks encode and count against tiktoken's encode (no special tokens). */
async function assertExact(name: EncodingName, texts: string[]): Promise<void> {
  const encoding = await loadEncoding(name);
  for (const text of texts) {
    const expected = reference[name].encode(text, [], []);
    const actual = encoding.encode(text);
    const count = encoding.count(text);
    // A second count is answered partly from the piece cache.
    const cached = encoding.count(text);
    const same = actual.length === expected.length && actual.every((t, i) => t === expected[i]);
    if (!same || count !== expected.length || cached !== expected.length) {
      // Only now build the (slow) detailed assertion messages.
      const shown = JSON.stringify(text.length > 60 ? text.slice(0, 60) + "..." : text);
      assert.deepEqual(actual, expected, `${name} encode ${shown}`);
      assert.equal(count, expected.length, `${name} count ${shown}`);
      assert.equal(cached, expected.length, `${name} cached count ${shown}`);
    }
  }
}

Deno.test("loadedEncoding() is undefined before the first load", () => {
  // This file loads encodings only in later tests.
  assert.equal(loadedEncoding("cl100k_base"), undefined);
  assert.equal(loadedEncoding("o200k_base"), undefined);
});

Deno.test("loadEncoding() shares one load between concurrent callers", async () => {
  const [a, b] = await Promise.all([loadEncoding("o200k_base"), loadEncoding("o200k_base")]);
  assert.ok(a === b);
  assert.ok(loadedEncoding("o200k_base") === a);
  assert.ok((await loadEncoding("o200k_base")) === a);
  assert.equal(a.name, "o200k_base");
  const c = await loadEncoding("cl100k_base");
  assert.equal(c.name, "cl100k_base");
  assert.ok(c !== (a as unknown));
});

Deno.test("loadEncoding() rejects an unknown encoding", async () => {
  await assert.rejects(
    () => loadEncoding("p50k_base" as EncodingName),
    (error: Error) => error instanceof RangeError && /"p50k_base"/.test(error.message),
  );
  assert.equal(loadedEncoding("p50k_base" as EncodingName), undefined);
});

for (const name of NAMES) {
  Deno.test(`${name}: count() and encode() equal tiktoken on generated prose (many seeds)`, async () => {
    const texts: string[] = [];
    for (let seed = 1; seed <= 40; seed++) texts.push(prose(2_000 + seed * 37, seed));
    await assertExact(name, texts);
  });

  Deno.test(`${name}: count() and encode() equal tiktoken on high-variety text`, async () => {
    const texts: string[] = [];
    for (let seed = 1; seed <= 40; seed++) texts.push(variety(2_000 + seed * 41, 1_000 + seed));
    await assertExact(name, texts);
  });

  Deno.test(`${name}: count() and encode() equal tiktoken on adversarial text`, async () => {
    await assertExact(name, adversarial());
  });

  Deno.test(`${name}: count() and encode() equal tiktoken on random mixes of tricky characters`, async () => {
    // Short random strings over characters that sit on every branch of the
    // pre-tokeniser: ASCII classes, contractions, case, marks, Unicode
    // letters, digits and spaces, surrogates, emoji, and long runs.
    // deno-fmt-ignore
    const alphabet = [
      "a", "A", "z", "Z", "b", "0", "9", " ", " ", " ", "\n", "\r", "\t", "\v", "\f", "'", "'",
      "s", "S", "t", "r", "R", "e", "E", "v", "l", "L", "m", "d", "D", "/", "!", ".", "(", "-",
      "é", "É", "ǅ", "ʰ", "\u0301", "\u00a0", "²", "日", "😀", "\ud800", "\udc00", "٣", "\u2028",
      "\u0085", "\x00", "ß", "ǂ", "Ⅻ", "\u3000", "\ufeff", "x".repeat(20), " ".repeat(7),
      "1".repeat(5), "ab".repeat(12), "日本",
    ];
    const rand = rng(name === "cl100k_base" ? 7 : 8);
    const texts: string[] = [];
    for (let i = 0; i < 2_000; i++) {
      let text = "";
      const length = 1 + Math.floor(rand() * 24);
      for (let j = 0; j < length; j++) text += alphabet[Math.floor(rand() * alphabet.length)];
      texts.push(text);
    }
    await assertExact(name, texts);
  });

  Deno.test(`${name}: special-token strings are counted as plain text`, async () => {
    const encoding = await loadEncoding(name);
    const text = "a <|endoftext|> b <|endofprompt|>";
    assert.equal(encoding.count(text), reference[name].encode(text, [], []).length);
    assert.ok(encoding.count("<|endoftext|>") > 1);
  });

  Deno.test(`${name}: empty text has no tokens`, async () => {
    const encoding = await loadEncoding(name);
    assert.equal(encoding.count(""), 0);
    assert.deepEqual(encoding.encode(""), []);
    assert.equal(encoding.decode([]), "");
  });

  Deno.test(`${name}: decode() inverts encode() for valid text`, async () => {
    const encoding = await loadEncoding(name);
    for (const text of [prose(3_000, 3), variety(3_000, 4), "héllo 😀 日本語 ‍👩‍💻"]) {
      assert.equal(encoding.decode(encoding.encode(text)), text);
    }
    // Lone surrogates are encoded as U+FFFD, as TextEncoder does.
    assert.equal(encoding.decode(encoding.encode("a\ud800b")), "a\ufffdb");
  });

  Deno.test(`${name}: decode() writes special tokens and skips unknown ones`, async () => {
    const encoding = await loadEncoding(name);
    const eot = name === "cl100k_base" ? 100257 : 199999;
    assert.equal(encoding.decode([...encoding.encode("hi "), eot, 9_999_999]), "hi <|endoftext|>");
  });

  Deno.test(`${name}: long pieces (heap merge) equal tiktoken`, async () => {
    const rand = rng(99);
    let word = "";
    for (let i = 0; i < 200; i++) word += String.fromCharCode(97 + Math.floor(rand() * 26));
    let cjk = "";
    for (let i = 0; i < 100; i++) cjk += String.fromCharCode(0x4e00 + Math.floor(rand() * 2000));
    await assertExact(name, [word, " " + word.toUpperCase(), cjk, "a".repeat(300)]);
  });
}

Deno.test("the piece cache stays bounded and exact when full", async () => {
  const encoding = await loadEncoding("cl100k_base");
  clearTokenizerCaches();
  const stats = () => tokenizerCacheStats().find((s) => s.name === "cl100k_base")!;
  assert.equal(stats().size, 0);
  // Far more distinct short pieces than the cache holds.
  const words: string[] = [];
  const rand = rng(5);
  for (let i = 0; i < 3 * stats().max; i++) {
    let w = " ";
    for (let j = 0; j < 3 + (i % 8); j++) w += String.fromCharCode(97 + Math.floor(rand() * 26));
    words.push(w);
  }
  const text = words.join("");
  // encode() does not use the cache; its exactness is tested above.
  const expected = encoding.encode(text).length;
  assert.equal(
    encoding.count(words.slice(0, 2_000).join("")),
    reference.cl100k_base.encode(words.slice(0, 2_000).join(""), [], []).length,
  );
  assert.equal(encoding.count(text), expected);
  assert.ok(stats().size <= stats().max, `${stats().size} <= ${stats().max}`);
  assert.ok(stats().size > 0);
  assert.equal(encoding.count(text), expected);
  clearTokenizerCaches();
  assert.equal(stats().size, 0);
});

Deno.test("PieceCache holds at most its slots and never answers a wrong value", () => {
  const cache = new PieceCache(64);
  assert.equal(cache.slots, 64);
  const values = new Map<string, number>();
  const rand = rng(11);
  for (let i = 0; i < 5_000; i++) {
    const key = `k${Math.floor(rand() * 500)}`;
    const h = hashUnits(key, 0, key.length);
    const hit = cache.get(key, 0, key.length, h);
    if (hit >= 0) assert.equal(hit, values.get(key));
    else {
      values.set(key, key.length * 7 + i);
      cache.set(key, 0, key.length, h, values.get(key)!);
    }
    assert.ok(cache.size <= cache.slots);
  }
  assert.ok(MAX_CACHED_PIECE >= 8);
  cache.clear();
  assert.equal(cache.size, 0);
  assert.equal(cache.get("k1", 0, 2, hashUnits("k1", 0, 2)), -1);
});

Deno.test("encodeUtf8Into() writes what TextEncoder writes", () => {
  const encoder = new TextEncoder();
  for (
    const text of ["", "abc", "é日😀", "\ud800x", "x\udc00", "\ud83d\ude00\ud83d", "\u0085\uffff"]
  ) {
    const buf = new Uint8Array(text.length * 3);
    const n = encodeUtf8Into(text, 0, text.length, buf);
    assert.deepEqual(buf.subarray(0, n), encoder.encode(text));
  }
});

Deno.test("a process that only uses the echo backend and the naive calculator loads no encoder", async () => {
  const root = new URL("../", import.meta.url);
  const script = `
    import { createAI, NaiveTextSplitterCalculator } from ${
    JSON.stringify(new URL("mod.ts", root).href)
  };
    import { loadedEncoding } from ${JSON.stringify(new URL("_tokenizer/mod.ts", root).href)};
    const ai = createAI({ BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 64 } } } });
    const backend = ai.getBackend();
    const splitter = await backend.getTextSplitter();
    const chunks = splitter.splitText("word ".repeat(500));
    await backend.promptWithContext({ prePrompt: "Fix:", context: chunks[0] }).text();
    new NaiveTextSplitterCalculator().getSplitterLength("some text");
    console.log(JSON.stringify([chunks.length > 1, loadedEncoding("cl100k_base") ?? null, loadedEncoding("o200k_base") ?? null]));
  `;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--config", new URL("deno.json", root).pathname, script],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(output.success, new TextDecoder().decode(output.stderr));
  assert.equal(new TextDecoder().decode(output.stdout).trim(), "[true,null,null]");
});

for (const name of NAMES) {
  Deno.test(`${name}: count() of joins of recently counted texts equals tiktoken`, async () => {
    const encoding = await loadEncoding(name);
    clearTokenizerCaches();
    const rand = rng(name === "cl100k_base" ? 21 : 22);
    for (let round = 0; round < 12; round++) {
      // Paragraph-like parts, each keeping the separator before it, as a splitter cuts them.
      const source = round % 3 === 2 ? variety(6_000, round) : prose(6_000, 300 + round);
      const parts: string[] = [];
      let from = 0;
      let at = source.indexOf("\n\n", 1);
      while (at !== -1) {
        parts.push(source.slice(from, at));
        from = at;
        at = source.indexOf("\n\n", at + 2);
      }
      parts.push(source.slice(from));
      for (const part of parts) encoding.count(part);
      for (let k = 0; k < 8; k++) {
        const start = Math.floor(rand() * parts.length);
        const end = Math.min(parts.length, start + 1 + Math.floor(rand() * 6));
        let text = parts.slice(start, end).join("");
        if (rand() < 0.5) text = text.trim();
        if (rand() < 0.3) text = text.slice(0, Math.floor(text.length * (0.5 + rand() / 2)));
        if (rand() < 0.2) text = text.slice(Math.floor(rand() * 5));
        const expected = reference[name].encode(text, [], []).length;
        assert.equal(encoding.count(text), expected, `${name} round ${round} join ${k}`);
      }
    }
  });

  Deno.test(`${name}: token splitting keeps every chunk within the limit and loses no text`, async () => {
    const { RecursiveCharacterTextSplitter, TiktokenLengthCalculator } = await import("../mod.ts");
    const modelId = name === "cl100k_base" ? "gpt-4" : "gpt-4o";
    const calculator = new TiktokenLengthCalculator({ modelId });
    await calculator.load();
    for (
      const [index, text] of [prose(40_000, 5), variety(30_000, 6), prose(20_000, 7)].entries()
    ) {
      for (const chunkSize of [64, 500, 4096]) {
        const splitter = new RecursiveCharacterTextSplitter({
          chunkSize,
          chunkOverlap: 0,
          lengthFunction: (t) => calculator.getSplitterLength(t),
        });
        const chunks = splitter.splitText(text);
        for (const chunk of chunks) {
          const tokens = reference[name].encode(chunk, [], []).length;
          assert.ok(
            tokens <= chunkSize,
            `text ${index}: a chunk has ${tokens} > ${chunkSize} tokens`,
          );
        }
        // Without overlap, the chunks are the text cut at whitespace.
        assert.equal(chunks.join("").replace(/\s+/g, ""), text.replace(/\s+/g, ""));
      }
    }
  });
}

Deno.test("the join memo stays bounded", async () => {
  const encoding = await loadEncoding("cl100k_base");
  clearTokenizerCaches();
  for (let seed = 0; seed < 300; seed++) encoding.count(prose(5_000, seed));
  const stats = tokenizerCacheStats().find((s) => s.name === "cl100k_base")!;
  assert.ok(stats.joinUnits <= stats.maxJoinUnits, `${stats.joinUnits} <= ${stats.maxJoinUnits}`);
  assert.ok(stats.joinEntries <= stats.maxJoinEntries);
});

Deno.test("count() of joins of texts with tricky characters equals tiktoken", async () => {
  // Cuts (a letter, then a space) next to marks, apostrophes, Unicode letters
  // and spaces, digits and newlines; parts joined, trimmed and cut short.
  // deno-fmt-ignore
  const alphabet = [
    "a", "b", "Z", "word", "Don't", "it's", " ", " ", " ", "  ", "\n", "\n\n", "\r\n", "\t", "'",
    "'s", "'ll", "é", "É", "ǅ", "ʰ", "\u0301", "\u00a0", "²", "日本", "😀", "\ud800", "٣",
    "\u2028", "!", "...", ".\n\n", "/", "123", "4567", " \u0301",
  ];
  for (const name of NAMES) {
    const encoding = await loadEncoding(name);
    const rand = rng(name === "cl100k_base" ? 31 : 32);
    for (let round = 0; round < 20; round++) {
      clearTokenizerCaches();
      const parts: string[] = [];
      for (let p = 0; p < 10; p++) {
        let part = p ? "\n\n" : "";
        const length = 150 + Math.floor(rand() * 300);
        for (let j = 0; j < length; j++) part += alphabet[Math.floor(rand() * alphabet.length)];
        parts.push(part);
      }
      for (const part of parts) encoding.count(part);
      for (let k = 0; k < 5; k++) {
        const start = Math.floor(rand() * parts.length);
        const end = Math.min(parts.length, start + 1 + Math.floor(rand() * 8));
        let text = parts.slice(start, end).join("");
        if (rand() < 0.5) text = text.trim();
        if (rand() < 0.3) text = text.slice(0, Math.floor(text.length * (0.3 + 0.7 * rand())));
        const expected = reference[name].encode(text, [], []).length;
        assert.equal(encoding.count(text), expected, `${name} round ${round} join ${k}`);
      }
    }
  }
});

for (const name of NAMES) {
  Deno.test(`${name}: U+0085 is whitespace and U+FEFF is not, as in tiktoken`, async () => {
    const texts = [
      "\ufeff\ufeffx",
      "\ufeffx",
      "x\ufeff",
      " \ufeff",
      "a \ufeff b",
      "\ufeff\ufeff\ufeff",
      "a\u0085b",
      "x \u0085 y",
      "\u0085\u0085",
      "\u0085\n",
      "word\u0085 next",
      "1\u00852",
      "!\u0085!",
      "  \u0085\u0085\ufeff\ufeff  x",
      "\u00a0\u00a0x \u2003 y\u3000z \ufeffw \u0085v \u2028u",
    ];
    await assertExact(name, texts);
    const encoding = await loadEncoding(name);
    if (name === "o200k_base") assert.equal(encoding.count("\ufeff\ufeffx"), 2);
  });
}
