// The per-message rows of issue 14, `npm run bench -- --per-message`: what one text costs our room
// beyond the platform's floor, measured side by side in one run against two baselines the bench
// starts itself:
//   ours     the gischat Worker and its Room object (`wrangler dev`, as the other benches run it)
//   bare DO  bench/bare-room/: a Durable Object that accepts hibernating WebSockets and sends every
//            raw frame to every socket of the room (`wrangler dev` too, the same flags)
//   bare DO + insert  the same object inserting each frame into its SQLite first: the floor of a
//            room that stores a message before it fans it out (the write holds the sends behind
//            the output gate until it is confirmed)
//   bare DO + batched  the same object storing and sending a burst's frames together (one commit,
//            the sends back to back), as our room does (src/room/burst.ts)
//   Node ws  bench/bare-ws-server.ts: the same rebroadcast in a Node `ws` server, a child process
// The rows:
//   burst    1,000 texts sent at once by one socket into a room of 100: deliveries/s counted at the
//            receivers (100,000 deliveries / first send to last delivery)
//   CPU      the server's CPU (utime + stime of its processes in /proc: wrangler's whole process
//            group, or the Node child) per 1,000 deliveries over a burst into 100, 500 and 1,000
//            sockets, and the runtime's alone (the workerd that runs the object; wrangler itself
//            and its dev proxy are the rest)
//   opening  1,000 sockets opened CONNECT_BATCH at a time until all are open (ours: and until every
//            one has been told nb_users = 1,000, which the baselines have no notion of)
// Each burst is measured BURSTS times per room (--bursts=<n>), the median printed. Ours needs its
// sender registered (a `newcomer`) before it takes texts; the baselines' sockets just send. The bench's
// clients count a delivery by the frame's first bytes, the same work for the three servers.
//
//   npm run bench -- --per-message [--direct] [--deflate] [--bursts=<n>] [--profile]
// --direct: sockets straight to each wrangler's runtime workerd, bypassing its dev proxy (fanout.ts).
// --profile: ours and the bare DO only, a CPU profile of each isolate over each size's bursts
//            (inspector-profile.ts): where a text's time goes, by function (the profiler slows both).
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { readStat, runtimeBaseUrl, serverProcesses, workerdProcesses } from "../tools/dev-processes.ts";
import { answers, type DevServer, PROJECT_DIR, roomListed } from "../tools/dev-server.ts";
import { reportServerComplaints, withServer } from "./bench-server.ts";
import { printProfile, startProfile, summarizeProfile } from "./inspector-profile.ts";
import { describeVars, limitVars, NO_RATE_LIMIT } from "./limits.ts";
import { type BenchSocket, describeClient, OPEN, type OpenSocket, socketFactory } from "./room-client.ts";
import { BenchError, median, printTable, seconds, waitUntil, withTimeout } from "./util.ts";

const ROOM = "QGIS";
const SENDER = "bench_sender";
/** As fanout.ts: no cap on the room's size, no rate limit a burst's sender would reach. */
const BENCH_VARS = { ...limitVars({ maxUsers: 1_000_000 }), ...NO_RATE_LIMIT };
const OPEN_FILES = 200_000;
const CONNECT_BATCH = 50;
const DEFAULT_BURSTS = 3;
/** Sockets in the room, and texts per burst: 1,000 into 100 (the issue's row), then 100,000 deliveries a burst for the CPU rows. */
const ROWS = [
  { sockets: 100, texts: 1_000 },
  { sockets: 500, texts: 200 },
  { sockets: 1_000, texts: 100 },
] as const;
/** Linux counts 100 CPU ticks a second. */
const TICK_MS = 10;
const TEXT_PREFIX = '{"type":"text"';

interface Options {
  direct: boolean;
  deflate: boolean;
  bursts: number;
  profile: boolean;
}

function parseArgs(argv: readonly string[]): Options {
  const options: Options = { direct: false, deflate: false, bursts: DEFAULT_BURSTS, profile: false };
  for (const arg of argv) {
    const bursts = /^--bursts=(\d+)$/.exec(arg)?.[1];
    if (arg === "--direct") options.direct = true;
    else if (arg === "--deflate") options.deflate = true;
    else if (arg === "--profile") options.profile = true;
    else if (bursts !== undefined && Number(bursts) > 0) options.bursts = Number(bursts);
    else
      throw new BenchError(
        `Unknown argument ${JSON.stringify(arg)}. Usage: npm run bench -- --per-message [--direct] [--deflate] [--bursts=<n>]`,
      );
  }
  return options;
}

// ---------------------------------------------------------------------------
// The three servers

interface Target {
  name: string;
  /** ws:// URL of the room (a fresh room name per size for the baselines, our listed room for ours). */
  url(size: number): string;
  /** CPU ticks (user + system) of the server's processes so far, by role (RUNTIME: the process that runs the room). */
  cpuTicks(): Map<string, number>;
  /** Ours only: the sender must register, and every socket is told the room's count. */
  gischat: boolean;
  /** Why the server cannot be trusted any more, if it cannot. */
  problem(): string | undefined;
  /** The wrangler dev it runs in (not the Node baseline). */
  server?: DevServer;
}

/** The process that runs the room: wrangler's runtime workerd, or the Node child. */
const RUNTIME = "runtime";

/** wrangler's process group by role: its runtime workerd, its dev proxy (a workerd too), wrangler itself (Node), the rest (esbuild). */
function groupTicks(server: DevServer): Map<string, number> {
  const { runtime, proxy } = workerdProcesses(server);
  const ticks = new Map<string, number>();
  for (const { pid } of serverProcesses(server)) {
    const role = pid === runtime?.pid ? RUNTIME : pid === proxy?.pid ? "dev proxy" : pid === server.pid ? "wrangler" : "other";
    try {
      ticks.set(role, (ticks.get(role) ?? 0) + readStat(`/proc/${pid}/stat`).ticks);
    } catch {
      // Gone meanwhile (esbuild's watcher).
    }
  }
  return ticks;
}

function sum(values: Iterable<number>): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}

async function wranglerTarget(server: DevServer, name: string, gischat: boolean, direct: boolean, roomPrefix = "bare-"): Promise<Target> {
  const base = (direct ? await runtimeBaseUrl(server) : server.baseUrl).replace(/^http/, "ws");
  return {
    name,
    url: (size) => `${base}/room/${gischat ? ROOM : `${roomPrefix}${size}`}/ws`,
    cpuTicks: () => groupTicks(server),
    gischat,
    problem: () => server.problem(),
    server,
  };
}

/** Starts bench/bare-ws-server.ts as a child process; answers it with its port. */
async function startNodeServer(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [path.join(PROJECT_DIR, "bench", "bare-ws-server.ts")], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  process.once("exit", () => child.kill("SIGKILL"));
  const lines = readline.createInterface({ input: child.stdout! });
  const firstLine = new Promise<string>((resolve, reject) => {
    lines.once("line", resolve);
    child.once("exit", (code) => reject(new BenchError(`bench/bare-ws-server.ts exited (code ${code}) before listening`)));
  });
  const port = Number(await withTimeout(firstLine, 10_000, "Starting bench/bare-ws-server.ts"));
  if (!Number.isInteger(port) || port <= 0) throw new BenchError("bench/bare-ws-server.ts printed no port");
  return { child, port };
}

function nodeTarget(child: ChildProcess, port: number): Target {
  return {
    name: "Node ws",
    url: (size) => `ws://127.0.0.1:${port}/room/bare-${size}/ws`,
    cpuTicks: () => new Map([[RUNTIME, readStat(`/proc/${child.pid}/stat`).ticks]]),
    gischat: false,
    problem: () => (child.exitCode !== null ? `bench/bare-ws-server.ts exited (code ${child.exitCode})` : undefined),
  };
}

// ---------------------------------------------------------------------------
// A room of sockets and its bursts

interface Socket {
  ws: BenchSocket;
  texts: number;
  nbUsers: number;
  sawSender: boolean;
  closed: boolean;
}

interface Room {
  target: Target;
  sockets: Socket[];
  /** Texts counted in the current burst, all sockets together, and when the last one came. */
  delivered: number;
  lastDeliveryAt: number;
  fatal: string | undefined;
  closing: boolean;
}

function abortReason(room: Room): () => string | undefined {
  return () => room.target.problem() ?? room.fatal;
}

function openSocket(room: Room, openWs: OpenSocket, url: string, index: number): Promise<void> {
  const socket: Socket = { ws: openWs(url), texts: 0, nbUsers: 0, sawSender: false, closed: false };
  room.sockets.push(socket);
  socket.ws.addEventListener("message", ({ data }) => {
    const frame = String(data);
    if (frame.startsWith(TEXT_PREFIX)) {
      socket.texts++;
      room.delivered++;
      room.lastDeliveryAt = performance.now();
    } else if (room.target.gischat) onGischatFrame(room, socket, frame, index);
  });
  socket.ws.addEventListener("close", (event) => {
    socket.closed = true;
    if (!room.closing) room.fatal ??= `${room.target.name}: socket #${index} closed (code ${event.code} ${event.reason})`;
  });
  return new Promise((resolve, reject) => {
    socket.ws.addEventListener("open", resolve, { once: true });
    socket.ws.addEventListener("close", () => reject(new BenchError(`${room.target.name}: socket #${index} closed before opening`)), {
      once: true,
    });
  });
}

function onGischatFrame(room: Room, socket: Socket, frame: string, index: number): void {
  const message = JSON.parse(frame) as { type?: string; nb_users?: number; newcomer?: string; reason?: string };
  if (message.type === "nb_users") socket.nbUsers = message.nb_users ?? NaN;
  else if (message.type === "newcomer" && message.newcomer === SENDER) socket.sawSender = true;
  else if (message.type === "uncompliant") room.fatal ??= `ours: socket #${index} was told: ${message.reason}`;
}

/** Opens `size` sockets, CONNECT_BATCH at a time: the time until all were open, and (ours) until all were told the count. */
async function openRoom(target: Target, openWs: OpenSocket, size: number): Promise<{ room: Room; openMs: number; countedMs: number }> {
  const room: Room = { target, sockets: [], delivered: 0, lastDeliveryAt: 0, fatal: undefined, closing: false };
  const started = performance.now();
  const url = target.url(size);
  for (let first = 0; first < size; first += CONNECT_BATCH) {
    const batch: Promise<void>[] = [];
    for (let index = first; index < Math.min(first + CONNECT_BATCH, size); index++) batch.push(openSocket(room, openWs, url, index));
    await withTimeout(Promise.all(batch), 120_000, `${target.name}: opening ${size} sockets`);
    const reason = abortReason(room)();
    if (reason) throw new BenchError(reason);
  }
  const openMs = performance.now() - started;
  let countedMs = Number.NaN;
  if (target.gischat) {
    await waitUntil(() => room.sockets.every((socket) => socket.nbUsers === size), {
      timeoutMs: 60_000,
      what: `ours: every socket told nb_users = ${size}`,
      abortReason: abortReason(room),
    });
    countedMs = performance.now() - started;
    room.sockets[0]!.ws.send(JSON.stringify({ type: "newcomer", newcomer: SENDER }));
    await waitUntil(() => room.sockets.every((socket) => socket.sawSender), {
      timeoutMs: 30_000,
      what: `ours: every socket told the newcomer ${SENDER}`,
      abortReason: abortReason(room),
    });
  }
  return { room, openMs, countedMs };
}

interface Burst {
  deliveries: number;
  ms: number;
  perSecond: number;
  /** Server CPU ms per 1,000 deliveries: all its processes, and the runtime's alone. */
  cpuPer1000: number;
  runtimePer1000: number;
}

/** Socket #0 sends `texts` texts at once; waits for every socket to count them all. */
async function burst(room: Room, texts: number): Promise<Burst> {
  // Whatever the opening left queued (replayed history, a trailing count) is done before the clock starts.
  await sleep(500);
  for (const socket of room.sockets) socket.texts = 0;
  room.delivered = 0;
  const expected = texts * room.sockets.length;
  const sender = room.sockets[0]!.ws;
  const ticksBefore = room.target.cpuTicks();
  const started = performance.now();
  for (let i = 0; i < texts; i++) sender.send(JSON.stringify({ type: "text", author: SENDER, avatar: null, text: `burst ${i}` }));
  await waitUntil(() => room.delivered >= expected, {
    timeoutMs: 120_000,
    what: () => `${room.target.name}: waiting for ${expected} deliveries (${room.delivered} so far)`,
    abortReason: abortReason(room),
    pollMs: 2,
  });
  const ms = room.lastDeliveryAt - started;
  const ticksAfter = room.target.cpuTicks();
  const cpuMs = (sum(ticksAfter.values()) - sum(ticksBefore.values())) * TICK_MS;
  const runtimeMs = ((ticksAfter.get(RUNTIME) ?? 0) - (ticksBefore.get(RUNTIME) ?? 0)) * TICK_MS;
  if (room.sockets.some((socket) => socket.texts !== texts)) throw new BenchError(`${room.target.name}: a socket missed or doubled texts`);
  const per1000 = (spentMs: number): number => (spentMs / expected) * 1000;
  return { deliveries: expected, ms, perSecond: expected / (ms / 1000), cpuPer1000: per1000(cpuMs), runtimePer1000: per1000(runtimeMs) };
}

async function closeRoom(room: Room): Promise<void> {
  room.closing = true;
  for (const { ws } of room.sockets) if (ws.readyState === OPEN) ws.close(1000, "bench done");
  await waitUntil(() => room.sockets.every((socket) => socket.closed), { timeoutMs: 60_000, what: `${room.target.name}: closing` }).catch(
    (error: unknown) => console.error(`  (${(error as Error).message})`),
  );
  // Departures are the server's work too: let it finish before the next server is measured.
  await sleep(1_000);
}

// ---------------------------------------------------------------------------
// Rows

interface Measured {
  /** Per target name. */
  perSecond: Map<string, number>;
  cpuPer1000: Map<string, number>;
  runtimePer1000: Map<string, number>;
  openMs: Map<string, number>;
  countedMs: number;
}

async function measureSize(
  targets: readonly Target[],
  openWs: OpenSocket,
  { size, texts, bursts, profile }: { size: number; texts: number; bursts: number; profile: boolean },
): Promise<Measured> {
  const measured: Measured = {
    perSecond: new Map(),
    cpuPer1000: new Map(),
    runtimePer1000: new Map(),
    openMs: new Map(),
    countedMs: Number.NaN,
  };
  console.log(`\n${size} sockets, bursts of ${texts} texts (${(size * texts).toLocaleString("en-US")} deliveries each)`);
  for (const target of targets) {
    const { room, openMs, countedMs } = await openRoom(target, openWs, size);
    measured.openMs.set(target.name, openMs);
    if (target.gischat) measured.countedMs = countedMs;
    const results: Burst[] = [];
    try {
      const stopProfile = profile && target.server ? await startProfile(target.server) : undefined;
      for (let i = 0; i < bursts; i++) results.push(await burst(room, texts));
      if (stopProfile) {
        const cpuProfile = await stopProfile();
        printProfile(target.name, summarizeProfile(cpuProfile), texts * bursts);
        const file = path.join(os.tmpdir(), `per-message-${target.name.replaceAll(/\W+/g, "-")}-${size}.cpuprofile`);
        fs.writeFileSync(file, JSON.stringify(cpuProfile));
        console.log(`  (the whole profile, for Chrome's DevTools: ${file})`);
      }
    } finally {
      await closeRoom(room);
    }
    const perSecond = median(results.map((r) => r.perSecond));
    const cpu = median(results.map((r) => r.cpuPer1000));
    measured.perSecond.set(target.name, perSecond);
    measured.cpuPer1000.set(target.name, cpu);
    measured.runtimePer1000.set(target.name, median(results.map((r) => r.runtimePer1000)));
    console.log(
      `  ${target.name.padEnd(16)} opened in ${seconds(openMs)}${target.gischat ? ` (all told the count in ${seconds(countedMs)})` : ""};` +
        ` bursts: ${results.map((r) => `${Math.round(r.perSecond).toLocaleString("en-US")}/s ${r.cpuPer1000.toFixed(1)} ms CPU/1,000 (runtime ${r.runtimePer1000.toFixed(1)})`).join(", ")}`,
    );
  }
  return measured;
}

function ratio(ours: number | undefined, bare: number | undefined, digits = 2): string {
  return ours === undefined || bare === undefined ? "-" : `${(ours / bare).toFixed(digits)}×`;
}

const BARE = "bare DO";
const STORED = "bare DO + insert";
const BATCHED = "bare DO + batched";

function printRows(targets: readonly Target[], bySize: ReadonlyMap<number, Measured>): void {
  const names = targets.map((t) => t.name);
  const rows: string[][] = [];
  const row = (label: string, figures: ReadonlyMap<string, number>, format: (value: number) => string): void => {
    const cell = (name: string): string => {
      const value = figures.get(name);
      return value === undefined ? "-" : format(value);
    };
    rows.push([label, ...names.map(cell), ratio(figures.get("ours"), figures.get(BARE)), ratio(figures.get("ours"), figures.get(STORED))]);
  };
  const first = bySize.get(ROWS[0].sockets);
  if (first) {
    row(`burst of ${ROWS[0].texts} texts into ${ROWS[0].sockets}: deliveries/s`, first.perSecond, (v) =>
      Math.round(v).toLocaleString("en-US"),
    );
  }
  for (const { sockets } of ROWS) {
    const m = bySize.get(sockets);
    if (!m) continue;
    row(`server CPU ms per 1,000 deliveries, ${sockets} sockets`, m.cpuPer1000, (v) => v.toFixed(1));
    row("  ... of which the runtime (workerd running the object; Node)", m.runtimePer1000, (v) => v.toFixed(1));
  }
  const { sockets: most } = ROWS[ROWS.length - 1]!;
  const largest = bySize.get(most);
  if (largest) {
    row(`opening ${most.toLocaleString("en-US")} sockets (${CONNECT_BATCH} at a time), s`, largest.openMs, (v) => (v / 1000).toFixed(1));
    rows.push([
      "  ... ours until every socket was told nb_users, s",
      ...names.map((n) => (n === "ours" ? (largest.countedMs / 1000).toFixed(1) : "")),
      "",
      "",
    ]);
  }
  console.log("\nPer message, side by side (medians of the bursts)");
  printTable(["row", ...names, `ours / ${BARE}`, `ours / ${STORED}`], rows, { firstLeft: true });
}

export async function perMessage(argv: readonly string[]): Promise<void> {
  const options = parseArgs(argv);
  const openWs = await socketFactory(options.deflate);
  const { child, port } = await startNodeServer();
  try {
    await withServer({ name: "per-message-ours", ready: roomListed(ROOM), vars: BENCH_VARS, openFiles: OPEN_FILES }, (ours) =>
      withServer(
        { name: "per-message-bare", config: "bench/bare-room/wrangler.toml", ready: answers("/"), openFiles: OPEN_FILES },
        async (bare) => {
          const ourTarget = await wranglerTarget(ours, "ours", true, options.direct);
          const bareTarget = await wranglerTarget(bare, BARE, false, options.direct);
          const storedTarget = await wranglerTarget(bare, STORED, false, options.direct, "stored-");
          const batchedTarget = await wranglerTarget(bare, BATCHED, false, options.direct, "batched-");
          const targets = options.profile
            ? [ourTarget, bareTarget]
            : [ourTarget, bareTarget, storedTarget, batchedTarget, nodeTarget(child, port)];
          console.log(`WebSocket client: ${describeClient(options.deflate)}`);
          console.log(`Ours runs with ${describeVars(BENCH_VARS)}; the bare DO and Node ws have no limits.`);
          console.log(
            options.direct
              ? "Sockets go straight to each wrangler's runtime workerd, bypassing its dev proxy."
              : "Sockets go through each wrangler's dev proxy (--direct to bypass it); its CPU is counted with the server's.",
          );
          console.log(
            `Server CPU: utime + stime of wrangler's whole process group (or the Node child), ${TICK_MS} ms ticks; ${options.bursts} bursts per room, medians.`,
          );
          const bySize = new Map<number, Measured>();
          for (const { sockets, texts } of ROWS) {
            bySize.set(
              sockets,
              await measureSize(targets, openWs, { size: sockets, texts, bursts: options.bursts, profile: options.profile }),
            );
          }
          printRows(targets, bySize);
          reportServerComplaints(ours);
          reportServerComplaints(bare);
        },
      ),
    );
  } finally {
    child.kill("SIGTERM");
  }
}
