// An image's type comes from its bytes alone: text, a PDF or unknown bytes are refused on every
// backend, by imagePartFromBytes() and by the CLI, whatever the name or the Blob's type says, and
// nothing is sent.
import assert from "node:assert/strict";
import { imagePartFromBytes, InvalidImageError } from "../mod.ts";
import { everyBackend } from "./_backends.ts";
import { runCli } from "./_cli.ts";
import { startPeer } from "./_peer.ts";

const TEXT = new TextEncoder().encode("hello world\n");
const PDF = new TextEncoder().encode("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n");
const UNKNOWN = new Uint8Array([0x00, 0x01, 0x02, 0xfe, 0x80, 0x00]);

/** Non-images, each with the name and type that claim otherwise, and what the error calls it. */
const NON_IMAGES: [Blob | Uint8Array, string | undefined, RegExp][] = [
  [
    new File([TEXT], "notes.txt", { type: "text/plain" }),
    undefined,
    /"notes\.txt".*bytes are text/,
  ],
  [new File([TEXT], "photo.png", { type: "image/png" }), undefined, /"photo\.png".*bytes are text/],
  [new Blob([TEXT], { type: "image/jpeg" }), undefined, /"image".*bytes are text/],
  [TEXT, "photo.jpg", /"photo\.jpg".*bytes are text/],
  [TEXT, undefined, /"image".*bytes are text/],
  [PDF, "scan.png", /"scan\.png".*bytes are a PDF document/],
  [new Blob([PDF]), "scan.webp", /"scan\.webp".*bytes are a PDF document/],
  [UNKNOWN, undefined, /"image".*bytes are unknown bytes/],
  [new File([UNKNOWN], "x.gif"), undefined, /"x\.gif".*bytes are unknown bytes/],
];

function isRefusal(pattern: RegExp): (error: Error) => boolean {
  return (error) => {
    assert.ok(error instanceof InvalidImageError, String(error));
    assert.match(error.message, /is not a PNG, JPEG, GIF or WebP image: its bytes are/);
    assert.match(error.message, pattern);
    return true;
  };
}

/** describeImage() throws at the call (bytes) or rejects when read (a Blob). */
async function assertRefused(
  describe: () => { text(): Promise<string> },
  pattern: RegExp,
): Promise<void> {
  let response: { text(): Promise<string> };
  try {
    response = describe();
  } catch (error) {
    isRefusal(pattern)(error as Error);
    return;
  }
  await assert.rejects(response.text(), isRefusal(pattern));
}

Deno.test("describeImage() refuses text, a PDF and unknown bytes on every backend, whatever the name or type says, and sends nothing", async () => {
  await using peer = await startPeer();
  await using every = await everyBackend(peer);
  for (const [alias, backend] of Object.entries(every.backends)) {
    for (const [image, fileName, pattern] of NON_IMAGES) {
      const options = fileName === undefined
        ? { image, prompt: "Alt text" }
        : { image, prompt: "Alt text", fileName };
      await assertRefused(() => backend.describeImage(options), pattern);
    }
    assert.equal(peer.requests.length, 0, alias);
  }
});

Deno.test("describeImage() refuses raw bytes that are no image at the call", async () => {
  await using peer = await startPeer();
  await using every = await everyBackend(peer);
  for (const [alias, backend] of Object.entries(every.backends)) {
    assert.throws(
      () => backend.describeImage({ image: TEXT, prompt: "Alt text", fileName: "a.png" }),
      isRefusal(/"a\.png"/),
      alias,
    );
  }
});

Deno.test("describeImage() still sends real images on every backend", async () => {
  await using peer = await startPeer();
  await using every = await everyBackend(peer);
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
  for (const [alias, backend] of Object.entries(every.backends)) {
    // A PNG named like a text file is a PNG: the bytes decide.
    const answer = await backend.describeImage({
      image: new File([png], "notes.txt", { type: "text/plain" }),
      prompt: "Alt text",
    }).text();
    assert.match(answer, alias === "echo" ? /notes\.txt/ : /\[image image\/png 12 bytes\]/, alias);
  }
  assert.equal(peer.requests.length, 3);
});

Deno.test("imagePartFromBytes() refuses text, a PDF and unknown bytes whatever the name or type says", async () => {
  for (const [image, fileName, pattern] of NON_IMAGES) {
    await assert.rejects(
      imagePartFromBytes(image, fileName === undefined ? {} : { fileName }),
      isRefusal(pattern),
    );
  }
});

Deno.test("imagePartFromBytes() names an unsupported image type and what the name claims", async () => {
  const tiff = new Uint8Array([0x49, 0x49, 0x2a, 0x00, 1, 2]);
  await assert.rejects(
    imagePartFromBytes(tiff, { fileName: "scan.png" }),
    isRefusal(/bytes are a TIFF image \(image\/tiff\) \(its name or type says image\/png/),
  );
  const svg = new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg"></svg>');
  await assert.rejects(
    imagePartFromBytes(new File([svg], "logo.svg")),
    isRefusal(/bytes are an SVG image \(image\/svg\+xml\)/),
  );
});

Deno.test("cli describe-image refuses a file that is no image with the message, exit 1, nothing sent", async () => {
  const path = await Deno.makeTempFile({ suffix: ".json" });
  await using peer = await startPeer();
  try {
    for (
      const backend of [
        { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 100 } },
        {
          CLASS: "openai",
          CONFIG: { MODEL_ID: "gpt-4o", OPENAI_API_KEY: "k", API_BASE: peer.url },
        },
      ]
    ) {
      await Deno.writeTextFile(
        path,
        JSON.stringify({ BACKENDS: { vision: backend }, IMAGE_DESCRIPTION_PROVIDER: "vision" }),
      );
      const run = await runCli(["describe-image", "--settings", path, "docs/README.md"], {
        files: { "docs/README.md": "# A title\n\nSome text.\n" },
      });
      assert.equal(run.code, 1, run.stderr);
      assert.equal(run.stdout, "");
      assert.match(
        run.stderr,
        /^Error: InvalidImageError: The image "README\.md" is not a PNG, JPEG, GIF or WebP image: its bytes are text/,
      );
    }
    assert.equal(peer.requests.length, 0);
  } finally {
    await Deno.remove(path);
  }
});
