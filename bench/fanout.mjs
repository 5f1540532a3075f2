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
import { spawn } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";

const PROJECT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const WRANGLER = path.join(PROJECT_DIR, "node_modules", ".bin", "wrangler");
const ROOM = "QGIS";
const SENDER = "bench_sender";
const DEFAULT_SIZES = [100, 500];
/** Sockets opened at a time, so that N upgrades do not all hit the server at once. */
const CONNECT_BATCH = 50;

const TIMEOUT_MS = {
  serverStart: 60_000,
  serverStop: 5_000,
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

/** Wall-clock milliseconds, the same clock for the send time and the receive time. */
const now = () => performance.timeOrigin + performance.now();

class BenchError extends Error {
  name = "BenchError";
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
// Waiting, always with a deadline

/**
 * Polls `condition` until it is true. Throws on timeout, or as soon as `abortReason()` says why
 * waiting is pointless; `what` (a string, or a function for a description of the state at that time)
 * says what was awaited.
 */
async function waitUntil(condition, { timeoutMs, what, abortReason = () => undefined, pollMs = 10 }) {
  const describe = () => (typeof what === "function" ? what() : what);
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const reason = abortReason();
    if (reason) throw new BenchError(`${describe()}: ${reason}`);
    if (condition()) return;
    if (performance.now() > deadline) throw new BenchError(`${describe()}: timed out after ${timeoutMs / 1000} s`);
    await sleep(pollMs);
  }
}

function withTimeout(promise, timeoutMs, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new BenchError(`${what}: timed out after ${timeoutMs / 1000} s`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// ---------------------------------------------------------------------------
// The server: `wrangler dev` in its own process group, with its own state and log

function findFreePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

async function startServer() {
  const [port, inspectorPort] = [await findFreePort(), await findFreePort()];
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "gischat-fanout-"));
  const args = [
    WRANGLER, "dev",
    "--port", String(port),
    "--ip", "127.0.0.1",
    "--inspector-port", String(inspectorPort),
    "--persist-to", path.join(workDir, "state"),
    "--show-interactive-dev-session=false",
  ];
  // Run with this very Node (wrangler needs 22), detached so the whole group can be killed.
  const child = spawn(process.execPath, args, {
    cwd: PROJECT_DIR,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
  const server = {
    port,
    child,
    workDir,
    baseUrl: `http://127.0.0.1:${port}`,
    logPath: path.join(workDir, "wrangler.log"),
    log: null,
    exit: null,
    reloads: 0,
    recentLines: [],
    complaints: [],
  };
  server.log = fs.createWriteStream(server.logPath);
  for (const stream of [child.stdout, child.stderr]) {
    readline.createInterface({ input: stream, crlfDelay: Infinity }).on("line", (line) => {
      server.log.write(`${line}\n`);
      watchLogLine(server, line);
    });
  }
  server.outputClosed = once(child, "close");
  server.exited = new Promise((resolve) => {
    child.once("exit", (code, signal) => {
      server.exit = signal ? `signal ${signal}` : `code ${code}`;
      resolve();
    });
  });
  return server;
}

/** Wrangler's own complaint when offline (it cannot fetch Request.cf), with its stack. */
const OFFLINE_NOISE = /Request\.cf|ENOTFOUND workers\.cloudflare\.com|^\s+at /;
/** Errors, warnings, and requests answered 5xx ("[wrangler:info] GET /path 500 ..."). */
const TROUBLE = /\b(error|exception|uncaught)\b|^\[wrangler:(warn|error)\]|✘|^\[wrangler:\w+\] [A-Z]+ \S+ 5\d\d\b/i;

/** Keeps the log's tail, its suspicious lines, and notices reloads. */
function watchLogLine(server, line) {
  server.recentLines.push(line);
  if (server.recentLines.length > 30) server.recentLines.shift();
  if (TROUBLE.test(line) && !OFFLINE_NOISE.test(line)) server.complaints.push(line);
  // wrangler dev rebuilds when a source file changes: the room restarts and its sockets go quiet.
  if (/Reloading local server/.test(line)) server.reloads++;
}

/** Why the server can no longer be trusted to answer, if it cannot. */
function serverProblem(server) {
  if (server.exit) return `wrangler exited (${server.exit}); see ${server.logPath}`;
  if (server.reloads > 0) {
    return "wrangler reloaded the Worker because a source file changed during the bench: run it again once the sources are left alone";
  }
  return undefined;
}

async function waitForServer(server) {
  let lastError = "no answer yet";
  const deadline = performance.now() + TIMEOUT_MS.serverStart;
  while (performance.now() < deadline) {
    if (server.exit) throw new BenchError(`The server did not start: wrangler exited (${server.exit})\n${logTail(server)}`);
    try {
      const response = await fetch(`${server.baseUrl}/rooms`, { signal: AbortSignal.timeout(2_000) });
      const rooms = response.ok ? await response.json() : [];
      if (rooms.includes(ROOM)) return;
      lastError = `GET /rooms answered ${response.status} ${JSON.stringify(rooms)}`;
    } catch (error) {
      lastError = String(error.cause?.code ?? error.message);
    }
    await sleep(250);
  }
  throw new BenchError(
    `The server did not answer GET /rooms with room ${ROOM} within ${TIMEOUT_MS.serverStart / 1000} s (last: ${lastError})\n${logTail(server)}`,
  );
}

async function stopServer(server) {
  if (!server.exit) {
    signalGroup(server, "SIGTERM");
    const stopped = await Promise.race([server.exited.then(() => true), sleep(TIMEOUT_MS.serverStop).then(() => false)]);
    if (!stopped) signalGroup(server, "SIGKILL");
  }
  // Let the last lines reach the log file.
  await Promise.race([server.outputClosed, sleep(1_000)]);
  await new Promise((resolve) => server.log.end(resolve));
}

/** Signals wrangler and everything it started (workerd, esbuild): they share its process group. */
function signalGroup(server, signal) {
  try {
    process.kill(-server.child.pid, signal);
  } catch {
    // The group is already gone.
  }
}

function logTail(server) {
  return `--- last lines of wrangler's output (all of it in ${server.logPath}) ---\n${server.recentLines.join("\n")}`;
}

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
    /** seq -> { time, text, reached } of the messages of this round (reached: sockets it got to). */
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
  const client = { index, ws: new WebSocket(url), nbUsers: 0, sawSender: false, texts: 0, lastSeq: -1, closed: false };
  client.ws.addEventListener("message", (event) => onFrame(run, client, event.data));
  client.ws.addEventListener("close", (event) => {
    client.closed = true;
    if (!run.closing) run.fatal ??= `socket #${index} closed unexpectedly (code ${event.code} ${JSON.stringify(event.reason)})`;
  });
  client.ws.addEventListener("error", () => {
    if (!run.closing) run.fatal ??= `socket #${index} failed (WebSocket error event)`;
  });
  const opened = new Promise((resolve, reject) => {
    client.ws.addEventListener("open", resolve, { once: true });
    client.ws.addEventListener("close", () => reject(new BenchError(`socket #${index} closed before opening`)), { once: true });
  });
  return { client, opened };
}

function onFrame(run, client, data) {
  const receivedAt = now();
  let message;
  try {
    message = JSON.parse(data);
  } catch {
    run.unexpected.push(`non-JSON frame: ${String(data).slice(0, 80)}`);
    return;
  }
  switch (message.type) {
    case "nb_users":
      client.nbUsers = message.nb_users;
      return;
    case "newcomer":
      if (message.newcomer === SENDER) client.sawSender = true;
      return;
    case "text":
      return onText(run, client, message, receivedAt);
    case "uncompliant":
      run.fatal ??= `socket #${client.index} was told its message is uncompliant: ${message.reason}`;
      return;
    default:
      run.unexpected.push(`socket #${client.index} received ${data.slice(0, 120)}`);
  }
}

function onText(run, client, message, receivedAt) {
  const seq = Number(String(message.text).split(":", 1)[0]);
  const sent = run.sent.get(seq);
  if (message.author !== SENDER || sent === undefined || message.text !== sent.text) {
    run.replayed++;
    return;
  }
  if (seq <= client.lastSeq) run.outOfOrder++;
  client.lastSeq = Math.max(client.lastSeq, seq);
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

let nextSeq = 1;

/** Sends the M texts from socket #0, paced by its own copy of each (closed loop) or by the clock. */
async function sendMessages(run, intervalMs) {
  const sender = run.clients[0];
  run.firstSendAt = now();
  for (let i = 0; i < run.m; i++) {
    const reason = abortReasonOf(run)();
    if (reason) throw new BenchError(`Sending message ${i + 1} of ${run.m}: ${reason}`);
    const seq = sendText(run);
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

/** Sends one "<seq>:<send time>" text from socket #0 and returns its seq. */
function sendText(run) {
  const seq = nextSeq++;
  const time = now().toFixed(3);
  const text = `${seq}:${time}`;
  run.sent.set(seq, { time: Number(time), text, reached: 0 });
  run.clients[0].ws.send(JSON.stringify({ type: "text", author: SENDER, avatar: null, text }));
  return seq;
}

/** Waits for every delivery; returns normally with some missing if they stop coming (they are reported). */
async function waitForDeliveries(run) {
  const expected = run.n * run.m;
  const started = performance.now();
  let lastCount = -1;
  let lastProgress = started;
  while (run.delivered < expected) {
    const reason = abortReasonOf(run)();
    if (reason) throw new BenchError(`Waiting for deliveries: ${reason}`);
    if (run.delivered !== lastCount) [lastCount, lastProgress] = [run.delivered, performance.now()];
    if (performance.now() - lastProgress > TIMEOUT_MS.drainIdle || performance.now() - started > TIMEOUT_MS.drainTotal) return;
    await sleep(10);
  }
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

function seconds(ms) {
  return `${(ms / 1000).toFixed(1)} s`;
}

// ---------------------------------------------------------------------------
// Figures

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

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

function ms(value) {
  return Number.isNaN(value) ? "-" : value.toFixed(1);
}

function printTable(results, intervalMs) {
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
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const line = (cells) => cells.map((cell, column) => cell.padStart(widths[column])).join(" | ");
  console.log(`\nFan-out to room ${ROOM} (${describePacing(intervalMs)})`);
  console.log(line(header));
  console.log(widths.map((width) => "-".repeat(width)).join("-|-"));
  for (const row of rows) console.log(line(row));
}

// ---------------------------------------------------------------------------
// Main: always stop the server, whatever happens

async function main() {
  if (typeof WebSocket === "undefined") {
    throw new BenchError(`No global WebSocket in Node ${process.version}: run with Node 22 (npm run bench).`);
  }
  const { sizes, intervalMs } = parseArgs(process.argv.slice(2));
  const server = await startServer();
  const stopOnSignal = (signal) => {
    console.error(`\n${signal}: stopping the server (its log stays in ${server.logPath})`);
    stopServer(server).finally(() => process.exit(130));
  };
  process.once("SIGINT", stopOnSignal);
  process.once("SIGTERM", stopOnSignal);
  // Last resort if the process ends some other way: nothing of wrangler survives the bench.
  process.once("exit", () => server.exit || signalGroup(server, "SIGKILL"));

  let failed = true;
  try {
    console.log(`Starting wrangler dev on port ${server.port} (log: ${server.logPath})`);
    await waitForServer(server);
    console.log(`Server ready. Node ${process.version}, ${os.availableParallelism()} CPUs shared by the bench and the server.`);
    console.log(`Pacing: ${describePacing(intervalMs)}`);
    const results = [];
    for (const n of sizes) {
      console.log(`\nN = ${n}`);
      results.push(await benchRoomSize(server, n, intervalMs));
    }
    printTable(results, intervalMs);
    reportServerComplaints(server);
    const incomplete = results.filter((r) => r.delivered < r.expected || r.outOfOrder > 0);
    if (incomplete.length > 0) {
      throw new BenchError(`Deliveries missing or out of order for N = ${incomplete.map((r) => r.sockets).join(", ")}`);
    }
    failed = false;
  } catch (error) {
    // A reload can be logged a moment after the sockets it closed were noticed: name the cause.
    const problem = serverProblem(server);
    if (problem && error instanceof Error && !error.message.includes(problem)) error.message += `\n(${problem})`;
    throw error;
  } finally {
    await stopServer(server);
    if (failed) console.error(`Wrangler's log is kept in ${server.logPath}`);
    else fs.rmSync(server.workDir, { recursive: true, force: true });
  }
}

function reportServerComplaints(server) {
  const { complaints } = server;
  if (complaints.length === 0) {
    console.log("\nWrangler's log: no errors or warnings (besides the offline Request.cf warning).");
    return;
  }
  console.log(`\nWrangler's log has ${complaints.length} lines that look like trouble, e.g.:`);
  for (const line of [...new Set(complaints)].slice(0, 10)) console.log(`  ${line}`);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(`\nBench failed: ${error instanceof BenchError ? error.message : error?.stack ?? error}`);
    process.exit(1);
  },
);
