// The image work, in a stateless entrypoint of its own. The room reaches it over
// RPC (ctx.exports.ImagePipeline), so the room only awaits I/O while a picture is
// decoded: its messages keep flowing, and the big buffers live and die outside it.
import { WorkerEntrypoint } from "cloudflare:workers";
import decodeJpeg, { init as initJpegDecoder } from "@jsquash/jpeg/decode.js";
import decodePng, { init as initPngDecoder } from "@jsquash/png/decode.js";
import encodePng, { init as initPngEncoder } from "@jsquash/png/encode.js";
import resize, { initResize } from "@jsquash/resize";
// Imported as compiled modules: jSquash would otherwise fetch them by URL, which
// a Worker cannot do for its own files. (`?module`: these two ship a .wasm.d.ts
// describing their exports, which TypeScript would take instead.)
import jpegDecoderWasm from "@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm";
import pngWasm from "@jsquash/png/codec/pkg/squoosh_png_bg.wasm?module";
import resizeWasm from "@jsquash/resize/lib/resize/pkg/squoosh_resize_bg.wasm?module";
import { shrinkImage, type Codecs, type ImageLimits, type Pixels, type ShrinkResult } from "./images";

// Workers have no ImageData; jSquash's resize constructs one.
class PixelBuffer implements Pixels {
  constructor(
    readonly data: Uint8ClampedArray,
    readonly width: number,
    readonly height: number,
  ) {}
}
(globalThis as { ImageData?: unknown }).ImageData ??= PixelBuffer;

/** jSquash types its images as the DOM's ImageData, which Workers' types lack. */
type JsquashImage = Parameters<typeof encodePng>[0];

let ready: Promise<Codecs> | undefined;

/** The WebAssembly codecs, instantiated once per isolate, on first use. */
export function wasmCodecs(): Promise<Codecs> {
  ready ??= Promise.all([
    initJpegDecoder(jpegDecoderWasm),
    initPngDecoder(pngWasm),
    initPngEncoder(pngWasm),
    initResize(resizeWasm),
  ]).then(
    (): Codecs => ({
      decodeJpeg: (bytes) => decodeJpeg(bytes, { preserveOrientation: true }),
      decodePng: (bytes) => decodePng(bytes),
      resize: (image, width, height, { premultiply }) =>
        resize(image as JsquashImage, { width, height, method: "lanczos3", fitMethod: "stretch", premultiply, linearRGB: false }),
      encodePng: (image) => encodePng(image as JsquashImage),
    }),
  );
  return ready;
}

export class ImagePipeline extends WorkerEntrypoint<Env> {
  async shrink(base64: string, limits: ImageLimits): Promise<ShrinkResult> {
    return shrinkImage(base64, limits, await wasmCodecs());
  }
}
