// The image pipeline: strict base64, the format read from the bytes, a pixel cap
// checked in the header before anything is decoded, then decode, shrink so the
// longest side is at most MAX_IMAGE_SIZE, turn a JPEG upright by its EXIF
// orientation, and re-encode as PNG (QField shows what it receives as data:image/png).
//
// Shrinking works like Pillow's `thumbnail`: a cheap reduction by a whole factor
// first, leaving at least twice the target size, then lanczos3 for the last step.
// The result is as sharp as lanczos3 on the full image at a fraction of the cost.
// A JPEG is reduced while it is decoded (its DCT decoded at 1/2, 1/4 or 1/8, like
// Pillow's `draft`), so a 12 MP photo is never held at full size; whatever factor
// is left, and a PNG's, is a box filter.
//
// Between phases the pipeline yields to the event loop: a Durable Object runs one
// thing at a time, and the image work shares the room's thread (a Worker reached
// over RPC runs on the caller's thread), so a room's text messages wait for one
// phase at most, never for the whole image.
//
// The codecs are passed in (see wasm-codecs.ts for the WebAssembly ones), so this
// file runs unchanged in the Worker, in tests with spies, and in the Node benchmark.

export const IMAGE_REJECTED_REASON = "Invalid or oversized image data.";

/** Width, height and RGBA bytes: the shape of the platform's ImageData. */
export interface Pixels {
  readonly data: Uint8ClampedArray;
  readonly width: number;
  readonly height: number;
}

/** A JPEG's pixels as stored, with the EXIF orientation that turns them upright. */
export interface DecodedJpeg extends Pixels {
  /** EXIF orientation, 1 to 8; 0 when the file has none. */
  readonly orientation: number;
}

export interface Codecs {
  /** Decodes a JPEG at 1/scaleDenominator (1, 2, 4 or 8) of its size, in its DCT: far cheaper than every pixel. */
  decodeJpeg(bytes: Uint8Array, scaleDenominator: number): Promise<DecodedJpeg>;
  decodePng(bytes: Uint8Array): Promise<Pixels>;
  resize(image: Pixels, width: number, height: number, options: { premultiply: boolean }): Promise<Pixels>;
  encodePng(image: Pixels): Promise<Uint8Array>;
}

export interface ImageLimits {
  maxImageSize: number;
  maxImageRawLength: number;
  maxImagePixels: number;
}

export type ImagePhase = "base64" | "decode" | "reduce" | "resize" | "encode";

export type ShrinkResult = { ok: true; imageData: string; width: number; height: number } | { ok: false; reason: string; detail: string };

export interface ImageHeader {
  format: "png" | "jpeg";
  width: number;
  height: number;
  /** Whether the image can have transparent pixels (PNG alpha channel or tRNS). */
  hasAlpha: boolean;
}

/**
 * Turns base64 image data into a PNG whose longest side is at most maxImageSize.
 * Never throws: anything wrong with the data is a refusal with the contract's reason.
 */
export async function shrinkImage(
  base64: string,
  limits: ImageLimits,
  codecs: Codecs,
  onPhase?: (phase: ImagePhase, milliseconds: number) => void,
): Promise<ShrinkResult> {
  const refuse = (detail: string): ShrinkResult => ({ ok: false, reason: IMAGE_REJECTED_REASON, detail });
  if (base64.length > limits.maxImageRawLength) return refuse("image_data is longer than MAX_IMAGE_RAW_LENGTH");
  const timed = async <T>(phase: ImagePhase, work: () => Promise<T> | T): Promise<T> => {
    await letOtherWorkRun();
    const start = performance.now();
    const result = await work();
    onPhase?.(phase, performance.now() - start);
    return result;
  };
  const bytes = await timed("base64", () => decodeBase64(base64));
  if (!bytes) return refuse("image_data is not strict base64");
  const header = readImageHeader(bytes);
  if (!header) return refuse("neither a PNG nor a JPEG, or its header is damaged");
  if (header.width * header.height > limits.maxImagePixels) {
    return refuse(`${header.width}x${header.height} is more than MAX_IMAGE_PIXELS (${limits.maxImagePixels})`);
  }
  // Worked out as the picture is stored; a JPEG is turned upright at the end, when it is small.
  const target = fitWithin(header.width, header.height, limits.maxImageSize);
  try {
    const decoded: Pixels & { orientation?: number } = await timed("decode", () =>
      header.format === "jpeg" ? codecs.decodeJpeg(bytes, dctScale(reductionFactor(header, target))) : codecs.decodePng(bytes),
    );
    const transparent = header.hasAlpha && hasTransparency(decoded);
    const reduced = await timed("reduce", () => boxReduce(decoded, reductionFactor(decoded, target), transparent));
    const resized =
      reduced.width === target.width && reduced.height === target.height
        ? reduced
        : await timed("resize", () => codecs.resize(reduced, target.width, target.height, { premultiply: transparent }));
    const upright = turnUpright(resized, decoded.orientation ?? 1);
    const png = await timed("encode", () => codecs.encodePng(upright));
    return { ok: true, imageData: encodeBase64(png), width: upright.width, height: upright.height };
  } catch (error) {
    // Truncated or corrupt data only shows when the decoder reads it.
    return refuse(`the decoder failed: ${String(error)}`);
  }
}

/**
 * A timer, not a microtask: the runtime's queued I/O (a room's incoming frames and
 * the sends they cause) runs before the next phase starts.
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

/** Pillow's reducing_gap = 2: reduce by a whole factor while at least twice the target remains. */
function reductionFactor(image: Size, target: Size): number {
  const factor = Math.floor(Math.min(image.width / target.width, image.height / target.height) / 2);
  return Math.max(1, factor);
}

/** The JPEG decoder scales by 1/2, 1/4 or 1/8: the largest of those within the reduction wanted. */
function dctScale(factor: number): number {
  return factor >= 8 ? 8 : factor >= 4 ? 4 : factor >= 2 ? 2 : 1;
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

/**
 * Averages each factor x factor block into one pixel (partial blocks at the edges
 * average what they hold), in one sequential pass over the big image. With
 * transparency, colours are weighted by alpha, so that transparent pixels'
 * hidden colours do not bleed into the edges.
 */
export function boxReduce(image: Pixels, factor: number, transparent: boolean): Pixels {
  if (factor <= 1) return image;
  const out = {
    data: new Uint8ClampedArray(Math.ceil(image.width / factor) * Math.ceil(image.height / factor) * 4),
    width: Math.ceil(image.width / factor),
    height: Math.ceil(image.height / factor),
  };
  if (!transparent && factor <= MAX_PACKED_FACTOR) reduceOpaquePacked(image, factor, out);
  else reduceWeighted(image, factor, transparent, out);
  return out;
}

/** A block of 16 x 16 bytes of 255 still fits a 16-bit lane: 65,280. */
const MAX_PACKED_FACTOR = 16;

/**
 * Two channels per 32-bit add: a pixel read as one little-endian word holds red
 * and blue in bytes 0 and 2, green and alpha in bytes 1 and 3; masked with
 * 0x00ff00ff they become two 16-bit lanes that sum a whole block without
 * carrying into each other.
 */
function reduceOpaquePacked(image: Pixels, factor: number, out: Pixels): void {
  const { width, height } = image;
  const words = new Uint32Array(image.data.buffer, image.data.byteOffset, width * height);
  const columnOf = Int32Array.from({ length: width }, (_, x) => (x / factor) | 0);
  const redBlue = new Uint32Array(out.width);
  const greenAlpha = new Uint32Array(out.width);
  const outWords = new Uint32Array(out.data.buffer);
  for (let outY = 0; outY < out.height; outY++) {
    const firstRow = outY * factor;
    const rows = Math.min(factor, height - firstRow);
    for (let y = firstRow; y < firstRow + rows; y++) addPackedRow(words, y * width, width, columnOf, redBlue, greenAlpha);
    for (let outX = 0, o = outY * out.width; outX < out.width; outX++, o++) {
      const inverse = 1 / (rows * Math.min(factor, width - outX * factor));
      const red = ((redBlue[outX]! & 0xffff) * inverse + 0.5) | 0;
      const green = ((greenAlpha[outX]! & 0xffff) * inverse + 0.5) | 0;
      const blue = ((redBlue[outX]! >>> 16) * inverse + 0.5) | 0;
      const alpha = ((greenAlpha[outX]! >>> 16) * inverse + 0.5) | 0;
      outWords[o] = red | (green << 8) | (blue << 16) | (alpha << 24);
    }
    redBlue.fill(0);
    greenAlpha.fill(0);
  }
}

// Kept apart from its caller: V8 optimizes this small hot loop far better on its own.
function addPackedRow(
  words: Uint32Array,
  start: number,
  width: number,
  columnOf: Int32Array,
  redBlue: Uint32Array,
  greenAlpha: Uint32Array,
): void {
  for (let x = 0; x < width; x++) {
    const pixel = words[start + x]!;
    const column = columnOf[x]!;
    redBlue[column] = redBlue[column]! + (pixel & 0xff00ff);
    greenAlpha[column] = greenAlpha[column]! + ((pixel >>> 8) & 0xff00ff);
  }
}

function reduceWeighted(image: Pixels, factor: number, transparent: boolean, out: Pixels): void {
  const { data, width, height } = image;
  // Per output column: red, green, blue (alpha-weighted when transparent), alpha.
  const sums = new Float64Array(out.width * 4);
  for (let outY = 0; outY < out.height; outY++) {
    const firstRow = outY * factor;
    const rows = Math.min(factor, height - firstRow);
    for (let y = firstRow; y < firstRow + rows; y++) {
      for (let x = 0, i = y * width * 4; x < width; x++, i += 4) {
        const s = ((x / factor) | 0) * 4;
        const alpha = data[i + 3]!;
        const weight = transparent ? alpha : 1;
        sums[s] = sums[s]! + data[i]! * weight;
        sums[s + 1] = sums[s + 1]! + data[i + 1]! * weight;
        sums[s + 2] = sums[s + 2]! + data[i + 2]! * weight;
        sums[s + 3] = sums[s + 3]! + alpha;
      }
    }
    for (let outX = 0, s = 0, o = outY * out.width * 4; outX < out.width; outX++, s += 4, o += 4) {
      const count = rows * Math.min(factor, width - outX * factor);
      const colourWeight = transparent ? sums[s + 3]! : count;
      if (colourWeight > 0) {
        out.data[o] = sums[s]! / colourWeight;
        out.data[o + 1] = sums[s + 1]! / colourWeight;
        out.data[o + 2] = sums[s + 2]! / colourWeight;
      }
      out.data[o + 3] = sums[s + 3]! / count;
    }
    sums.fill(0);
  }
}

/** Whether any pixel is less than fully opaque (screenshots often carry an unused alpha channel). */
export function hasTransparency(image: Pixels): boolean {
  const words = new Uint32Array(image.data.buffer, image.data.byteOffset, image.width * image.height);
  for (let i = 0; i < words.length; i++) if (words[i]! < 0xff000000) return true;
  return false;
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
