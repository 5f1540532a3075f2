// Image benchmark: what shrinkImage (src/images.ts) costs in time and in memory.
//
// Inputs are made here, deterministically, with jSquash's encoders, and cached in
// os.tmpdir() so that re-runs skip it: photo-like JPEGs (gradients, a wavy horizon,
// texture and per-pixel grain; quality 85, sequential 4:2:0 like a phone camera's)
// and screenshot-like PNGs (flat app chrome, a map of flat shapes and roads, list
// rows of anti-aliased text-like glyphs with small photo thumbnails; opaque RGBA).
//
// 1. Time, inside workerd (the runtime production uses, with its native base64):
//    `wrangler dev` runs a bench-only Worker (bench/images-worker.ts) that calls
//    shrinkImage with the production codecs on each input, 1 warm-up
//    run then 9 measured ones. Phases come from the onPhase callback; "other" is
//    the total minus the phases (header, transparency check, output base64).
//    Medians in ms, and the totals' range; workerd's clock counts whole milliseconds.
// 2. Peak memory, in Node 22 (workerd exposes no memory counters; Node has the same
//    kind of V8 and runs the very same .wasm files): one fresh child process per
//    input loads the production codecs (src/wasm-codecs.ts, on the same .wasm files) and
//    the input, takes a baseline, runs shrinkImage three times (no gc() in between,
//    as in production), samples memory after each phase, and reports the peak RSS
//    over the baseline (maxRSS after - RSS before), the peak of V8's external memory
//    (WebAssembly memories and ArrayBuffers), and what is still held once collected.
// 3. What the box-filter pre-shrink buys on the 4000x3000 JPEG: the pipeline as is
//    vs. lanczos3 straight from the full decoded image, inside workerd, medians again;
//    the two alternate run by run, so that both see the same machine.
//
//   npm run bench:images
import { spawn } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { PROJECT_DIR, startServer, stopServer, waitForServer } from "./dev-server.mjs";
import { BenchError, median, printTable } from "./util.mjs";

const JSQUASH = path.join(PROJECT_DIR, "node_modules", "@jsquash");
const CACHE_DIR = path.join(os.tmpdir(), "gischat-bench-images-v1");

const LIMITS = { maxImageSize: 800, maxImageRawLength: 5_000_000, maxImagePixels: 12_600_000 };
const WARMUP_RUNS = 1;
const MEASURED_RUNS = 9;
const PHASES = ["base64", "decode", "reduce", "resize", "encode"];
const TIMEOUT_MS = { request: 120_000, memoryChild: 60_000 };

const INPUTS = {
  photo4000: { label: "4000x3000 photo JPEG", kind: "photo", width: 4000, height: 3000 },
  screen1080: { label: "1080x2400 screenshot PNG", kind: "screen", width: 1080, height: 2400 },
  photo1200: { label: "1200x800 photo JPEG", kind: "photo", width: 1200, height: 800 },
  photo4032: { label: "4032x3024 photo JPEG", kind: "photo", width: 4032, height: 3024 },
  screen3840: { label: "3840x2160 screenshot PNG", kind: "screen", width: 3840, height: 2160 },
};
const TIMED = ["photo4000", "screen1080", "photo1200"];
const MEMORY = ["photo4032", "screen3840"];

const wasmModule = (file) => new WebAssembly.Module(fs.readFileSync(path.join(JSQUASH, file)));

// ---------------------------------------------------------------------------
// Inputs

function mulberry32(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Sky and ground gradients, a wavy horizon, mid-frequency texture on the ground, grain everywhere. */
function photo(width, height) {
  const random = mulberry32(width * 31 + height);
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0, i = 0; y < height; y++) {
    const v = y / height;
    for (let x = 0; x < width; x++, i += 4) {
      const u = x / width;
      const horizon = 0.45 + 0.06 * Math.sin(u * 9) + 0.03 * Math.sin(u * 23 + 1);
      const grain = (random() - 0.5) * 40;
      let r, g, b;
      if (v < horizon) {
        const t = v / horizon;
        r = 90 + 120 * t + 25 * Math.sin(u * 4 + v * 7);
        g = 140 + 90 * t;
        b = 220 + 25 * t;
      } else {
        const t = (v - horizon) / (1 - horizon);
        const texture = 60 * Math.sin(x * 0.21 + 3 * Math.sin(y * 0.037)) * Math.sin(y * 0.17 + 2 * Math.sin(x * 0.029));
        r = 70 + 60 * t + texture;
        g = 110 + 30 * Math.sin(u * 5) + texture;
        b = 50 + 20 * t + 0.5 * texture;
      }
      data[i] = r + grain;
      data[i + 1] = g + grain;
      data[i + 2] = b + grain;
      data[i + 3] = 255;
    }
  }
  return { data, width, height };
}

/** App chrome, a map (flat shapes, roads, labels), list rows with thumbnails and text, a bottom bar. */
function screenshot(width, height) {
  const random = mulberry32(width * 17 + height);
  const data = new Uint8ClampedArray(width * height * 4);
  const s = width < height ? (2.625 * width) / 1080 : height / 1080; // device pixels per CSS pixel: a phone, or a desktop
  const rect = (x0, y0, w, h, [r, g, b], alpha = 1) => {
    for (let y = Math.max(0, Math.round(y0)); y < Math.min(height, Math.round(y0 + h)); y++) {
      for (let x = Math.max(0, Math.round(x0)), i = (y * width + x) * 4; x < Math.min(width, Math.round(x0 + w)); x++, i += 4) {
        data[i] += (r - data[i]) * alpha;
        data[i + 1] += (g - data[i + 1]) * alpha;
        data[i + 2] += (b - data[i + 2]) * alpha;
        data[i + 3] = 255;
      }
    }
  };
  // Glyphs: random 5x7 bitmaps, drawn with 4x4 supersampling for anti-aliased edges.
  const glyphs = Array.from({ length: 48 }, () => Array.from({ length: 35 }, () => random() < 0.45));
  const text = (x0, y0, size, count, colour) => {
    const cell = size / 7;
    for (let c = 0, x = x0; c < count && x + cell * 6 < width; c++, x += cell * 6) {
      if (random() < 0.15) continue; // a space
      const glyph = glyphs[Math.floor(random() * glyphs.length)];
      for (let py = Math.floor(y0); py < Math.ceil(y0 + size); py++) {
        for (let px = Math.floor(x); px < Math.ceil(x + cell * 5); px++) {
          let cover = 0;
          for (let sy = 0.125; sy < 1; sy += 0.25) {
            for (let sx = 0.125; sx < 1; sx += 0.25) {
              const gx = Math.floor((px + sx - x) / cell);
              const gy = Math.floor((py + sy - y0) / cell);
              if (gx >= 0 && gx < 5 && gy >= 0 && gy < 7 && glyph[gy * 5 + gx]) cover++;
            }
          }
          if (cover) rect(px, py, 1, 1, colour, cover / 16);
        }
      }
    }
  };
  const bar = 24 * s;
  const toolbar = 56 * s;
  const bottom = 56 * s;
  rect(0, 0, width, height, [250, 250, 250]);
  rect(0, 0, width, bar, [48, 63, 159]);
  text(16 * s, 6 * s, 12 * s, 5, [255, 255, 255]);
  rect(0, bar, width, toolbar, [63, 81, 181]);
  text(16 * s, bar + 18 * s, 20 * s, 14, [255, 255, 255]);
  const mapTop = bar + toolbar;
  const mapHeight = Math.round((height - mapTop - bottom) * 0.45);
  rect(0, mapTop, width, mapHeight, [242, 239, 233]);
  for (let k = 0; k < 40; k++) {
    const colour = random() < 0.5 ? [200, 230, 190] : random() < 0.5 ? [170, 210, 240] : [225, 215, 210];
    rect(random() * width, mapTop + random() * mapHeight * 0.9, (10 + random() * 100) * s, (10 + random() * 60) * s, colour);
  }
  for (let k = 0; k < 14; k++) {
    const thickness = (1 + random() * 3) * s;
    if (k % 2 === 0) {
      const y = mapTop + random() * mapHeight;
      rect(0, y, width, thickness, [255, 255, 255]);
      text(random() * width * 0.7, y + thickness + 2 * s, 10 * s, 10, [90, 90, 90]);
    } else {
      const x = random() * width;
      rect(x, mapTop, thickness, mapHeight, [255, 255, 255]);
      text(x + 6 * s, mapTop + random() * mapHeight, 10 * s, 10, [90, 90, 90]);
    }
  }
  const rowHeight = 72 * s;
  const thumb = 56 * s;
  for (let y = mapTop + mapHeight, row = 0; y + rowHeight < height - bottom; y += rowHeight, row++) {
    for (let ty = 0; ty < thumb; ty++) {
      for (let tx = 0; tx < thumb; tx++) {
        const grain = (random() - 0.5) * 40;
        const t = ty / thumb;
        rect(8 * s + tx, y + 8 * s + ty, 1, 1, [80 + 100 * t + grain + row * 9, 120 + 40 * Math.sin(tx * 0.05 + row) + grain, 90 + 60 * t + grain]);
      }
    }
    text(thumb + 20 * s, y + 14 * s, 16 * s, 24, [33, 33, 33]);
    text(thumb + 20 * s, y + 40 * s, 14 * s, 34, [117, 117, 117]);
    rect(thumb + 20 * s, y + rowHeight - s / 2, width, Math.max(1, s / 2), [224, 224, 224]);
  }
  rect(0, height - bottom, width, bottom, [255, 255, 255]);
  for (let k = 0; k < 4; k++) text((width * (k + 0.35)) / 4, height - bottom + 20 * s, 14 * s, 3, [97, 97, 97]);
  return { data, width, height };
}

let encoders;
async function loadEncoders() {
  const [{ default: encodeJpeg, init: initJpeg }, { default: encodePng, init: initPng }] = await Promise.all([
    import("@jsquash/jpeg/encode.js"),
    import("@jsquash/png/encode.js"),
  ]);
  await Promise.all([initJpeg(wasmModule("jpeg/codec/enc/mozjpeg_enc.wasm")), initPng(wasmModule("png/codec/pkg/squoosh_png_bg.wasm"))]);
  return { encodeJpeg, encodePng };
}

function inputPath(name) {
  return path.join(CACHE_DIR, `${name}.${INPUTS[name].kind === "photo" ? "jpg" : "png"}`);
}

/** The input's bytes, made and cached on first use. */
async function inputBytes(name) {
  const file = inputPath(name);
  if (!fs.existsSync(file)) {
    const { kind, width, height, label } = INPUTS[name];
    process.stdout.write(`Making the ${label} (cached in ${CACHE_DIR})...\n`);
    encoders ??= await loadEncoders();
    const bytes =
      kind === "photo"
        ? await encoders.encodeJpeg(photo(width, height), { quality: 85, progressive: false })
        : await encoders.encodePng(screenshot(width, height));
    fs.mkdirSync(CACHE_DIR, { recursive: true });
    fs.writeFileSync(`${file}.tmp`, new Uint8Array(bytes));
    fs.renameSync(`${file}.tmp`, file);
  }
  const bytes = fs.readFileSync(file);
  const base64Length = Math.ceil(bytes.length / 3) * 4;
  if (base64Length > LIMITS.maxImageRawLength) {
    throw new BenchError(`${INPUTS[name].label}: its base64 (${base64Length} characters) is over maxImageRawLength; delete ${file}`);
  }
  return bytes;
}

// ---------------------------------------------------------------------------
// 2. Memory, in a fresh Node child: `node bench/images.mjs --memory-child <input>`

/** The production codecs (src/wasm-codecs.ts), on the same .wasm files, compiled here as Node cannot import them. */
async function nodeCodecs() {
  const { wasmCodecs } = await import("../src/images/codecs.ts");
  return wasmCodecs({
    jpegDecoder: new WebAssembly.Module(fs.readFileSync(path.join(PROJECT_DIR, "vendor", "jpeg-scaled", "jpeg_scaled.wasm"))),
    png: wasmModule("png/codec/pkg/squoosh_png_bg.wasm"),
    resize: wasmModule("resize/lib/resize/pkg/squoosh_resize_bg.wasm"),
  });
}

/** Each input is shrunk this many times in one process: memory must come back each time, not pile up. */
const MEMORY_RUNS = 3;

async function memoryChild(name) {
  const { shrinkImage } = await import("../src/images/pipeline.ts");
  const codecs = await nodeCodecs();
  const base64 = fs.readFileSync(inputPath(name)).toString("base64"); // made by the parent
  globalThis.gc();
  const sample = (phase) => ({ phase, ...process.memoryUsage() });
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
    globalThis.gc();
  }
  samples.push(sample("end, after gc()"));
  process.stdout.write(`${JSON.stringify({ samples, maxRssBefore, maxRssAfter })}\n`);
}

const children = new Set();

async function measureMemory(name) {
  await inputBytes(name); // made here, not in the measured child
  const child = spawn(process.execPath, ["--expose-gc", fileURLToPath(import.meta.url), "--memory-child", name], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.add(child);
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  const timer = setTimeout(() => child.kill("SIGKILL"), TIMEOUT_MS.memoryChild);
  const [code, signal] = await once(child, "close").finally(() => {
    clearTimeout(timer);
    children.delete(child);
  });
  if (code !== 0) throw new BenchError(`The memory run of the ${INPUTS[name].label} failed (${signal ?? `exit code ${code}`})`);
  return JSON.parse(output.trim().split("\n").at(-1));
}

// ---------------------------------------------------------------------------
// 1. and 3. Time, in workerd: `wrangler dev` of bench/images-worker.ts (see dev-server.mjs)

/** Warm-up plus measured runs of one input inside workerd, the modes interleaved; answers the measured runs per mode. */
async function timeInWorkerd(server, name, modes) {
  const base64 = (await inputBytes(name)).toString("base64");
  const runs = WARMUP_RUNS + MEASURED_RUNS;
  let response;
  try {
    response = await fetch(`${server.baseUrl}/run`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ base64, limits: LIMITS, runs, modes }),
      signal: AbortSignal.timeout(TIMEOUT_MS.request),
    });
  } catch (error) {
    throw new BenchError(`POST /run (${INPUTS[name].label}, ${modes}): ${error.message}${server.exit ? `; wrangler exited, see ${server.logPath}` : ""}`);
  }
  const text = await response.text();
  if (!response.ok) throw new BenchError(`POST /run (${INPUTS[name].label}, ${modes}) answered ${response.status}: ${text.slice(0, 500)}`);
  return Object.fromEntries(Object.entries(JSON.parse(text)).map(([mode, results]) => [mode, results.slice(WARMUP_RUNS)]));
}

// ---------------------------------------------------------------------------
// Printing

/** Median per phase, of the rest ("other") and of the total; the total's range. */
function summarize(runs) {
  const ms = (values) => (values.every((value) => value === undefined) ? "-" : median(values.map((value) => value ?? 0)).toFixed(0));
  const row = PHASES.map((phase) => ms(runs.map((run) => run.phases[phase])));
  const other = ms(runs.map((run) => run.total - PHASES.reduce((sum, phase) => sum + (run.phases[phase] ?? 0), 0)));
  const totals = runs.map((run) => run.total);
  return [...row, other, ms(totals), `${Math.min(...totals).toFixed(0)}-${Math.max(...totals).toFixed(0)}`];
}

/** The tables' layout: names on the left, columns two spaces apart. */
const COLUMNS = { separator: "  ", firstLeft: true };

const mib = (bytes) => `${(bytes / 2 ** 20).toFixed(1)}`;

function printMemory(name, { samples, maxRssBefore, maxRssAfter }) {
  const [before] = samples;
  const end = samples.at(-1);
  const peak = (key) => Math.max(...samples.map((sample) => sample[key]));
  console.log(`\n${INPUTS[name].label}, ${(Math.ceil(fs.statSync(inputPath(name)).size / 3) * 4).toLocaleString("en")} base64 characters, shrunk ${MEMORY_RUNS} times`);
  printTable(
    ["sampled after", "rss", "heapUsed", "external", "arrayBuffers"],
    samples.map((s) => [s.phase, mib(s.rss), mib(s.heapUsed), mib(s.external), mib(s.arrayBuffers)]),
    COLUMNS,
  );
  console.log(`  peak RSS increase: ${mib(maxRssAfter - before.rss)} MiB (maxRSS ${mib(maxRssAfter)} after, ${mib(maxRssBefore)} before; RSS ${mib(before.rss)} before)`);
  const firstRun = samples.filter((sample) => sample.phase.startsWith("run 1:"));
  const firstPeak = Math.max(...firstRun.map((sample) => sample.external));
  console.log(`  external (WebAssembly memories and ArrayBuffers, live or not yet collected) over the baseline: peak of the first image +${mib(firstPeak - before.external)} MiB, of all ${MEMORY_RUNS} +${mib(peak("external") - before.external)} MiB`);
  console.log(`  kept once collected: external ${mib(end.external - before.external)} MiB, heap ${mib(end.heapUsed - before.heapUsed)} MiB`);
  return maxRssAfter - before.rss;
}

// ---------------------------------------------------------------------------

let server;

async function main() {
  const started = performance.now();
  for (const name of [...TIMED, ...MEMORY]) await inputBytes(name);

  console.log("Starting wrangler dev (bench/images.wrangler.toml)...");
  server = await startServer({ name: "bench-images", config: "bench/images.wrangler.toml" });
  await waitForServer(server);
  const timed = {};
  let direct;
  for (const name of TIMED) {
    // The 4000x3000 JPEG also runs without the pre-shrink (3.), interleaved with the pipeline's runs.
    const runs = await timeInWorkerd(server, name, name === "photo4000" ? ["pipeline", "direct"] : ["pipeline"]);
    timed[name] = runs.pipeline;
    direct ??= runs.direct;
  }
  await stopServer(server);
  server = undefined;

  console.log(`\n1. shrinkImage inside workerd (wrangler dev), limits ${JSON.stringify(LIMITS)}`);
  console.log(`   median of ${MEASURED_RUNS} runs after ${WARMUP_RUNS} warm-up, in ms (workerd's clock counts whole ms)\n`);
  printTable(
    ["input", "input bytes", ...PHASES, "other", "total", "range", "output", "PNG bytes"],
    TIMED.map((name) => {
      const [run] = timed[name];
      return [INPUTS[name].label, fs.statSync(inputPath(name)).size, ...summarize(timed[name]), `${run.width}x${run.height}`, run.pngBytes];
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
  console.log("   as is: shrinkImage (DCT decode at 1/2, box filter, lanczos3); direct: decode every pixel, lanczos3 from the\n   full image to the final size, encode; their runs alternate (the 'as is' row is the one of table 1)\n");
  const [asIs, straight] = [summarize(timed.photo4000), summarize(direct)];
  printTable(["pipeline", ...PHASES, "other", "total", "range"], [["as is", ...asIs], ["direct", ...straight]], COLUMNS);
  const [asIsTotal, directTotal] = [Number(asIs.at(-2)), Number(straight.at(-2))];
  console.log(`\n   the pre-shrink saves ${directTotal - asIsTotal} ms per image (${((1 - asIsTotal / directTotal) * 100).toFixed(0)}% of the direct total)`);
  console.log(`\nDone in ${((performance.now() - started) / 1000).toFixed(0)} s.`);
}

let aborting = false;

async function abort(signal) {
  aborting = true;
  console.error(`\n${signal}: stopping.`);
  for (const child of children) child.kill("SIGKILL");
  if (server) await stopServer(server);
  process.exit(130);
}

if (process.argv[2] === "--memory-child") {
  await memoryChild(process.argv[3]);
} else {
  process.once("SIGINT", abort);
  process.once("SIGTERM", abort);
  try {
    await main();
  } catch (error) {
    if (!aborting) console.error(error instanceof BenchError ? `\n${error.message}` : error);
    process.exitCode = 1;
  } finally {
    if (server) await stopServer(server);
  }
}
