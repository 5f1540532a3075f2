// The benches' test pictures as files: drawn by tools/test-pictures.ts (the generator the tests
// use too), encoded in Node with jSquash's encoders, and cached in os.tmpdir() so that re-runs
// skip it (a 12 MP photo takes a few seconds). Photos are JPEGs of quality 85, sequential 4:2:0
// like a phone camera's; screenshots are opaque RGBA PNGs.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { PROJECT_DIR } from "../tools/dev-server.ts";
import { type Picture, photo, screenshot } from "../tools/test-pictures.ts";
import { BenchError } from "./util.ts";

export interface PictureSpec {
  label: string;
  kind: "photo" | "screen";
  width: number;
  height: number;
}

export const CACHE_DIR = path.join(os.tmpdir(), "gischat-bench-pictures-v1");
const JSQUASH = path.join(PROJECT_DIR, "node_modules", "@jsquash");
const JPEG_QUALITY = 85;

export function jsquashWasm(file: string): WebAssembly.Module {
  return new WebAssembly.Module(fs.readFileSync(path.join(JSQUASH, file)));
}

export function picturePath({ kind, width, height }: PictureSpec): string {
  return path.join(CACHE_DIR, `${kind}-${width}x${height}.${kind === "photo" ? "jpg" : "png"}`);
}

/** The length of `bytes` in base64, as a client sends it. */
export function base64Length(bytes: number): number {
  return Math.ceil(bytes / 3) * 4;
}

type Encode = (picture: Picture) => Promise<ArrayBuffer>;
let encoders: Promise<{ jpeg: Encode; png: Encode }> | undefined;

/** jSquash's JPEG and PNG encoders, their .wasm compiled here (Node cannot import it as a module). */
async function loadEncoders(): Promise<{ jpeg: Encode; png: Encode }> {
  const [{ default: encodeJpeg, init: initJpeg }, { default: encodePng, init: initPng }] = await Promise.all([
    import("@jsquash/jpeg/encode.js"),
    import("@jsquash/png/encode.js"),
  ]);
  // The JPEG encoder's init takes the compiled module too, though its types only name options.
  await Promise.all([
    initJpeg(jsquashWasm("jpeg/codec/enc/mozjpeg_enc.wasm") as unknown as Parameters<typeof initJpeg>[0]),
    initPng(jsquashWasm("png/codec/pkg/squoosh_png_bg.wasm")),
  ]);
  // jSquash's encoders take ImageData, which Node lacks: its shape is all they read.
  return {
    jpeg: (picture) => encodeJpeg(picture as ImageData, { quality: JPEG_QUALITY, progressive: false }),
    png: (picture) => encodePng(picture as ImageData),
  };
}

/** Draws and encodes the picture. */
async function encodePicture({ kind, width, height }: PictureSpec): Promise<Uint8Array> {
  encoders ??= loadEncoders();
  const { jpeg, png } = await encoders;
  return new Uint8Array(kind === "photo" ? await jpeg(photo(width, height)) : await png(screenshot(width, height)));
}

/**
 * The picture's bytes, made and cached on first use (`made` then says so). Throws if its base64 would be
 * longer than `maxBase64Length` (the server's MAX_IMAGE_RAW_LENGTH): the bench would measure a refusal.
 */
export async function pictureBytes(spec: PictureSpec, maxBase64Length: number): Promise<{ bytes: Buffer; made: boolean }> {
  const file = picturePath(spec);
  const made = !fs.existsSync(file);
  if (made) {
    console.log(`Making the ${spec.label} (cached in ${CACHE_DIR})...`);
    const bytes = await encodePicture(spec);
    fs.mkdirSync(CACHE_DIR, { recursive: true });
    // Written aside, then renamed: a bench interrupted meanwhile leaves no half a picture.
    const partial = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(partial, bytes);
    fs.renameSync(partial, file);
  }
  const bytes = fs.readFileSync(file);
  if (base64Length(bytes.length) > maxBase64Length) {
    throw new BenchError(
      `${spec.label}: its base64 (${base64Length(bytes.length)} characters) is over ${maxBase64Length} (MAX_IMAGE_RAW_LENGTH); delete ${file}`,
    );
  }
  return { bytes, made };
}
