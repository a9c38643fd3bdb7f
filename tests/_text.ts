// Deterministic generated text for tests.

/** A small seeded PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  "the of and to in is that for it as was with be by on not he this are or his from at which but " +
  "have an they you were her she there been one all we their has would when if so no will more can " +
  "content editor page article image model token window chunk paragraph sentence summary correct " +
  "Wagtail Deno TypeScript OpenAI naïve café déjà 東京 привет مرحبا 🙂 2026 3.14 x_y"
).split(" ");

/** English-like text with sentences, lines and paragraphs. */
export function generateText(seed: number, words: number): string {
  const random = prng(seed);
  let out = "";
  let sentence = 0;
  for (let i = 0; i < words; i++) {
    let word = WORDS[Math.floor(random() * WORDS.length)];
    if (sentence === 0) word = word[0].toUpperCase() + word.slice(1);
    out += word;
    sentence++;
    if (sentence > 4 && random() < 0.15) {
      out += random() < 0.8 ? "." : "!";
      sentence = 0;
      const r = random();
      out += r < 0.1 ? "\n\n" : r < 0.2 ? "\n" : " ";
    } else {
      out += random() < 0.05 ? ", " : " ";
    }
  }
  return out;
}
