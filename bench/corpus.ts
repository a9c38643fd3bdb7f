/**
 * Deterministic bench and test corpora (no downloads): a seeded PRNG drives
 * generators of English-like prose and of high-variety text.
 *
 * - {@link prose}: sentences from a word list with a Zipf-like frequency,
 *   capitals, commas, quotes, contractions, numbers and paragraph breaks.
 * - {@link variety}: random-syllable words, numbers, code, CJK, Cyrillic,
 *   Arabic, Greek, accented Latin and emoji (with ZWJ sequences and skin
 *   tones), so most pieces are new.
 * - {@link adversarial}: edge cases for exactness tests.
 *
 * @module
 */

/**
 * A seeded PRNG (mulberry32): returns floats in [0, 1).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rng } from "./corpus.ts";
 * assert.equal(rng(1)(), rng(1)());
 * ```
 */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  "the of and to a in is it you that he was for on are with as I his they be at one have this " +
  "from or had by hot word but what some we can out other were all there when up use your how " +
  "said an each she which do their time if will way about many then them write would like so " +
  "these her long make thing see him two has look more day could go come did number sound no " +
  "most people my over know water than call first who may down side been now find any new work " +
  "part take get place made live where after back little only round man year came show every " +
  "good me give our under name very through just form sentence great think say help low line " +
  "differ turn cause much mean before move right boy old too same tell does set three want air " +
  "well also play small end put home read hand port large spell add even land here must big " +
  "high such follow act why ask men change went light kind off need house picture try us again " +
  "animal point mother world near build self earth father head stand own page should country " +
  "found answer school grow study still learn plant cover food sun four between state keep eye " +
  "never last let thought city tree cross farm hard start might story saw far sea draw left late " +
  "run while press close night real life few north open seem together next white children begin " +
  "got walk example ease paper group always music those both mark often letter until mile river " +
  "car feet care second book carry took science eat room friend began idea fish mountain stop " +
  "once base hear horse cut sure watch color face wood main enough plain girl usual young ready " +
  "above ever red list though feel talk bird soon body dog family direct pose leave song measure " +
  "door product black short numeral class wind question happen complete ship area half rock " +
  "order fire south problem piece told knew pass since top whole king space heard best hour " +
  "better true during hundred five remember step early hold west ground interest reach fast verb " +
  "sing listen six table travel less morning ten simple several vowel toward war lay against " +
  "pattern slow center love person money serve appear road map rain rule govern pull cold " +
  "notice voice unit power town fine certain fly fall lead cry dark machine note wait plan " +
  "figure star box noun field rest correct able pound done beauty drive stood contain front " +
  "teach week final gave green quick develop ocean warm free minute strong special mind behind " +
  "clear tail produce fact street inch multiply nothing course stay wheel full force blue " +
  "object decide surface deep moon island foot system busy test record boat common gold " +
  "possible plane stead dry wonder laugh thousand ago ran check game shape equate miss brought " +
  "heat snow tire bring yes distant fill east paint language among grand ball yet wave drop " +
  "heart present heavy dance engine position arm wide sail material size vary settle speak " +
  "weight general ice matter circle pair include divide syllable felt perhaps pick sudden count " +
  "square reason length represent art subject region energy hunt probable bed brother egg ride " +
  "cell believe fraction forest sit race window store summer train sleep prove lone exercise " +
  "wall catch mount wish sky board joy winter sat written wild instrument kept glass grass cow " +
  "job edge sign visit past soft fun bright gas weather month million bear finish happy hope " +
  "flower clothe strange gone jump baby eight village meet root buy raise solve metal whether " +
  "push seven paragraph third shall held hair describe cook floor either result burn hill safe " +
  "cat century consider type law bit coast copy phrase silent tall sand soil roll temperature " +
  "finger industry value fight lie beat excite natural view sense ear else quite broke case " +
  "middle kill son lake moment scale loud spring observe child straight consonant nation " +
  "dictionary milk speed method organ pay age section dress cloud surprise quiet stone tiny " +
  "climb cool design poor lot experiment bottom key iron single stick flat twenty skin smile " +
  "crease hole trade melody trip office receive row mouth exact symbol die least trouble shout " +
  "except wrote seed tone join suggest clean break lady yard rise bad blow oil blood touch grew " +
  "cent mix team wire cost lost brown wear garden equal sent choose fell fit flow fair bank " +
  "collect save control decimal gentle woman captain practice separate difficult doctor please " +
  "protect noon whose locate ring character insect caught period indicate radio spoke atom " +
  "human history effect electric expect crop modern element hit student corner party supply " +
  "bone rail imagine provide agree thus capital chair danger fruit rich thick soldier process " +
  "operate guess necessary sharp wing create neighbor wash bat rather crowd corn compare poem " +
  "string bell depend meat rub tube famous dollar stream fear sight thin triangle planet hurry " +
  "chief colony clock mine tie enter major fresh search send yellow gun allow print dead spot " +
  "desert suit current lift rose continue block chart hat sell success company subtract event " +
  "particular deal swim term opposite wife shoe shoulder spread arrange camp invent cotton born " +
  "determine quart nine truck noise level chance gather shop stretch throw shine property " +
  "column molecule select wrong gray repeat require broad prepare salt nose plural anger claim " +
  "continent oxygen sugar death pretty skill women season solution magnet silver thank branch " +
  "match suffix especially fig afraid huge sister steel discuss forward similar guide " +
  "experience score apple bought led pitch coat mass card band rope slip win dream evening " +
  "condition feed tool total basic smell valley nor double seat arrive master track parent " +
  "shore division sheet substance favor connect post spend chord fat glad original share " +
  "station dad bread charge proper bar offer segment slave duck instant market degree populate " +
  "chick dear enemy reply drink occur support speech nature range steam motion path liquid log " +
  "meant quotient teeth shell neck internationalization counterrevolutionary " +
  "misunderstanding incomprehensibility administration responsibility photosynthesis"
).split(" ");

const CONTRACTIONS = ["don't", "it's", "we're", "they've", "I'm", "you'll", "he'd", "can't"];

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)];
}

// Zipf-like: index = floor(len * u^3) favours the common words at the start.
function word(rand: () => number): string {
  const u = rand();
  return WORDS[Math.floor(WORDS.length * u * u * u)];
}

/**
 * English-like prose of at least `size` UTF-16 units (ASCII, so bytes too).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { prose } from "./corpus.ts";
 * assert.equal(prose(500, 7), prose(500, 7));
 * assert.ok(prose(500, 7).length >= 500);
 * ```
 */
export function prose(size: number, seed: number): string {
  const rand = rng(seed);
  const parts: string[] = [];
  let length = 0;
  while (length < size) {
    const sentences = 2 + Math.floor(rand() * 6);
    let paragraph = "";
    for (let s = 0; s < sentences; s++) {
      const words = 4 + Math.floor(rand() * 18);
      let sentence = "";
      for (let w = 0; w < words; w++) {
        const r = rand();
        let next = r < 0.03
          ? pick(rand, CONTRACTIONS)
          : r < 0.045
          ? String(Math.floor(rand() * 10 ** (1 + Math.floor(rand() * 5))))
          : word(rand);
        if (w === 0) next = next[0].toUpperCase() + next.slice(1);
        else if (rand() < 0.04) next = next[0].toUpperCase() + next.slice(1);
        sentence += w === 0 ? next : " " + next;
        if (w > 0 && w < words - 1 && rand() < 0.08) sentence += pick(rand, [",", ",", ";", " -"]);
      }
      const end = pick(rand, [".", ".", ".", ".", "?", "!"]);
      sentence = rand() < 0.07 ? `"${sentence}${end}"` : sentence + end;
      paragraph += s === 0 ? sentence : " " + sentence;
    }
    parts.push(paragraph);
    length += paragraph.length + 2;
  }
  return parts.join("\n\n");
}

const CONSONANTS = "bcdfghjklmnprstvwxzqy";
const VOWELS = "aeiouy";

function syllableWord(rand: () => number): string {
  let w = "";
  const syllables = 1 + Math.floor(rand() * 5);
  for (let i = 0; i < syllables; i++) {
    w += CONSONANTS[Math.floor(rand() * CONSONANTS.length)];
    w += VOWELS[Math.floor(rand() * VOWELS.length)];
    if (rand() < 0.4) w += CONSONANTS[Math.floor(rand() * CONSONANTS.length)];
  }
  const r = rand();
  if (r < 0.15) return w.toUpperCase();
  if (r < 0.4) return w[0].toUpperCase() + w.slice(1);
  return w;
}

function range(rand: () => number, from: number, to: number, length: number): string {
  let s = "";
  for (let i = 0; i < length; i++) {
    s += String.fromCodePoint(from + Math.floor(rand() * (to - from)));
  }
  return s;
}

const EMOJI = [
  "😀",
  "🎉",
  "👍🏽",
  "👩‍💻",
  "👨‍👩‍👧‍👦",
  "🏳️‍🌈",
  "❤️",
  "🇫🇷",
  "🤖",
  "🚀",
  "✅",
];
const CODE = [
  "function ",
  "const ",
  "return ",
  " => ",
  "{\n  ",
  "\n}\n",
  "();",
  " === ",
  "[i]",
  "if (",
  ") {",
  "for (let i = 0; i < n; i++) ",
  "    ",
  "\t",
  "// TODO: ",
  "#include <stdio.h>\n",
  "0x1F",
  "self.__init__",
  "&&",
  "||",
  "/* */",
  "\r\n",
];

function varietyItem(rand: () => number): string {
  const r = rand();
  if (r < 0.3) return syllableWord(rand);
  if (r < 0.4) {
    return String(Math.floor(rand() * 1e9)) + (rand() < 0.3 ? "." + Math.floor(rand() * 1e4) : "");
  }
  if (r < 0.5) {
    const name = syllableWord(rand);
    return pick(rand, CODE) + name + (rand() < 0.5 ? syllableWord(rand).toUpperCase() : "") +
      pick(rand, CODE);
  }
  if (r < 0.6) return range(rand, 0x4e00, 0x9fff, 1 + Math.floor(rand() * 8)); // CJK
  if (r < 0.67) return range(rand, 0x0430, 0x044f, 2 + Math.floor(rand() * 8)); // Cyrillic
  if (r < 0.74) return range(rand, 0x0627, 0x064a, 2 + Math.floor(rand() * 7)); // Arabic
  if (r < 0.78) return range(rand, 0x03b1, 0x03c9, 2 + Math.floor(rand() * 7)); // Greek
  if (r < 0.82) return range(rand, 0x3041, 0x3096, 2 + Math.floor(rand() * 6)); // Hiragana
  if (r < 0.87) return range(rand, 0x00e0, 0x00ff, 1 + Math.floor(rand() * 4)) + syllableWord(rand);
  if (r < 0.92) return pick(rand, EMOJI) + (rand() < 0.3 ? pick(rand, EMOJI) : "");
  if (r < 0.96) return pick(rand, ["!?", "...", "«»", "—", "“", "”", "€", "%", "½", "²", "#@"]);
  return pick(rand, ["\n", "\n\n", "  ", "\t", " \u00a0 "]);
}

/**
 * High-variety text of at least `size` UTF-8 bytes where most pieces are new.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { variety } from "./corpus.ts";
 * assert.equal(variety(500, 3), variety(500, 3));
 * ```
 */
export function variety(size: number, seed: number): string {
  const rand = rng(seed);
  const parts: string[] = [];
  const encoder = new TextEncoder();
  let bytes = 0;
  while (bytes < size) {
    const item = varietyItem(rand);
    const sep = rand() < 0.85 ? " " : "";
    parts.push(sep + item);
    bytes += encoder.encode(item).length + sep.length;
  }
  return parts.join("");
}

/**
 * Adversarial strings for exactness tests.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { adversarial } from "./corpus.ts";
 * assert.ok(adversarial().includes(""));
 * ```
 */
export function adversarial(): string[] {
  const cases = [
    "",
    " ",
    "\n",
    "a",
    "<|endoftext|>",
    "Hello <|endoftext|> world <|fim_prefix|><|fim_middle|><|fim_suffix|><|endofprompt|>",
    " ".repeat(300),
    " ".repeat(299) + "a",
    "\n".repeat(200),
    "\r\n".repeat(100) + "x",
    " \n \n  \t\n  x  \t ",
    "1".repeat(301),
    "12345678901234567890 3.14159 1,000,000 0x1F",
    "x".repeat(400),
    "ab".repeat(200),
    "日本語".repeat(60),
    "😀".repeat(60),
    "👨‍👩‍👧‍👦🏳️‍🌈👍🏽",
    "\ud800",
    "a\udc00b",
    "\ud83d",
    "x\ud83dy\ude00z",
    "don't I'M you'RE they'Ve we'LL he'D 's 't 'x",
    "HTTPServer XMLHttpRequest iPhone McDonald's ǅemal Ⅻ",
    "e\u0301\u0301 \u0301\u0301!! a\u0300b",
    "\u00a0\u00a0x \u2003 y\u3000z \ufeffw \u0085v \u2028u",
    "Ⅻ½²³ ٣٤٥ १२३",
    "𝐀𝐁𝐂 𝒶𝒷",
    "Привет, мир! مرحبا بالعالم",
    "(hello) [world] {x}!!! ...\n\n/// foo//bar\n/",
    "\t\tindented\n\t\tcode();\n",
    "\x00\x01\x1f\x7f",
    "''''''' '''s",
    " !\n!\r\n !/\n/",
    "Ǆǅǆ ʰʱ ǃǂ ä̈",
  ];
  return cases;
}
