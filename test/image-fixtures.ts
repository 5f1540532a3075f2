// Test pictures made on the fly (tools/test-pictures.ts) and encoded with jSquash's encoders
// (not the server's own PNG encoder), so that no binary fixture has to live in the repository.

import jpegEncoderWasm from "@jsquash/jpeg/codec/enc/mozjpeg_enc.wasm";
import encodeJpeg, { init as initJpegEncoder } from "@jsquash/jpeg/encode.js";
import pngWasm from "@jsquash/png/codec/pkg/squoosh_png_bg.wasm?module";
import encodePngWithJsquash, { init as initPngEncoder } from "@jsquash/png/encode.js";
import { decodePng } from "../src/images/codecs";
import { decodeBase64, encodeBase64, type Pixels } from "../src/images/pipeline";

// The pictures themselves come from the generator the benches use too.
export { gradient, type Paint, pixels } from "../tools/test-pictures";

let pngReady: Promise<unknown> | undefined;
export async function pngBytes(image: Pixels): Promise<Uint8Array> {
  pngReady ??= initPngEncoder(pngWasm);
  await pngReady;
  return new Uint8Array(await encodePngWithJsquash(image as Parameters<typeof encodePngWithJsquash>[0]));
}

let jpegReady: Promise<unknown> | undefined;
export async function jpegBytes(image: Pixels): Promise<Uint8Array> {
  jpegReady ??= initJpegEncoder(jpegEncoderWasm);
  await jpegReady;
  return new Uint8Array(await encodeJpeg(image as Parameters<typeof encodeJpeg>[0], { quality: 85 }));
}

export const base64 = encodeBase64;

/** Decodes what the server sent back with jSquash's decoder, asserting it is a PNG. */
export async function decodeSentPng(imageData: string): Promise<Pixels> {
  const bytes = decodeBase64(imageData);
  if (!bytes) throw new Error("the server sent invalid base64");
  return decodePngBytes(bytes);
}

export function decodePngBytes(bytes: Uint8Array): Pixels {
  return decodePng(pngWasm, bytes);
}

/** Adds an EXIF APP1 segment with this orientation right after the JFIF APP0 segment. */
export function withExifOrientation(jpeg: Uint8Array, orientation: number): Uint8Array {
  const tiff = [
    0x49,
    0x49,
    0x2a,
    0x00,
    0x08,
    0x00,
    0x00,
    0x00, // little-endian TIFF header, IFD0 at 8
    0x01,
    0x00, // one entry
    0x12,
    0x01,
    0x03,
    0x00,
    0x01,
    0x00,
    0x00,
    0x00,
    orientation,
    0x00,
    0x00,
    0x00, // Orientation, SHORT
    0x00,
    0x00,
    0x00,
    0x00, // no next IFD
  ];
  const exif = [0x45, 0x78, 0x69, 0x66, 0x00, 0x00, ...tiff]; // "Exif\0\0"
  const length = exif.length + 2;
  const segment = [0xff, 0xe1, length >> 8, length & 0xff, ...exif];
  const app0Length = jpeg[2] === 0xff && jpeg[3] === 0xe0 ? 2 + ((jpeg[4]! << 8) | jpeg[5]!) : 0;
  const insertAt = 2 + app0Length;
  return new Uint8Array([...jpeg.subarray(0, insertAt), ...segment, ...jpeg.subarray(insertAt)]);
}

/** A PNG header claiming width x height, followed by nothing worth decoding. */
export function pngHeaderOnly(width: number, height: number): Uint8Array {
  const bytes = new Uint8Array(8 + 25 + 12);
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const view = new DataView(bytes.buffer);
  view.setUint32(8, 13);
  bytes.set([0x49, 0x48, 0x44, 0x52], 12); // IHDR
  view.setUint32(16, width);
  view.setUint32(20, height);
  bytes.set([8, 6, 0, 0, 0], 24); // 8-bit RGBA
  view.setUint32(37, 0);
  bytes.set([0x49, 0x44, 0x41, 0x54], 41); // IDAT, empty
  return bytes;
}

/** PNG filter types: None, Sub, Up, Average, Paeth. */
export type PngFilter = 0 | 1 | 2 | 3 | 4;

/**
 * A PNG written by hand, with zlib from the runtime (CompressionStream): any colour
 * type and bit depth, each row with the filter chosen, an optional palette and tRNS,
 * the data cut into IDAT chunks of `idatBytes`. `rows` are the unfiltered scanlines.
 */
export async function handMadePng(options: {
  width: number;
  height: number;
  colourType: 0 | 2 | 3 | 4 | 6;
  bitDepth?: number;
  rows: Uint8Array[];
  filters: (y: number) => PngFilter;
  palette?: Uint8Array;
  transparency?: Uint8Array;
  idatBytes?: number;
}): Promise<Uint8Array> {
  const { width, height, colourType, bitDepth = 8, rows, filters, palette, transparency, idatBytes = 1000 } = options;
  const bytesPerPixel = Math.max(1, ({ 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as const)[colourType] * (bitDepth / 8));
  const filtered: number[] = [];
  rows.forEach((row, y) => {
    const up = y > 0 ? rows[y - 1]! : new Uint8Array(row.length);
    const filter = filters(y);
    filtered.push(filter);
    for (let i = 0; i < row.length; i++) {
      const a = i >= bytesPerPixel ? row[i - bytesPerPixel]! : 0;
      const b = up[i]!;
      const c = i >= bytesPerPixel ? up[i - bytesPerPixel]! : 0;
      const p = a + b - c;
      const paeth =
        Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c;
      const predicted = [0, a, b, (a + b) >> 1, paeth][filter]!;
      filtered.push((row[i]! - predicted) & 0xff);
    }
  });
  const deflated = new Uint8Array(
    await new Response(new Blob([new Uint8Array(filtered)]).stream().pipeThrough(new CompressionStream("deflate"))).arrayBuffer(),
  );
  const chunks: Uint8Array[] = [];
  const chunk = (type: string, data: Uint8Array) => {
    const out = new Uint8Array(12 + data.length);
    const view = new DataView(out.buffer);
    view.setUint32(0, data.length);
    out.set(new TextEncoder().encode(type), 4);
    out.set(data, 8);
    view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
    chunks.push(out);
  };
  const header = new Uint8Array(13);
  new DataView(header.buffer).setUint32(0, width);
  new DataView(header.buffer).setUint32(4, height);
  header.set([bitDepth, colourType, 0, 0, 0], 8);
  chunk("IHDR", header);
  if (palette) chunk("PLTE", palette);
  if (transparency) chunk("tRNS", transparency);
  for (let i = 0; i < deflated.length; i += idatBytes) chunk("IDAT", deflated.subarray(i, i + idatBytes));
  chunk("IEND", new Uint8Array(0));
  return new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...chunks.flatMap((c) => [...c])]);
}

function crc32(bytes: Uint8Array): number {
  let crc = -1;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1;
  }
  return (crc ^ -1) >>> 0;
}
