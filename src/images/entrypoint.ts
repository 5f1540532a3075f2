// The image work, in a stateless entrypoint of its own, reached by the room over
// RPC (ctx.exports.ImagePipeline): the room awaits it like any I/O, and keeps
// handling its other sockets' messages whenever the pipeline yields.
import { WorkerEntrypoint } from "cloudflare:workers";
import png from "@jsquash/png/codec/pkg/squoosh_png_bg.wasm?module";
import resize from "@jsquash/resize/lib/resize/pkg/squoosh_resize_bg.wasm?module";
// The codecs' .wasm files, imported as compiled modules (jSquash would otherwise
// fetch its own by URL, which a Worker cannot do for its own files). `?module`:
// jSquash's two ship a .wasm.d.ts describing their exports, which TypeScript would
// take instead.
import jpegDecoder from "../../vendor/jpeg-scaled/jpeg_scaled.wasm";
import { wasmCodecs } from "./codecs";
import { type ImageLimits, type ShrinkResult, shrinkImage } from "./pipeline";

export const codecs = wasmCodecs({ jpegDecoder, png, resize });

/**
 * One image at a time per isolate: a 12 MP photo needs tens of megabytes while it
 * is decoded, and two at once could take the isolate past its 128 MB.
 */
let previous: Promise<unknown> = Promise.resolve();

function oneAtATime<T>(work: () => Promise<T>): Promise<T> {
  const turn = previous.then(work);
  previous = turn.catch(() => undefined);
  return turn;
}

export class ImagePipeline extends WorkerEntrypoint<Env> {
  shrink(base64: string, limits: ImageLimits): Promise<ShrinkResult> {
    return oneAtATime(() => shrinkImage(base64, limits, codecs));
  }
}
