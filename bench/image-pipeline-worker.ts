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
import { DurableObject, WorkerEntrypoint } from "cloudflare:workers";
import { codecs, ImagePipeline } from "../src/images/entrypoint";
import {
  type Codecs,
  decodeBase64,
  encodeBase64,
  fitWithin,
  type ImageLimits,
  type ShrinkResult,
  shrinkImage,
} from "../src/images/pipeline";
import { History } from "../src/room/history";
import { Outgoing } from "../src/room/outgoing";
import { migrate } from "../src/room/schema";
import { envelope } from "../src/wire/envelope";
import { LIMITS, type Limits } from "../src/wire/limits";
import { type ClientMessageOf, decodeFrame, parseMessage } from "../src/wire/messages";

export { ImagePipeline };

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
  async fetch(request: Request, env: Env): Promise<Response> {
    if (request.method !== "POST") return new Response("ok");
    if (new URL(request.url).pathname === "/probe") {
      const u8 = Uint8Array as unknown as { fromBase64?: unknown; prototype: { toBase64?: unknown } };
      return Response.json({ fromBase64: typeof u8.fromBase64, toBase64: typeof u8.prototype.toBase64 });
    }
    if (new URL(request.url).pathname === "/path") {
      const stub = (env as unknown as { PATH_ROOM: DurableObjectNamespace<PathRoom> }).PATH_ROOM.getByName("path");
      return stub.fetch(request);
    }
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

// ---------------------------------------------------------------------------
// POST /path, JSON { frame, runs }: the whole path of an `image` frame in a room, each
// step timed, with the production code for each: JSON.parse of the frame, zod
// validation, the RPC hop to the ImagePipeline entrypoint (ctx.exports, as the room
// calls it) and back, the pipeline's own phases and what lies between them (the
// timers it yields with, the header, the output base64), storing the envelope in
// SQLite (History.append), and serializing it once per dialect. The WebSocket
// receive and send are not here: the end-to-end mode (bench/image-e2e.ts) has them.

/** The entrypoint the room calls, with the time spent inside it and its phases. */
export class TimedImagePipeline extends WorkerEntrypoint<Env> {
  async shrink(base64: string, limits: ImageLimits): Promise<{ result: ShrinkResult; inside: number; phases: Record<string, number> }> {
    const phases: Record<string, number> = {};
    const start = performance.now();
    const result = await shrinkImage(base64, limits, codecs, (phase, ms) => (phases[phase] = ms));
    return { result, inside: performance.now() - start, phases };
  }

  /** The hop alone: the same string there, its length back. */
  echo(base64: string): number {
    return base64.length;
  }
}

/** The server's defaults, as bench/limits.ts has them. */
const DEFAULT_LIMITS = Object.fromEntries(Object.entries(LIMITS).map(([name, spec]) => [name, spec.fallback])) as unknown as Limits;

export class PathRoom extends DurableObject<Env> {
  private readonly history: History;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    migrate(ctx.storage);
    this.history = new History(ctx.storage);
  }

  override async fetch(request: Request): Promise<Response> {
    try {
      const { frame, runs } = await request.json<{ frame: string; runs: number }>();
      const results: Record<string, number>[] = [];
      for (let i = 0; i < runs; i++) results.push(await this.once(frame));
      return Response.json({ path: results });
    } catch (error) {
      return Response.json({ error: String(error) }, { status: 500 });
    }
  }

  private async once(frame: string): Promise<Record<string, number>> {
    const limits = DEFAULT_LIMITS;
    const t: Record<string, number> = {};
    let mark = performance.now();
    const lap = (name: string) => {
      const at = performance.now();
      t[name] = at - mark;
      mark = at;
    };
    const exports = (this.ctx as unknown as { exports: { TimedImagePipeline: TimedImagePipeline } }).exports;
    const start = mark;
    const decoded = decodeFrame(frame, limits);
    if (!decoded.ok) throw new Error(decoded.reason);
    lap("JSON.parse");
    const parsed = parseMessage(decoded.data, limits);
    if (!parsed.ok || parsed.message.type !== "image") throw new Error("not an image");
    const image = parsed.message as ClientMessageOf<"image">;
    lap("zod");
    const { maxImageSize, maxImageRawLength, maxImagePixels } = limits;
    const { result, inside, phases } = await exports.TimedImagePipeline.shrink(image.image_data, {
      maxImageSize,
      maxImageRawLength,
      maxImagePixels,
    });
    lap("rpc+pipeline");
    if (!result.ok) throw new Error(result.detail);
    const stamped = envelope({ ...image, image_data: result.imageData });
    this.history.append(stamped, { days: 30, maxMessages: 10_000, maxBytes: 50_000_000 });
    lap("store");
    const outgoing = new Outgoing(stamped);
    for (const dialect of ["rooms", "channels", "gischat1"] as const) outgoing.for(dialect);
    lap("serialize");
    const total = performance.now() - start;
    const hopStart = performance.now();
    await exports.TimedImagePipeline.echo(image.image_data);
    const hop = performance.now() - hopStart;
    const phaseSum = Object.values(phases).reduce((a, b) => a + b, 0);
    return {
      ...t,
      ...phases,
      "pipeline other": inside - phaseSum,
      rpc: t["rpc+pipeline"]! - inside,
      "rpc echo 4 MB": hop,
      total,
    };
  }
}
