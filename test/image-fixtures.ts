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
