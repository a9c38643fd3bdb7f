import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { imagePartFromBytes, InvalidImageError } from "../mod.ts";

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
const JPEG = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 16]);
const GIF = new TextEncoder().encode("GIF89a....");
const WEBP = new Uint8Array([0x52, 0x49, 0x46, 0x46, 0, 0, 0, 0, 0x57, 0x45, 0x42, 0x50, 1, 2]);

function reference(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

Deno.test("imagePartFromBytes() builds an image part with a data URL of the bytes", async () => {
  const part = await imagePartFromBytes(PNG);
  assert.deepEqual(part, {
    type: "image_url",
    image_url: { url: `data:image/png;base64,${reference(PNG)}` },
  });
  assert.ok(!("detail" in part.image_url));
});

Deno.test("imagePartFromBytes() takes a Blob, a File and bytes with a file name", async () => {
  const cases: [Uint8Array | Blob, string | undefined, string][] = [
    [new Blob([GIF]), undefined, "image/gif"],
    [new File([WEBP], "photo.webp"), undefined, "image/webp"],
    [PNG, "pic.png", "image/png"],
    [new Blob([GIF]), "pic.gif", "image/gif"],
  ];
  for (const [image, fileName, mime] of cases) {
    const bytes = image instanceof Uint8Array ? image : new Uint8Array(await image.arrayBuffer());
    const part = await imagePartFromBytes(image, fileName === undefined ? {} : { fileName });
    assert.equal(part.image_url.url, `data:${mime};base64,${reference(bytes)}`);
  }
});

Deno.test("imagePartFromBytes() takes the type from the bytes, never from the name", async () => {
  const cases: [Uint8Array, string | undefined, string][] = [
    [JPEG, "x.png", "image/jpeg"],
    [PNG, "x.gif", "image/png"],
    [GIF, "PIC.JPG", "image/gif"],
    [WEBP, "noext", "image/webp"],
    [JPEG, "photo.constructor", "image/jpeg"],
    [PNG, undefined, "image/png"],
  ];
  for (const [image, fileName, mime] of cases) {
    const part = await imagePartFromBytes(image, fileName === undefined ? {} : { fileName });
    assert.ok(part.image_url.url.startsWith(`data:${mime};base64,`), `${fileName}`);
  }
});

Deno.test("imagePartFromBytes() sets detail when given", async () => {
  for (const detail of ["auto", "low", "high"] as const) {
    const part = await imagePartFromBytes(PNG, { detail });
    assert.equal(part.image_url.detail, detail);
  }
});

Deno.test("imagePartFromBytes() encodes every length and byte value like Node's Buffer", async () => {
  // A JPEG signature, then every length of tail (so every base64 padding) and every byte value.
  for (let length = 3; length <= 9; length++) {
    const bytes = new Uint8Array(length).map((_, i) => i < 3 ? JPEG[i] : 250 + i);
    const part = await imagePartFromBytes(bytes, { fileName: "x.png" });
    assert.equal(part.image_url.url, `data:image/jpeg;base64,${reference(bytes)}`);
  }
  const all = new Uint8Array(256 + PNG.length);
  all.set(PNG);
  all.set(new Uint8Array(256).map((_, i) => i), PNG.length);
  const part = await imagePartFromBytes(all, { fileName: "x.png" });
  assert.equal(part.image_url.url, `data:image/png;base64,${reference(all)}`);
  // A view into a larger buffer encodes only its own bytes.
  const view = new Uint8Array([9, 9, ...PNG, 9]).subarray(2, 2 + PNG.length);
  assert.equal(
    (await imagePartFromBytes(view)).image_url.url,
    (await imagePartFromBytes(PNG)).image_url.url,
  );
});

Deno.test("imagePartFromBytes() encodes a 3 MB photo (a spread into btoa overflows the stack)", async () => {
  const bytes = new Uint8Array(3 * 1024 * 1024);
  bytes.set(JPEG);
  for (let i = JPEG.length; i < bytes.length; i++) bytes[i] = (i * 2654435761) >>> 24;
  const part = await imagePartFromBytes(new File([bytes], "photo.jpg"));
  assert.equal(part.image_url.url, `data:image/jpeg;base64,${reference(bytes)}`);
});

Deno.test("imagePartFromBytes() refuses an image over maxBytes (default 20 MB)", async () => {
  await assert.rejects(
    imagePartFromBytes(new Uint8Array(101), { maxBytes: 100 }),
    (error: Error) => {
      assert.ok(error instanceof InvalidImageError);
      assert.match(error.message, /"image" is 101 bytes, over the limit of 100 bytes/);
      return true;
    },
  );
  await assert.rejects(
    imagePartFromBytes(new File([new Uint8Array(101)], "big.png"), { maxBytes: 100 }),
    /"big\.png" is 101 bytes, over the limit of 100 bytes/,
  );
  const hundred = new Uint8Array(100);
  hundred.set(PNG);
  assert.ok(await imagePartFromBytes(hundred, { maxBytes: 100 }));
  await assert.rejects(
    imagePartFromBytes(new Uint8Array(20 * 1024 * 1024 + 1)),
    /over the limit of 20971520 bytes/,
  );
});

Deno.test("imagePartFromBytes() refuses empty and unsupported images with InvalidImageError", async () => {
  const bad: [unknown, RegExp][] = [
    [new Uint8Array(), /The image "image" is empty/],
    [new File([], "empty.png"), /The image "empty\.png" is empty/],
    [new TextEncoder().encode("%PDF-1.4"), /bytes are a PDF document \(application\/pdf\)/],
    [new File([new Uint8Array([0x49, 0x49, 0x2a, 0x00])], "scan.tiff"), /image\/tiff/],
    [new Uint8Array([1, 2]), /"logo\.svg" is not a PNG, JPEG, GIF or WebP image/],
    ["data:image/png;base64,AAAA", /image must be a Blob, a File or a Uint8Array/],
    [undefined, /image must be a Blob, a File or a Uint8Array/],
    [[1, 2, 3], /image must be a Blob, a File or a Uint8Array/],
  ];
  for (const [index, [image, pattern]] of bad.entries()) {
    const fileName = index === 4 ? "logo.svg" : undefined;
    await assert.rejects(
      imagePartFromBytes(image as never, fileName === undefined ? {} : { fileName }),
      (error: Error) => {
        assert.ok(error instanceof InvalidImageError, `${index}: ${error}`);
        assert.ok(error instanceof TypeError);
        assert.match(error.message, pattern);
        return true;
      },
    );
  }
});

Deno.test("imagePartFromBytes() rejects bad options with a TypeError naming the option", async () => {
  const bad: [unknown, RegExp][] = [
    [null, /options must be an object/],
    [{ maxBytes: 0 }, /maxBytes must be a positive integer/],
    [{ maxBytes: -1 }, /maxBytes/],
    [{ maxBytes: 1.5 }, /maxBytes/],
    [{ maxBytes: Number.NaN }, /maxBytes/],
    [{ maxBytes: "100" }, /maxBytes/],
    [{ fileName: 3 }, /fileName must be a string/],
    [{ detail: "medium" }, /detail must be "auto", "low" or "high"/],
  ];
  for (const [options, pattern] of bad) {
    await assert.rejects(imagePartFromBytes(PNG, options as never), (error: Error) => {
      assert.ok(error instanceof TypeError, String(error));
      assert.match(error.message, pattern);
      return true;
    });
  }
});

Deno.test("imagePartFromBytes() reports a bad argument as a rejection, never a synchronous throw", async () => {
  let promise: Promise<unknown> | undefined;
  assert.doesNotThrow(() => {
    promise = imagePartFromBytes(undefined as never);
  });
  await assert.rejects(promise!, InvalidImageError);
});

Deno.test("imagePartFromBytes() refuses an oversize Blob before reading it", async () => {
  let read = false;
  class Big extends Blob {
    override arrayBuffer(): Promise<ArrayBuffer> {
      read = true;
      return super.arrayBuffer();
    }
    override bytes(): Promise<Uint8Array<ArrayBuffer>> {
      read = true;
      return super.bytes();
    }
    override stream(): ReadableStream<Uint8Array<ArrayBuffer>> {
      read = true;
      return super.stream();
    }
  }
  const image = new Big([new Uint8Array(5000)], { type: "image/png" });
  await assert.rejects(imagePartFromBytes(image, { maxBytes: 1000 }), InvalidImageError);
  assert.equal(read, false);
});
