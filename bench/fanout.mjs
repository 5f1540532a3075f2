// Fan-out benchmark: how long a text message takes to reach every socket of a room.
//
// It starts its own `wrangler dev` (fresh local state in a temporary directory), and
// for each room size N opens N WebSockets to room "QGIS", registers one of them as
// "bench_sender", and has it send M text messages whose text is "<seq>:<send time>".
// Every socket (the sender included) records, for every text it receives,
// latency = receive time - send time (one process, so one clock). It prints, per N,
// the deliveries received / expected, latency p50/p90/p99/max and the deliveries per
// second (all deliveries / time from the first send to the last delivery).
//
// Pacing is a closed loop by default: the sender sends the next message as soon as
// its own copy of the previous one comes back, so the room is always busy with about
// one message and the latency is not inflated by a backlog the bench itself queued.
// `--interval=<ms>` switches to an open loop: one message every <ms>, whatever happens.
//
// Client and server share the machine: the figures include the client's own work.
//
//   npm run bench                       N = 100 and 500
//   npm run bench -- 100 500 1000       other room sizes
//   npm run bench -- 500 --interval=10  open loop, one message every 10 ms
import { setTimeout as sleep } from "node:timers/promises";
import { reportServerComplaints, roomListed, serverProblem, withServer } from "./dev-server.mjs";
import { onRoomFrame, sendTimedText, sentTextOf, watchSocket } from "./room-client.mjs";
import { BenchError, ms, now, percentile, printTable, runBench, seconds, waitForProgress, waitUntil, withTimeout } from "./util.mjs";

const ROOM = "QGIS";
const SENDER = "bench_sender";
const DEFAULT_SIZES = [100, 500];
/** Sockets opened at a time, so that N upgrades do not all hit the server at once. */
const CONNECT_BATCH = 50;

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

/**
 * Each arrival and each departure is broadcast (nb_users) to everyone in the room, so
 * opening or closing N sockets costs the server O(N^2) frames: those deadlines grow
 * with N^2 (0.2 ms per pair: +50 s for N = 500).
 */
function scaled(baseMs, n) {
  return baseMs + Math.round(n * n * 0.2);
}

// ---------------------------------------------------------------------------
// Command line

function parseArgs(argv) {
  const sizes = [];
  let intervalMs = null;
  for (const arg of argv) {
    const interval = /^--interval=(\d+(?:\.\d+)?)$/.exec(arg);
    if (interval) intervalMs = Number(interval[1]);
    else if (/^\d+$/.test(arg) && Number(arg) > 0) sizes.push(Number(arg));
    else throw new BenchError(`Unknown argument ${JSON.stringify(arg)}. Usage: npm run bench -- [N ...] [--interval=<ms>]`);
  }
  return { sizes: sizes.length > 0 ? sizes : DEFAULT_SIZES, intervalMs };
}

/** Messages per room size: fewer for big rooms, so the whole bench stays within a few minutes. */
function messagesFor(n) {
  return Math.max(20, Math.min(200, Math.round(50_000 / n)));
}

function describePacing(intervalMs) {
  return intervalMs === null
    ? "closed loop: next message sent when the sender receives its own copy of the previous one"
    : `open loop: one message every ${intervalMs} ms`;
}

// ---------------------------------------------------------------------------
// The room as the server sees it

/** The room's connected users as GET /status counts them. */
async function roomUserCount(server, timeoutMs) {
  const response = await fetch(`${server.baseUrl}/status`, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) throw new BenchError(`GET /status answered ${response.status}`);
  const status = await response.json();
  const room = status.rooms.find((entry) => entry.name === ROOM);
  if (!room) throw new BenchError(`GET /status does not list room ${ROOM}`);
  return room.nb_connected_users;
}

/** Waits for GET /status to count nobody in the room (a busy room may answer slowly). */
async function waitForEmptyRoom(server, timeoutMs) {
  const deadline = performance.now() + timeoutMs;
  let last = "no answer";
  for (;;) {
    const problem = serverProblem(server);
    if (problem) throw new BenchError(`Waiting for room ${ROOM} to be empty: ${problem}`);
    const remaining = deadline - performance.now();
    if (remaining <= 0) break;
    try {
      const count = await roomUserCount(server, Math.ceil(remaining));
      if (count === 0) return;
      last = `${count} connected users`;
    } catch (error) {
      // Only a slow or refused request is worth another try.
      if (error.name !== "TimeoutError" && error.message !== "fetch failed") throw error;
      last = String(error.cause?.code ?? error.name);
    }
    await sleep(200);
  }
  throw new BenchError(`Room ${ROOM} was not empty within ${timeoutMs / 1000} s (last GET /status: ${last})`);
}

// ---------------------------------------------------------------------------
// One round: N sockets, one sender, M messages

function createRun(server, n, m) {
  return {
    server,
    n,
    m,
    clients: [],
    /** seq -> { seq, time, text, reached } of the messages of this round (see sendTimedText). */
    sent: new Map(),
    latencies: [],
    delivered: 0,
    firstSendAt: 0,
    lastDeliveryAt: 0,
    /** Texts from earlier rounds, replayed from the room's history to each new socket. */
    replayed: 0,
    outOfOrder: 0,
    unexpected: [],
    /** Set by a socket handler when the round cannot go on. */
    fatal: undefined,
    /** True once the bench closes its sockets: closes are expected from then on. */
    closing: false,
  };
}

/** Why a round cannot go on, if it cannot; a server problem comes first, as it explains the sockets'. */
function abortReasonOf(run) {
  return () => serverProblem(run.server) ?? run.fatal;
}

function connectClient(run, index) {
  const url = `ws://127.0.0.1:${run.server.port}/room/${ROOM}/ws`;
  const client = { index, label: `socket #${index}`, ws: new WebSocket(url), nbUsers: 0, sawSender: false, texts: 0, lastSeq: -1, closed: false };
  const opened = watchSocket(run, client, client.label, (data) => onRoomFrame(run, client, client.label, data, now(), ON_FRAME));
  return { client, opened };
}

const ON_FRAME = {
  newcomer(run, client, name) {
    if (name === SENDER) client.sawSender = true;
  },
  text: onText,
};

function onText(run, client, message, receivedAt) {
  const sent = sentTextOf(run, message, SENDER);
  if (sent === undefined) return;
  if (sent.seq <= client.lastSeq) run.outOfOrder++;
  client.lastSeq = Math.max(client.lastSeq, sent.seq);
  client.texts++;
  sent.reached++;
  run.delivered++;
  run.latencies.push(receivedAt - sent.time);
  run.lastDeliveryAt = receivedAt;
}

async function openClients(run) {
  const timeoutMs = scaled(TIMEOUT_MS.connect, run.n);
  const started = performance.now();
  for (let first = 0; first < run.n; first += CONNECT_BATCH) {
    const batch = [];
    for (let index = first; index < Math.min(first + CONNECT_BATCH, run.n); index++) {
      const { client, opened } = connectClient(run, index);
      run.clients.push(client);
      batch.push(opened);
    }
    const remaining = timeoutMs - (performance.now() - started);
    await withTimeout(Promise.all(batch), Math.max(remaining, 1), `Opening ${run.n} WebSockets to room ${ROOM}`);
  }
  await waitUntil(() => run.clients.every((client) => client.nbUsers === run.n), {
    timeoutMs: Math.max(timeoutMs - (performance.now() - started), 1),
    what: () => `Waiting for every socket to see nb_users = ${run.n} (lowest seen: ${lowestUserCount(run)})`,
    abortReason: abortReasonOf(run),
  });
  return performance.now() - started;
}

function lowestUserCount(run) {
  return Math.min(...run.clients.map((client) => client.nbUsers));
}

async function registerSender(run) {
  run.clients[0].ws.send(JSON.stringify({ type: "newcomer", newcomer: SENDER }));
  await waitUntil(() => run.clients.every((client) => client.sawSender), {
    timeoutMs: TIMEOUT_MS.register,
    what: `Waiting for every socket to receive the newcomer ${SENDER}`,
    abortReason: abortReasonOf(run),
  });
}

/** Sends the M texts from socket #0, paced by its own copy of each (closed loop) or by the clock. */
async function sendMessages(run, intervalMs) {
  const sender = run.clients[0];
  run.firstSendAt = now();
  for (let i = 0; i < run.m; i++) {
    const reason = abortReasonOf(run)();
    if (reason) throw new BenchError(`Sending message ${i + 1} of ${run.m}: ${reason}`);
    const seq = sendTimedText(run, sender.ws, SENDER);
    if (intervalMs === null) {
      await waitUntil(() => sender.lastSeq >= seq, {
        timeoutMs: TIMEOUT_MS.echo,
        what: () => `Waiting for the sender's own copy of message ${seq} (it reached ${run.sent.get(seq).reached} of ${run.n} sockets)`,
        abortReason: abortReasonOf(run),
        pollMs: 1,
      });
    } else {
      await sleep(Math.max(0, run.firstSendAt + (i + 1) * intervalMs - now()));
    }
  }
}

/** Waits for every delivery; returns normally with some missing if they stop coming (they are reported). */
function waitForDeliveries(run) {
  return waitForProgress(() => run.delivered, run.n * run.m, {
    idleMs: TIMEOUT_MS.drainIdle,
    totalMs: TIMEOUT_MS.drainTotal,
    what: "Waiting for deliveries",
    abortReason: abortReasonOf(run),
  });
}

/** Closes every socket, waits for their close events, then for the room to count nobody. */
async function closeClients(run) {
  const timeoutMs = scaled(TIMEOUT_MS.close, run.n);
  const started = performance.now();
  run.closing = true;
  for (const { ws } of run.clients) {
    if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(1000, "bench done");
  }
  await waitUntil(() => run.clients.every((client) => client.closed), {
    timeoutMs,
    what: () => `Closing ${run.clients.length} sockets (${run.clients.filter((client) => !client.closed).length} still open)`,
    pollMs: 50,
  });
  await waitForEmptyRoom(run.server, Math.max(timeoutMs - (performance.now() - started), 1));
  return performance.now() - started;
}

async function benchRoomSize(server, n, intervalMs) {
  await waitForEmptyRoom(server, TIMEOUT_MS.close);
  const run = createRun(server, n, messagesFor(n));
  try {
    const connectMs = await openClients(run);
    console.log(`  ${n} sockets open, everyone seeing nb_users = ${n}, in ${seconds(connectMs)}`);
    await registerSender(run);
    await sendMessages(run, intervalMs);
    await waitForDeliveries(run);
  } catch (error) {
    // The first failure is the one to report; closing is only attempted so that nothing lingers.
    await closeClients(run).catch((closeError) => console.error(`  (also: ${closeError.message})`));
    throw error;
  }
  const result = summarize(run);
  printRound(result);
  const closeMs = await closeClients(run);
  console.log(`  ${n} sockets closed and room empty in ${seconds(closeMs)}`);
  return result;
}

// ---------------------------------------------------------------------------
// Figures

function summarize(run) {
  const sorted = Float64Array.from(run.latencies).sort();
  const seconds = (run.lastDeliveryAt - run.firstSendAt) / 1000;
  return {
    sockets: run.n,
    messages: run.m,
    delivered: run.delivered,
    expected: run.n * run.m,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.length > 0 ? sorted[sorted.length - 1] : NaN,
    perSecond: seconds > 0 ? run.delivered / seconds : NaN,
    seconds,
    shortSockets: run.clients.filter((client) => client.texts < run.m).length,
    replayed: run.replayed,
    outOfOrder: run.outOfOrder,
    unexpected: run.unexpected,
  };
}

function printRound(result) {
  const { sockets, messages, delivered, expected } = result;
  console.log(`  sent ${messages} messages, ${delivered} / ${expected} deliveries in ${result.seconds.toFixed(2)} s`);
  console.log(
    `  latency ms: p50 ${ms(result.p50)}  p90 ${ms(result.p90)}  p99 ${ms(result.p99)}  max ${ms(result.max)};` +
      ` ${Math.round(result.perSecond)} deliveries/s`,
  );
  if (result.shortSockets > 0) console.log(`  ! ${result.shortSockets} sockets missed some messages`);
  if (result.outOfOrder > 0) console.log(`  ! ${result.outOfOrder} deliveries out of order or duplicated`);
  if (result.replayed > 0) console.log(`  (${result.replayed} texts of earlier rounds replayed from history on connect, not counted)`);
  for (const line of result.unexpected.slice(0, 5)) console.log(`  ! unexpected: ${line}`);
  if (result.unexpected.length > 5) console.log(`  ! ... and ${result.unexpected.length - 5} more unexpected frames`);
}

function printResults(results, intervalMs) {
  const header = ["sockets", "messages", "deliveries / expected", "p50 ms", "p90 ms", "p99 ms", "max ms", "deliveries/s"];
  const rows = results.map((r) => [
    String(r.sockets),
    String(r.messages),
    `${r.delivered} / ${r.expected}`,
    ms(r.p50),
    ms(r.p90),
    ms(r.p99),
    ms(r.max),
    String(Math.round(r.perSecond)),
  ]);
  console.log(`\nFan-out to room ${ROOM} (${describePacing(intervalMs)})`);
  printTable(header, rows);
}

// ---------------------------------------------------------------------------
// Main: the server is always stopped, whatever happens (see withServer)

async function main() {
  if (typeof WebSocket === "undefined") {
    throw new BenchError(`No global WebSocket in Node ${process.version}: run with Node 22 (npm run bench).`);
  }
  const { sizes, intervalMs } = parseArgs(process.argv.slice(2));
  await withServer({ name: "fanout", ready: roomListed(ROOM) }, async (server) => {
    console.log(`Pacing: ${describePacing(intervalMs)}`);
    const results = [];
    for (const n of sizes) {
      console.log(`\nN = ${n}`);
      results.push(await benchRoomSize(server, n, intervalMs));
    }
    printResults(results, intervalMs);
    reportServerComplaints(server);
    const incomplete = results.filter((r) => r.delivered < r.expected || r.outOfOrder > 0);
    if (incomplete.length > 0) {
      throw new BenchError(`Deliveries missing or out of order for N = ${incomplete.map((r) => r.sockets).join(", ")}`);
    }
  });
}

runBench(main);
