// The benchmarks' server: `wrangler dev` on free ports, in its own process group, with its own
// state (a temporary directory) and log, started, awaited and always stopped by the bench.
import { spawn } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { BenchError } from "./util.mjs";

export const PROJECT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const WRANGLER = path.join(PROJECT_DIR, "node_modules", ".bin", "wrangler");

const TIMEOUT_MS = { start: 60_000, stop: 5_000 };

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

/**
 * Vars that lift the per-socket rate limit (RATE_LIMIT_BURST 20 and RATE_LIMIT_PER_SECOND 2 by default),
 * for benches whose own senders go faster than a person: they measure delivery, not the limit.
 */
export const NO_RATE_LIMIT = { RATE_LIMIT_BURST: "1000000", RATE_LIMIT_PER_SECOND: "1000000" };

/** Ready once GET / answers 2xx: any Worker that answers at all (bench/images-worker.ts does). */
const ANSWERS = {
  path: "/",
  what: "GET /",
  check: async (response) => (response.ok ? undefined : `GET / answered ${response.status}`),
};

/** Ready once GET /rooms lists `room`: the gischat Worker is up and has read its configuration. */
export function roomListed(room) {
  return {
    path: "/rooms",
    what: `GET /rooms with room ${room}`,
    async check(response) {
      const rooms = response.ok ? await response.json() : [];
      return rooms.includes(room) ? undefined : `GET /rooms answered ${response.status} ${JSON.stringify(rooms)}`;
    },
  };
}

/**
 * Starts `wrangler dev`; `waitForServer` then waits until it answers.
 *   name    names the temporary directory (state and log): gischat-<name>-XXXXXX
 *   config  another wrangler configuration than the project's wrangler.toml (-c), relative to the project
 *   vars    { NAME: value } of extra variables for the Worker (--var NAME:value)
 *   openFiles  raise the open-file limit (ulimit -n) of wrangler and workerd to this, or as far as the
 *           hard limit allows: wrangler's dev proxy (a workerd of its own) holds 6 descriptors per
 *           WebSocket, so the usual 20,000 stop a room at about 3,300 sockets
 *   ready   when the server counts as ready: { path, what, check(response) }, check answering undefined
 *           once ready, else what the answer was; by default GET / answering 2xx, or see roomListed.
 * Its output goes to <workDir>/wrangler.log, and is watched for trouble and reloads (see watchLogLine).
 */
export async function startServer({ name, config, vars = {}, ready = ANSWERS, openFiles }) {
  const [port, inspectorPort] = [await findFreePort(), await findFreePort()];
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), `gischat-${name}-`));
  const args = [
    WRANGLER, "dev",
    ...(config ? ["-c", path.resolve(PROJECT_DIR, config)] : []),
    "--port", String(port),
    "--ip", "127.0.0.1",
    "--inspector-port", String(inspectorPort),
    "--persist-to", path.join(workDir, "state"),
    "--show-interactive-dev-session=false",
    ...Object.entries(vars).flatMap(([key, value]) => ["--var", `${key}:${value}`]),
  ];
  // X_LOCAL_OBSERVABILITY=false: wrangler dev otherwise records a trace of every event the Worker
  // and the room handle in a SQLite store of its own, with an fsync each, so that every WebSocket
  // frame costs about 0.85 ms of disk writes here (strace: one fsync per frame). Production has no
  // such store: with it, a flooder's frames measured wrangler, not the room (10,000 frames held
  // the other sockets up for 8.5 s; without it, not at all).
  // Run with this very Node (wrangler needs 22), detached so the whole group can be killed:
  // its process group id is then wrangler's pid (stall.mjs finds workerd's threads by it).
  // With openFiles, through a shell that raises the limit and then becomes wrangler (exec: same pid).
  const [command, commandArgs] = openFiles
    ? ["/bin/sh", ["-c", 'ulimit -n "$1" 2>/dev/null || ulimit -S -n "$(ulimit -H -n)"; shift; exec "$@"', "sh", String(openFiles), process.execPath, ...args]]
    : [process.execPath, args];
  const child = spawn(command, commandArgs, {
    cwd: PROJECT_DIR,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", X_LOCAL_OBSERVABILITY: "false" },
  });
  const server = {
    port,
    child,
    workDir,
    ready,
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
  // Last resort if the bench ends some other way: nothing of wrangler survives it.
  process.once("exit", () => server.exit || signalGroup(server, "SIGKILL"));
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
  // wrangler dev rebuilds when a source file changes: a room restarts and its sockets go quiet.
  if (/Reloading local server/.test(line)) server.reloads++;
}

/** Why the server can no longer be trusted to answer, if it cannot. */
export function serverProblem(server) {
  if (server.exit) return `wrangler exited (${server.exit}); see ${server.logPath}`;
  if (server.reloads > 0) {
    return "wrangler reloaded the Worker because a source file changed during the bench: run it again once the sources are left alone";
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// The server's processes (Linux /proc): CPU time per thread (stall.mjs), memory (fanout.mjs --memory)

/** A /proc/<pid>/stat (or /proc/<pid>/task/<tid>/stat) file: its name, process group and CPU ticks (user + system). */
export function readStat(file) {
  const text = fs.readFileSync(file, "utf8");
  const close = text.lastIndexOf(")");
  const name = text.slice(text.indexOf("(") + 1, close);
  const fields = text.slice(close + 2).split(" "); // fields[0] is field 3 (state)
  return { name, pgrp: Number(fields[2]), ticks: Number(fields[11]) + Number(fields[12]) };
}

/** The processes of wrangler's process group (wrangler, workerd, esbuild): [{ pid, name }]; none without /proc. */
export function serverProcesses(server) {
  if (!fs.existsSync("/proc/self/stat")) return [];
  const processes = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const { name, pgrp } = readStat(`/proc/${entry}/stat`);
      if (pgrp === server.child.pid) processes.push({ pid: Number(entry), name });
    } catch {
      // The process ended meanwhile.
    }
  }
  return processes;
}

/**
 * The two workerd processes of `wrangler dev`: `runtime` runs the Worker and the room objects; `proxy` is
 * wrangler's dev proxy in front of it (it listens on the server's port; production has no such hop).
 */
export function workerdProcesses(server) {
  const workerd = serverProcesses(server).filter((p) => p.name === "workerd");
  const listensOnPort = (p) => {
    try {
      return fs.readFileSync(`/proc/${p.pid}/cmdline`, "utf8").includes(`entry=127.0.0.1:${server.port}`);
    } catch {
      return false;
    }
  };
  return { runtime: workerd.find((p) => !listensOnPort(p)), proxy: workerd.find(listensOnPort) };
}

/** The inodes of a process's sockets (/proc/<pid>/fd). */
function socketInodes(pid) {
  const inodes = new Set();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const inode = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
      if (inode) inodes.add(inode);
    } catch {
      // Closed meanwhile.
    }
  }
  return inodes;
}

/** IPv4 TCP sockets of the machine (/proc/net/tcp): { local, remote (ports), listening, inode }. */
function tcpSockets() {
  const port = (address) => parseInt(address.split(":")[1], 16);
  return fs
    .readFileSync("/proc/net/tcp", "utf8")
    .split("\n")
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields.length > 9)
    .map(([, local, remote, state, , , , , , inode]) => ({ local: port(local), remote: port(remote), listening: state === "0A", inode }));
}

/**
 * The runtime workerd's own entry, bypassing wrangler's dev proxy: among the ports the runtime
 * listens on and the proxy is connected to (the entry, and a Cap'n Proto port), the one that answers
 * the server's readiness check. Answers its base URL. A probe of the Cap'n Proto port makes workerd
 * log a complaint about an oversized RPC message: that one is the bench's doing, and is dropped.
 */
export async function runtimeBaseUrl(server) {
  const { runtime, proxy } = workerdProcesses(server);
  if (!runtime || !proxy) throw new BenchError("wrangler's two workerd processes not found (this needs Linux's /proc)");
  const [runtimeSockets, proxySockets, tcp] = [socketInodes(runtime.pid), socketInodes(proxy.pid), tcpSockets()];
  const proxyConnectsTo = new Set(tcp.filter((s) => !s.listening && proxySockets.has(s.inode)).map((s) => s.remote));
  const candidates = tcp.filter((s) => s.listening && runtimeSockets.has(s.inode) && proxyConnectsTo.has(s.local)).map((s) => s.local);
  const complaintsBefore = server.complaints.length;
  let found;
  for (const port of candidates) {
    const baseUrl = `http://127.0.0.1:${port}`;
    try {
      const response = await fetch(`${baseUrl}${server.ready.path}`, { signal: AbortSignal.timeout(2_000) });
      if ((await server.ready.check(response)) === undefined) {
        found = baseUrl;
        break;
      }
    } catch {
      // Not the entry.
    }
  }
  await sleep(300);
  const probeNoise = /incoming RPC message exceeds size limit/;
  server.complaints.splice(complaintsBefore, Infinity, ...server.complaints.slice(complaintsBefore).filter((line) => !probeNoise.test(line)));
  if (found === undefined) throw new BenchError(`The workerd runtime's entry answers on none of ports ${candidates.join(", ")}`);
  return found;
}

/** A process's open file descriptors and its limit of them (soft), from /proc; NaN if unknown. */
export function openFilesOf(pid) {
  try {
    const limit = /^Max open files\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/limits`, "utf8"));
    return { open: fs.readdirSync(`/proc/${pid}/fd`).length, limit: limit ? Number(limit[1]) : NaN };
  } catch {
    return { open: NaN, limit: NaN };
  }
}

/** A memory field of /proc/<pid>/status (VmRSS, VmHWM...) in bytes; NaN if the process is gone. */
export function processMemory(pid, field = "VmRSS") {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

export async function waitForServer(server) {
  const { path: readyPath, what, check } = server.ready;
  let lastError = "no answer yet";
  const deadline = performance.now() + TIMEOUT_MS.start;
  while (performance.now() < deadline) {
    if (server.exit) throw new BenchError(`The server did not start: wrangler exited (${server.exit})\n${logTail(server)}`);
    try {
      const response = await fetch(`${server.baseUrl}${readyPath}`, { signal: AbortSignal.timeout(2_000) });
      const problem = await check(response);
      if (problem === undefined) return;
      lastError = problem;
    } catch (error) {
      lastError = String(error.cause?.code ?? error.message);
    }
    await sleep(250);
  }
  throw new BenchError(`The server did not answer ${what} within ${TIMEOUT_MS.start / 1000} s (last: ${lastError})\n${logTail(server)}`);
}

export async function stopServer(server) {
  if (!server.exit) {
    signalGroup(server, "SIGTERM");
    const stopped = await Promise.race([server.exited.then(() => true), sleep(TIMEOUT_MS.stop).then(() => false)]);
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

export function reportServerComplaints(server) {
  const { complaints } = server;
  if (complaints.length === 0) {
    console.log("\nWrangler's log: no errors or warnings (besides the offline Request.cf warning).");
    return;
  }
  console.log(`\nWrangler's log has ${complaints.length} lines that look like trouble, e.g.:`);
  for (const line of [...new Set(complaints)].slice(0, 10)) console.log(`  ${line}`);
}

/**
 * A whole bench against one server: starts it (`startServer`'s options), stops it on SIGINT or SIGTERM,
 * waits for it, runs `body(server)`, and stops it whatever happens. On failure the server's problem
 * (it exited, or reloaded) is added to the error and its whole temporary directory is kept; on success
 * the directory goes, or with `keepLog` only the state, and the log's path is printed.
 */
export async function withServer({ keepLog = false, ...options }, body) {
  const server = await startServer(options);
  const stopOnSignal = (signal) => {
    console.error(`\n${signal}: stopping the server (its log stays in ${server.logPath})`);
    stopServer(server).finally(() => process.exit(130));
  };
  process.once("SIGINT", stopOnSignal);
  process.once("SIGTERM", stopOnSignal);

  let failed = true;
  try {
    console.log(`Starting wrangler dev on port ${server.port} (log: ${server.logPath})`);
    await waitForServer(server);
    console.log(`Server ready. Node ${process.version}, ${os.availableParallelism()} CPUs shared by the bench and the server.`);
    const result = await body(server);
    failed = false;
    return result;
  } catch (error) {
    // A reload can be logged a moment after the sockets it closed were noticed: name the cause.
    const problem = serverProblem(server);
    if (problem && error instanceof Error && !error.message.includes(problem)) error.message += `\n(${problem})`;
    throw error;
  } finally {
    await stopServer(server);
    if (failed) console.error(`Wrangler's log is kept in ${server.logPath}`);
    else if (keepLog) {
      fs.rmSync(path.join(server.workDir, "state"), { recursive: true, force: true });
      console.log(`Wrangler's whole output: ${server.logPath}`);
    } else fs.rmSync(server.workDir, { recursive: true, force: true });
  }
}
