// The image path beyond shrinkImage, for `npm run bench:images -- --path` and `-- --e2e`:
//
// --path  inside workerd, the bench Worker's PathRoom (bench/image-pipeline-worker.ts) runs
//         what the room does with an `image` frame, each step timed with the production
//         code: JSON.parse, zod, the pipeline's phases (their work, yields left out) and
//         what lies between them (timers, header, output base64), storing in SQLite,
//         serializing per dialect; the count of slices and the longest one (the most a
//         text can wait behind the image work); and the RPC hop the room no longer makes
//         (the 4 MB string there and a number back). Medians of the measured runs, in ms.
// --e2e   through the real server (`wrangler dev`, trace store off, rate limits lifted):
//         one socket sends the image, another (registered in the same room) receives the
//         resized broadcast; turnaround = send -> the broadcast's last byte at the other
//         socket, transport included. `--direct` goes straight to the workerd that runs
//         the Worker, past wrangler's dev proxy (a hop production does not have).
//         For a "before", copy this file (and the dispatch in image-pipeline.ts) into a
//         worktree of the older commit and run it there.
// Both modes run Pillow on the same file side by side (bench/pillow.ts: upstream
// gischat's job in-process, with Debian's python3-pil), each of our runs followed by one
// of Pillow's, and print our median over Pillow's.
import { runtimeBaseUrl } from "../tools/dev-processes.ts";
import { DevServer, roomListed } from "../tools/dev-server.ts";
import { withServer } from "./bench-server.ts";
import { NO_RATE_LIMIT } from "./limits.ts";
import { type PictureSpec, pictureBytes, picturePath } from "./picture-files.ts";
import { Pillow } from "./pillow.ts";
import { socketFactory } from "./room-client.ts";
import { BenchError, median, printTable } from "./util.ts";

export const PATH_INPUTS = {
  screen1080: { label: "1080x2400 screenshot PNG", kind: "screen", width: 1080, height: 2400 },
  photo1200: { label: "1200x800 photo JPEG", kind: "photo", width: 1200, height: 800 },
  photo4000: { label: "4000x3000 photo JPEG", kind: "photo", width: 4000, height: 3000 },
} as const satisfies Record<string, PictureSpec>;
type Name = keyof typeof PATH_INPUTS;
const NAMES = Object.keys(PATH_INPUTS) as Name[];
const MAX_BASE64 = 5_000_000;

async function frameOf(name: Name, author: string): Promise<string> {
  const { bytes } = await pictureBytes(PATH_INPUTS[name], MAX_BASE64);
  return JSON.stringify({ type: "image", author, avatar: null, image_data: bytes.toString("base64") });
}

const STEPS = [
  "JSON.parse",
  "zod",
  "pipeline other",
  "base64",
  "decode",
  "shrink",
  "upright",
  "encode",
  "store",
  "serialize",
  "total",
  "slices",
  "longest slice",
  "rpc echo 4 MB",
] as const;

/** Pillow, or why not (printed once). */
async function startPillow(): Promise<Pillow | undefined> {
  const pillow = await Pillow.start();
  if (typeof pillow === "string") {
    console.log(pillow);
    return undefined;
  }
  console.log(`Pillow ${pillow.version} side by side (bench/pillow.py: upstream gischat's job, in-process)`);
  return pillow;
}

async function pillowMedian(pillow: Pillow | undefined, name: Name, runs: number): Promise<number | undefined> {
  if (!pillow) return undefined;
  await pillow.run(picturePath(PATH_INPUTS[name])); // warm-up
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push((await pillow.run(picturePath(PATH_INPUTS[name]))).ms);
  return median(times);
}

const ratio = (ours: number, theirs: number | undefined) => (theirs === undefined ? "-" : `${(ours / theirs).toFixed(2)}x`);

export async function pathBreakdown(runs: number): Promise<void> {
  const server = await DevServer.create({ name: "bench-image-path", config: "bench/image-pipeline.wrangler.toml" });
  await server.start();
  const pillow = await startPillow();
  try {
    await server.waitUntilReady();
    const rows: string[][] = [];
    for (const name of NAMES) {
      const frame = await frameOf(name, "photographer");
      const response = await fetch(`${server.baseUrl}/path`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ frame, runs: runs + 1 }),
        signal: AbortSignal.timeout(120_000),
      });
      const text = await response.text();
      if (!response.ok) throw new BenchError(`POST /path answered ${response.status}: ${text.slice(0, 500)}`);
      const measured = (JSON.parse(text) as { path: Record<string, number>[] }).path.slice(1);
      const theirs = await pillowMedian(pillow, name, runs);
      const total = median(measured.map((run) => run.total ?? 0));
      rows.push([
        PATH_INPUTS[name].label,
        ...STEPS.map((step) => median(measured.map((run) => run[step] ?? 0)).toFixed(1)),
        theirs?.toFixed(0) ?? "-",
        ratio(total, theirs),
      ]);
    }
    console.log(`\nThe image path inside workerd, step by step (median of ${runs} runs after 1 warm-up, ms)\n`);
    printTable(["input", ...STEPS, "Pillow", "total / Pillow"], rows, { separator: "  ", firstLeft: true });
  } finally {
    pillow?.stop();
    await server.stop();
  }
}

export async function endToEnd(runs: number, direct: boolean): Promise<void> {
  await withServer({ name: "bench-image-e2e", vars: NO_RATE_LIMIT, ready: roomListed("QGIS") }, async (server) => {
    const base = direct ? await runtimeBaseUrl(server) : server.baseUrl;
    console.log(direct ? `Sockets straight to workerd (${base})` : `Sockets through wrangler's dev proxy (${base})`);
    const open = await socketFactory(false);
    const url = `${base.replace(/^http/, "ws")}/room/QGIS/ws`;
    const [sender, receiver] = [open(url), open(url)];
    let onImage: ((at: number) => void) | undefined;
    let refused: string | undefined;
    receiver.addEventListener("message", ({ data }) => {
      const at = performance.now();
      const text = String(data);
      if (text.startsWith('{"type":"image"')) onImage?.(at);
    });
    sender.addEventListener("message", ({ data }) => {
      const text = String(data);
      if (text.includes('"uncompliant"')) refused = text.slice(0, 300);
    });
    await Promise.all(
      [sender, receiver].map((ws) => new Promise<void>((resolve) => ws.addEventListener("open", () => resolve(), { once: true }))),
    );
    sender.send(JSON.stringify({ type: "newcomer", newcomer: "photographer" }));
    receiver.send(JSON.stringify({ type: "newcomer", newcomer: "listener" }));
    const pillow = await startPillow();
    const rows: string[][] = [];
    for (const name of NAMES) {
      const frame = await frameOf(name, "photographer");
      const times: number[] = [];
      const pillowTimes: number[] = [];
      for (let i = 0; i <= runs; i++) {
        const arrived = new Promise<number>((resolve, reject) => {
          onImage = resolve;
          setTimeout(() => reject(new BenchError(`no image back within 60 s (${refused ?? "no refusal"})`)), 60_000).unref();
        });
        const start = performance.now();
        sender.send(frame);
        const at = await arrived;
        if (i > 0) times.push(at - start);
        await new Promise((resolve) => setTimeout(resolve, 50));
        // Pillow right after, on the same machine in the same second.
        const theirs = await pillow?.run(picturePath(PATH_INPUTS[name]));
        if (i > 0 && theirs) pillowTimes.push(theirs.ms);
      }
      const theirs = pillowTimes.length ? median(pillowTimes) : undefined;
      rows.push([
        PATH_INPUTS[name].label,
        median(times).toFixed(0),
        Math.min(...times).toFixed(0),
        Math.max(...times).toFixed(0),
        theirs?.toFixed(0) ?? "-",
        ratio(median(times), theirs),
      ]);
    }
    pillow?.stop();
    sender.close();
    receiver.close();
    console.log(`\nImage turnaround end to end: send -> resized broadcast at another socket (${runs} runs after 1 warm-up, ms),`);
    console.log("beside Pillow doing upstream's job in-process on the same file (its median over the same runs)\n");
    printTable(["input", "median", "min", "max", "Pillow", "median / Pillow"], rows, { separator: "  ", firstLeft: true });
  });
}
