// Reading an image argument: bytes, type and name, checked before any request.
import { InvalidImageError } from "./errors.ts";

/** An image argument (the same union as the public `ImageInput` of chat.ts). */
type ImageInput = Blob | Uint8Array;

/** The image types OpenAI-compatible vision APIs take. */
export const SUPPORTED_IMAGE_TYPES: readonly string[] = [
  "image/png",
  "image/jpeg",
  "image/gif",
  "image/webp",
];

/** The default largest image, in bytes (20 MB, the OpenAI limit). */
export const DEFAULT_MAX_IMAGE_BYTES: number = 20 * 1024 * 1024;

const BY_EXTENSION: Record<string, string> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  jpe: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  bmp: "image/bmp",
  tif: "image/tiff",
  tiff: "image/tiff",
  svg: "image/svg+xml",
  heic: "image/heic",
  avif: "image/avif",
  pdf: "application/pdf",
};

function startsWith(bytes: Uint8Array, prefix: number[], offset = 0): boolean {
  if (bytes.length < offset + prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[offset + i] !== prefix[i]) return false;
  return true;
}

/** The mime type that the bytes announce, or undefined. */
export function sniffImageType(bytes: Uint8Array): string | undefined {
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "image/png";
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return "image/jpeg";
  if (startsWith(bytes, [0x47, 0x49, 0x46, 0x38])) return "image/gif";
  if (
    startsWith(bytes, [0x52, 0x49, 0x46, 0x46]) && startsWith(bytes, [0x57, 0x45, 0x42, 0x50], 8)
  ) {
    return "image/webp";
  }
  if (startsWith(bytes, [0x42, 0x4d])) return "image/bmp";
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) {
    return "image/tiff";
  }
  if (startsWith(bytes, [0x25, 0x50, 0x44, 0x46])) return "application/pdf";
  if (startsWith(bytes, [0x66, 0x74, 0x79, 0x70], 4)) {
    const brand = String.fromCharCode(...bytes.subarray(8, 12));
    if (brand.startsWith("avif")) return "image/avif";
    if (brand.startsWith("hei") || brand.startsWith("mif1")) return "image/heic";
  }
  return undefined;
}

/** The mime type that a file name suggests, or undefined (for messages: the bytes decide). */
export function typeFromName(name: string | undefined): string | undefined {
  if (!name) return undefined;
  const dot = name.lastIndexOf(".");
  if (dot < 0) return undefined;
  const extension = name.slice(dot + 1).toLowerCase();
  // Own keys only: "photo.constructor" has no known extension.
  return Object.hasOwn(BY_EXTENSION, extension) ? BY_EXTENSION[extension] : undefined;
}

/** A checked image, ready to send. */
export interface ReadImage {
  bytes: Uint8Array;
  mimeType: string;
  name: string;
}

/** The name of an image argument: a File's name, then `fileName`, else "image". */
export function imageName(image: ImageInput, fileName?: string): string {
  const named = (image as { name?: unknown }).name;
  if (typeof named === "string" && named !== "") return named;
  return fileName ?? "image";
}

/** The type a Blob's `type` or the name claims, for messages ("" when none). */
function claimedType(image: ImageInput, name: string): string {
  const type = image instanceof Uint8Array ? "" : image.type;
  return type !== "" ? type : typeFromName(name) ?? "";
}

const KINDS: Record<string, string> = {
  "image/bmp": "a BMP image",
  "image/tiff": "a TIFF image",
  "image/avif": "an AVIF image",
  "image/heic": "a HEIC image",
  "application/pdf": "a PDF document",
};

/** The longest prefix of the bytes looked at to tell text from other bytes. */
const TEXT_PROBE = 1024;

/** Whether the bytes start like text: UTF-8 without control characters other than whitespace. */
function looksLikeText(bytes: Uint8Array): boolean {
  const probe = bytes.subarray(0, TEXT_PROBE);
  for (const byte of probe) {
    if (byte === 0x7f || (byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d)) {
      return false;
    }
  }
  // A cut inside the probe's last character is not a fault of the text.
  for (let cut = 0; cut < 4 && cut < probe.length; cut++) {
    try {
      new TextDecoder("utf-8", { fatal: true }).decode(probe.subarray(0, probe.length - cut));
      return true;
    } catch {
      if (probe.length < TEXT_PROBE) return false;
    }
  }
  return false;
}

/**
 * What bytes that are no supported image are, for messages: "a PDF document",
 * "a TIFF image (image/tiff)", "an SVG image", "text" or "unknown bytes".
 */
export function describeBytes(bytes: Uint8Array): string {
  const sniffed = sniffImageType(bytes);
  if (sniffed !== undefined && Object.hasOwn(KINDS, sniffed)) {
    return `${KINDS[sniffed]} (${sniffed})`;
  }
  if (looksLikeText(bytes)) {
    const head = new TextDecoder().decode(bytes.subarray(0, TEXT_PROBE)).trimStart().toLowerCase();
    if (head.startsWith("<svg") || (head.startsWith("<?xml") && head.includes("<svg"))) {
      return "an SVG image (image/svg+xml)";
    }
    return "text";
  }
  return "unknown bytes";
}

/**
 * The type of an image from its bytes alone: PNG, JPEG, GIF or WebP. Bytes of
 * anything else are refused whatever the name or the Blob's `type` says.
 *
 * @throws {InvalidImageError} naming the image and what its bytes are.
 */
export function imageTypeOf(bytes: Uint8Array, name: string, claimed = ""): string {
  const mimeType = sniffImageType(bytes);
  if (mimeType !== undefined && SUPPORTED_IMAGE_TYPES.includes(mimeType)) return mimeType;
  const says = claimed === "" ? "" : ` (its name or type says ${claimed}; the bytes decide)`;
  throw new InvalidImageError(
    `The image "${name}" is not a PNG, JPEG, GIF or WebP image: its bytes are ${
      describeBytes(bytes)
    }${says}`,
  );
}

/**
 * Reads and checks an image: not empty, not over `maxBytes`, and a PNG, JPEG,
 * GIF or WebP image by its bytes (the name and `type` are not trusted).
 */
export async function readImage(
  image: ImageInput,
  options: { fileName?: string; maxBytes?: number } = {},
): Promise<ReadImage> {
  const bytes = await imageBytes(image);
  const name = imageName(image, options.fileName);
  checkLength(bytes.length, name, options.maxBytes ?? DEFAULT_MAX_IMAGE_BYTES);
  const mimeType = imageTypeOf(bytes, name, claimedType(image, name));
  return { bytes, mimeType, name };
}

/**
 * Checks an image's type by its first bytes (a large Blob is not read whole).
 * Throws InvalidImageError.
 */
export async function checkImageType(image: ImageInput, fileName?: string): Promise<void> {
  const name = imageName(image, fileName);
  const head = image instanceof Uint8Array
    ? image
    : new Uint8Array(await image.slice(0, TEXT_PROBE).arrayBuffer());
  imageTypeOf(head, name, claimedType(image, name));
}

function checkLength(length: number, name: string, maxBytes: number): void {
  if (length === 0) throw new InvalidImageError(`The image "${name}" is empty`);
  if (length > maxBytes) {
    throw new InvalidImageError(
      `The image "${name}" is ${length} bytes, over the limit of ${maxBytes} bytes`,
    );
  }
}

/**
 * Checks what can be checked without reading a Blob: the size, and for raw
 * bytes also the type. Throws InvalidImageError.
 */
export function checkImageSize(image: ImageInput, maxBytes: number, fileName?: string): void {
  const name = imageName(image, fileName);
  if (image instanceof Uint8Array) {
    checkLength(image.length, name, maxBytes);
    imageTypeOf(image, name, claimedType(image, name));
  } else checkLength(image.size, name, maxBytes);
}

/** Checks the image argument's type synchronously (for errors at the call). */
export function checkImageArgument(image: unknown): asserts image is ImageInput {
  if (!(image instanceof Uint8Array) && !(typeof Blob !== "undefined" && image instanceof Blob)) {
    throw new InvalidImageError("image must be a Blob, a File or a Uint8Array");
  }
  const size = image instanceof Uint8Array ? image.length : image.size;
  if (size === 0) throw new InvalidImageError(`The image "${imageName(image)}" is empty`);
}

async function imageBytes(image: ImageInput): Promise<Uint8Array> {
  if (image instanceof Uint8Array) return image;
  return new Uint8Array(await image.arrayBuffer());
}

const BASE64_CODES = new TextEncoder().encode(
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
);
const PAD = 0x3d; // "="

/**
 * Encodes bytes as base64, in one pass into one buffer: no argument spreads
 * and no intermediate binary string, so a 20 MB image is cheap.
 */
export function toBase64(bytes: Uint8Array): string {
  const out = new Uint8Array(Math.ceil(bytes.length / 3) * 4);
  const whole = bytes.length - (bytes.length % 3);
  let o = 0;
  for (let i = 0; i < whole; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out[o++] = BASE64_CODES[n >> 18];
    out[o++] = BASE64_CODES[(n >> 12) & 63];
    out[o++] = BASE64_CODES[(n >> 6) & 63];
    out[o++] = BASE64_CODES[n & 63];
  }
  const rest = bytes.length - whole;
  if (rest > 0) {
    const n = (bytes[whole] << 16) | (rest === 2 ? bytes[whole + 1] << 8 : 0);
    out[o++] = BASE64_CODES[n >> 18];
    out[o++] = BASE64_CODES[(n >> 12) & 63];
    out[o++] = rest === 2 ? BASE64_CODES[(n >> 6) & 63] : PAD;
    out[o++] = PAD;
  }
  return new TextDecoder().decode(out);
}

/** A data URL for a checked image. */
export function toDataUrl(image: ReadImage): string {
  return `data:${image.mimeType};base64,${toBase64(image.bytes)}`;
}
