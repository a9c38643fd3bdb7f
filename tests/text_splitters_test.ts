import assert from "node:assert/strict";
import {
  DummyLengthCalculator,
  DummyTextSplitter,
  NaiveTextSplitterCalculator,
  RecursiveCharacterTextSplitter,
  TiktokenLengthCalculator,
} from "../mod.ts";
import { countTokens } from "../tokens.ts";
import { generateText } from "./_text.ts";

const LOREM = `Lorem ipsum dolor sit amet, consectetur adipiscing elit.
    Morbi ornare magna et urna volutpat, ut fermentum velit tincidunt.
    Aliquam erat volutpat. Nam erat mi, porta eu scelerisque sed, pharetra eget quam.
    Sed aliquet massa purus, vel sagittis libero fermentum nec.
    Donec placerat leo in tortor semper, sit amet venenatis ipsum tincidunt. Fusce at porttitor orci.
    Donec nibh diam, consectetur a sagittis eu, laoreet vitae erat.
    Aliquam bibendum dolor sed ornare aliquet. Aliquam sodales,
    felis nec aliquet condimentum, sem lacus placerat est...`;

Deno.test("NaiveTextSplitterCalculator gives the seed project's counts (143 and 146)", () => {
  const calc = new NaiveTextSplitterCalculator();
  assert.equal(calc.getSplitterLength(LOREM), 143);
  assert.equal(calc.getSplitterLength(LOREM + "\n\n    Test."), 146);
  assert.equal(calc.getSplitterLength(""), 0);
});

Deno.test("NaiveTextSplitterCalculator counts characters as code points and whitespace as Python's \\s does", () => {
  // Expected values computed with the seed's formula in Python 3:
  // max(ceil(len(text) / 4), ceil(len(re.findall(r"[^\w\s]|\w+", text)) * 0.75)).
  const calc = new NaiveTextSplitterCalculator();
  assert.equal(calc.getSplitterLength("𝐇𝐞𝐥𝐥𝐨 𝐰𝐨𝐫𝐥𝐝"), 3); // astral letters: 11 characters
  assert.equal(calc.getSplitterLength("𠀀".repeat(400)), 100);
  assert.equal(calc.getSplitterLength("😀".repeat(100)), 75);
  assert.equal(calc.getSplitterLength("ab\ud800cd\udc00"), 3); // lone surrogates: one character each
  assert.equal(calc.getSplitterLength("x\x1cy"), 2); // \x1c is whitespace in Python
  assert.equal(calc.getSplitterLength("x\ufeffy"), 3); // U+FEFF is not
});

Deno.test("DummyLengthCalculator counts characters and DummyTextSplitter never splits", () => {
  assert.equal(new DummyLengthCalculator().getSplitterLength(LOREM), LOREM.length);
  const splitter = new DummyTextSplitter({ chunkSize: 1, lengthFunction: (t) => t.length });
  assert.deepEqual(splitter.splitText(LOREM), [LOREM]);
});

Deno.test("RecursiveCharacterTextSplitter rejects a bad chunk size, overlap or length function", () => {
  const lengthFunction = (t: string) => t.length;
  assert.throws(
    () => new RecursiveCharacterTextSplitter({ chunkSize: 0, lengthFunction }),
    RangeError,
  );
  assert.throws(
    () => new RecursiveCharacterTextSplitter({ chunkSize: 2.5, lengthFunction }),
    RangeError,
  );
  assert.throws(
    () => new RecursiveCharacterTextSplitter({ chunkSize: 10, chunkOverlap: 10, lengthFunction }),
    /chunkOverlap/,
  );
  assert.throws(
    () => new RecursiveCharacterTextSplitter({ chunkSize: 10, chunkOverlap: -1, lengthFunction }),
    RangeError,
  );
  assert.throws(
    () => new RecursiveCharacterTextSplitter({ chunkSize: 10, lengthFunction: 3 as never }),
    TypeError,
  );
});

Deno.test("RecursiveCharacterTextSplitter defaults the overlap to 200, at most half the chunk", () => {
  const lengthFunction = (t: string) => t.length;
  assert.equal(
    new RecursiveCharacterTextSplitter({ chunkSize: 4096, lengthFunction }).chunkOverlap,
    200,
  );
  assert.equal(
    new RecursiveCharacterTextSplitter({ chunkSize: 100, lengthFunction }).chunkOverlap,
    50,
  );
});

Deno.test("RecursiveCharacterTextSplitter prefers paragraph cuts", () => {
  const paragraphs = ["First paragraph has words.", "Second one is here.", "Third paragraph ends."];
  const splitter = new RecursiveCharacterTextSplitter({
    chunkSize: 30,
    chunkOverlap: 0,
    lengthFunction: (t) => t.length,
  });
  assert.deepEqual(splitter.splitText(paragraphs.join("\n\n")), paragraphs);
});

Deno.test("RecursiveCharacterTextSplitter drops whitespace-only chunks and keeps short text whole", () => {
  const splitter = new RecursiveCharacterTextSplitter({
    chunkSize: 5,
    chunkOverlap: 0,
    lengthFunction: (t) => t.length,
  });
  assert.deepEqual(splitter.splitText("ab\n\n   \n\n\n\ncd"), ["ab", "cd"]);
  assert.deepEqual(splitter.splitText("   \n\n "), []);
  const big = new RecursiveCharacterTextSplitter({
    chunkSize: 1000,
    lengthFunction: (t) => t.length,
  });
  assert.deepEqual(big.splitText("  short text  "), ["short text"]);
});

Deno.test("RecursiveCharacterTextSplitter cuts a long word between characters, surrogates intact", () => {
  const splitter = new RecursiveCharacterTextSplitter({
    chunkSize: 4,
    chunkOverlap: 0,
    lengthFunction: (t) => [...t].length,
  });
  const chunks = splitter.splitText("🙂🙂🙂🙂🙂🙂🙂🙂🙂");
  assert.deepEqual(chunks, ["🙂🙂🙂🙂", "🙂🙂🙂🙂", "🙂"]);
});

Deno.test("RecursiveCharacterTextSplitter overlaps neighbouring chunks", () => {
  const splitter = new RecursiveCharacterTextSplitter({
    chunkSize: 20,
    chunkOverlap: 8,
    lengthFunction: (t) => t.length,
  });
  const chunks = splitter.splitText("one two three four five six seven eight nine ten");
  for (let i = 1; i < chunks.length; i++) {
    const previousWords = chunks[i - 1].split(" ");
    assert.ok(
      chunks[i].startsWith(previousWords[previousWords.length - 1]),
      `${chunks[i - 1]} | ${chunks[i]}`,
    );
  }
});

function wordsOf(text: string): string[] {
  return text.split(/\s+/).filter(Boolean);
}

// Every word of the text appears, in order, in the chunks (overlaps skipped).
function assertNoWordLost(text: string, chunks: string[]): void {
  const expected = wordsOf(text);
  let at = 0;
  for (const chunk of chunks) {
    const words = wordsOf(chunk);
    // find where this chunk starts within the expected words (overlap goes back)
    let start = at;
    while (
      start > 0 && !(expected.slice(start, start + words.length).join(" ") === words.join(" "))
    ) start--;
    assert.deepEqual(
      expected.slice(start, start + words.length),
      words,
      `chunk not found in order at word ${at}`,
    );
    at = start + words.length;
  }
  assert.equal(at, expected.length);
}

Deno.test("RecursiveCharacterTextSplitter on generated text: chunks within the limit, no word lost (naive)", () => {
  const calc = new NaiveTextSplitterCalculator();
  for (let seed = 1; seed <= 25; seed++) {
    const text = generateText(seed, 200 + seed * 37);
    const chunkSize = 20 + (seed * 13) % 200;
    const splitter = new RecursiveCharacterTextSplitter({
      chunkSize,
      chunkOverlap: seed % 3 === 0 ? 0 : Math.floor(chunkSize / 4),
      lengthFunction: (t) => calc.getSplitterLength(t),
    });
    const chunks = splitter.splitText(text);
    assert.ok(chunks.length > 0);
    for (const chunk of chunks) {
      assert.ok(
        calc.getSplitterLength(chunk) <= chunkSize,
        `seed ${seed}: ${calc.getSplitterLength(chunk)} > ${chunkSize}`,
      );
      assert.notEqual(chunk.trim(), "");
    }
    assertNoWordLost(text, chunks);
  }
});

Deno.test("RecursiveCharacterTextSplitter with exact tokens: chunks within the limit, no word lost", async () => {
  for (const modelId of ["gpt-4", "gpt-4o"]) {
    const calc = new TiktokenLengthCalculator({ modelId });
    await calc.load();
    for (let seed = 100; seed < 110; seed++) {
      const text = generateText(seed, 3000);
      const chunkSize = 64 + seed % 7 * 50;
      const splitter = new RecursiveCharacterTextSplitter({
        chunkSize,
        chunkOverlap: 0,
        lengthFunction: (t) => calc.getSplitterLength(t),
      });
      const chunks = splitter.splitText(text);
      for (const chunk of chunks) assert.ok(await countTokens(chunk, modelId) <= chunkSize);
      assertNoWordLost(text, chunks);
    }
  }
});

Deno.test("TiktokenLengthCalculator throws a clear error before load()", () => {
  const calc = new TiktokenLengthCalculator({ modelId: "gpt-4" });
  assert.throws(() => calc.getSplitterLength("x"), /await calculator\.load\(\)/);
});

Deno.test("TiktokenLengthCalculator falls back to the naive estimate for models without an encoding", async () => {
  const calc = new TiktokenLengthCalculator({ modelId: "mistral-large-latest" });
  await calc.load();
  assert.equal(calc.getSplitterLength(LOREM), 143);
});

Deno.test("RecursiveCharacterTextSplitter cuts further when trimming a piece makes it longer (exact tokens)", async () => {
  // In cl100k_base " café" is one token but "café" is two: the trimmed chunk
  // must still fit, since a finer cut exists.
  const calc = new TiktokenLengthCalculator({ modelId: "gpt-4" });
  await calc.load();
  assert.equal(calc.getSplitterLength(" café"), 1);
  assert.equal(calc.getSplitterLength("café"), 2);
  const splitter = new RecursiveCharacterTextSplitter({
    chunkSize: 1,
    chunkOverlap: 0,
    lengthFunction: (t) => calc.getSplitterLength(t),
  });
  const chunks = splitter.splitText("I like café au lait");
  for (const chunk of chunks) {
    assert.ok(calc.getSplitterLength(chunk) <= 1, `${JSON.stringify(chunk)} is over the size`);
  }
  assert.equal(chunks.join(""), "Ilikecaféaulait");
});
