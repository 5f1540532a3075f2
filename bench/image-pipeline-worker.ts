// Bench-only Worker, started by bench/image-pipeline.ts with `wrangler dev -c bench/image-pipeline.wrangler.toml`:
// runs the image pipeline inside workerd, the runtime production uses, with the
// production codecs, and answers the timings of each run.
//
// POST /run, JSON { base64, limits, runs, modes }, modes among:
//   "pipeline"  shrinkImage as the server runs it; phase times from its onPhase callback.
//   "direct"    no pre-shrink (JPEG only): base64, decode at full scale, lanczos3 straight to the final
//               size (no box step), encode, with the same codecs, banded the same way.
// Each run goes through every mode in turn, so that modes compared see the same
// conditions. Answers { [mode]: [{ phases, longest, slices, total, width, height, pngBytes }, ...] }, in ms:
// phases = each phase's work (yields left out), longest = the longest slice of work between two yields.
import { DurableObject, WorkerEntrypoint } from "cloudflare:workers";
import {
  type Codecs,
  decodeBase64,
  encodeBase64,
  fitWithin,
  type ImageLimits,
  type ImagePhase,
  type PhaseCost,
  SLICE_PIXELS,
  shrinkImage,
} from "../src/images/pipeline";
import { codecs } from "../src/images/shrink";
import { History } from "../src/room/history";
import { Outgoing } from "../src/room/outgoing";
import { migrate } from "../src/room/schema";
import { envelope } from "../src/wire/envelope";
import { LIMITS, type Limits } from "../src/wire/limits";
import { type ClientMessageOf, decodeFrame, parseMessage } from "../src/wire/messages";

const MODES = { pipeline, direct };

interface RunRequest {
  base64: string;
  limits: ImageLimits;
  runs: number;
  modes: (keyof typeof MODES)[];
}

interface Run {
  phases: Record<string, number>;
  longest: number;
  slices: number;
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

/** Each phase's cost as shrinkImage reports it, the longest slice and the count of slices over all phases. */
function phaseRecorder() {
  const costs: Partial<Record<ImagePhase, PhaseCost>> = {};
  return {
    onPhase: (phase: ImagePhase, cost: PhaseCost) => (costs[phase] = { ...cost }),
    summary: () => {
      const all = Object.values(costs);
      return {
        phases: Object.fromEntries(Object.entries(costs).map(([phase, cost]) => [phase, cost.milliseconds])),
        longest: Math.max(0, ...all.map((cost) => cost.longest)),
        slices: all.reduce((sum, cost) => sum + cost.slices, 0),
      };
    },
  };
}

async function pipeline(base64: string, limits: ImageLimits, codecs: Codecs): Promise<Run> {
  const recorder = phaseRecorder();
  const start = performance.now();
  const result = await shrinkImage(base64, limits, codecs, recorder.onPhase);
  const total = performance.now() - start;
  if (!result.ok) throw new Error(`shrinkImage refused the image: ${result.detail}`);
  return { ...recorder.summary(), total, width: result.width, height: result.height, pngBytes: decodeBase64(result.imageData)!.length };
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
  const opened = await timed("decode", () => codecs.openJpeg(bytes, 1));
  const target = fitWithin(opened.width, opened.height, limits.maxImageSize);
  const resized = await timed("shrink", () => {
    const shrinking = opened.shrink({ x: 1, y: 1 }, target.width, target.height);
    while (!shrinking.next(SLICE_PIXELS)) {
      // no yields: the work alone
    }
    return shrinking.result();
  });
  const rows = Math.max(1, Math.floor((64 * 1024) / resized.width));
  const png = await timed("encode", () => codecs.encodePng(resized, { opaque: true, photo: true, rows, between: async () => {} }));
  encodeBase64(png); // as shrinkImage does, so that the totals compare
  const total = performance.now() - start;
  return { phases, longest: 0, slices: 0, total, width: resized.width, height: resized.height, pngBytes: png.byteLength };
}

// ---------------------------------------------------------------------------
// POST /path, JSON { frame, runs }: the whole path of an `image` frame in a room, each
// step timed, with the production code for each: JSON.parse of the frame, zod
// validation, the pipeline's own phases (their work, without the yields) and what lies
// between them (the timers it yields with, the header, the output base64: "pipeline
// other"), storing the envelope in SQLite (History.append), and serializing it once per
// dialect; the longest slice of work between two yields; and, for reference, the RPC hop
// to an entrypoint and back with the same string, which the room no longer makes. The
// WebSocket receive and send are not here: the end-to-end mode has them.

/** An entrypoint reached over RPC, as the room reached the pipeline before. */
export class TimedImagePipeline extends WorkerEntrypoint<Env> {
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
    const recorder = phaseRecorder();
    const result = await shrinkImage(image.image_data, { maxImageSize, maxImageRawLength, maxImagePixels }, codecs, recorder.onPhase);
    lap("pipeline");
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
    const { phases, longest, slices } = recorder.summary();
    const phaseSum = Object.values(phases).reduce((a, b) => a + b, 0);
    return {
      ...t,
      ...phases,
      "pipeline other": t.pipeline! - phaseSum,
      "longest slice": longest,
      slices,
      "rpc echo 4 MB": hop,
      total,
    };
  }
}
