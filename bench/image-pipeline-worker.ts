// Bench-only Worker, started by bench/image-pipeline.ts with `wrangler dev -c bench/image-pipeline.wrangler.toml`:
// runs the image pipeline inside workerd, the runtime production uses, with the
// production codecs, and answers the timings of each run.
//
// POST /run, JSON { base64, limits, runs, modes }, modes among:
//   "pipeline"  shrinkImage as the server runs it; phase times from its onPhase callback.
//   "direct"    no pre-shrink (JPEG only): base64, decode at full scale, lanczos3 straight to the final
//               size, encode, with the same codecs.
// Each run goes through every mode in turn, so that modes compared see the same
// conditions. Answers { [mode]: [{ phases, total, width, height, pngBytes }, ...] }, in ms.
import { codecs } from "../src/images/entrypoint";
import { type Codecs, decodeBase64, encodeBase64, fitWithin, type ImageLimits, shrinkImage } from "../src/images/pipeline";

const MODES = { pipeline, direct };

interface RunRequest {
  base64: string;
  limits: ImageLimits;
  runs: number;
  modes: (keyof typeof MODES)[];
}

interface Run {
  phases: Record<string, number>;
  total: number;
  width: number;
  height: number;
  pngBytes: number;
}

export default {
  async fetch(request: Request): Promise<Response> {
    if (request.method !== "POST") return new Response("ok");
    try {
      const { base64, limits, runs, modes } = await request.json<RunRequest>();
      const results: Record<string, Run[]> = Object.fromEntries(modes.map((mode) => [mode, []]));
      for (let i = 0; i < runs; i++) {
        for (const mode of modes) results[mode]!.push(await MODES[mode](base64, limits, codecs));
      }
      return Response.json(results);
    } catch (error) {
      return Response.json({ error: String(error) }, { status: 500 });
    }
  },
};

async function pipeline(base64: string, limits: ImageLimits, codecs: Codecs): Promise<Run> {
  const phases: Record<string, number> = {};
  const start = performance.now();
  const result = await shrinkImage(base64, limits, codecs, (phase, ms) => (phases[phase] = ms));
  const total = performance.now() - start;
  if (!result.ok) throw new Error(`shrinkImage refused the image: ${result.detail}`);
  return { phases, total, width: result.width, height: result.height, pngBytes: decodeBase64(result.imageData)!.length };
}

async function direct(base64: string, limits: ImageLimits, codecs: Codecs): Promise<Run> {
  const phases: Record<string, number> = {};
  const timed = async <T>(phase: string, work: () => Promise<T> | T): Promise<T> => {
    const start = performance.now();
    const result = await work();
    phases[phase] = performance.now() - start;
    return result;
  };
  const start = performance.now();
  const bytes = await timed("base64", () => decodeBase64(base64)!);
  const decoded = await timed("decode", () => codecs.decodeJpeg(bytes, 1));
  const target = fitWithin(decoded.width, decoded.height, limits.maxImageSize);
  const resized = await timed("resize", () => codecs.resize(decoded, target.width, target.height, { premultiply: false }));
  const png = await timed("encode", () => codecs.encodePng(resized));
  encodeBase64(png); // as shrinkImage does, so that the totals compare
  const total = performance.now() - start;
  return { phases, total, width: resized.width, height: resized.height, pngBytes: png.byteLength };
}
