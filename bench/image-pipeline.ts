// Image benchmark: what shrinkImage (src/images/pipeline.ts) costs in time and in memory.
//
// Inputs are drawn deterministically by tools/test-pictures.ts (the generator the tests
// use too), encoded with jSquash's encoders and cached in os.tmpdir() so that re-runs
// skip it (bench/picture-files.ts): photo-like JPEGs (gradients, a wavy horizon,
// texture and per-pixel grain; quality 85, sequential 4:2:0 like a phone camera's)
// and screenshot-like PNGs (flat app chrome, a map of flat shapes and roads, list
// rows of anti-aliased text-like glyphs with small photo thumbnails; opaque RGBA).
//
// 1. Time, inside workerd (the runtime production uses, with its native base64):
//    `wrangler dev` runs a bench-only Worker (bench/image-pipeline-worker.ts) that calls
//    shrinkImage with the production codecs on each input, 1 warm-up
//    run then 9 measured ones. Phases come from the onPhase callback; "other" is
//    the total minus the phases (header, transparency check, output base64).
//    Medians in ms, and the totals' range; workerd's clock counts whole milliseconds.
// 2. Peak memory, in Node 22 (workerd exposes no memory counters; Node has the same
//    kind of V8 and runs the very same .wasm files): one fresh child process per
//    input loads the production codecs (src/images/codecs.ts, on the same .wasm files) and
//    the input, takes a baseline, runs shrinkImage three times (no gc() in between,
//    as in production), samples memory after each phase, and reports the peak RSS
//    over the baseline (maxRSS after - RSS before), the peak of V8's external memory
//    (WebAssembly memories and ArrayBuffers), and what is still held once collected.
// 3. What the box-filter pre-shrink buys on the 4000x3000 JPEG: the pipeline as is
//    vs. lanczos3 straight from the full decoded image, inside workerd, medians again;
//    the two alternate run by run, so that both see the same machine.
//
// The limits are the server's defaults (src/wire/limits.ts).
//
//   npm run bench:images
//   npm run bench:images -- --runs=2   fewer measured runs in workerd (a quick check)
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import type { Codecs, ImageLimits, ImagePhase } from "../src/images/pipeline.ts";
import { DevServer, PROJECT_DIR } from "../tools/dev-server.ts";
import { DEFAULT_LIMITS } from "./limits.ts";
import { base64Length, jsquashWasm, type PictureSpec, pictureBytes, picturePath } from "./picture-files.ts";
import { BenchError, isExplained, median, messageOf, printTable } from "./util.ts";

/** The server's default image limits: what a room applies unless ROOM_LIMITS says otherwise. */
const LIMITS: ImageLimits = {
  maxImageSize: DEFAULT_LIMITS.maxImageSize,
  maxImageRawLength: DEFAULT_LIMITS.maxImageRawLength,
  maxImagePixels: DEFAULT_LIMITS.maxImagePixels,
};
const WARMUP_RUNS = 1;
const DEFAULT_MEASURED_RUNS = 9;
const PHASES: readonly ImagePhase[] = ["base64", "decode", "shrink", "upright", "encode"];
const TIMEOUT_MS = { request: 120_000, memoryChild: 60_000 };

const INPUTS = {
  photo4000: { label: "4000x3000 photo JPEG", kind: "photo", width: 4000, height: 3000 },
  screen1080: { label: "1080x2400 screenshot PNG", kind: "screen", width: 1080, height: 2400 },
  photo1200: { label: "1200x800 photo JPEG", kind: "photo", width: 1200, height: 800 },
  photo4032: { label: "4032x3024 photo JPEG", kind: "photo", width: 4032, height: 3024 },
  screen3840: { label: "3840x2160 screenshot PNG", kind: "screen", width: 3840, height: 2160 },
} as const satisfies Record<string, PictureSpec>;
type InputName = keyof typeof INPUTS;
const TIMED: readonly InputName[] = ["photo4000", "screen1080", "photo1200"];
const MEMORY: readonly InputName[] = ["photo4032", "screen3840"];

function isInputName(name: string | undefined): name is InputName {
  return name !== undefined && Object.hasOwn(INPUTS, name);
}

/** The input's bytes, made and cached on first use. */
async function inputBytes(name: InputName): Promise<Buffer> {
  return (await pictureBytes(INPUTS[name], LIMITS.maxImageRawLength)).bytes;
}

function inputBytesOnDisk(name: InputName): number {
  return fs.statSync(picturePath(INPUTS[name])).size;
}

// ---------------------------------------------------------------------------
// 2. Memory, in a fresh Node child: `node bench/image-pipeline.ts --memory-child <input>`

/** The production codecs (src/images/codecs.ts), on the same .wasm files, compiled here as Node cannot import them. */
async function nodeCodecs(): Promise<Codecs> {
  const { wasmCodecs } = await import("../src/images/codecs.ts");
  return wasmCodecs({
    jpegScaled: new WebAssembly.Module(fs.readFileSync(path.join(PROJECT_DIR, "vendor", "jpeg-scaled", "jpeg_scaled.wasm"))),
    png: jsquashWasm("png/codec/pkg/squoosh_png_bg.wasm"),
  });
}

/** Each input is shrunk this many times in one process: memory must come back each time, not pile up. */
const MEMORY_RUNS = 3;

interface MemorySample extends NodeJS.MemoryUsage {
  phase: string;
}

interface MemoryReport {
  samples: MemorySample[];
  maxRssBefore: number;
  maxRssAfter: number;
}

/** `node --expose-gc` gives this: collect now. */
function gc(): void {
  if (typeof globalThis.gc !== "function") throw new BenchError("The memory run needs node --expose-gc");
  void globalThis.gc();
}

async function memoryChild(name: InputName): Promise<void> {
  const { shrinkImage } = await import("../src/images/pipeline.ts");
  const codecs = await nodeCodecs();
  const base64 = fs.readFileSync(picturePath(INPUTS[name])).toString("base64"); // made by the parent
  gc();
  const sample = (phase: string): MemorySample => ({ phase, ...process.memoryUsage() });
  const before = sample("baseline");
  const maxRssBefore = process.resourceUsage().maxRSS * 1024;
  const samples = [before];
  for (let run = 1; run <= MEMORY_RUNS; run++) {
    const result = await shrinkImage(base64, LIMITS, codecs, (phase) => samples.push(sample(`run ${run}: ${phase}`)));
    if (!result.ok) throw new BenchError(`shrinkImage refused the ${INPUTS[name].label}: ${result.detail}`);
  }
  const maxRssAfter = process.resourceUsage().maxRSS * 1024;
  // A dropped WebAssembly instance's memory is released over more than one collection.
  for (let i = 0; i < 5; i++) {
    await sleep(20);
    gc();
  }
  samples.push(sample("end, after gc()"));
  const report: MemoryReport = { samples, maxRssBefore, maxRssAfter };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

const children = new Set<ChildProcess>();

async function measureMemory(name: InputName): Promise<MemoryReport> {
  await inputBytes(name); // made here, not in the measured child
  const child = spawn(process.execPath, ["--expose-gc", fileURLToPath(import.meta.url), "--memory-child", name], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.add(child);
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  const timer = setTimeout(() => child.kill("SIGKILL"), TIMEOUT_MS.memoryChild);
  const [code, signal] = (await once(child, "close").finally(() => {
    clearTimeout(timer);
    children.delete(child);
  })) as [number | null, NodeJS.Signals | null];
  if (code !== 0) throw new BenchError(`The memory run of the ${INPUTS[name].label} failed (${signal ?? `exit code ${code}`})`);
  return JSON.parse(output.trim().split("\n").at(-1) ?? "") as MemoryReport;
}

// ---------------------------------------------------------------------------
// 1. and 3. Time, in workerd: `wrangler dev` of bench/image-pipeline-worker.ts (see tools/dev-server.ts)

type Mode = "pipeline" | "direct";

/** One run in workerd, as bench/image-pipeline-worker.ts answers it (ms). */
interface TimedRun {
  phases: Partial<Record<ImagePhase, number>>;
  /** The longest slice of work between two yields. */
  longest: number;
  slices: number;
  total: number;
  width: number;
  height: number;
  pngBytes: number;
}

/** Warm-up plus measured runs of one input inside workerd, the modes interleaved; answers the measured runs per mode. */
async function timeInWorkerd(
  server: DevServer,
  name: InputName,
  modes: readonly Mode[],
  measuredRuns: number,
): Promise<Partial<Record<Mode, TimedRun[]>>> {
  const base64 = (await inputBytes(name)).toString("base64");
  const runs = WARMUP_RUNS + measuredRuns;
  let response: Response;
  try {
    response = await fetch(`${server.baseUrl}/run`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ base64, limits: LIMITS, runs, modes }),
      signal: AbortSignal.timeout(TIMEOUT_MS.request),
    });
  } catch (error) {
    throw new BenchError(
      `POST /run (${INPUTS[name].label}, ${modes.join(", ")}): ${messageOf(error)}${server.exit ? `; wrangler exited, see ${server.logPath}` : ""}`,
    );
  }
  const text = await response.text();
  if (!response.ok)
    throw new BenchError(`POST /run (${INPUTS[name].label}, ${modes.join(", ")}) answered ${response.status}: ${text.slice(0, 500)}`);
  const results = JSON.parse(text) as Record<Mode, TimedRun[]>;
  return Object.fromEntries(Object.entries(results).map(([mode, modeRuns]) => [mode, modeRuns.slice(WARMUP_RUNS)]));
}

// ---------------------------------------------------------------------------
// Printing

/** Median per phase, of the rest ("other") and of the total; the total's range. */
function summarize(runs: readonly TimedRun[]): string[] {
  const ms = (values: readonly (number | undefined)[]): string =>
    values.every((value) => value === undefined) ? "-" : median(values.map((value) => value ?? 0)).toFixed(0);
  const row = PHASES.map((phase) => ms(runs.map((run) => run.phases[phase])));
  const other = ms(runs.map((run) => run.total - PHASES.reduce((sum, phase) => sum + (run.phases[phase] ?? 0), 0)));
  const totals = runs.map((run) => run.total);
  return [
    ...row,
    other,
    ms(totals),
    `${Math.min(...totals).toFixed(0)}-${Math.max(...totals).toFixed(0)}`,
    ms(runs.map((run) => run.slices)),
    ms(runs.map((run) => run.longest)),
  ];
}

/** The tables' layout: names on the left, columns two spaces apart. */
const COLUMNS = { separator: "  ", firstLeft: true };

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)}`;

function printMemory(name: InputName, { samples, maxRssBefore, maxRssAfter }: MemoryReport): number {
  const before = samples[0];
  const end = samples.at(-1);
  if (!before || !end) throw new BenchError(`The memory run of the ${INPUTS[name].label} reported no samples`);
  const peak = (key: keyof NodeJS.MemoryUsage): number => Math.max(...samples.map((sample) => sample[key]));
  console.log(
    `\n${INPUTS[name].label}, ${base64Length(inputBytesOnDisk(name)).toLocaleString("en")} base64 characters, shrunk ${MEMORY_RUNS} times`,
  );
  printTable(
    ["sampled after", "rss", "heapUsed", "external", "arrayBuffers"],
    samples.map((s) => [s.phase, mib(s.rss), mib(s.heapUsed), mib(s.external), mib(s.arrayBuffers)]),
    COLUMNS,
  );
  console.log(
    `  peak RSS increase: ${mib(maxRssAfter - before.rss)} MiB (maxRSS ${mib(maxRssAfter)} after, ${mib(maxRssBefore)} before; RSS ${mib(before.rss)} before)`,
  );
  const firstRun = samples.filter((sample) => sample.phase.startsWith("run 1:"));
  const firstPeak = Math.max(...firstRun.map((sample) => sample.external));
  console.log(
    `  external (WebAssembly memories and ArrayBuffers, live or not yet collected) over the baseline: peak of the first image +${mib(firstPeak - before.external)} MiB, of all ${MEMORY_RUNS} +${mib(peak("external") - before.external)} MiB`,
  );
  console.log(
    `  kept once collected: external ${mib(end.external - before.external)} MiB, heap ${mib(end.heapUsed - before.heapUsed)} MiB`,
  );
  return maxRssAfter - before.rss;
}

// ---------------------------------------------------------------------------

let server: DevServer | undefined;

function parseArgs(argv: readonly string[]): { measuredRuns: number } {
  let measuredRuns = DEFAULT_MEASURED_RUNS;
  for (const arg of argv) {
    const runs = /^--runs=(\d+)$/.exec(arg);
    if (runs && Number(runs[1]) > 0) measuredRuns = Number(runs[1]);
    else throw new BenchError(`Unknown argument ${JSON.stringify(arg)}. Usage: npm run bench:images -- [--runs=N]`);
  }
  return { measuredRuns };
}

/** 1. and 3.: every timed input inside workerd; the 4000x3000 JPEG also without the pre-shrink. */
async function timeAll(measuredRuns: number): Promise<{ timed: Record<string, TimedRun[]>; direct: TimedRun[] }> {
  console.log("Starting wrangler dev (bench/image-pipeline.wrangler.toml)...");
  server = await DevServer.create({ name: "bench-images", config: "bench/image-pipeline.wrangler.toml" });
  await server.start();
  await server.waitUntilReady();
  const timed: Record<string, TimedRun[]> = {};
  let direct: TimedRun[] | undefined;
  for (const name of TIMED) {
    // The 4000x3000 JPEG also runs without the pre-shrink (3.), interleaved with the pipeline's runs.
    const runs = await timeInWorkerd(server, name, name === "photo4000" ? ["pipeline", "direct"] : ["pipeline"], measuredRuns);
    timed[name] = runs.pipeline ?? [];
    direct ??= runs.direct;
  }
  await server.stop();
  fs.rmSync(server.workDir, { recursive: true, force: true });
  server = undefined;
  return { timed, direct: direct ?? [] };
}

async function main(): Promise<void> {
  const { measuredRuns } = parseArgs(process.argv.slice(2));
  const started = performance.now();
  for (const name of [...TIMED, ...MEMORY]) await inputBytes(name);
  const { timed, direct } = await timeAll(measuredRuns);

  console.log(`\n1. shrinkImage inside workerd (wrangler dev), limits ${JSON.stringify(LIMITS)}`);
  console.log(`   median of ${measuredRuns} runs after ${WARMUP_RUNS} warm-up, in ms (workerd's clock counts whole ms)\n`);
  printTable(
    ["input", "input bytes", ...PHASES, "other", "total", "range", "slices", "longest", "output", "PNG bytes"],
    TIMED.map((name) => {
      const runs = timed[name] ?? [];
      const run = runs[0];
      return [
        INPUTS[name].label,
        inputBytesOnDisk(name),
        ...summarize(runs),
        run ? `${run.width}x${run.height}` : "-",
        run?.pngBytes ?? "-",
      ];
    }),
    COLUMNS,
  );

  console.log(`\n2. Peak memory of shrinkImage, in Node ${process.versions.node} (V8 ${process.versions.v8})`);
  console.log("   one fresh `node --expose-gc` per input: codecs and input loaded, gc(), baseline, shrinkImage 3 times;");
  console.log("   process.memoryUsage() sampled at the baseline, after each phase and at the end, in MiB;");
  console.log("   peak RSS from process.resourceUsage().maxRSS. Node lacks Uint8Array.fromBase64: base64 goes through atob.");
  for (const name of MEMORY) printMemory(name, await measureMemory(name));
  console.log("\n  Workers allow an isolate 128 MB, WebAssembly memory included; each step's WebAssembly instance is");
  console.log("  dropped after it, so nothing stays in the codecs between images.");

  console.log("\n3. What the pre-shrink buys: the 4000x3000 photo JPEG inside workerd, median ms");
  console.log(
    "   as is: shrinkImage (DCT decode at 1/2, box filter, lanczos3); direct: decode every pixel, lanczos3 from the\n   full image to the final size, encode; their runs alternate (the 'as is' row is the one of table 1)\n",
  );
  const [asIs, straight] = [summarize(timed.photo4000 ?? []), summarize(direct)];
  printTable(
    ["pipeline", ...PHASES, "other", "total", "range", "slices", "longest"],
    [
      ["as is", ...asIs],
      ["direct", ...straight],
    ],
    COLUMNS,
  );
  const [asIsTotal, directTotal] = [Number(asIs.at(-4)), Number(straight.at(-4))];
  console.log(
    `\n   the pre-shrink saves ${directTotal - asIsTotal} ms per image (${((1 - asIsTotal / directTotal) * 100).toFixed(0)}% of the direct total)`,
  );
  console.log(`\nDone in ${((performance.now() - started) / 1000).toFixed(0)} s.`);
}

let aborting = false;

async function abort(signal: NodeJS.Signals): Promise<void> {
  aborting = true;
  console.error(`\n${signal}: stopping.`);
  for (const child of children) child.kill("SIGKILL");
  if (server) await server.stop();
  process.exit(130);
}

const pathMode = process.argv.slice(2).find((arg) => arg === "--path" || arg === "--e2e");
if (pathMode) {
  const { endToEnd, pathBreakdown } = await import("./image-path.ts");
  const runsArg = process.argv.find((arg) => arg.startsWith("--runs="));
  const runs = runsArg ? Number(runsArg.slice("--runs=".length)) : 7;
  try {
    if (pathMode === "--path") await pathBreakdown(runs);
    else await endToEnd(runs, process.argv.includes("--direct"));
  } catch (error) {
    console.error(isExplained(error) ? `\n${error.message}` : error);
    process.exitCode = 1;
  }
} else if (process.argv[2] === "--memory-child") {
  const name = process.argv[3];
  if (!isInputName(name)) throw new BenchError(`--memory-child: no input ${JSON.stringify(name)}`);
  await memoryChild(name);
} else {
  process.once("SIGINT", abort);
  process.once("SIGTERM", abort);
  try {
    await main();
  } catch (error) {
    if (!aborting) console.error(isExplained(error) ? `\n${error.message}` : error);
    process.exitCode = 1;
  } finally {
    if (server) await server.stop();
  }
}
