// `npm run bench:flood -- --first-socket`: the one-time stall of a flooder's FIRST socket (issue 14,
// "A room never stalls", the flooder row), side by side with the same room left alone.
//
// A few chatters (5 by default, --chatters=N) sit registered in room "QGIS" with the default limits
// (a burst of 20, then 2 per second per socket; closed with 1008 after 10 refusals). Each
// repetition (--bursts=N, 10 by default) has two windows, in this order:
//
//   without  the chatters send --probes texts (20), one every --window / --probes ms (10 ms), in
//            turn, and every chatter (the sender included) records each text's latency;
//   with     the same, starting the very moment a fresh flooder socket, from an address the room
//            has never seen (CF-Connecting-IP: so a full budget, as a flooder's first socket has),
//            writes --frames texts (400) back to back, in one turn of its loop.
//
// Between windows the bench waits for every delivery, for the flooder's socket to close, and for
// the chatters' budgets to refill. The flooder runs in a worker thread at the lowest priority, as
// if on a machine of its own. The windows of each kind are pooled; the figure is the chatters'
// p99 during the burst divided by their p99 without it (the goal: at most 1.2x).
//
//   npm run bench:flood -- --first-socket --direct
//   npm run bench:flood -- --first-socket --chatters=5 --bursts=20 --frames=400
//   npm run bench:flood -- --first-socket --direct --floor  also, side by side (bursts alternate), a bare
//                                                          room doing the least the contract allows with
//                                                          each frame (flood-floor-worker.ts, its own
//                                                          wrangler dev): what workerd itself charges
//                                                          for receiving the burst
//   npm run bench:flood -- --first-socket --direct --floor-store  the bare room also stores each text it
//                                                                broadcasts (one SQLite INSERT)
import fs from "node:fs";
import os from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { isMainThread, type MessagePort, parentPort, Worker, workerData } from "node:worker_threads";
import { runtimeBaseUrl, workerdProcesses } from "../tools/dev-processes.ts";
import { type DevServer, roomListed } from "../tools/dev-server.ts";
import { reportServerComplaints, withServer } from "./bench-server.ts";
import {
  type BaseRun,
  type BenchSocket,
  closeAll,
  type FrameHandlers,
  joinAndRegister,
  OPEN,
  type OpenSocket,
  onRoomFrame,
  type RegisteredClient,
  type RoomFrame,
  runState,
  sendTimedText,
  sentTextOf,
  socketFactory,
  type TimedText,
  watchSocket,
} from "./room-client.ts";
import { BenchError, median, ms, now, printTable, type Summary, summary, waitUntil, withTimeout } from "./util.ts";

const ROOM = "QGIS";
const FLOODER = "flooder";
const ROLE = "first-socket flooder";
/** The goal: the chatters' p99 during the burst at most this many times their p99 without it. */
const GOAL_RATIO = 1.2;
const TOO_FAST = /too fast/i;
const TIMEOUT_MS = { connect: 30_000, window: 30_000, flooderClose: 15_000, close: 15_000 };
/** After the flooder's socket opens: its nb_users reaches the chatters within 250 ms (coalesced), before the window. */
const SETTLE_MS = 400;
const FLOOR_CONFIG = "bench/flood-floor.wrangler.toml";

export interface FirstSocketOptions {
  chatters: number;
  bursts: number;
  frames: number;
  probes: number;
  windowMs: number;
  direct: boolean;
  /** Also against the bare room of flood-floor-worker.ts, side by side. */
  floor: boolean;
  /** ...which then stores every frame it broadcasts. */
  floorStores: boolean;
}

const DEFAULTS = { chatters: 5, bursts: 10, frames: 400, probes: 20, windowMs: 200 };

const USAGE =
  "Usage: npm run bench:flood -- --first-socket [--chatters=N] [--bursts=N] [--frames=N] [--probes=N] [--window=<ms>] [--direct] [--floor] [--floor-store]";

export function parseFirstSocketArgs(argv: readonly string[]): FirstSocketOptions {
  const options: FirstSocketOptions = { ...DEFAULTS, direct: false, floor: false, floorStores: false };
  for (const arg of argv) {
    const [, name, value] = /^--([a-z-]+)(?:=(\d+))?$/.exec(arg) ?? [];
    const number = Number(value);
    if (name === "first-socket" && value === undefined) continue;
    if (name === "chatters" && number > 0) options.chatters = number;
    else if (name === "bursts" && number > 0) options.bursts = number;
    else if (name === "frames" && number > 0) options.frames = number;
    else if (name === "probes" && number > 0) options.probes = number;
    else if (name === "window" && number > 0) options.windowMs = number;
    else if (name === "direct" && value === undefined) options.direct = true;
    else if (name === "floor" && value === undefined) options.floor = true;
    else if (name === "floor-store" && value === undefined) options.floor = options.floorStores = true;
    else throw new BenchError(`Unknown argument ${JSON.stringify(arg)}. ${USAGE}`);
  }
  return options;
}

// ---------------------------------------------------------------------------
// The flooder's thread: per burst, open a socket from a fresh address, write every frame at once, count the answers

interface FlooderData {
  role: typeof ROLE;
  url: string;
  frames: number;
}

type ToFlooder = { kind: "open"; address: string } | { kind: "fire" } | { kind: "stop" };
type FromFlooder = { kind: "opened" } | { kind: "failed"; reason: string } | { kind: "done"; counts: BurstCounts };

export interface BurstCounts {
  sent: number;
  /** Its own texts it got back. */
  echoed: number;
  refused: number;
  otherAnswers: number;
  closeCode: number | null;
  closeReason: string;
}

function messages<T>(port: MessagePort | Worker): () => Promise<T> {
  const queue: T[] = [];
  const waiting: ((message: T) => void)[] = [];
  port.on("message", (message: T) => {
    const next = waiting.shift();
    if (next) next(message);
    else queue.push(message);
  });
  return () => {
    const queued = queue.shift();
    return queued !== undefined ? Promise.resolve(queued) : new Promise((resolve) => waiting.push(resolve));
  };
}

async function flooderThread({ url, frames }: FlooderData): Promise<void> {
  if (!parentPort) throw new BenchError("The flooder runs in a worker thread");
  const port = parentPort;
  os.setPriority(19);
  const { WebSocket } = await import("ws");
  const next = messages<ToFlooder>(port);
  const post = (message: FromFlooder): void => port.postMessage(message);
  for (let order = await next(); order.kind === "open"; order = await next()) {
    const ws = new WebSocket(url, { perMessageDeflate: false, headers: { "CF-Connecting-IP": order.address } }) as unknown as BenchSocket;
    const counts: BurstCounts = { sent: 0, echoed: 0, refused: 0, otherAnswers: 0, closeCode: null, closeReason: "" };
    ws.addEventListener("message", ({ data }) => {
      const message = JSON.parse(String(data)) as RoomFrame;
      if (message.type === "text" && message.author === FLOODER) counts.echoed++;
      else if (message.type === "uncompliant" && TOO_FAST.test(String(message.reason))) counts.refused++;
      else if (message.type !== "nb_users" && message.type !== "text") counts.otherAnswers++;
    });
    ws.addEventListener("error", () => {});
    const closed = new Promise<void>((resolve) =>
      ws.addEventListener("close", ({ code, reason }) => {
        counts.closeCode = code;
        counts.closeReason = reason;
        resolve();
      }),
    );
    const opened = await Promise.race([
      new Promise<boolean>((resolve) => ws.addEventListener("open", () => resolve(true), { once: true })),
      closed.then(() => false),
      sleep(TIMEOUT_MS.connect).then(() => false),
    ]);
    if (!opened) {
      ws.terminate?.();
      post({ kind: "failed", reason: `the flooder's socket did not open (close ${counts.closeCode})` });
      continue;
    }
    post({ kind: "opened" });
    const fire = await next();
    if (fire.kind !== "fire") break;
    for (let k = 1; k <= frames && ws.readyState === OPEN; k++) {
      ws.send(JSON.stringify({ type: "text", author: FLOODER, avatar: null, text: `flood ${k}` }));
      counts.sent++;
    }
    await Promise.race([closed, sleep(TIMEOUT_MS.flooderClose)]);
    if (counts.closeCode === null) ws.terminate?.();
    post({ kind: "done", counts });
  }
}

interface Flooder {
  open(address: string): Promise<void>;
  fire(): Promise<BurstCounts>;
  stop(): Promise<void>;
}

function startFlooder(url: string, frames: number): Flooder {
  const data: FlooderData = { role: ROLE, url, frames };
  const worker = new Worker(new URL(import.meta.url), { workerData: data });
  const next = messages<FromFlooder>(worker);
  const failed = new Promise<never>((_, reject) => {
    worker.once("error", reject);
    worker.once("exit", (code) => reject(new BenchError(`The flooder's thread exited (code ${code})`)));
  });
  failed.catch(() => {});
  const answer = async (what: string): Promise<FromFlooder> => {
    const message = await Promise.race([next(), failed]);
    if (message.kind === "failed") throw new BenchError(`${what}: ${message.reason}`);
    return message;
  };
  return {
    async open(address) {
      worker.postMessage({ kind: "open", address } satisfies ToFlooder);
      await answer("Opening the flooder's socket");
    },
    async fire() {
      worker.postMessage({ kind: "fire" } satisfies ToFlooder);
      const done = await answer("The flooder's burst");
      if (done.kind !== "done") throw new BenchError(`The flooder answered ${done.kind}`);
      return done.counts;
    },
    async stop() {
      worker.postMessage({ kind: "stop" } satisfies ToFlooder);
      await worker.terminate();
    },
  };
}

// ---------------------------------------------------------------------------
// The chatters and the windows

interface Window {
  withBurst: boolean;
  latencies: number[];
  /** Flood texts the chatters received. */
  floodDeliveries: number;
  burst: BurstCounts | null;
  stats: Summary;
  /** CPU the runtime (Worker and rooms) used from the window's start until the room was quiet again, ms. */
  runtimeCpuMs: number;
}

interface Run extends BaseRun, FirstSocketOptions {
  label: string;
  url: string;
  windows: Window[];
  flooder: Flooder | null;
  runtimePid: number | undefined;
  clients: RegisteredClient[];
  sent: Map<number, TimedText & { window: Window }>;
  current: Window | null;
}

const ON_FRAME: FrameHandlers<Run, RegisteredClient> = {
  newcomer(_run, client, name) {
    client.newcomers.add(name);
  },
  text(run, _client, message: RoomFrame, receivedAt) {
    if (message.author === FLOODER) {
      if (run.current) run.current.floodDeliveries++;
      return;
    }
    const sent = sentTextOf(run, message);
    if (sent === undefined) return;
    sent.reached++;
    sent.window.latencies.push(receivedAt - sent.time);
  },
};

async function openRoom(run: Run, openSocket: (url: string) => BenchSocket): Promise<void> {
  const opening: Promise<void>[] = [];
  for (let i = 1; i <= run.chatters; i++) {
    const client: RegisteredClient = { name: `chatter_${i}`, ws: openSocket(run.url), nbUsers: 0, newcomers: new Set(), closed: false };
    run.clients.push(client);
    opening.push(watchSocket(run, client, `socket ${client.name}`, (data) => onRoomFrame(run, client, client.name, data, now(), ON_FRAME)));
  }
  await joinAndRegister(run, opening, { room: ROOM, timeoutMs: TIMEOUT_MS.connect });
}

/** The chatters' texts of one window: one every windowMs / probes, in turn. */
async function probe(run: Run, window: Window): Promise<void> {
  const started = now();
  const step = run.windowMs / run.probes;
  for (let i = 0; i < run.probes; i++) {
    const wait = started + i * step - now();
    if (wait > 0) await sleep(wait);
    const client = run.clients[i % run.clients.length]!;
    sendTimedText(run, client.ws, client.name, { window });
  }
  const expected = run.probes * run.clients.length;
  await waitUntil(() => window.latencies.length >= expected, {
    timeoutMs: TIMEOUT_MS.window,
    what: () => `Waiting for the window's deliveries (${window.latencies.length} / ${expected})`,
    abortReason: () => run.server.problem() ?? run.fatal,
  });
}

/** Long enough for each chatter's budget to earn back what a window spent (2 per second). */
function refillMs(run: Run): number {
  return Math.ceil((run.probes / run.clients.length / 2) * 1000) + 500;
}

async function runWindow(run: Run, withBurst: boolean, address: string): Promise<Window> {
  const flooder = run.flooder;
  if (!flooder) throw new BenchError("No flooder");
  const window: Window = { withBurst, latencies: [], floodDeliveries: 0, burst: null, stats: summary([]), runtimeCpuMs: NaN };
  if (withBurst) await flooder.open(address);
  await sleep(SETTLE_MS);
  const cpuBefore = cpuNs(run.runtimePid);
  run.current = window;
  const burst = withBurst ? flooder.fire() : null;
  await probe(run, window);
  if (burst) window.burst = await withTimeout(burst, TIMEOUT_MS.window, "The flooder's burst");
  // The flooder's departure (nb_users) and its last frames reach the chatters meanwhile.
  await sleep(refillMs(run));
  window.runtimeCpuMs = (cpuNs(run.runtimePid) - cpuBefore) / 1e6;
  run.current = null;
  window.stats = summary(window.latencies);
  return window;
}

/**
 * CPU time so far of all the threads of a process, in ns (/proc/<pid>/task/<tid>/schedstat): a
 * measure of the room's work that other load on the machine barely moves, unlike latency. NaN
 * without /proc.
 */
function cpuNs(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  let total = 0;
  for (const task of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(fs.readFileSync(`/proc/${pid}/task/${task}/schedstat`, "utf8").split(" ", 1)[0]);
    } catch {
      // The thread ended meanwhile.
    }
  }
  return total;
}

// ---------------------------------------------------------------------------
// Figures

function printResults(run: Run): void {
  const { windows } = run;
  const pairs = windows.filter((w) => !w.withBurst).map((without, i) => [without, windows.filter((w) => w.withBurst)[i]!] as const);
  console.log(
    `\n${run.label}: ${run.chatters} chatters, ${run.probes} texts per window (one every ${ms(run.windowMs / run.probes)} ms over ${run.windowMs} ms),` +
      ` each received by every chatter; with: a fresh socket writes ${run.frames} texts back to back as the window starts`,
  );
  printTable(
    [
      "burst",
      "without p50 / p99 / max ms",
      "with p50 / p99 / max ms",
      "runtime CPU without / with ms",
      "flood frames sent",
      "broadcast (per chatter)",
      'refused "too fast"',
      "close",
    ],
    pairs.map(([without, withBurst], i) => [
      String(i + 1),
      `${ms(without.stats.p50)} / ${ms(without.stats.p99)} / ${ms(without.stats.max)}`,
      `${ms(withBurst.stats.p50)} / ${ms(withBurst.stats.p99)} / ${ms(withBurst.stats.max)}`,
      `${ms(without.runtimeCpuMs)} / ${ms(withBurst.runtimeCpuMs)}`,
      String(withBurst.burst?.sent ?? "-"),
      ms(withBurst.floodDeliveries / run.chatters),
      String(withBurst.burst?.refused ?? "-"),
      withBurst.burst?.closeCode === null || withBurst.burst === null ? "none" : String(withBurst.burst.closeCode),
    ]),
    { firstLeft: true },
  );
  const without = summary(windows.filter((w) => !w.withBurst).flatMap((w) => w.latencies));
  const withBurst = summary(windows.filter((w) => w.withBurst).flatMap((w) => w.latencies));
  printTable(
    ["pooled", "deliveries", "p50 ms", "p90 ms", "p99 ms", "max ms"],
    [
      ["without the burst", without.count, ms(without.p50), ms(without.p90), ms(without.p99), ms(without.max)],
      ["during the burst", withBurst.count, ms(withBurst.p50), ms(withBurst.p90), ms(withBurst.p99), ms(withBurst.max)],
    ],
    { firstLeft: true },
  );
  const ratio = withBurst.p99 / without.p99;
  console.log(
    `\n${run.label}: a flooder's first socket (${run.frames} texts back to back) vs ${run.chatters} chatters' p99 (pooled over ${pairs.length} bursts):` +
      ` ${ms(without.p99)} -> ${ms(withBurst.p99)} ms, ${ratio.toFixed(2)}x (goal: at most ${GOAL_RATIO}x: ${ratio <= GOAL_RATIO ? "met" : "NOT met"});` +
      ` max ${ms(without.max)} -> ${ms(withBurst.max)} ms, p50 ${ms(without.p50)} -> ${ms(withBurst.p50)} ms.`,
  );
  const ratios = pairs.map(([without, burst]) => burst.stats.p99 / without.stats.p99);
  console.log(
    `Per burst, p99 during / without: median ${median(ratios).toFixed(2)}x, ${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}x` +
      ` (the machine's other load moves single windows: the pooled figure and the median are the ones to compare).`,
  );
  const cpuOf = (w: Window[]): number => w.reduce((sum, window) => sum + window.runtimeCpuMs, 0) / w.length;
  const burstCpu = cpuOf(pairs.map(([, w]) => w)) - cpuOf(pairs.map(([w]) => w));
  console.log(
    `The runtime's CPU per burst (with minus without, mean): ${ms(burstCpu)} ms, ${((burstCpu / run.frames) * 1000).toFixed(0)} us per flood frame.`,
  );
  const odd = pairs.filter(([, w]) => w.burst !== null && (w.burst.closeCode !== 1008 || w.burst.otherAnswers > 0));
  for (const [, w] of odd) console.log(`  ! a burst ended otherwise: ${JSON.stringify(w.burst)}`);
}

// ---------------------------------------------------------------------------
// Main

export async function runFirstSocket(options: FirstSocketOptions): Promise<void> {
  const openSocket = await socketFactory(false);
  const real = { name: "flood-first-socket", ready: roomListed(ROOM) };
  // The runtime's own port is found while wrangler's proxy still holds its connection to it: at once.
  const target = async (label: string, server: DevServer): Promise<Target> => ({
    label,
    server,
    baseUrl: options.direct ? await runtimeBaseUrl(server) : server.baseUrl,
  });
  await withServer(real, async (realServer) => {
    const room = await target("the room", realServer);
    if (!options.floor) return burstAgainst([room], options, openSocket);
    const floor = { ...real, name: "flood-floor", config: FLOOR_CONFIG, vars: { FLOOR_STORE: String(options.floorStores) } };
    const label = options.floorStores ? "the bare room storing each text (floor + SQLite)" : "the bare room (floor)";
    await withServer(floor, async (floorServer) => burstAgainst([room, await target(label, floorServer)], options, openSocket));
  });
}

interface Target {
  label: string;
  server: DevServer;
  baseUrl: string;
}

/** Each burst against each server in turn, so that all see the same load on the machine. */
async function burstAgainst(targets: Target[], options: FirstSocketOptions, openSocket: OpenSocket): Promise<void> {
  const runs: Run[] = [];
  for (const { label, server, baseUrl } of targets) {
    console.log(`${label}: sockets ${options.direct ? "straight to the workerd runtime" : "through wrangler's dev proxy"} (${baseUrl})`);
    const url = `${baseUrl.replace(/^http/, "ws")}/room/${ROOM}/ws`;
    const run: Run = {
      server,
      label,
      ...options,
      url,
      runtimePid: workerdProcesses(server).runtime?.pid,
      clients: [],
      sent: new Map(),
      current: null,
      windows: [],
      flooder: null,
      ...runState(),
    };
    await openRoom(run, openSocket);
    run.flooder = startFlooder(url, options.frames);
    runs.push(run);
  }
  console.log(`${options.chatters} chatters connected and registered in each room`);
  try {
    await sleep(refillMs(runs[0]!));
    for (let burst = 1; burst <= options.bursts; burst++) {
      // 198.18.0.0/15 is for benchmarks: one address per burst, each the room's first sight of it.
      const address = `198.18.${burst >> 8}.${burst & 255}`;
      for (const run of runs) {
        const without = await runWindow(run, false, address);
        const withBurst = await runWindow(run, true, address);
        run.windows.push(without, withBurst);
        console.log(
          `  burst ${burst}, ${run.label}: p99 ${ms(without.stats.p99)} ms without, ${ms(withBurst.stats.p99)} ms with; ${JSON.stringify(withBurst.burst)}`,
        );
      }
    }
  } finally {
    for (const run of runs) await run.flooder?.stop();
  }
  for (const run of runs) printResults(run);
  for (const run of runs) {
    for (const line of run.unexpected.slice(0, 5)) console.log(`! unexpected (${run.label}): ${line}`);
    reportServerComplaints(run.server);
    await closeAll(run, TIMEOUT_MS.close);
  }
}

if (!isMainThread && (workerData as { role?: string } | null)?.role === ROLE) await flooderThread(workerData as FlooderData);
