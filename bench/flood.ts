// Flooder benchmark: does one socket flooding a room move the others' latency?
//
// It starts its own `wrangler dev` (fresh local state in a temporary directory) with the
// instance's default limits, rate limits ON (a burst of 20 messages, then 2 per second per
// socket; a socket refused more than 10 times in a row is closed with 1008: see
// src/room/), and fills room "QGIS" with 50 registered chatters. Each chatter sends
// texts at a human pace, one every 1.5-4.5 s (3 s on average, each its own random
// schedule); every chatter (the sender included) records latency = receive time - send
// time of every text (one process, so one clock). Phases of 30 s alternate, by default
// without, with, without, with, without (--rounds=N for N phases with a flooder):
//
//   without  the chatters alone;
//   with     the same, plus a flooder: one more socket that registers as "flooder" and
//            sends texts as fast as it can (as long as its socket takes them). The server
//            lets its first 20 through, answers the next ones `uncompliant` ("too fast"),
//            and closes it with 1008; the flooder then tries to reconnect at once (or after
//            --reconnect-delay), 10 ms after each refusal, and floods again whenever it
//            gets a socket, until the phase ends. The room refuses connections from its
//            address with HTTP 429 for a minute, then gives its sockets an empty budget
//            for ten (src/flooders.ts): each phase with a flooder starts a minute after
//            the previous one began, so each gets a socket and floods. The flooder runs in
//            a worker thread at the lowest CPU priority, as if on a machine of its own
//            (--same-priority: at the chatters' and the server's), and apart from the
//            main thread, where the chatters' receive times are taken.
//
// A p99 over a few hundred texts is set by a handful of them, and two phases without a
// flooder differ by tens of percent here: the phases of each kind are pooled. It prints
// per phase and pooled the texts sent, deliveries received / expected, the chatters'
// latency p50/p90/p99/max, the flooder's texts they received, and the bench's own
// event-loop delay, and the CPU wrangler dev's processes used; the change of the pooled
// p99 from without to with (the goal: raised by less than 20 %) and the spread between
// phases without a flooder; and, per phase
// with a flooder, what became of it: its connection attempts and how many were refused
// at the upgrade, its frames sent, accepted (broadcast to the room), refused ("too
// fast"), unanswered (still in flight when its socket was closed), and its closes.
//
// Client and server share the machine's CPUs: the flooder, the chatters and wrangler dev.
//
//   npm run bench:flood
//   npm run bench:flood -- --chatters=100 --phase=60  phases of 60 s
//   npm run bench:flood -- --rounds=4              four phases with a flooder, five without
//   npm run bench:flood -- --pace=1000             a text every 0.5-1.5 s per chatter
//   npm run bench:flood -- --flood-rate=100        the flooder sends 100 frames per second
//   npm run bench:flood -- --reconnect-delay=5000  the flooder waits 5 s before reconnecting
//   npm run bench:flood -- --direct                sockets straight to the workerd that runs the
//                                                  Worker, bypassing wrangler's dev proxy (which
//                                                  relays every frame in a process of its own)
//   npm run bench:flood -- --first-socket --direct  the one-time stall of a flooder's first socket (400 texts
//                                                  back to back) vs 5 chatters' p99: see flood-first-socket.ts
import os from "node:os";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { setTimeout as sleep, setImmediate as yieldToLoop } from "node:timers/promises";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { readStat, runtimeBaseUrl, workerdProcesses } from "../tools/dev-processes.ts";
import { type DevServer, roomListed } from "../tools/dev-server.ts";
import { reportServerComplaints, withServer } from "./bench-server.ts";
import { parseFirstSocketArgs, runFirstSocket } from "./flood-first-socket.ts";
import {
  abortReasonOf,
  type BaseRun,
  closeAll,
  describeClient,
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
import { BenchError, messageOf, ms, now, printTable, runBench, type Summary, summary, waitForProgress, withTimeout } from "./util.ts";

const ROOM = "QGIS";
const FLOODER = "flooder";
interface Options {
  rounds: number;
  chatters: number;
  phaseS: number;
  paceMs: number;
  reconnectDelayMs: number;
  /** Frames per second; null: as fast as the socket takes them. */
  floodRate: number | null;
  deflate: boolean;
  direct: boolean;
  samePriority: boolean;
}

const DEFAULTS = { rounds: 2, chatters: 50, phaseS: 30, paceMs: 3_000, reconnectDelayMs: 0, floodRate: null };
/** The goal: the flooder moves the chatters' p99 by less than this. */
const GOAL = 0.2;
/** The flooder writes while its socket's send buffer holds less than this, then lets its loop turn. */
const FLOOD_BUFFER_BYTES = 64 * 1024;
/** ...and at most this many frames per turn. */
const FLOOD_FRAMES_PER_TURN = 200;
const TOO_FAST = /too fast/i;

const TIMEOUT_MS = {
  connect: 30_000,
  /** Waiting for a phase's last deliveries (a flooded room may lag far behind): give up after this long without a new one... */
  drainIdle: 10_000,
  /** ...or after this long in all. */
  drainTotal: 120_000,
  /** The flooder's socket: opening, and closing once the phase is over. */
  flooderSocket: 10_000,
  close: 15_000,
};

// ---------------------------------------------------------------------------
// Command line

const USAGE =
  "Usage: npm run bench:flood -- [--chatters=N] [--phase=<s>] [--rounds=N] [--pace=<ms>] [--reconnect-delay=<ms>] [--flood-rate=<frames/s>] [--deflate] [--direct] [--same-priority]";

function parseArgs(argv: readonly string[]): Options {
  const options: Options = { ...DEFAULTS, deflate: false, direct: false, samePriority: false };
  for (const arg of argv) {
    const [, name, value] = /^--([a-z-]+)(?:=(\d+))?$/.exec(arg) ?? [];
    if (name === "chatters" && Number(value) > 1) options.chatters = Number(value);
    else if (name === "phase" && Number(value) > 0) options.phaseS = Number(value);
    else if (name === "rounds" && Number(value) > 0) options.rounds = Number(value);
    else if (name === "pace" && Number(value) > 0) options.paceMs = Number(value);
    else if (name === "reconnect-delay" && value !== undefined) options.reconnectDelayMs = Number(value);
    else if (name === "flood-rate" && Number(value) > 0) options.floodRate = Number(value);
    else if (name === "deflate" && value === undefined) options.deflate = true;
    else if (name === "direct" && value === undefined) options.direct = true;
    else if (name === "same-priority" && value === undefined) options.samePriority = true;
    else throw new BenchError(`Unknown argument ${JSON.stringify(arg)}. ${USAGE}`);
  }
  return options;
}

function roomUrl(baseUrl: string): string {
  return `${baseUrl.replace(/^http/, "ws")}/room/${ROOM}/ws`;
}

// ---------------------------------------------------------------------------
// The flooder, in a worker thread: connect, register, send as fast as the socket takes it, reconnect

/** What the flooder's thread is given. */
interface FlooderData {
  baseUrl: string;
  deflate: boolean;
  reconnectDelayMs: number;
  floodRate: number | null;
  samePriority: boolean;
}

/** What became of the flooder in a phase (see flooderRow). */
interface FloodCounts {
  connections: number;
  failedConnections: number;
  /** Upgrades the server answered with an HTTP status instead of 101, by status. */
  refusedUpgrades: Record<string, number>;
  errors: number;
  registered: number;
  sent: number;
  accepted: number;
  refused: number;
  refusedOtherwise: number;
  otherReasons: string[];
  closes: Record<string, number>;
  closeReasons: Record<string, string>;
}

/** Runs in the worker thread until the main thread posts "stop"; then posts its counts. */
async function floodWorker({ baseUrl, deflate, reconnectDelayMs, floodRate, samePriority }: FlooderData): Promise<void> {
  if (!parentPort) throw new BenchError("The flooder runs in a worker thread");
  const port = parentPort;
  // A real flooder spends its own machine's CPU, not the server's. Here all share two cores:
  // at the lowest priority (Linux applies it to this thread alone) it takes what the server
  // and the chatters leave, so it measures what its traffic costs the room, not its CPU.
  if (!samePriority) os.setPriority(19);
  const openSocket = await socketFactory(deflate);
  let stopping = false;
  port.once("message", () => (stopping = true));
  const counts: FloodCounts = {
    connections: 0,
    failedConnections: 0,
    refusedUpgrades: {},
    errors: 0,
    registered: 0,
    sent: 0,
    accepted: 0,
    refused: 0,
    refusedOtherwise: 0,
    otherReasons: [],
    closes: {},
    closeReasons: {},
  };
  let k = 0;
  while (!stopping) {
    counts.connections++;
    const ws = openSocket(roomUrl(baseUrl));
    // Texts of earlier connections come back from the room's history on connect: not this one's.
    const firstOfConnection = k + 1;
    ws.addEventListener("error", (event) => {
      // The ws package reports a refused upgrade as "Unexpected server response: 429".
      const status = /Unexpected server response: (\d+)/.exec(event.message ?? "")?.[1];
      if (status) counts.refusedUpgrades[status] = (counts.refusedUpgrades[status] ?? 0) + 1;
      else counts.errors++;
    });
    ws.addEventListener("message", ({ data }) => {
      const message = JSON.parse(String(data)) as RoomFrame;
      const flood = message.type === "text" && message.author === FLOODER ? /^flood (\d+)$/.exec(String(message.text)) : null;
      if (flood) counts.accepted += Number(flood[1]) >= firstOfConnection ? 1 : 0;
      else if (message.type === "newcomer" && message.newcomer === FLOODER) counts.registered++;
      else if (message.type === "uncompliant" && TOO_FAST.test(String(message.reason))) counts.refused++;
      else if (message.type === "uncompliant") {
        counts.refusedOtherwise++;
        if (counts.otherReasons.length < 5) counts.otherReasons.push(String(message.reason));
      }
    });
    const closed = new Promise<void>((resolve) =>
      ws.addEventListener("close", ({ code, reason }) => {
        // A socket that never opened (its upgrade refused) is counted as such, not as a close.
        if (wasOpened) {
          counts.closes[code] = (counts.closes[code] ?? 0) + 1;
          counts.closeReasons[code] ??= reason;
        }
        resolve();
      }),
    );
    let wasOpened = false;
    const opened = new Promise<boolean>((resolve) =>
      ws.addEventListener(
        "open",
        () => {
          wasOpened = true;
          resolve(true);
        },
        { once: true },
      ),
    );
    await withTimeout(Promise.race([opened, closed]), TIMEOUT_MS.flooderSocket, "The flooder's socket opening").catch(() => ws.close());
    if (ws.readyState !== OPEN) {
      counts.failedConnections++;
      await sleep(10);
      continue;
    }
    ws.send(JSON.stringify({ type: "newcomer", newcomer: FLOODER }));
    const started = performance.now();
    let sentHere = 0;
    while (ws.readyState === OPEN && !stopping) {
      // As fast as the socket takes them, or with --flood-rate as many as are due by now.
      const due = floodRate ? Math.floor(((performance.now() - started) / 1000) * floodRate) - sentHere : FLOOD_FRAMES_PER_TURN;
      for (let i = 0; i < due && ws.bufferedAmount < FLOOD_BUFFER_BYTES && ws.readyState === OPEN; i++) {
        ws.send(JSON.stringify({ type: "text", author: FLOODER, avatar: null, text: `flood ${++k}` }));
        counts.sent++;
        sentHere++;
      }
      await (floodRate ? sleep(5) : yieldToLoop());
    }
    if (ws.readyState === OPEN) ws.close(1000, "phase over");
    // A room still busy with this socket's backlog answers its close late: then cut it.
    await withTimeout(closed, TIMEOUT_MS.flooderSocket, "The flooder's socket closing").catch(() => {
      ws.terminate?.();
      return Promise.race([closed, sleep(1_000)]);
    });
    if (reconnectDelayMs > 0 && !stopping) await sleep(reconnectDelayMs);
  }
  port.postMessage(counts);
}

interface Flooder {
  result: Promise<FloodCounts>;
  stop(): Promise<FloodCounts>;
}

/** Starts the flooder's worker thread (this very file); answers stop(), which ends it and answers its counts. */
function startFlooder({ baseUrl, deflate, reconnectDelayMs, floodRate, samePriority }: FlooderData): Flooder {
  const data: FlooderData = { baseUrl, deflate, reconnectDelayMs, floodRate, samePriority };
  const worker = new Worker(new URL(import.meta.url), { workerData: data });
  const result = new Promise<FloodCounts>((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
    worker.once("exit", (code) => reject(new BenchError(`The flooder's thread exited (code ${code}) without its counts`)));
  });
  return {
    result,
    async stop() {
      worker.postMessage("stop");
      const counts = await withTimeout(result, 2 * TIMEOUT_MS.flooderSocket, "Stopping the flooder");
      await worker.terminate();
      return counts;
    },
  };
}

// ---------------------------------------------------------------------------
// The chatters

interface Client extends RegisteredClient {
  /** Per author, the seq of the last text received. */
  lastSeqBy: Map<string, number>;
  outOfOrder: number;
}

interface Phase {
  index: number;
  name: string;
  withFlooder: boolean;
  textsSent: number;
  latencies: number[];
  floodDeliveries: number;
  floodTexts: Set<string>;
  startedAt: number;
  flood: FloodCounts | null;
  cpu: CpuShares;
  drainedAt: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  stats: Summary;
}

interface Run extends BaseRun, Options {
  /** Where the sockets connect: wrangler's dev proxy, or with --direct the runtime behind it. */
  baseUrl: string;
  openSocket: OpenSocket;
  clients: Client[];
  sent: Map<number, TimedText & { phase: number }>;
  phases: Phase[];
  /** The phase whose flooder texts are being counted. */
  current: Phase | null;
}

function createRun(server: DevServer, baseUrl: string, options: Options, openSocket: OpenSocket): Run {
  return {
    server,
    baseUrl,
    ...options,
    openSocket,
    clients: [],
    sent: new Map(),
    phases: [],
    current: null,
    ...runState(),
  };
}

function connectChatter(run: Run, index: number): { client: Client; opened: Promise<void> } {
  const name = `chatter_${String(index).padStart(3, "0")}`;
  const client: Client = {
    name,
    ws: run.openSocket(roomUrl(run.baseUrl)),
    nbUsers: 0,
    newcomers: new Set(),
    lastSeqBy: new Map(),
    outOfOrder: 0,
    closed: false,
  };
  const opened = watchSocket(run, client, `socket ${name}`, (data) => onRoomFrame(run, client, client.name, data, now(), ON_FRAME));
  return { client, opened };
}

const ON_FRAME: FrameHandlers<Run, Client> = {
  newcomer(_run, client, name) {
    if (name !== FLOODER) client.newcomers.add(name);
  },
  exiter(run, _client, name) {
    if (name !== FLOODER) run.fatal ??= `${name} left the room`;
  },
  text: onText,
};

function onText(run: Run, client: Client, message: RoomFrame, receivedAt: number): void {
  if (message.author === FLOODER) {
    if (run.current) {
      run.current.floodDeliveries++;
      run.current.floodTexts.add(String(message.text));
    }
    return;
  }
  const sent = sentTextOf(run, message);
  if (sent === undefined) return;
  // Each chatter's texts arrive in order; texts of different chatters may cross on their way in.
  if (sent.seq <= (client.lastSeqBy.get(sent.author) ?? -1)) client.outOfOrder++;
  client.lastSeqBy.set(sent.author, sent.seq);
  sent.reached++;
  run.phases[sent.phase]?.latencies.push(receivedAt - sent.time);
}

async function openRoom(run: Run): Promise<number> {
  const started = performance.now();
  const opening: Promise<void>[] = [];
  for (let i = 1; i <= run.chatters; i++) {
    const { client, opened } = connectChatter(run, i);
    run.clients.push(client);
    opening.push(opened);
  }
  await joinAndRegister(run, opening, { room: ROOM, timeoutMs: TIMEOUT_MS.connect });
  return performance.now() - started;
}

/** One chatter's texts during a phase: at random times, `paceMs` apart on average. */
async function chat(run: Run, client: Client, phase: Phase): Promise<void> {
  const end = phase.startedAt + run.phaseS * 1000;
  let next = phase.startedAt + Math.random() * run.paceMs;
  for (;;) {
    const wait = Math.min(next, end) - now();
    if (wait > 0) await sleep(wait);
    if (now() >= end || abortReasonOf(run)()) return;
    sendTimedText(run, client.ws, client.name, { phase: phase.index });
    phase.textsSent++;
    next += run.paceMs * (0.5 + Math.random());
  }
}

const loopDelay = monitorEventLoopDelay({ resolution: 5 });

/** CPU ticks so far of wrangler dev's processes: the runtime (Worker and room share its thread), its dev proxy, wrangler itself. */
interface CpuTicks {
  runtime: number;
  proxy: number;
  wrangler: number;
}

/** Shares of one CPU, per process. */
type CpuShares = CpuTicks;

function serverCpuTicks(server: DevServer): CpuTicks {
  const { runtime, proxy } = workerdProcesses(server);
  const ticksOf = (pid: number | undefined): number => {
    try {
      return pid === undefined ? 0 : readStat(`/proc/${pid}/stat`).ticks;
    } catch {
      return 0;
    }
  };
  return { runtime: ticksOf(runtime?.pid), proxy: ticksOf(proxy?.pid), wrangler: ticksOf(server.pid) };
}

/** Each process's share of one CPU between two readings (Linux counts 100 ticks a second). */
function cpuShares(before: CpuTicks, after: CpuTicks, elapsedMs: number): CpuShares {
  const share = (key: keyof CpuTicks): number => (after[key] - before[key]) / (elapsedMs / 10);
  return { runtime: share("runtime"), proxy: share("proxy"), wrangler: share("wrangler") };
}

async function runPhase(run: Run, name: string, withFlooder: boolean): Promise<Phase> {
  const phase: Phase = {
    index: run.phases.length,
    name,
    withFlooder,
    textsSent: 0,
    latencies: [],
    floodDeliveries: 0,
    floodTexts: new Set(),
    startedAt: now(),
    flood: null,
    cpu: { runtime: NaN, proxy: NaN, wrangler: NaN },
    drainedAt: NaN,
    loopDelayP99Ms: NaN,
    loopDelayMaxMs: NaN,
    stats: summary([]),
  };
  run.phases.push(phase);
  run.current = phase;
  loopDelay.reset();
  const cpuBefore = serverCpuTicks(run.server);
  const flooder = withFlooder ? startFlooder(run) : null;
  flooder?.result.catch((error: unknown) => (run.fatal ??= `the flooder failed: ${messageOf(error)}`));
  try {
    await Promise.all(run.clients.map((client) => chat(run, client, phase)));
  } finally {
    phase.cpu = cpuShares(cpuBefore, serverCpuTicks(run.server), now() - phase.startedAt);
    if (flooder) phase.flood = await flooder.stop();
  }
  const reason = abortReasonOf(run)();
  if (reason) throw new BenchError(`Phase ${name}: ${reason}`);
  await waitForProgress(() => phase.latencies.length, phase.textsSent * run.chatters, {
    idleMs: TIMEOUT_MS.drainIdle,
    totalMs: TIMEOUT_MS.drainTotal,
    what: `Phase ${name}, waiting for deliveries`,
    abortReason: abortReasonOf(run),
  });
  phase.drainedAt = now();
  phase.loopDelayP99Ms = loopDelay.percentile(99) / 1e6;
  phase.loopDelayMaxMs = loopDelay.max / 1e6;
  phase.stats = summary(phase.latencies);
  const { stats: s } = phase;
  console.log(
    `  ${phase.textsSent} texts, ${s.count} / ${phase.textsSent * run.chatters} deliveries; latency ms p50 ${ms(s.p50)}  p99 ${ms(s.p99)}  max ${ms(s.max)}` +
      `${phase.flood ? `; ${phase.flood.sent} flood frames sent, ${phase.flood.connections} flooder connection attempts, ${phase.flood.connections - phase.flood.failedConnections} opened` : ""}`,
  );
  const lag = phase.drainedAt - (phase.startedAt + run.phaseS * 1000);
  if (lag > 2_000) console.log(`  the last deliveries came ${(lag / 1000).toFixed(1)} s after the phase's end`);
  return phase;
}

// ---------------------------------------------------------------------------
// Figures

function change(from: number, to: number): string {
  const relative = (to - from) / from;
  return `${relative >= 0 ? "+" : ""}${(relative * 100).toFixed(1)} %`;
}

function printResults(run: Run): void {
  const header = [
    "phase",
    "texts sent",
    "deliveries / expected",
    "p50 ms",
    "p90 ms",
    "p99 ms",
    "max ms",
    "flooder's texts received",
    "bench loop delay p99 ms",
    "CPU runtime / proxy / wrangler",
  ];
  const rows = run.phases.map((phase) => [
    phase.name,
    String(phase.textsSent),
    `${phase.stats.count.toLocaleString("en-US")} / ${(phase.textsSent * run.chatters).toLocaleString("en-US")}`,
    ms(phase.stats.p50),
    ms(phase.stats.p90),
    ms(phase.stats.p99),
    ms(phase.stats.max),
    phase.floodDeliveries.toLocaleString("en-US"),
    ms(phase.loopDelayP99Ms),
    [phase.cpu.runtime, phase.cpu.proxy, phase.cpu.wrangler].map((share) => `${Math.round(share * 100)} %`).join(" / "),
  ]);
  console.log(
    `\nChatters' text latency: ${run.chatters} chatters, each a text every ${run.paceMs / 2000}-${(run.paceMs * 1.5) / 1000} s,` +
      ` ${run.phaseS} s per phase (deliveries to every chatter, its own copy included)`,
  );
  printTable(header, rows, { firstLeft: true });
  const withouts = run.phases.filter((phase) => !phase.withFlooder);
  const withs = run.phases.filter((phase) => phase.withFlooder);
  const without = summary(withouts.flatMap((phase) => phase.latencies));
  const withFlooder = summary(withs.flatMap((phase) => phase.latencies));
  const pooled: [string, Summary, Phase[]][] = [
    ["without flooder", without, withouts],
    ["with flooder", withFlooder, withs],
  ];
  printTable(
    ["pooled", "phases", "deliveries", "p50 ms", "p90 ms", "p99 ms", "max ms"],
    pooled.map(([name, stats, phases]) => [
      name,
      String(phases.length),
      stats.count.toLocaleString("en-US"),
      ms(stats.p50),
      ms(stats.p90),
      ms(stats.p99),
      ms(stats.max),
    ]),
    { firstLeft: true },
  );
  const raised = (withFlooder.p99 - without.p99) / without.p99;
  console.log(
    `\np99 with the flooder vs without (pooled): ${ms(without.p99)} -> ${ms(withFlooder.p99)} ms, ${change(without.p99, withFlooder.p99)}` +
      ` (goal: raised by less than ${GOAL * 100} %: ${raised < GOAL ? "met" : "NOT met"}); p50 ${change(without.p50, withFlooder.p50)}.`,
  );
  const quietP99s = withouts.map((phase) => phase.stats.p99);
  console.log(`Noise: the phases without a flooder range over p99 ${ms(Math.min(...quietP99s))}-${ms(Math.max(...quietP99s))} ms.`);

  const pace = run.floodRate ? `${run.floodRate} frames/s` : "as fast as its socket takes them";
  const reconnect =
    run.reconnectDelayMs > 0 ? `reconnecting ${run.reconnectDelayMs} ms after each close` : "reconnecting at once after each close";
  console.log(`\nThe flooder (texts ${pace}, ${reconnect}):`);
  printTable(
    [
      "phase",
      "connection attempts",
      "refused at the upgrade",
      "frames sent",
      "broadcast to the room",
      "seen by the flooder",
      'refused "too fast"',
      "refused otherwise",
      "no answer",
      "closed 1008",
      "closed otherwise",
    ],
    withs.map((phase) => flooderRow(phase)),
    { firstLeft: true },
  );
  console.log(
    `  broadcast: flood texts the chatters received; seen by the flooder: those it got back before its socket closed;` +
      ` no answer: sent - broadcast - refused, frames in flight when the socket closed (the room may still handle them after)`,
  );
  for (const phase of withs) {
    const { flood } = phase;
    if (!flood) continue;
    if (flood.closeReasons[1008]) console.log(`  ${phase.name}: closed with ${JSON.stringify(flood.closeReasons[1008])}`);
    const refusedUpgrades = Object.values(flood.refusedUpgrades).reduce((sum, count) => sum + count, 0);
    if (flood.failedConnections > refusedUpgrades || flood.errors > 0) {
      console.log(
        `  ${phase.name}: ${flood.failedConnections - refusedUpgrades} flooder connections failed to open otherwise; ${flood.errors} WebSocket errors`,
      );
    }
    for (const reason of flood.otherReasons) console.log(`  ${phase.name}: refused otherwise: ${reason}`);
  }
}

function flooderRow({ name, flood, floodTexts }: Phase): string[] {
  if (!flood) return [name];
  // Broadcast: flood texts the chatters received (the flooder misses those the room handles after it left).
  const broadcast = floodTexts.size;
  return [
    name,
    flood.connections,
    Object.entries(flood.refusedUpgrades)
      .map(([status, count]) => `${count.toLocaleString("en-US")} x HTTP ${status}`)
      .join(", ") || "0",
    flood.sent,
    broadcast,
    flood.accepted,
    flood.refused,
    flood.refusedOtherwise,
    flood.sent - broadcast - flood.refused - flood.refusedOtherwise,
    flood.closes[1008] ?? 0,
    Object.entries(flood.closes)
      .filter(([code]) => code !== "1008")
      .map(([code, count]) => `${count} x ${code}`)
      .join(", ") || "0",
  ].map((value) => value.toLocaleString("en-US"));
}

// ---------------------------------------------------------------------------
// Main: the server is always stopped, whatever happens (see withServer)

/** without, with, without, …, without: `rounds` phases with a flooder. */
function phaseList(rounds: number): [string, boolean][] {
  const phases: [string, boolean][] = [];
  for (let round = 1; round <= rounds; round++) phases.push([`${round} without`, false], [`${round} with flooder`, true]);
  phases.push([`${rounds + 1} without`, false]);
  return phases;
}

interface Rules {
  rate_limit_burst: number;
  rate_limit_per_second: number;
  max_users: number;
}

async function rulesOf(server: DevServer): Promise<Rules> {
  const response = await fetch(`${server.baseUrl}/room/${encodeURIComponent(ROOM)}/rules`);
  if (!response.ok) throw new BenchError(`GET /room/${ROOM}/rules answered ${response.status}`);
  return (await response.json()) as Rules;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes("--first-socket")) return runFirstSocket(parseFirstSocketArgs(argv));
  const options = parseArgs(argv);
  const openSocket = await socketFactory(options.deflate);
  await withServer({ name: "flood", ready: roomListed(ROOM) }, async (server) => {
    const rules = await rulesOf(server);
    console.log(
      `Room ${ROOM}'s limits (the defaults, rate limits ON): rate_limit_burst ${rules.rate_limit_burst},` +
        ` rate_limit_per_second ${rules.rate_limit_per_second}, max_users ${rules.max_users}`,
    );
    console.log(`WebSocket client: ${describeClient(options.deflate)}`);
    loopDelay.enable();
    const baseUrl = options.direct ? await runtimeBaseUrl(server) : server.baseUrl;
    console.log(
      options.direct
        ? `Sockets go straight to the workerd runtime (${baseUrl}), bypassing wrangler's dev proxy`
        : `Sockets go through wrangler's dev proxy (${baseUrl}), which relays every frame: a hop production does not have (--direct to bypass it)`,
    );
    const run = createRun(server, baseUrl, options, openSocket);
    const openMs = await openRoom(run);
    console.log(`${run.chatters} chatters connected and registered in ${(openMs / 1000).toFixed(1)} s`);
    for (const [name, withFlooder] of phaseList(run.rounds)) {
      console.log(`\nPhase ${name} (${run.phaseS} s)`);
      await runPhase(run, name, withFlooder);
      await sleep(500);
    }
    loopDelay.disable();
    printResults(run);
    const outOfOrder = run.clients.reduce((sum, client) => sum + client.outOfOrder, 0);
    if (run.replayed > 0) console.log(`(${run.replayed} texts replayed from history or not the bench's, ignored)`);
    for (const line of run.unexpected.slice(0, 5)) console.log(`! unexpected: ${line}`);
    reportServerComplaints(server);
    await closeAll(run, TIMEOUT_MS.close);
    const missing = run.phases.filter((phase) => phase.stats.count < phase.textsSent * run.chatters).map((phase) => phase.name);
    if (missing.length > 0 || outOfOrder > 0) {
      throw new BenchError(
        `${missing.length > 0 ? `deliveries missing in ${missing.join(", ")}` : ""}${outOfOrder > 0 ? `; ${outOfOrder} out of order` : ""}`,
      );
    }
  });
}

if (isMainThread) runBench(main);
else await floodWorker(workerData as FlooderData);
