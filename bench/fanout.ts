// Fan-out benchmark: how long a text message takes to reach every socket of a room.
//
// It starts its own `wrangler dev` (fresh local state in a temporary directory), opens N
// WebSockets to room "QGIS", registers one of them as "bench_sender", and has it send M
// text messages whose text is "<seq>:<send time>". Every socket (the sender included)
// records, for every text it receives, latency = receive time - send time (one process, so
// one clock). It prints, per N, the time the N sockets took to join, the deliveries
// received / expected, latency p50/p90/p99/max and the deliveries per second (all
// deliveries / time from the first send to the last delivery), and the share of one CPU
// the bench itself used meanwhile (client and server share the machine: the figures
// include the client's own work).
//
// Pacing is a closed loop by default: the sender sends the next message as soon as its
// own copy of the previous one comes back, so the room is always busy with about one
// message and the latency is not inflated by a backlog the bench itself queued.
// `--interval=<ms>` switches to an open loop: one message every <ms>, whatever happens.
//
// The server runs with MAX_USERS, RATE_LIMIT_BURST and RATE_LIMIT_PER_SECOND raised (see
// BENCH_VARS): the instance's defaults (src/wire/limits.ts) would close the 1,001st socket with
// 1013 and refuse the closed loop's sender after its first 20 messages. The flooder bench
// (flood.ts) measures the rate limits themselves.
//
// Counts are coalesced (docs/protocol.md, §5): a newcomer is told its own count, and the rest
// of the room one count per 250 ms at most, so N sockets joining cost O(N) frames, not N²/2.
// Sockets are opened CONNECT_BATCH at a time (--storm opens them all at once).
//
// Modes:
//   npm run bench                       N = 100 and 500, each a fresh room (join, measure, leave)
//   npm run bench -- 100 500 1000       other room sizes
//   npm run bench -- 500 --interval=10  open loop, one message every 10 ms
//   npm run bench -- --find-max         the largest room with p99 under 250 ms: the room
//                                       grows 250, 500, 750, 1000, 1500, 2000, ... (sockets
//                                       are added, not reopened) and is measured at each
//                                       size, until p99 >= 250 ms, a socket fails, or the
//                                       next size would not fit in the time budget
//                                       (--p99=<ms> and --budget=<s> to change them)
//   npm run bench -- --memory           workerd's resident memory (VmRSS in /proc) with the
//                                       room empty, then grown to 100, 500 and 1000 sockets
//                                       (or the sizes given), and bytes per socket
//   npm run bench -- --storm=5000       the reconnect storm after a deploy: N sockets open at
//                                       once to the empty room, then half of them drop at once;
//                                       the time until every socket has seen the right count,
//                                       and the nb_users frames that took (--storm-timeout=<s>,
//                                       default 120, gives up on a phase, printing how far it got;
//                                       --history=<k>: k texts stored first, each replayed to every
//                                       socket that joins, as a room after a deploy has; --profile:
//                                       a CPU profile of the isolate over the arrivals, by function
//                                       and per join, wrangler dev only). It prints the CPU the bench
//                                       client and the server each spent, as a share of the machine.
//                                       Its sockets are raw TCP upgrades with a minimal frame reader
//                                       (bench/raw-socket.ts): the ws package's cost about as much CPU
//                                       as the server, on the same cores; --ws for those instead.
//   --direct                            sockets straight to the workerd that runs the Worker,
//                                       bypassing wrangler's dev proxy (a workerd of its own
//                                       that relays every frame and holds 6 descriptors per
//                                       socket: with the usual limit of 20,000 open files it
//                                       stops a room at about 3,300 sockets)
//   --selfhost                          any of the above against the self-hosted server instead
//                                       (`npm run selfhost`'s build, built first, under workerd
//                                       alone: no dev proxy, so no --direct needed)
//   npm run bench -- --compare-selfhost the same sizes, in one run, against wrangler dev (through
//                                       its dev proxy), wrangler dev's own workerd (--direct), and
//                                       the self-hosted server (`npm run selfhost`'s build under
//                                       workerd alone: its front worker, no proxy process), both
//                                       servers up, each size on the three back to back, k times
//                                       (--repeat=<k>, default 3); then the three side by side,
//                                       medians of the k rounds, and as ratios
//   npm run bench -- --per-message      our room against a bare rebroadcasting Durable Object and a
//                                       Node ws server, side by side (bench/per-message.ts)
//   --deflate                           Node's own WebSocket, which offers permessage-deflate
//                                       as browsers do (default: the ws package without
//                                       compression, like QGIS and QField)
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { buildSelfhost } from "../selfhost/build.ts";
import {
  openFilesOf,
  processMemory,
  readStat,
  runtimeBaseUrl,
  type ServerProcess,
  serverProcesses,
  workerdProcesses,
} from "../tools/dev-processes.ts";
import { type DevServer, roomListed } from "../tools/dev-server.ts";
import { reportServerComplaints, withServer } from "./bench-server.ts";
import { printProfile, startProfile, summarizeProfile } from "./inspector-profile.ts";
import { DEFAULT_LIMITS, describeVars, limitVars, NO_RATE_LIMIT } from "./limits.ts";
import { perMessage } from "./per-message.ts";
import { describeRawClient, rawSocketFactory } from "./raw-socket.ts";
import {
  abortReasonOf,
  type BaseClient,
  type BaseRun,
  type BenchSocket,
  closeAll,
  describeClient,
  type FrameHandlers,
  onRoomFrame,
  type RoomFrame,
  runState,
  sendTimedText,
  sentTextOf,
  socketFactory,
  type TimedText,
  watchSocket,
} from "./room-client.ts";
import {
  BenchError,
  median,
  messageOf,
  ms,
  now,
  printTable,
  runBench,
  seconds,
  summary,
  waitForProgress,
  waitUntil,
  withTimeout,
} from "./util.ts";

const ROOM = "QGIS";
const SENDER = "bench_sender";
const DEFAULT_SIZES = [100, 500];
const MEMORY_SIZES = [100, 500, 1000];
const FIND_MAX_STEPS = [
  250, 500, 750, 1000, 1500, 2000, 2500, 3000, 3500, 4000, 4500, 5000, 5500, 6000, 7000, 8000, 10_000, 12_000, 16_000,
];
const FIND_MAX = { p99Ms: 250, budgetS: 480 };
/** Sockets opened at a time, so that N upgrades do not all hit the server at once. */
const CONNECT_BATCH = 50;

/**
 * The server's limits for this bench: no cap on the room's size, and a rate limit the closed
 * loop's sender (tens to hundreds of messages per second) never reaches.
 */
const BENCH_VARS = { ...limitVars({ maxUsers: 1_000_000 }), ...NO_RATE_LIMIT };
/** wrangler's dev proxy holds 6 descriptors per WebSocket: the usual limit of 20,000 would stop at ~3,300 sockets. */
const OPEN_FILES = 200_000;

const TIMEOUT_MS = {
  /** Opening the N sockets and seeing nb_users = N everywhere: plus `scaled` below. */
  connect: 30_000,
  register: 15_000,
  echo: 10_000,
  /** Waiting for the last deliveries: give up after this long without a new one... */
  drainIdle: 10_000,
  /** ...or after this long in all. */
  drainTotal: 60_000,
  /** Closing the N sockets and seeing the room empty in GET /status: plus `scaled` below. */
  close: 30_000,
};

/** --memory: let the server settle this long after the room has grown, then take this many samples. */
const MEMORY_SETTLE_MS = 3_000;
const MEMORY_SAMPLES = 5;

/**
 * Each arrival and each departure is broadcast (nb_users) to everyone in the room, so
 * opening or closing N sockets costs the server O(N^2) frames: those deadlines grow
 * with N^2 (0.2 ms per pair: +50 s for N = 500).
 */
function scaled(baseMs: number, n: number): number {
  return baseMs + Math.round(n * n * 0.2);
}

// ---------------------------------------------------------------------------
// Command line

const USAGE =
  "Usage: npm run bench -- [N ...] [--interval=<ms>] [--deflate] [--direct | --selfhost] [--find-max [--p99=<ms>] [--budget=<s>]] [--memory]" +
  " [--storm=<N> [--storm-timeout=<s>] [--history=<k>] [--profile] [--ws]] [--compare-selfhost [--repeat=<k>]]";

type Mode = "sizes" | "find-max" | "memory" | "storm" | "compare-selfhost";

interface Options {
  sizes: number[];
  /** null: closed loop (see describePacing). */
  intervalMs: number | null;
  deflate: boolean;
  direct: boolean;
  /** --selfhost: against the self-hosted server (workerd alone on `npm run selfhost`'s build) instead of wrangler dev. */
  selfhost: boolean;
  mode: Mode;
  p99Ms: number;
  budgetS: number;
  /** --compare-selfhost: rounds per size and contender, each figure the median of them. */
  repeat: number;
  /** --storm: sockets, and how long each phase may take. */
  storm: number;
  stormTimeoutS: number;
  /** --history: texts stored before the storm (each replayed to every newcomer). */
  history: number;
  /** --profile: a CPU profile of the isolate over the storm's arrivals (wrangler dev only). */
  profile: boolean;
  /** --ws: the storm's sockets from the ws package instead of raw-socket.ts. */
  ws: boolean;
}

function parseArgs(argv: readonly string[]): Options {
  const options: Options = {
    sizes: [],
    intervalMs: null,
    deflate: false,
    direct: false,
    selfhost: false,
    mode: "sizes",
    p99Ms: FIND_MAX.p99Ms,
    budgetS: FIND_MAX.budgetS,
    storm: 0,
    stormTimeoutS: 120,
    history: 0,
    profile: false,
    ws: false,
    repeat: 3,
  };
  for (const arg of argv) {
    const [, name, value] = /^--([a-z0-9-]+)(?:=(\d+(?:\.\d+)?))?$/.exec(arg) ?? [];
    if (/^\d+$/.test(arg) && Number(arg) > 0) options.sizes.push(Number(arg));
    else if (name === "interval" && value !== undefined) options.intervalMs = Number(value);
    else if (name === "p99" && value !== undefined) options.p99Ms = Number(value);
    else if (name === "budget" && value !== undefined) options.budgetS = Number(value);
    else if (name === "deflate" && value === undefined) options.deflate = true;
    else if (name === "direct" && value === undefined) options.direct = true;
    else if (name === "selfhost" && value === undefined) options.selfhost = true;
    else if (name === "find-max" && value === undefined) options.mode = "find-max";
    else if (name === "memory" && value === undefined) options.mode = "memory";
    else if (name === "compare-selfhost" && value === undefined) options.mode = "compare-selfhost";
    else if (name === "repeat" && value !== undefined && Number(value) >= 1) options.repeat = Math.round(Number(value));
    else if (name === "storm" && value !== undefined && Number(value) >= 2) {
      options.mode = "storm";
      options.storm = Math.round(Number(value));
    } else if (name === "storm-timeout" && value !== undefined) options.stormTimeoutS = Number(value);
    else if (name === "history" && value !== undefined) options.history = Math.round(Number(value));
    else if (name === "profile" && value === undefined) options.profile = true;
    else if (name === "ws" && value === undefined) options.ws = true;
    else throw new BenchError(`Unknown argument ${JSON.stringify(arg)}. ${USAGE}`);
  }
  if (options.mode === "storm" && options.sizes.length > 0) throw new BenchError(`--storm takes no sizes. ${USAGE}`);
  if (options.mode !== "storm" && (options.history > 0 || options.profile || options.ws))
    throw new BenchError(`--history, --profile and --ws go with --storm. ${USAGE}`);
  if (options.profile && options.selfhost) throw new BenchError(`--profile needs wrangler dev's inspector: not with --selfhost. ${USAGE}`);
  if (options.mode === "find-max" && options.sizes.length > 0) throw new BenchError(`--find-max takes no sizes. ${USAGE}`);
  if (options.sizes.length === 0) options.sizes = options.mode === "memory" ? MEMORY_SIZES : DEFAULT_SIZES;
  options.sizes.sort((a, b) => a - b);
  return options;
}

/** Messages per room size: fewer for big rooms, so the whole bench stays within a few minutes. */
function messagesFor(n: number): number {
  return Math.max(20, Math.min(200, Math.round(50_000 / n)));
}

function describePacing(intervalMs: number | null): string {
  return intervalMs === null
    ? "closed loop: next message sent when the sender receives its own copy of the previous one"
    : `open loop: one message every ${intervalMs} ms`;
}

// ---------------------------------------------------------------------------
// The room as the server sees it

/** The room's connected users as GET /status counts them. */
async function roomUserCount(server: DevServer, timeoutMs: number): Promise<number> {
  const response = await fetch(`${server.baseUrl}/status`, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) throw new BenchError(`GET /status answered ${response.status}`);
  const status = (await response.json()) as { rooms: { name: string; nb_connected_users: number }[] };
  const room = status.rooms.find((entry) => entry.name === ROOM);
  if (!room) throw new BenchError(`GET /status does not list room ${ROOM}`);
  return room.nb_connected_users;
}

/** Waits for GET /status to count nobody in the room (a busy room may answer slowly). */
async function waitForEmptyRoom(server: DevServer, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last = "no answer";
  for (;;) {
    const problem = server.problem();
    if (problem) throw new BenchError(`Waiting for room ${ROOM} to be empty: ${problem}`);
    const remaining = deadline - performance.now();
    if (remaining <= 0) break;
    try {
      const count = await roomUserCount(server, Math.ceil(remaining));
      if (count === 0) return;
      last = `${count} connected users`;
    } catch (error) {
      // Only a slow or refused request is worth another try.
      if (!(error instanceof Error) || (error.name !== "TimeoutError" && error.message !== "fetch failed")) throw error;
      last = String((error.cause as { code?: unknown } | undefined)?.code ?? error.name);
    }
    await sleep(200);
  }
  throw new BenchError(`Room ${ROOM} was not empty within ${timeoutMs / 1000} s (last GET /status: ${last})`);
}

// ---------------------------------------------------------------------------
// A room of sockets, one sender, rounds of M messages

interface Client extends BaseClient {
  index: number;
  label: string;
  sawSender: boolean;
  /** Texts of this round received. */
  texts: number;
  lastSeq: number;
}

interface Run extends BaseRun {
  openSocket: () => BenchSocket;
  clients: Client[];
  /** The current round's room size and messages. */
  n: number;
  m: number;
  /** seq -> the messages of this round (see sendTimedText). */
  sent: Map<number, TimedText>;
  latencies: number[];
  delivered: number;
  firstSendAt: number;
  lastDeliveryAt: number;
  outOfOrder: number;
  senderRegistered: boolean;
}

/** `openSocket()` opens one more WebSocket to the room. */
function createRun(server: DevServer, openSocket: () => BenchSocket): Run {
  return {
    server,
    openSocket,
    clients: [],
    n: 0,
    m: 0,
    sent: new Map(),
    latencies: [],
    delivered: 0,
    firstSendAt: 0,
    lastDeliveryAt: 0,
    outOfOrder: 0,
    senderRegistered: false,
    ...runState(),
  };
}

function connectClient(run: Run, index: number): { client: Client; opened: Promise<void> } {
  const client: Client = {
    index,
    label: `socket #${index}`,
    ws: run.openSocket(),
    nbUsers: 0,
    sawSender: false,
    texts: 0,
    lastSeq: -1,
    closed: false,
  };
  const opened = watchSocket(run, client, client.label, (data) => onRoomFrame(run, client, client.label, data, now(), ON_FRAME));
  return { client, opened };
}

const ON_FRAME: FrameHandlers<Run, Client> = {
  newcomer(_run, client, name) {
    if (name === SENDER) client.sawSender = true;
  },
  text: onText,
};

function onText(run: Run, client: Client, message: RoomFrame, receivedAt: number): void {
  const sent = sentTextOf(run, message);
  if (sent === undefined) return;
  if (sent.seq <= client.lastSeq) run.outOfOrder++;
  client.lastSeq = Math.max(client.lastSeq, sent.seq);
  client.texts++;
  sent.reached++;
  run.delivered++;
  run.latencies.push(receivedAt - sent.time);
  run.lastDeliveryAt = receivedAt;
}

/**
 * Grows the room to `n` sockets (from none, or from its current size), CONNECT_BATCH at a time,
 * until every socket sees nb_users = n; answers the time it took.
 */
async function growTo(run: Run, n: number): Promise<number> {
  const timeoutMs = scaled(TIMEOUT_MS.connect, n);
  const started = performance.now();
  for (let first = run.clients.length; first < n; first += CONNECT_BATCH) {
    const batch: Promise<void>[] = [];
    for (let index = first; index < Math.min(first + CONNECT_BATCH, n); index++) {
      const { client, opened } = connectClient(run, index);
      run.clients.push(client);
      batch.push(opened);
    }
    const remaining = timeoutMs - (performance.now() - started);
    await withTimeout(Promise.all(batch), Math.max(remaining, 1), `Opening ${n} WebSockets to room ${ROOM}`);
    const reason = abortReasonOf(run)();
    if (reason) throw new BenchError(`Opening ${n} WebSockets to room ${ROOM}: ${reason}`);
  }
  await waitUntil(() => run.clients.every((client) => client.nbUsers === n), {
    timeoutMs: Math.max(timeoutMs - (performance.now() - started), 1),
    what: () => `Waiting for every socket to see nb_users = ${n} (lowest seen: ${lowestUserCount(run)})`,
    abortReason: abortReasonOf(run),
  });
  return performance.now() - started;
}

function lowestUserCount(run: Run): number {
  return run.clients.reduce((lowest, client) => Math.min(lowest, client.nbUsers), Infinity);
}

async function registerSender(run: Run): Promise<void> {
  senderOf(run).ws.send(JSON.stringify({ type: "newcomer", newcomer: SENDER }));
  await waitUntil(() => run.clients.every((client) => client.sawSender), {
    timeoutMs: TIMEOUT_MS.register,
    what: `Waiting for every socket to receive the newcomer ${SENDER}`,
    abortReason: abortReasonOf(run),
  });
  run.senderRegistered = true;
}

/** Socket #0, the one registered as SENDER. */
function senderOf(run: Run): Client {
  const sender = run.clients[0];
  if (!sender) throw new BenchError("The room has no socket to send from");
  return sender;
}

/** Sends the M texts from socket #0, paced by its own copy of each (closed loop) or by the clock. */
async function sendMessages(run: Run, intervalMs: number | null): Promise<void> {
  const sender = senderOf(run);
  run.firstSendAt = now();
  for (let i = 0; i < run.m; i++) {
    const reason = abortReasonOf(run)();
    if (reason) throw new BenchError(`Sending message ${i + 1} of ${run.m}: ${reason}`);
    const seq = sendTimedText(run, sender.ws, SENDER, {});
    if (intervalMs === null) {
      await waitUntil(() => sender.lastSeq >= seq, {
        timeoutMs: TIMEOUT_MS.echo,
        what: () => `Waiting for the sender's own copy of message ${seq} (it reached ${run.sent.get(seq)?.reached} of ${run.n} sockets)`,
        abortReason: abortReasonOf(run),
        pollMs: 1,
      });
    } else {
      await sleep(Math.max(0, run.firstSendAt + (i + 1) * intervalMs - now()));
    }
  }
}

/** Waits for every delivery; returns normally with some missing if they stop coming (they are reported). */
function waitForDeliveries(run: Run): Promise<void> {
  return waitForProgress(() => run.delivered, run.n * run.m, {
    idleMs: TIMEOUT_MS.drainIdle,
    totalMs: TIMEOUT_MS.drainTotal,
    what: "Waiting for deliveries",
    abortReason: abortReasonOf(run),
  });
}

/** One round of M messages to the room as it is: its figures (see summarize), printed. */
async function measureRound(run: Run, intervalMs: number | null): Promise<Round> {
  Object.assign(run, {
    n: run.clients.length,
    m: messagesFor(run.clients.length),
    sent: new Map(),
    latencies: [],
    delivered: 0,
    outOfOrder: 0,
  });
  for (const client of run.clients) client.texts = 0;
  if (!run.senderRegistered) await registerSender(run);
  const cpuBefore = process.cpuUsage();
  await sendMessages(run, intervalMs);
  await waitForDeliveries(run);
  const result = summarize(run, process.cpuUsage(cpuBefore));
  printRound(result);
  return result;
}

/** Closes every socket, waits for their close events, then for the room to count nobody. */
async function closeClients(run: Run): Promise<number> {
  const timeoutMs = scaled(TIMEOUT_MS.close, run.clients.length);
  const started = performance.now();
  await closeAll(run, timeoutMs);
  await waitForEmptyRoom(run.server, Math.max(timeoutMs - (performance.now() - started), 1));
  return performance.now() - started;
}

/**
 * Sockets left open at the end of a growing run: the server is stopped next, which drops them,
 * sooner than N departures each announced to the rest of the room (N²/2 frames).
 */
function abandonClients(run: Run): void {
  run.closing = true;
}

// ---------------------------------------------------------------------------
// Modes

/** Default: each size in a fresh room, joined, measured, then left (join and leave are timed). */
async function benchSizes(server: DevServer, openSocket: () => BenchSocket, { sizes, intervalMs }: Options): Promise<Result[]> {
  const results: Result[] = [];
  for (const n of sizes) {
    console.log(`\nN = ${n}`);
    await waitForEmptyRoom(server, TIMEOUT_MS.close);
    const run = createRun(server, openSocket);
    let result: Result;
    try {
      const joinMs = await growTo(run, n);
      console.log(`  ${n} sockets open, everyone seeing nb_users = ${n}, in ${seconds(joinMs)}`);
      result = { ...(await measureRound(run, intervalMs)), joinMs };
    } catch (error) {
      // The first failure is the one to report; closing is only attempted so that nothing lingers.
      await closeClients(run).catch((closeError: unknown) => console.error(`  (also: ${messageOf(closeError)})`));
      throw error;
    }
    result.closeMs = await closeClients(run);
    console.log(`  ${n} sockets closed and room empty in ${seconds(result.closeMs)}`);
    results.push(result);
  }
  printResults(results, intervalMs, { close: true });
  return results;
}

/** nb_users frames the server sends while a room grows from `from` to `to` sockets. */
function joinFrames(from: number, to: number): number {
  return (to * (to + 1) - from * (from + 1)) / 2;
}

/**
 * --find-max: one room grown step by step and measured at each size, until p99 reaches the threshold,
 * a socket fails, or the next step would not fit in the time budget (estimated from the last step's
 * join rate, in nb_users frames per second, and its round's duration).
 */
async function findMax(server: DevServer, openSocket: () => BenchSocket, { intervalMs, p99Ms, budgetS }: Options): Promise<Result[]> {
  console.log(`Finding the largest room with p99 < ${p99Ms} ms; sizes ${FIND_MAX_STEPS.join(", ")}...; time budget ${budgetS} s`);
  const run = createRun(server, openSocket);
  const started = performance.now();
  const results: Result[] = [];
  let stop = "the largest step passed";
  let framesPerMs: number | undefined;
  let roundMs = 0;
  for (const n of FIND_MAX_STEPS) {
    const from = run.clients.length;
    const frames = joinFrames(from, n);
    if (framesPerMs !== undefined) {
      const estimateMs = frames / framesPerMs + roundMs * (n / from);
      if (performance.now() - started + estimateMs > budgetS * 1000) {
        stop = `N = ${n} not tried: it would take about ${seconds(estimateMs)} more, past the ${budgetS} s budget (--budget=<s>)`;
        break;
      }
    }
    console.log(`\nN = ${n} (${n - from} sockets added)`);
    let result: Result;
    try {
      const joinMs = await growTo(run, n);
      framesPerMs = frames / joinMs;
      console.log(
        `  ${n} sockets open, everyone seeing nb_users = ${n}, in ${seconds(joinMs)} (${Math.round(framesPerMs * 1000)} nb_users frames/s)`,
      );
      const roundStarted = performance.now();
      result = { ...(await measureRound(run, intervalMs)), joinMs };
      roundMs = performance.now() - roundStarted;
    } catch (error) {
      if (!(error instanceof BenchError)) throw error;
      results.push(failedSize(n, `${error.message} (${describeOpenFiles(server)})`));
      stop = `N = ${n} failed`;
      break;
    }
    results.push(result);
    if (!complete(result)) {
      result.failure = "deliveries missing or out of order";
      stop = `N = ${n}: ${result.failure}`;
      break;
    }
    if (result.p99 >= p99Ms) {
      stop = `N = ${n}: p99 ${ms(result.p99)} ms >= ${p99Ms} ms`;
      break;
    }
  }
  abandonClients(run);
  printResults(
    results.filter((r) => r.failure === undefined || r.measured),
    intervalMs,
    { verdict: p99Ms },
  );
  const passing = results.filter((r) => r.failure === undefined && r.p99 < p99Ms);
  const largest = passing.at(-1)?.sockets;
  console.log(`\nStopped: ${stop} (after ${seconds(performance.now() - started)}).`);
  for (const r of results.filter((r) => r.failure !== undefined && !r.measured)) console.log(`N = ${r.sockets}: ${r.failure}`);
  console.log(
    largest === undefined
      ? `No size passed (p99 < ${p99Ms} ms).`
      : `Largest room with p99 < ${p99Ms} ms on this machine: ${largest} sockets` +
          `${largest === FIND_MAX_STEPS.at(-1) || !results.some((r) => r.sockets > largest) ? " (or more: no larger size was measured)" : ""}.`,
  );
  return passing;
}

// ---------------------------------------------------------------------------
// --storm: the reconnect storm after a deploy

interface StormPhase {
  what: string;
  /** Sockets that must see the count, and the count. */
  sockets: number;
  count: number;
  /** Until every one of them had it; NaN if it did not happen within the timeout. */
  ms: number;
  /** nb_users frames the sockets received during the phase. */
  frames: number;
  /** The most any one socket received. */
  maxPerSocket: number;
  /** Sockets with the right count at the end (all of them unless it timed out). */
  right: number;
  /** When the phase gave up (a timeout, or a socket that failed): NaN if it did not. */
  failedAfter: number;
}

/**
 * Every deploy drops every socket, and the clients that reconnect (browsers, scripts; QGIS users
 * by hand) come back at once to a room that starts empty. Phase 1: N sockets open at once; timed
 * until every one has seen nb_users = N. Phase 2: half of them drop at once (terminated, as a
 * network does it: the room sees 1006); timed until the other half has seen nb_users = N/2.
 */
async function storm(server: DevServer, openSocket: () => BenchSocket, options: Options): Promise<Result[]> {
  const { storm: n, stormTimeoutS, history, profile } = options;
  const half = Math.floor(n / 2);
  console.log(`\nReconnect storm: ${n} sockets at once, then ${half} of them dropped at once (each phase at most ${stormTimeoutS} s)`);
  if (history > 0) await storeTexts(openSocket, history);
  console.log(
    history > 0
      ? `The room's history holds ${history} texts: each newcomer is sent the newest of them (MAX_STORED_MESSAGES, default 5)`
      : "The room's history is empty: nothing is replayed (--history=<k> to store k texts first)",
  );
  await waitForEmptyRoom(server, TIMEOUT_MS.close);
  const run = createRun(server, openSocket);
  const frames = new Map<Client, number>();

  const phase = async (what: string, sockets: () => Client[], count: number): Promise<StormPhase> => {
    const started = performance.now();
    let ms = NaN;
    let failedAfter = NaN;
    try {
      await waitUntil(() => sockets().every((client) => client.nbUsers === count), {
        timeoutMs: stormTimeoutS * 1000,
        what: `${what}: every socket seeing nb_users = ${count}`,
        abortReason: abortReasonOf(run),
        pollMs: 5,
      });
      ms = performance.now() - started;
    } catch (error) {
      if (!(error instanceof BenchError)) throw error;
      failedAfter = performance.now() - started;
      console.log(`  ! after ${seconds(failedAfter)}: ${error.message}`);
    }
    const watched = sockets();
    const received = watched.map((client) => frames.get(client) ?? 0);
    const result: StormPhase = {
      what,
      sockets: watched.length,
      count,
      ms,
      frames: received.reduce((sum, k) => sum + k, 0),
      maxPerSocket: Math.max(...received),
      right: watched.filter((client) => client.nbUsers === count).length,
      failedAfter,
    };
    console.log(
      `  ${what}: ${result.right} / ${result.sockets} sockets seeing nb_users = ${count}` +
        `${Number.isNaN(ms) ? ` (gave up after ${seconds(failedAfter)})` : ` in ${seconds(ms)}`};` +
        ` ${result.frames.toLocaleString("en-US")} nb_users frames (at most ${result.maxPerSocket} to one socket)`,
    );
    return result;
  };

  // Phase 1: every socket opened in one go, none waiting for another.
  const stopProfile = profile ? await startProfile(server) : undefined;
  const cpuBefore = { client: process.cpuUsage(), server: serverTicks(server), machine: machineTicks(), at: performance.now() };
  for (let index = 0; index < n; index++) {
    const { client, opened } = connectClient(run, index);
    run.clients.push(client);
    frames.set(client, 0);
    client.ws.addEventListener("message", (event) => {
      if (String(event.data).startsWith('{"type":"nb_users"')) frames.set(client, (frames.get(client) ?? 0) + 1);
    });
    // A socket that fails to open is the run's fatal error (watchSocket), reported by the phase.
    opened.catch(() => undefined);
  }
  const arrive = await phase(`${n} sockets open at once`, () => run.clients, n);
  reportCpu(cpuBefore, server);
  if (stopProfile) {
    const cpuProfile = await stopProfile();
    printProfile("the Worker", summarizeProfile(cpuProfile), n, 40, "join");
    const file = path.join(os.tmpdir(), `storm-${n}.cpuprofile`);
    fs.writeFileSync(file, JSON.stringify(cpuProfile));
    console.log(`  (the whole profile, for Chrome's DevTools: ${file})`);
  }

  // Phase 2: half of them dropped at once, abruptly.
  const [dropped, staying] = [run.clients.slice(half), run.clients.slice(0, half)];
  for (const client of staying) frames.set(client, 0);
  run.closing = true;
  for (const { ws } of dropped) {
    if (ws.terminate) ws.terminate();
    else ws.close();
  }
  const leave = await phase(`${dropped.length} sockets dropped at once`, () => staying, staying.length);

  console.log(`\nReconnect storm, N = ${n}`);
  printTable(
    ["phase", "sockets seeing the right count", "until all had it", "nb_users frames", "most to one socket"],
    [arrive, leave].map((p) => [
      p.what,
      `${p.right} / ${p.sockets} (nb_users = ${p.count})`,
      Number.isNaN(p.ms) ? `gave up after ${seconds(p.failedAfter)}` : seconds(p.ms),
      p.frames.toLocaleString("en-US"),
      String(p.maxPerSocket),
    ]),
  );
  await closeAll({ ...run, clients: staying }, scaled(TIMEOUT_MS.close, staying.length)).catch((error: unknown) =>
    console.error(`  (closing: ${messageOf(error)})`),
  );
  return [];
}

/** Posts `k` texts through one registered socket, each seen stored (echoed), then closes it. */
async function storeTexts(openSocket: () => BenchSocket, k: number): Promise<void> {
  const ws = openSocket();
  let echoed = 0;
  ws.addEventListener("message", (event) => {
    if (String(event.data).startsWith('{"type":"text"')) echoed++;
  });
  await withTimeout(
    new Promise<void>((resolve) => ws.addEventListener("open", () => resolve(), { once: true })),
    10_000,
    "Opening the history's socket",
  );
  ws.send(JSON.stringify({ type: "newcomer", newcomer: SENDER }));
  for (let i = 0; i < k; i++)
    ws.send(JSON.stringify({ type: "text", author: SENDER, avatar: null, text: `stored before the storm, ${i}` }));
  await waitUntil(() => echoed >= k, { timeoutMs: 30_000, what: `${k} texts stored`, pollMs: 5 });
  ws.close(1000, "history stored");
}

/** The server's process group's CPU ticks (user + system; 100 a second on Linux). */
function serverTicks(server: DevServer): number {
  let ticks = 0;
  for (const { pid } of serverProcesses(server)) {
    try {
      ticks += readStat(`/proc/${pid}/stat`).ticks;
    } catch {
      // Gone meanwhile.
    }
  }
  return ticks;
}

/** The machine's busy CPU ticks, all processes (/proc/stat: user, nice, system, irq, softirq), and those stolen by the hypervisor. */
function machineTicks(): { busy: number; steal: number } {
  try {
    const [user, nice, system, , , irq, softirq, steal] = fs
      .readFileSync("/proc/stat", "utf8")
      .split("\n", 1)[0]!
      .split(/\s+/)
      .slice(1)
      .map(Number);
    return { busy: [user, nice, system, irq, softirq].reduce((sum: number, k) => sum + (k ?? 0), 0), steal: steal ?? 0 };
  } catch {
    return { busy: NaN, steal: NaN };
  }
}

/**
 * Client and server share the machine's cores: the CPU each spent during the arrivals, as
 * a share of what the machine had, says whether the bench client itself is what bounds it;
 * what neither spent went to other processes (another bench, a build): a run where that is
 * large measured the machine's load, not the server.
 */
function reportCpu(
  before: { client: NodeJS.CpuUsage; server: number; machine: { busy: number; steal: number }; at: number },
  server: DevServer,
): void {
  const wallMs = performance.now() - before.at;
  const { user, system } = process.cpuUsage(before.client);
  const clientMs = (user + system) / 1000;
  const serverMs = (serverTicks(server) - before.server) * 10;
  const machine = machineTicks();
  const othersMs = Math.max(0, (machine.busy - before.machine.busy) * 10 - clientMs - serverMs);
  const stealMs = (machine.steal - before.machine.steal) * 10;
  const cores = os.availableParallelism();
  const share = (cpuMs: number): string => `${((cpuMs / (wallMs * cores)) * 100).toFixed(0)} %`;
  console.log(
    `  CPU during the arrivals (${seconds(wallMs)}, ${cores} cores): bench client ${seconds(clientMs)} (${share(clientMs)} of the machine),` +
      ` server ${seconds(serverMs)} (${share(serverMs)}), other processes ${seconds(othersMs)} (${share(othersMs)})` +
      `${stealMs > 0 ? `, stolen by the hypervisor ${seconds(stealMs)}` : ""}; load average ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")}`,
  );
}

/** Open descriptors / limit of wrangler's two workerd processes. */
function describeOpenFiles(server: DevServer): string {
  const { runtime, proxy } = workerdProcesses(server);
  const describe = (p: ServerProcess | undefined): string => {
    const files = p ? openFilesOf(p.pid) : { open: NaN, limit: NaN };
    return `${files.open} / ${files.limit}`;
  };
  return `open files / limit: workerd runtime ${describe(runtime)}, wrangler's dev proxy ${describe(proxy)}`;
}

/** The RSS of wrangler's two workerd processes: the runtime (Worker and room) and the dev proxy. */
interface WorkerdMemory {
  runtime: number;
  proxy: number;
}

function workerdMemory(server: DevServer): WorkerdMemory {
  const { runtime, proxy } = workerdProcesses(server);
  if (!runtime) throw new BenchError("No workerd process found in wrangler's process group (this needs Linux's /proc)");
  return { runtime: processMemory(runtime.pid), proxy: proxy ? processMemory(proxy.pid) : NaN };
}

/** Waits MEMORY_SETTLE_MS, then the median of MEMORY_SAMPLES readings of each workerd's RSS. */
async function settledMemory(server: DevServer): Promise<WorkerdMemory> {
  await sleep(MEMORY_SETTLE_MS);
  const samples: WorkerdMemory[] = [];
  for (let i = 0; i < MEMORY_SAMPLES; i++) {
    samples.push(workerdMemory(server));
    await sleep(200);
  }
  return { runtime: median(samples.map((m) => m.runtime)), proxy: median(samples.map((m) => m.proxy)) };
}

/**
 * --memory: workerd's RSS with the room empty (after one round, so that the Worker, the room
 * object and its SQLite are loaded), then with the room grown to each size (after one round of
 * messages, so that every socket has sent and received).
 */
interface MemoryRow extends WorkerdMemory {
  sockets: number;
  /** The runtime's RSS after a round of messages. */
  afterRound?: number;
}

async function memory(server: DevServer, openSocket: () => BenchSocket, { sizes, intervalMs }: Options): Promise<Result[]> {
  const { runtime, proxy } = workerdProcesses(server);
  console.log(
    `workerd runtime (Worker and room): pid ${runtime?.pid}; wrangler's dev proxy (a workerd too): pid ${proxy?.pid}` +
      ` (VmRSS from /proc/<pid>/status, median of ${MEMORY_SAMPLES} readings ${MEMORY_SETTLE_MS / 1000} s after each step)`,
  );
  console.log("\nWarm-up: 1 socket, one round, then the room empty again");
  const warm = createRun(server, openSocket);
  await growTo(warm, 1);
  await measureRound(warm, intervalMs);
  await closeClients(warm);
  const empty: MemoryRow = { sockets: 0, ...(await settledMemory(server)) };
  const rows = [empty];
  console.log(`  0 sockets (room used once): workerd runtime RSS ${mib(empty.runtime)} MiB, dev proxy ${mib(empty.proxy)} MiB`);
  const run = createRun(server, openSocket);
  const results: Result[] = [];
  for (const n of sizes) {
    console.log(`\nN = ${n}`);
    const joinMs = await growTo(run, n);
    console.log(`  ${n} sockets open, everyone seeing nb_users = ${n}, in ${seconds(joinMs)}`);
    const row: MemoryRow = { sockets: n, ...(await settledMemory(server)) };
    console.log(`  ${n} sockets connected: workerd runtime RSS ${mib(row.runtime)} MiB, dev proxy ${mib(row.proxy)} MiB`);
    results.push({ ...(await measureRound(run, intervalMs)), joinMs });
    row.afterRound = (await settledMemory(server)).runtime;
    console.log(`  after the round of messages: workerd runtime RSS ${mib(row.afterRound)} MiB`);
    rows.push(row);
  }
  abandonClients(run);
  printResults(results, intervalMs);
  const perSocket = (row: MemoryRow, from: MemoryRow, key: keyof WorkerdMemory): string =>
    Math.round((row[key] - from[key]) / (row.sockets - from.sockets)).toLocaleString("en-US");
  console.log("\nworkerd's resident memory (RSS) with the room's sockets connected (and after one round of messages)");
  printTable(
    [
      "sockets",
      "runtime RSS MiB",
      "over empty MiB",
      "bytes / socket",
      "bytes / socket added",
      "after messages MiB",
      "dev proxy RSS MiB",
      "proxy bytes / socket",
    ],
    rows.map((row, i) => [
      row.sockets.toLocaleString("en-US"),
      mib(row.runtime),
      i === 0 ? "-" : mib(row.runtime - empty.runtime),
      i === 0 ? "-" : perSocket(row, empty, "runtime"),
      i === 0 ? "-" : perSocket(row, rows[i - 1]!, "runtime"),
      i === 0 ? "-" : mib(row.afterRound ?? NaN),
      mib(row.proxy),
      i === 0 ? "-" : perSocket(row, empty, "proxy"),
    ]),
  );
  console.log(
    "runtime: the workerd that runs the Worker and the room object (its SQLite and the sockets it accepted with" +
      " ctx.acceptWebSocket, so that it could hibernate); dev proxy: wrangler's own workerd in front of it, which" +
      " production does not have. This is local workerd, not what Cloudflare bills: there a hibernated room's" +
      " sockets are held by the platform and the object is billed (128 MB, duration) only while awake." +
      " RSS also counts memory V8 has not given back: the per-socket figures are slopes, not exact costs.",
  );
  return results;
}

function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}

// ---------------------------------------------------------------------------
// Figures

/** A round's figures; `failure` says why a --find-max size did not pass. */
interface Result {
  sockets: number;
  messages: number;
  delivered: number;
  expected: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  perSecond: number;
  seconds: number;
  /** The bench's own CPU (user + system) as a share of one CPU over the round. */
  benchCpu: number;
  shortSockets: number;
  replayed: number;
  outOfOrder: number;
  unexpected: string[];
  joinMs: number;
  closeMs?: number;
  failure?: string;
  /** False for a size whose round never ran (only its failure is known). */
  measured: boolean;
}

/** A --find-max size that failed before its round: only its failure is printed. */
function failedSize(sockets: number, failure: string): Result {
  const none = { p50: NaN, p90: NaN, p99: NaN, max: NaN, perSecond: NaN, seconds: NaN, benchCpu: NaN };
  return {
    sockets,
    messages: 0,
    delivered: 0,
    expected: 0,
    ...none,
    shortSockets: 0,
    replayed: 0,
    outOfOrder: 0,
    unexpected: [],
    joinMs: NaN,
    failure,
    measured: false,
  };
}

/** A round as measured, before the time the room took to join is added. */
type Round = Omit<Result, "joinMs">;

function summarize(run: Run, cpu: NodeJS.CpuUsage): Round {
  const { p50, p90, p99, max } = summary(run.latencies);
  const seconds = (run.lastDeliveryAt - run.firstSendAt) / 1000;
  return {
    sockets: run.n,
    messages: run.m,
    delivered: run.delivered,
    expected: run.n * run.m,
    p50,
    p90,
    p99,
    max,
    perSecond: seconds > 0 ? run.delivered / seconds : NaN,
    seconds,
    benchCpu: seconds > 0 ? (cpu.user + cpu.system) / 1e6 / seconds : NaN,
    shortSockets: run.clients.filter((client) => client.texts < run.m).length,
    replayed: run.replayed,
    outOfOrder: run.outOfOrder,
    unexpected: run.unexpected,
    measured: true,
  };
}

function complete(result: Result): boolean {
  return result.delivered === result.expected && result.outOfOrder === 0;
}

function printRound(result: Round): void {
  const { messages, delivered, expected } = result;
  console.log(`  sent ${messages} messages, ${delivered} / ${expected} deliveries in ${result.seconds.toFixed(2)} s`);
  console.log(
    `  latency ms: p50 ${ms(result.p50)}  p90 ${ms(result.p90)}  p99 ${ms(result.p99)}  max ${ms(result.max)};` +
      ` ${Math.round(result.perSecond)} deliveries/s; the bench used ${percent(result.benchCpu)} of a CPU`,
  );
  if (result.shortSockets > 0) console.log(`  ! ${result.shortSockets} sockets missed some messages`);
  if (result.outOfOrder > 0) console.log(`  ! ${result.outOfOrder} deliveries out of order or duplicated`);
  if (result.replayed > 0) console.log(`  (${result.replayed} texts of earlier rounds replayed from history on connect, not counted)`);
  for (const line of result.unexpected.slice(0, 5)) console.log(`  ! unexpected: ${line}`);
  if (result.unexpected.length > 5) console.log(`  ! ... and ${result.unexpected.length - 5} more unexpected frames`);
}

function percent(share: number): string {
  return Number.isNaN(share) ? "-" : `${Math.round(share * 100)} %`;
}

/** The table of rounds; `close` adds the time to leave, `verdict` (a p99 threshold) a pass/fail column. */
function printResults(
  results: readonly Result[],
  intervalMs: number | null,
  { close = false, verdict }: { close?: boolean; verdict?: number } = {},
): void {
  const header = [
    "sockets",
    "messages",
    "join s",
    "deliveries / expected",
    "p50 ms",
    "p90 ms",
    "p99 ms",
    "max ms",
    "deliveries/s",
    "bench CPU",
  ];
  if (close) header.push("leave s");
  if (verdict !== undefined) header.push(`p99 < ${verdict} ms`);
  const rows = results.map((r) => {
    const row = [
      r.sockets.toLocaleString("en-US"),
      String(r.messages),
      (r.joinMs / 1000).toFixed(1),
      `${r.delivered.toLocaleString("en-US")} / ${r.expected.toLocaleString("en-US")}`,
      ms(r.p50),
      ms(r.p90),
      ms(r.p99),
      ms(r.max),
      Math.round(r.perSecond).toLocaleString("en-US"),
      percent(r.benchCpu),
    ];
    if (close) row.push(((r.closeMs ?? NaN) / 1000).toFixed(1));
    if (verdict !== undefined) row.push(r.failure ?? (r.p99 < verdict ? "yes" : "no"));
    return row;
  });
  console.log(`\nFan-out to room ${ROOM} (${describePacing(intervalMs)})`);
  printTable(header, rows);
}

// ---------------------------------------------------------------------------
// Main: the server is always stopped, whatever happens (see withServer)

/** One server of --compare-selfhost: how it is started and reached. */
interface Contender {
  label: string;
  selfhost: boolean;
  direct: boolean;
}

const CONTENDERS: readonly Contender[] = [
  { label: "wrangler dev (dev proxy)", selfhost: false, direct: false },
  { label: "wrangler dev's workerd (--direct)", selfhost: false, direct: true },
  { label: "self-hosted (npm run selfhost)", selfhost: true, direct: false },
];

/** A ratio "x.xx×" (NaN as "-"). */
function times(ratio: number): string {
  return Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : "-";
}

/** --compare-selfhost: each size on each contender back to back, in one run, then side by side. */
async function compareSelfhost(options: Options, socketTo: (url: string) => BenchSocket): Promise<void> {
  await buildSelfhost();
  const serverOptions = (selfhost: boolean) => ({
    name: selfhost ? "fanout-selfhost" : "fanout",
    ready: roomListed(ROOM),
    vars: BENCH_VARS,
    openFiles: OPEN_FILES,
    selfhost,
  });
  const measured = CONTENDERS.map((contender) => ({ contender, results: [] as Result[] }));
  // Both servers run for the whole bench (an idle one costs nothing), and each size is measured
  // on the three contenders back to back: a change in the machine's load meanwhile (other work on
  // its shared cores) weighs on the three alike rather than on whichever ran last.
  await withServer(serverOptions(false), (wrangler) =>
    withServer(serverOptions(true), async (selfhosted) => {
      const urls = await Promise.all(
        CONTENDERS.map(async ({ selfhost, direct }) => {
          const base = selfhost ? selfhosted.baseUrl : direct ? await runtimeBaseUrl(wrangler) : wrangler.baseUrl;
          return `${base.replace(/^http/, "ws")}/room/${ROOM}/ws`;
        }),
      );
      for (const n of options.sizes) {
        for (let round = 1; round <= options.repeat; round++) {
          for (const [index, entry] of measured.entries()) {
            console.log(`\n=== ${entry.contender.label}, round ${round} of ${options.repeat}`);
            const server = entry.contender.selfhost ? selfhosted : wrangler;
            const url = urls[index] ?? "";
            entry.results.push(...(await benchSizes(server, () => socketTo(url), { ...options, sizes: [n] })));
          }
        }
      }
      reportServerComplaints(wrangler);
      reportServerComplaints(selfhosted);
    }),
  );
  const [proxied, direct, selfhosted] = measured;
  if (!proxied || !direct || !selfhosted) throw new BenchError("a contender was not measured");
  /** A figure of one contender at one size: the median of its rounds. */
  const figure = (results: readonly Result[], n: number, pick: (r: Result) => number): number =>
    median(results.filter((r) => r.sockets === n).map(pick));
  const p50 = (r: Result) => r.p50;
  const p99 = (r: Result) => r.p99;
  const perSecond = (r: Result) => r.perSecond;
  console.log(`\nSide by side, same machine, same run, medians of ${options.repeat} rounds each (${describePacing(options.intervalMs)}):`);
  const rows = options.sizes.flatMap((n) =>
    measured.map(({ contender, results }) => [
      n.toLocaleString("en-US"),
      contender.label,
      ms(figure(results, n, p50)),
      ms(figure(results, n, p99)),
      Math.round(figure(results, n, perSecond)).toLocaleString("en-US"),
    ]),
  );
  printTable(["sockets", "server", "p50 ms", "p99 ms", "deliveries/s"], rows);
  console.log("\nRatios (how many times better the self-hosted server is: latency theirs / ours, throughput ours / theirs):");
  const ratioRows = options.sizes.flatMap((n) =>
    [proxied, direct].map(({ contender, results }) => [
      n.toLocaleString("en-US"),
      `self-hosted vs ${contender.label}`,
      times(figure(results, n, p50) / figure(selfhosted.results, n, p50)),
      times(figure(results, n, p99) / figure(selfhosted.results, n, p99)),
      times(figure(selfhosted.results, n, perSecond) / figure(results, n, perSecond)),
    ]),
  );
  printTable(["sockets", "comparison", "p50", "p99", "deliveries/s"], ratioRows);
  const incomplete = measured.flatMap(({ contender, results }) =>
    results.filter((r) => !complete(r)).map((r) => `${contender.label} N = ${r.sockets}`),
  );
  if (incomplete.length > 0) throw new BenchError(`Deliveries missing or out of order for ${incomplete.join(", ")}`);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes("--per-message")) return perMessage(argv.filter((arg) => arg !== "--per-message"));
  const options = parseArgs(argv);
  const raw = options.mode === "storm" && !options.ws && !options.deflate;
  const socketTo = raw ? rawSocketFactory() : await socketFactory(options.deflate);
  if (options.mode === "compare-selfhost") return compareSelfhost(options, socketTo);
  if (options.selfhost) await buildSelfhost();
  const serverOptions = { name: "fanout", ready: roomListed(ROOM), vars: BENCH_VARS, openFiles: OPEN_FILES, selfhost: options.selfhost };
  await withServer(serverOptions, async (server) => {
    console.log(`Pacing: ${describePacing(options.intervalMs)}`);
    console.log(`WebSocket client: ${raw ? describeRawClient() : describeClient(options.deflate)}`);
    console.log(
      `Server vars for this bench: ${describeVars(BENCH_VARS)}` +
        ` (the defaults, ${DEFAULT_LIMITS.maxUsers} users per room and a burst of ${DEFAULT_LIMITS.rateLimitBurst} then` +
        ` ${DEFAULT_LIMITS.rateLimitPerSecond} messages/s per socket, would cap the room` +
        " and throttle the closed loop's sender; `npm run bench:flood` measures the rate limits)",
    );
    console.log(`Server ${describeOpenFiles(server)} (asked for ${OPEN_FILES}; the dev proxy holds 6 per WebSocket)`);
    const base = options.direct && !options.selfhost ? await runtimeBaseUrl(server) : server.baseUrl;
    console.log(
      options.selfhost
        ? `Sockets go to the self-hosted server (${base}): workerd alone, no dev proxy`
        : options.direct
          ? `Sockets go straight to the workerd runtime (${base}), bypassing wrangler's dev proxy (${server.baseUrl})`
          : `Sockets go through wrangler's dev proxy (${base}), a hop production does not have (--direct to bypass it)`,
    );
    const url = `${base.replace(/^http/, "ws")}/room/${ROOM}/ws`;
    const openSocket = () => socketTo(url);
    const results =
      options.mode === "storm"
        ? await storm(server, openSocket, options)
        : options.mode === "find-max"
          ? await findMax(server, openSocket, options)
          : options.mode === "memory"
            ? await memory(server, openSocket, options)
            : await benchSizes(server, openSocket, options);
    reportServerComplaints(server);
    const incomplete = results.filter((r) => !complete(r));
    if (incomplete.length > 0) {
      throw new BenchError(`Deliveries missing or out of order for N = ${incomplete.map((r) => r.sockets).join(", ")}`);
    }
  });
}

runBench(main);
