// The image work, with the codecs compiled once per isolate and one image at a time.
// The room calls shrinkInTurn directly. It used to reach the work over RPC, in an
// entrypoint of its own (ctx.exports.ImagePipeline), but an entrypoint runs on the
// caller's thread anyway ("both Workers run on the same thread of the same Cloudflare
// server", Cloudflare's service bindings docs), so the hop only copied the megabytes of
// base64 there and back in one uncut step.
import png from "@jsquash/png/codec/pkg/squoosh_png_bg.wasm?module";
// The codecs' .wasm files, imported as compiled modules (jSquash would otherwise
// fetch its own by URL, which a Worker cannot do for its own files). `?module`:
// jSquash's ships a .wasm.d.ts describing its exports, which TypeScript would take instead.
import jpegScaled from "../../vendor/jpeg-scaled/jpeg_scaled.wasm";
import { wasmCodecs } from "./codecs";
import { type ImageLimits, type ShrinkResult, shrinkImage } from "./pipeline";

export const codecs = wasmCodecs({ jpegScaled, png });

/**
 * One image at a time per isolate: a 12 MP photo needs megabytes while it is
 * decoded, and images in parallel would only share the same thread anyway.
 */
let previous: Promise<unknown> = Promise.resolve();

export function shrinkInTurn(base64: string, limits: ImageLimits): Promise<ShrinkResult> {
  const turn = previous.then(() => shrinkImage(base64, limits, codecs));
  previous = turn.catch(() => undefined);
  return turn;
}
