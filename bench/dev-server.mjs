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
 *   ready   when the server counts as ready: { path, what, check(response) }, check answering undefined
 *           once ready, else what the answer was; by default GET / answering 2xx, or see roomListed.
 * Its output goes to <workDir>/wrangler.log, and is watched for trouble and reloads (see watchLogLine).
 */
export async function startServer({ name, config, vars = {}, ready = ANSWERS }) {
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
  // Run with this very Node (wrangler needs 22), detached so the whole group can be killed:
  // its process group id is then wrangler's pid (stall.mjs finds workerd's threads by it).
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
