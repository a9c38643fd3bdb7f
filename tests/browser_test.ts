// The editor page (demo/editor/) in a real browser: headless Chromium, driven
// by puppeteer-core over the DevTools protocol, against the editor server and
// its offline peer on 127.0.0.1. Shows a button per prompt of the settings
// (a PROMPTS entry included), types text with a bold word, corrects it with
// streamed words and accepts the diff (the bold word stays bold), runs the
// PROMPTS entry and a completion, stops an answer mid-way (the peer sees the
// request end), gets alt text for demo/leaf.png, and shows a 429 as a message.
// The editor server's own answers to bad requests are checked without a browser.
//
// It needs Chromium (Debian's `chromium`; `.ci/run` installs it, and
// CHROMIUM_PATH names another). Without one it is skipped with a message,
// except under CI, where it fails. docs/editor.png is written when it is
// missing or with UPDATE_SCREENSHOT=1.
import assert from "node:assert/strict";
import puppeteer, { type Browser, type Page } from "npm:puppeteer-core@^24";
import { DEFAULT_PROMPTS as PROMPTS } from "../mod.ts";
import { OFFLINE_ALT_TEXT, startEditor } from "../demo/editor/server.ts";

const ROOT = new URL("../", import.meta.url);

function findChromium(): string | undefined {
  const named = Deno.env.get("CHROMIUM_PATH");
  const candidates = named ? [named] : [];
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (!dir) continue;
    for (const name of ["chromium", "chromium-browser", "google-chrome"]) {
      candidates.push(`${dir}/${name}`);
    }
  }
  candidates.push("/usr/bin/chromium");
  for (const candidate of candidates) {
    try {
      if (Deno.statSync(candidate).isFile) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

const CHROMIUM = findChromium();
const IN_CI = Deno.env.get("CI") === "true";
if (CHROMIUM === undefined && !IN_CI) {
  console.warn(
    "tests/browser_test.ts: SKIPPED, no Chromium found (install Debian's chromium, as .ci/run " +
      "does, or set CHROMIUM_PATH)",
  );
}

// Chromium as root, on a machine with no outside network: no sandbox, no GPU, and none of
// its own background connections (which this network refuses).
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];

// Generous bounds for a loaded 2-core machine: every wait ends on an event well before them.
const WAIT = { timeout: 60_000 };

/** Waits for `condition` in this process (checked every 10 ms, at most 60 s). */
async function waitFor(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 6000 && !condition(); i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.ok(condition(), `never happened: ${what}`);
}

async function setText(page: Page, text: string): Promise<void> {
  await page.click("#editor");
  await page.keyboard.down("Control");
  await page.keyboard.press("KeyA");
  await page.keyboard.up("Control");
  await page.keyboard.press("Backspace");
  await page.keyboard.type(text);
}

/** Types `text` in bold (Ctrl+B, as an editor does), then turns bold off. */
async function bold(page: Page, text: string): Promise<void> {
  await page.keyboard.down("Control");
  await page.keyboard.press("KeyB");
  await page.keyboard.up("Control");
  await page.keyboard.type(text);
  await page.keyboard.down("Control");
  await page.keyboard.press("KeyB");
  await page.keyboard.up("Control");
}

/** A prompt of the settings' own (the offline model corrects for any prompt but a continuation). */
const TIDY = {
  LABEL: "Tidy up",
  DESCRIPTION: "Fix typos, keep the wording",
  PROMPT: "Fix the typos of the text that follows; keep every tag. Reply with the text only.",
  METHOD: "replace",
} as const;

/** The text of a chat message as the peer received it (a string, or text parts). */
// deno-lint-ignore no-explicit-any
function messageText(message: any): string {
  if (typeof message.content === "string") return message.content;
  // deno-lint-ignore no-explicit-any
  return message.content.map((part: any) => part.text ?? "").join("");
}

// In-page code is given as strings: this program has no DOM types.
const textOf = (page: Page, selector: string): Promise<string> =>
  page.evaluate(`document.querySelector(${JSON.stringify(selector)}).innerText.trim()`) as Promise<
    string
  >;

Deno.test({
  name:
    "the editor page in Chromium: prompt buttons, streamed correction and diff with markup kept, Stop, alt text, a 429 message",
  ignore: CHROMIUM === undefined && !IN_CI,
  // puppeteer's pipes and timers outlive single steps; the browser and servers end in finally.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    assert.ok(CHROMIUM, "CI must have Chromium: .ci/run installs Debian's chromium");
    // 150 ms between words: the answer visibly streams, a few seconds in all.
    const editor = await startEditor({
      port: 0,
      wordDelayMs: 150,
      onError: () => {},
      prompts: { tidy: TIDY },
    });
    const peer = editor.peer!;
    const profile = await Deno.makeTempDir({ prefix: "chromium_profile_" });
    let browser: Browser | undefined;
    try {
      browser = await puppeteer.launch({
        executablePath: CHROMIUM,
        headless: true,
        userDataDir: profile,
        args: FLAGS,
        timeout: 60_000,
        protocolTimeout: 120_000,
      });
      const page = await browser.newPage();
      page.setDefaultTimeout(WAIT.timeout);
      await page.setViewport({ width: 1000, height: 700 });
      await page.goto(editor.url, { waitUntil: "load" });
      await page.waitForSelector("body[data-ready=true]", WAIT);
      // A button per prompt: the built-in ones, then the PROMPTS entry, DESCRIPTION as tooltip.
      assert.deepEqual(
        await page.$$eval(
          "button[data-prompt]",
          (buttons) => buttons.map((b) => [b.dataset.prompt, b.textContent, b.title]),
        ),
        [
          ["correction", "AI Correction", "Correct grammar, spelling and punctuation"],
          ["completion", "AI Completion", "Continue the text"],
          ["tidy", TIDY.LABEL, TIDY.DESCRIPTION],
        ],
      );

      await t.step(
        "type text with a bold word, Correct: the words stream in, the diff is shown and accepted, bold stays",
        async () => {
          await setText(
            page,
            "Teh garden was quiet. I was suprised to recieve a letter wich said the roses " +
              "had won ",
          );
          await bold(page, "first prize");
          await page.keyboard.type(" becuase of teh colour.");
          assert.equal(await page.$eval("#editor b", (b) => b.textContent), "first prize");
          // Every change of the answer, as the page shows it.
          await page.evaluate(`
          globalThis.seen = [];
          const answer = document.getElementById("answer");
          new MutationObserver(() => seen.push(answer.textContent))
            .observe(answer, { childList: true, subtree: true });
        `);
          await page.click("button[data-prompt=correction]");
          await page.waitForSelector("body[data-state=done]", WAIT);
          const corrected =
            "The garden was quiet. I was surprised to receive a letter which said " +
            "the roses had won first prize because of the colour.";
          const seen = await page.evaluate("globalThis.seen") as string[];
          const partial = seen.filter((text) => text !== "" && text !== corrected);
          assert.ok(
            partial.length >= 3,
            `at least three updates before the end, got ${JSON.stringify(seen)}`,
          );
          for (const text of partial) assert.ok(corrected.startsWith(text), text);
          assert.equal(await textOf(page, "#answer"), corrected);

          await page.waitForSelector("#review:not([hidden])", WAIT);
          const deleted = await page.$$eval("#diff del", (all) => all.map((e) => e.textContent));
          const inserted = await page.$$eval("#diff ins", (all) => all.map((e) => e.textContent));
          assert.deepEqual(deleted, ["Teh", "suprised", "recieve", "wich", "becuase", "teh"]);
          assert.deepEqual(inserted, ["The", "surprised", "receive", "which", "because", "the"]);
          // The diff shows the markup as it will be.
          assert.equal(await page.$eval("#diff b", (b) => b.textContent), "first prize");
          // The page sent the editor's HTML, bold included, with the prompt of the settings.
          const sent = peer.lastRequest().body.messages;
          assert.equal(messageText(sent[0]), PROMPTS.correction.PROMPT);
          assert.match(messageText(sent.at(-1)), /had won <b>first prize<\/b> becuase/);

          const screenshot = await page.screenshot({ type: "png", fullPage: true });
          assert.deepEqual([...screenshot.subarray(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
          const target = new URL("docs/editor.png", ROOT);
          let exists = true;
          try {
            await Deno.stat(target);
          } catch {
            exists = false;
          }
          if (!exists || Deno.env.get("UPDATE_SCREENSHOT") === "1") {
            await Deno.writeFile(target, screenshot);
          }

          await page.click("#accept");
          await page.waitForSelector("#review[hidden]", WAIT);
          assert.equal(await textOf(page, "#editor"), corrected);
          assert.equal(
            await page.$eval("#editor", (e) => e.innerHTML),
            "<p>The garden was quiet. I was surprised to receive a letter which said the roses " +
              "had won <b>first prize</b> because of the colour.</p>",
            "the bold markup survived the correction",
          );
        },
      );

      await t.step(
        "the PROMPTS entry's button runs its prompt; a completion is added after the text",
        async () => {
          await setText(page, "Teh end.");
          await page.click("button[data-prompt=tidy]");
          await page.waitForSelector("#review:not([hidden])", WAIT);
          assert.equal(messageText(peer.lastRequest().body.messages[0]), TIDY.PROMPT);
          assert.deepEqual(await page.$$eval("#diff ins", (all) => all.map((e) => e.textContent)), [
            "The",
          ]);
          await page.click("#accept");
          await page.waitForSelector("#review[hidden]", WAIT);

          await page.click("button[data-prompt=completion]");
          await page.waitForSelector("#review:not([hidden])", WAIT);
          assert.equal(
            await textOf(page, "#diff ins"),
            "And so the story went on, one careful word after another.",
          );
          await page.click("#reject");
          await page.waitForSelector("#review[hidden]", WAIT);
          assert.equal(await textOf(page, "#editor"), "The end.");
        },
      );

      await t.step(
        "Stop mid-answer: the page says so and the peer sees the request end",
        async () => {
          peer.enqueue({ stream: ["This", " answer", " stalls"], chunkDelayMs: 600_000 });
          await page.click("button[data-prompt=correction]");
          await page.waitForFunction(
            `document.getElementById("answer").textContent === "This"`,
            WAIT,
          );
          assert.match(await textOf(page, "#status"), /^Streaming… chunk 1 of 1$/);
          assert.equal(peer.active, 1);
          await page.click("#stop");
          await page.waitForSelector("body[data-state=stopped]", WAIT);
          assert.equal(await textOf(page, "#status"), "Stopped.");
          await waitFor(() => peer.active === 0, "the peer saw the request end");
        },
      );

      await t.step("upload demo/leaf.png: its alt text is shown and set on the image", async () => {
        const input = await page.$("#image");
        await input!.uploadFile(new URL("demo/leaf.png", ROOT).pathname);
        await page.click("#alt");
        await page.waitForSelector("body[data-state=done]", WAIT);
        assert.equal(await textOf(page, "#alt-text"), `Alt text: ${OFFLINE_ALT_TEXT}`);
        assert.equal(await page.$eval("#editor img", (img) => img.alt), OFFLINE_ALT_TEXT);
        const sent = peer.lastRequest().body.messages[0].content;
        assert.match(sent[1].image_url.url, /^data:image\/png;base64,/);
      });

      await t.step("a 429 from the service is shown as a message with its status", async () => {
        peer.enqueue({
          status: 429,
          error: "Rate limit reached for sk-offline-editor",
          headers: { "retry-after": "30" },
        });
        await page.click("button[data-prompt=correction]");
        await page.waitForSelector("body[data-state=error]", WAIT);
        assert.equal(
          await textOf(page, "#error"),
          "Error 429: The AI service is busy: try again in 30 seconds.",
        );
      });
    } finally {
      await browser?.close().catch(() => {});
      await editor.close();
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test("the editor server: prompts from the settings, bad requests as JSON errors", async () => {
  await using editor = await startEditor({
    port: 0,
    wordDelayMs: 0,
    onError: () => {},
    prompts: { tidy: TIDY, completion: null },
  });
  const prompts = await (await fetch(new URL("api/prompts", editor.url))).json();
  // What a button needs: never the prompt text.
  assert.deepEqual(prompts, [
    {
      name: "correction",
      label: "AI Correction",
      description: "Correct grammar, spelling and punctuation",
      method: "replace",
    },
    { name: "tidy", label: TIDY.LABEL, description: TIDY.DESCRIPTION, method: "replace" },
  ]);
  const post = (name: string, body: string) =>
    fetch(new URL(`api/prompts/${name}`, editor.url), { method: "POST", body });
  const cases: [string, string, number, RegExp][] = [
    ["completion", '{"text": "Hi"}', 404, /^Unknown prompt "completion"$/],
    ["tidy", "not json", 400, /^The body must be JSON/],
    ["tidy", '{"text": "  "}', 400, /^There is no text\.$/],
    ["tidy", '{"text": "Hi", "format": "rtf"}', 400, /^The format must be "html"/],
    ["tidy", JSON.stringify({ text: "x".repeat(100_001) }), 413, /^The text is over/],
  ];
  for (const [name, body, status, message] of cases) {
    const response = await post(name, body);
    assert.equal(response.status, status, body.slice(0, 40));
    assert.match((await response.json()).error.message, message);
  }
  assert.equal(editor.peer!.requests.length, 0);
  // A run in another format: the text of a Markdown document, corrected.
  const markdown = await post(
    "tidy",
    JSON.stringify({ text: "# Teh title\n", format: "markdown" }),
  );
  assert.match(await markdown.text(), /event: done\ndata: \{"text":"# The title\\n"/);
});

Deno.test("the editor server: a prompt whose name needs encoding in a URL runs (the page's encodeURIComponent route)", async () => {
  await using editor = await startEditor({
    port: 0,
    wordDelayMs: 0,
    onError: () => {},
    prompts: { "tidy up.v2 é/x": TIDY },
  });
  const prompts = await (await fetch(new URL("api/prompts", editor.url))).json();
  const name = prompts.find((prompt: { label: string }) => prompt.label === TIDY.LABEL).name;
  assert.equal(name, "tidy up.v2 é/x");
  // As the page posts it.
  const response = await fetch(new URL(`api/prompts/${encodeURIComponent(name)}`, editor.url), {
    method: "POST",
    body: JSON.stringify({ text: "<p>Teh cat.</p>" }),
  });
  assert.equal(response.status, 200);
  assert.match(await response.text(), /event: done\ndata: \{"text":"<p>The cat.<\/p>"/);
  // A name that is not valid percent-encoding is a 400, not a crash.
  const bad = await fetch(new URL("api/prompts/%E0%A4%A", editor.url), {
    method: "POST",
    body: "{}",
  });
  assert.equal(bad.status, 400);
  await bad.body?.cancel();
});
