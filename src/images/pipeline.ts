// The image pipeline: strict base64, the format read from the bytes, a pixel cap
// checked in the header before anything is decoded, then decode, shrink so the
// longest side is at most MAX_IMAGE_SIZE, turn a JPEG upright by its EXIF
// orientation, and re-encode as PNG (QField shows what it receives as data:image/png).
//
// Shrinking is what upstream gischat asks Pillow for: `thumbnail((size, size), LANCZOS)`,
// which first reduces by a whole factor while at least twice the target remains
// (reducing_gap = 2: a JPEG in its DCT at 1/2, 1/4 or 1/8 like Pillow's `draft`, then a
// box filter), then lanczos3 for the last step, with Pillow's fixed-point coefficients.
//
// A room is one thread, and the image work shares it: so the work is cut into slices
// of about SLICE_PIXELS pixels each (a few milliseconds), and the pipeline yields to
// the event loop between them. A JPEG is decoded a band of scanlines at a time, each
// band box-reduced and resized horizontally as it comes, each output row resized
// vertically as soon as its rows are in; the PNG is filtered and deflated a band of
// rows at a time. A text sent meanwhile waits for one slice at most.
//
// The codecs are passed in (see codecs.ts for the WebAssembly ones), so this file runs
// unchanged in the Worker, in tests with spies, and in the Node benchmark.

export const IMAGE_REJECTED_REASON = "Invalid or oversized image data.";

/** Width, height and RGBA bytes: the shape of the platform's ImageData. */
export interface Pixels {
  readonly data: Uint8ClampedArray;
  readonly width: number;
  readonly height: number;
}

/** A decoded picture, ready to be shrunk band by band. */
export interface OpenedImage {
  /** The size as decoded (a JPEG's after its DCT scaling), as stored (not turned upright). */
  readonly width: number;
  readonly height: number;
  /** EXIF orientation, 1 to 8; 0 when the file has none (a PNG). */
  readonly orientation: number;
  /**
   * Whether it has an alpha channel (or tRNS): then it is resized premultiplied, as
   * Pillow does, which changes nothing for opaque pixels.
   */
  readonly hasAlpha: boolean;
  /** Starts shrinking: a box reduction by whole factors (per axis), then lanczos3 to width x height. */
  shrink(factors: Factors, width: number, height: number): Shrinking;
}

/** Whole factors of the box reduction, across and down. */
export interface Factors {
  readonly x: number;
  readonly y: number;
}

export interface Shrinking {
  /** Decodes and shrinks about `pixels` more source pixels; answers whether every row is in. */
  next(pixels: number): boolean;
  /** The shrunk picture, once next() has answered true. */
  result(): Pixels;
}

export interface Codecs {
  /** Starts decoding a JPEG at 1/scaleDenominator (1, 2, 4 or 8) of its size, in its DCT: far cheaper than every pixel. */
  openJpeg(bytes: Uint8Array, scaleDenominator: number): Promise<OpenedImage>;
  /** Decodes a PNG; `hasAlpha` from its header says whether transparency is worth looking for. */
  openPng(bytes: Uint8Array, hasAlpha: boolean): Promise<OpenedImage>;
  /**
   * Encodes as PNG (RGB when opaque), `rows` rows per band, awaiting `between` after
   * each band; `photo` (the source was a JPEG) picks the deflate settings.
   */
  encodePng(image: Pixels, options: { opaque: boolean; photo: boolean; rows: number; between: () => Promise<void> }): Promise<Uint8Array>;
}

export interface ImageLimits {
  maxImageSize: number;
  maxImageRawLength: number;
  maxImagePixels: number;
}

export type ImagePhase = "base64" | "decode" | "shrink" | "upright" | "encode";

/** What a phase cost: its work in all (the yields left out), in how many slices, the longest of them. */
export interface PhaseCost {
  milliseconds: number;
  slices: number;
  longest: number;
}

export type ShrinkResult = { ok: true; imageData: string; width: number; height: number } | { ok: false; reason: string; detail: string };

export interface ImageHeader {
  format: "png" | "jpeg";
  width: number;
  height: number;
  /** Whether the image can have transparent pixels (PNG alpha channel or tRNS). */
  hasAlpha: boolean;
}

/**
 * Decoded pixels per slice of decoding and shrinking (whole bands of 16 rows, at
 * least one): ~1-2 ms of work on the development machine; a 12 MP JPEG, decoded
 * at half scale (2000 pixels wide), is 94 slices.
 */
export const SLICE_PIXELS = 32 * 1024;

/**
 * The longest side taken, whatever the pixel count: the largest a JPEG can be. A
 * PNG 12 million pixels wide and 1 high is a few kilobytes, and each of its rows
 * alone would be 48 MB.
 */
export const MAX_SIDE = 65_535;

/** Output pixels per band of PNG encoding (filter, deflate): ~1-2 ms too. */
const ENCODE_SLICE_PIXELS = 48 * 1024;

/**
 * Turns base64 image data into a PNG whose longest side is at most maxImageSize.
 * Never throws: anything wrong with the data is a refusal with the contract's reason.
 */
export async function shrinkImage(
  base64: string,
  limits: ImageLimits,
  codecs: Codecs,
  onPhase?: (phase: ImagePhase, cost: PhaseCost) => void,
): Promise<ShrinkResult> {
  const refuse = (detail: string): ShrinkResult => ({ ok: false, reason: IMAGE_REJECTED_REASON, detail });
  if (base64.length > limits.maxImageRawLength) return refuse("image_data is longer than MAX_IMAGE_RAW_LENGTH");
  const phase = phaseTimer(onPhase);
  const bytes = await phase.once("base64", () => decodeBase64(base64));
  if (!bytes) return refuse("image_data is not strict base64");
  const header = readImageHeader(bytes);
  if (!header) return refuse("neither a PNG nor a JPEG, or its header is damaged");
  if (header.width * header.height > limits.maxImagePixels) {
    return refuse(`${header.width}x${header.height} is more than MAX_IMAGE_PIXELS (${limits.maxImagePixels})`);
  }
  if (Math.max(header.width, header.height) > MAX_SIDE)
    return refuse(`${header.width}x${header.height} has a side over ${MAX_SIDE} pixels`);
  // Worked out as the picture is stored; a JPEG is turned upright at the end, when it is small.
  const target = fitWithin(header.width, header.height, limits.maxImageSize);
  try {
    const opened = await phase.once("decode", () =>
      header.format === "jpeg"
        ? codecs.openJpeg(bytes, dctScale(reductionFactors(header, target)))
        : codecs.openPng(bytes, header.hasAlpha),
    );
    const shrinking = opened.shrink(reductionFactors(opened, target), target.width, target.height);
    for (let done = false; !done; ) done = await phase.slice("shrink", () => shrinking.next(SLICE_PIXELS));
    const upright = await phase.once("upright", () => turnUpright(shrinking.result(), opened.orientation));
    const rows = Math.max(1, Math.floor(ENCODE_SLICE_PIXELS / upright.width));
    const png = await phase.async("encode", (between) =>
      codecs.encodePng(upright, { opaque: !hasTransparency(upright), photo: header.format === "jpeg", rows, between }),
    );
    return { ok: true, imageData: encodeBase64(png), width: upright.width, height: upright.height };
  } catch (error) {
    // Truncated or corrupt data only shows when the decoder reads it.
    return refuse(`the decoder failed: ${String(error)}`);
  }
}

/** Runs each slice of work after a yield, and adds up what each phase cost. */
function phaseTimer(onPhase: ((phase: ImagePhase, cost: PhaseCost) => void) | undefined) {
  const costs = new Map<ImagePhase, PhaseCost>();
  const record = (phase: ImagePhase, milliseconds: number, report: boolean) => {
    const cost = costs.get(phase) ?? { milliseconds: 0, slices: 0, longest: 0 };
    cost.milliseconds += milliseconds;
    cost.slices++;
    cost.longest = Math.max(cost.longest, milliseconds);
    costs.set(phase, cost);
    if (report) onPhase?.(phase, cost);
  };
  const slice = async <T>(phase: ImagePhase, work: () => Promise<T> | T, last: (result: T) => boolean): Promise<T> => {
    await letOtherWorkRun();
    const start = performance.now();
    const result = await work();
    record(phase, performance.now() - start, last(result));
    return result;
  };
  return {
    /** A phase done in one slice. */
    once: <T>(phase: ImagePhase, work: () => Promise<T> | T) => slice(phase, work, () => true),
    /** One slice of a phase done in many; `true` from the work means it was the last. */
    slice: (phase: ImagePhase, work: () => boolean) => slice(phase, work, (done) => done),
    /** A phase that yields by itself: `between` ends one slice and starts the next after a yield. */
    async: async <T>(phase: ImagePhase, work: (between: () => Promise<void>) => Promise<T>): Promise<T> => {
      await letOtherWorkRun();
      let start = performance.now();
      const result = await work(async () => {
        record(phase, performance.now() - start, false);
        await letOtherWorkRun();
        start = performance.now();
      });
      record(phase, performance.now() - start, true);
      return result;
    },
  };
}

/**
 * A timer, not a microtask: the runtime's queued I/O (a room's incoming frames and
 * the sends they cause) runs before the next slice starts.
 */
function letOtherWorkRun(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** The largest size within `max` on its longest side, keeping the aspect ratio, never enlarging. */
export function fitWithin(width: number, height: number, max: number): { width: number; height: number } {
  const longest = Math.max(width, height);
  if (longest <= max) return { width, height };
  const scale = max / longest;
  return {
    width: Math.max(1, width >= height ? max : Math.round(width * scale)),
    height: Math.max(1, height > width ? max : Math.round(height * scale)),
  };
}

interface Size {
  width: number;
  height: number;
}

/**
 * Pillow's reducing_gap = 2: reduce each axis by a whole factor while at least twice
 * the target remains (so lanczos3 is left less than 4x on each axis, whatever the
 * aspect ratio, and its coefficient tables stay small).
 */
function reductionFactors(image: Size, target: Size): Factors {
  return {
    x: Math.max(1, Math.floor(image.width / target.width / 2)),
    y: Math.max(1, Math.floor(image.height / target.height / 2)),
  };
}

/** The JPEG decoder scales both axes by 1/2, 1/4 or 1/8: the largest of those within both reductions wanted (Pillow's draft). */
function dctScale({ x, y }: Factors): number {
  const factor = Math.min(x, y);
  return factor >= 8 ? 8 : factor >= 4 ? 4 : factor >= 2 ? 2 : 1;
}

/** Whether any pixel is less than fully opaque (screenshots often carry an unused alpha channel). */
export function hasTransparency(image: Pixels): boolean {
  const words = new Uint32Array(image.data.buffer, image.data.byteOffset, image.width * image.height);
  for (let i = 0; i < words.length; i++) if (words[i]! < 0xff000000) return true;
  return false;
}

/**
 * Turns pixels upright according to their EXIF orientation: 2 to 4 mirror or turn
 * them half round, 5 to 8 also swap width and height. Done on the resized picture,
 * where it costs a few milliseconds; lanczos3 is symmetric, so the result is the same.
 */
export function turnUpright(image: Pixels, orientation: number): Pixels {
  if (orientation < 2 || orientation > 8) return image;
  const { width: w, height: h } = image;
  const source = new Uint32Array(image.data.buffer, image.data.byteOffset, w * h);
  const swapped = orientation >= 5;
  const width = swapped ? h : w;
  const height = swapped ? w : h;
  const data = new Uint8ClampedArray(w * h * 4);
  const target = new Uint32Array(data.buffer);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const [toX, toY] = uprightPosition(orientation, x, y, w, h);
      target[toY * width + toX] = source[y * w + x]!;
    }
  }
  return { data, width, height };
}

/** Where the stored pixel (x, y) of a w x h picture lands once upright. */
function uprightPosition(orientation: number, x: number, y: number, w: number, h: number): [number, number] {
  switch (orientation) {
    case 2:
      return [w - 1 - x, y]; // mirrored
    case 3:
      return [w - 1 - x, h - 1 - y]; // half a turn
    case 4:
      return [x, h - 1 - y]; // mirrored upside down
    case 5:
      return [y, x]; // mirrored along the main diagonal
    case 6:
      return [h - 1 - y, x]; // a quarter turn clockwise
    case 7:
      return [h - 1 - y, w - 1 - x]; // mirrored along the other diagonal
    default:
      return [y, w - 1 - x]; // 8: a quarter turn anticlockwise
  }
}

// ---------------------------------------------------------------------------
// Headers: enough of PNG and JPEG to know the format and the size before decoding.

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export function readImageHeader(bytes: Uint8Array): ImageHeader | undefined {
  if (PNG_SIGNATURE.every((byte, i) => bytes[i] === byte)) return readPngHeader(bytes);
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return readJpegHeader(bytes);
  return undefined;
}

function readPngHeader(bytes: Uint8Array): ImageHeader | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 33 || chunkType(bytes, 12) !== "IHDR") return undefined;
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  const colourType = bytes[25]!;
  if (width === 0 || height === 0) return undefined;
  // Colour types 4 and 6 carry alpha; any other can gain it from a tRNS chunk before IDAT.
  let hasAlpha = colourType === 4 || colourType === 6;
  for (let offset = 8; !hasAlpha && offset + 8 <= bytes.length; ) {
    const type = chunkType(bytes, offset + 4);
    if (type === "IDAT" || type === "IEND") break;
    hasAlpha = type === "tRNS";
    offset += 12 + view.getUint32(offset);
  }
  return { format: "png", width, height, hasAlpha };
}

function chunkType(bytes: Uint8Array, offset: number): string {
  return String.fromCharCode(...bytes.subarray(offset, offset + 4));
}

/** Start-of-frame markers that carry the image size (not DHT C4, JPG C8, DAC CC). */
const JPEG_SOF_MARKERS = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);
const JPEG_START_OF_SCAN = 0xda;

function readJpegHeader(bytes: Uint8Array): ImageHeader | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 2;
  while (offset + 4 <= bytes.length) {
    if (bytes[offset] !== 0xff) return undefined;
    const marker = bytes[offset + 1]!;
    if (marker === 0xff) {
      offset++; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      offset += 2; // markers without a length
      continue;
    }
    const length = view.getUint16(offset + 2);
    if (JPEG_SOF_MARKERS.has(marker)) {
      if (offset + 9 > bytes.length) return undefined;
      const height = view.getUint16(offset + 5);
      const width = view.getUint16(offset + 7);
      return width > 0 && height > 0 ? { format: "jpeg", width, height, hasAlpha: false } : undefined;
    }
    if (marker === JPEG_START_OF_SCAN || length < 2) return undefined;
    offset += 2 + length;
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// Base64, strictly: the standard alphabet, padded, nothing else.

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Native base64 where the runtime has it (workerd does), a portable fallback elsewhere. */
const nativeBase64 = Uint8Array as unknown as {
  fromBase64?: (text: string) => Uint8Array;
  prototype: { toBase64?: () => string };
};

export function decodeBase64(text: string): Uint8Array | undefined {
  if (text.length === 0 || text.length % 4 !== 0) return undefined;
  if (nativeBase64.fromBase64) return strictNative(nativeBase64.fromBase64, text);
  if (!BASE64.test(text)) return undefined;
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * Native decoding is strict about the alphabet and the padding's place (it throws),
 * but skips ASCII whitespace: whitespace shows as fewer bytes than the length
 * promises. No regular expression over megabytes (it cost more than the decoding).
 */
function strictNative(fromBase64: (text: string) => Uint8Array, text: string): Uint8Array | undefined {
  const padding = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
  let bytes: Uint8Array;
  try {
    bytes = fromBase64(text);
  } catch {
    return undefined;
  }
  return bytes.length === (text.length / 4) * 3 - padding ? bytes : undefined;
}

export function encodeBase64(bytes: Uint8Array): string {
  if (nativeBase64.prototype.toBase64) return (bytes as unknown as { toBase64: () => string }).toBase64();
  const chunks: string[] = [];
  // String.fromCharCode takes its bytes as arguments: keep each call well under the stack limit.
  for (let i = 0; i < bytes.length; i += 0x8000) {
    chunks.push(String.fromCharCode(...bytes.subarray(i, i + 0x8000)));
  }
  return btoa(chunks.join(""));
}
