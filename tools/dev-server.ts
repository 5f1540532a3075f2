// `wrangler dev` (or the self-hosted server, selfhost/start.ts: workerd alone on the build) for
// the benchmarks and the browser tests: one launcher. It starts on a
// free port with its own temporary directory (local state and log) and in its own
// process group, waits until the Worker answers, watches the log for trouble and
// reloads, and stops the whole group; `start()` again brings it back on the same port
// with the same state, as a deploy drops and brings back the server.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";

export const PROJECT_DIR = path.resolve(import.meta.dirname, "..");
const WRANGLER = path.join(PROJECT_DIR, "node_modules", "wrangler", "bin", "wrangler.js");
const SELFHOST_START = path.join(PROJECT_DIR, "selfhost", "start.ts");

const DEFAULT_TIMEOUT_MS = { start: 60_000, stop: 5_000 };
/** Lines of the log kept in memory for an error message. */
const RECENT_LINES = 30;

/** A failure the launcher explains itself: callers print its message without a stack. */
export class DevServerError extends Error {
  override name = "DevServerError";
}

/**
 * A port nothing listens on now. A port just closed can be handed out again at once, so the
 * ports a caller already holds are passed in `taken` (wrangler's inspector beside its own port:
 * both the same would make wrangler fail with "Address already in use").
 */
export async function freePort(taken: readonly number[] = []): Promise<number> {
  for (;;) {
    const port = await probePort();
    if (!taken.includes(port)) return port;
  }
}

function probePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new DevServerError("no free port"))));
    });
  });
}

/** When the server counts as ready: `check` answers undefined once ready, else what the answer was. */
export interface Readiness {
  path: string;
  what: string;
  check(response: Response): Promise<string | undefined>;
}

/** Ready once GET `path` answers 2xx: any Worker that answers at all (bench/image-pipeline-worker.ts does for /). */
export function answers(readyPath = "/"): Readiness {
  return {
    path: readyPath,
    what: `GET ${readyPath}`,
    check: async (response) => (response.ok ? undefined : `GET ${readyPath} answered ${response.status}`),
  };
}

/** Ready once GET /rooms lists `room`: the gischat Worker is up and has read its configuration. */
export function roomListed(room: string): Readiness {
  return {
    path: "/rooms",
    what: `GET /rooms with room ${room}`,
    async check(response) {
      const rooms: unknown = response.ok ? await response.json() : [];
      return Array.isArray(rooms) && rooms.includes(room) ? undefined : `GET /rooms answered ${response.status} ${JSON.stringify(rooms)}`;
    },
  };
}

export interface DevServerOptions {
  /** Names the temporary directory (state and log): gischat-<name>-XXXXXX. */
  name: string;
  /** Another wrangler configuration than the project's wrangler.toml (-c), relative to the project. */
  config?: string;
  /** Extra variables for the Worker (--var NAME:value). */
  vars?: Readonly<Record<string, string>>;
  /**
   * Serve the self-hosted build (`npm run selfhost:start`: workerd alone, no dev proxy; build it
   * first with selfhost/build.ts) instead of `wrangler dev`: the vars go in its environment, its
   * rooms' SQLite in <workDir>/state, and it listens on 127.0.0.1.
   */
  selfhost?: boolean;
  /** By default GET / answering 2xx (see answers, roomListed). */
  ready?: Readiness;
  /**
   * Raise the open-file limit (ulimit -n) of wrangler and workerd to this, or as far as the hard
   * limit allows: wrangler's dev proxy (a workerd of its own) holds 6 descriptors per WebSocket,
   * so the usual 20,000 stop a room at about 3,300 sockets.
   */
  openFiles?: number;
  timeoutMs?: { start?: number; stop?: number };
}

/** Errors, warnings, and requests answered 5xx ("[wrangler:info] GET /path 500 ..."). */
const TROUBLE = /\b(error|exception|uncaught)\b|^\[wrangler:(warn|error)\]|✘|^\[wrangler:\w+\] [A-Z]+ \S+ 5\d\d\b/i;
/** Wrangler's own complaint when offline (it cannot fetch Request.cf), with its stack. */
const OFFLINE_NOISE = /Request\.cf|ENOTFOUND workers\.cloudflare\.com|^\s+at /;

/**
 * One `wrangler dev`, created with `DevServer.create` (not yet started). Its output goes to
 * <workDir>/wrangler.log (appended to across restarts) and is watched (see watchLine).
 */
export class DevServer {
  readonly port: number;
  readonly workDir: string;
  readonly logPath: string;
  readonly ready: Readiness;
  /** wrangler's process; its pid is also the process group of workerd and esbuild. Undefined when stopped. */
  child: ChildProcess | undefined;
  /** How the last wrangler exited ("code 0", "signal SIGTERM"), undefined while it runs. */
  exit: string | undefined;
  /** wrangler's inspector (Chrome DevTools protocol, /json lists the Worker): picked on the first start. */
  inspectorPort: number | undefined;
  /** Times wrangler reloaded the Worker since the last start. */
  reloads = 0;
  /** Since the last start, the output said a port it needed was taken. */
  private lostPort = false;
  readonly recentLines: string[] = [];
  /** Log lines that look like trouble (see TROUBLE). */
  readonly complaints: string[] = [];
  private readonly options: DevServerOptions;
  private readonly timeoutMs: { start: number; stop: number };
  private log: fs.WriteStream | undefined;
  private outputClosed: Promise<unknown> = Promise.resolve();
  private exited: Promise<void> = Promise.resolve();

  private constructor(port: number, workDir: string, options: DevServerOptions) {
    this.port = port;
    this.workDir = workDir;
    this.logPath = path.join(workDir, "wrangler.log");
    this.ready = options.ready ?? answers();
    this.options = options;
    this.timeoutMs = { ...DEFAULT_TIMEOUT_MS, ...options.timeoutMs };
  }

  /** Picks a free port and a fresh temporary directory; `start()` then starts it. */
  static async create(options: DevServerOptions): Promise<DevServer> {
    return new DevServer(await freePort(), fs.mkdtempSync(path.join(os.tmpdir(), `gischat-${options.name}-`)), options);
  }

  /** What runs: for messages. */
  get command(): string {
    return this.options.selfhost ? "the self-hosted server" : "wrangler";
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** wrangler's pid, which is also its process group's id. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts `wrangler dev` (on the same port and state as before, if it ran); `waitUntilReady` then waits. */
  async start(): Promise<void> {
    if (this.child) throw new DevServerError("The server is already running");
    const { args, env } = this.options.selfhost
      ? this.selfhostLaunch()
      : { args: await this.wranglerArgs(), env: { WRANGLER_SEND_METRICS: "false", X_LOCAL_OBSERVABILITY: "false" } };
    // X_LOCAL_OBSERVABILITY=false: wrangler dev otherwise records a trace of every event the Worker
    // and the room handle in a SQLite store of its own, with an fsync each, so that every WebSocket
    // frame costs about 0.85 ms of disk writes here (strace: one fsync per frame). Production has no
    // such store: with it, a flooder's frames measured wrangler, not the room (10,000 frames held
    // the other sockets up for 8.5 s; without it, not at all).
    // Run with this very Node (wrangler needs 22), detached so the whole group can be killed: its
    // process group id is then wrangler's pid (the benches find workerd's threads by it). With
    // openFiles, through a shell that raises the limit and then becomes wrangler (exec: same pid).
    const { openFiles } = this.options;
    const [command, commandArgs] = openFiles
      ? [
          "/bin/sh",
          [
            "-c",
            'ulimit -n "$1" 2>/dev/null || ulimit -S -n "$(ulimit -H -n)"; shift; exec "$@"',
            "sh",
            String(openFiles),
            process.execPath,
            ...args,
          ],
        ]
      : [process.execPath, args];
    const child = spawn(command, commandArgs, {
      cwd: PROJECT_DIR,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...env },
    });
    this.child = child;
    this.exit = undefined;
    this.reloads = 0;
    this.lostPort = false;
    this.followOutput(child);
    this.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        this.exit = signal ? `signal ${signal}` : `code ${code}`;
        resolve();
      });
    });
    // Last resort if the process ends some other way: nothing of wrangler survives it.
    process.once("exit", () => this.exit ?? signalGroup(child.pid, "SIGKILL"));
  }

  /** The self-hosted server's command and environment: the vars are environment variables there. */
  private selfhostLaunch(): { args: string[]; env: Record<string, string> } {
    const { vars = {} } = this.options;
    const state = path.join(this.workDir, "state");
    return { args: [SELFHOST_START], env: { HOST: "127.0.0.1", PORT: String(this.port), DATA_DIR: state, ...vars } };
  }

  private async wranglerArgs(): Promise<string[]> {
    const { config, vars = {} } = this.options;
    this.inspectorPort ??= await freePort([this.port]);
    return [
      WRANGLER,
      "dev",
      ...(config ? ["-c", path.resolve(PROJECT_DIR, config)] : []),
      "--port",
      String(this.port),
      "--ip",
      "127.0.0.1",
      "--inspector-port",
      String(this.inspectorPort),
      "--persist-to",
      path.join(this.workDir, "state"),
      "--show-interactive-dev-session=false",
      ...Object.entries(vars).flatMap(([key, value]) => ["--var", `${key}:${value}`]),
    ];
  }

  /** Writes the output to the log line by line, watching each (see watchLine). */
  private followOutput(child: ChildProcess): void {
    const log = fs.createWriteStream(this.logPath, { flags: "a" });
    this.log = log;
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      readline.createInterface({ input: stream, crlfDelay: Infinity }).on("line", (line) => {
        log.write(`${line}\n`);
        this.watchLine(line);
      });
    }
    this.outputClosed = once(child, "close");
  }

  /** A line of our own in the log and its tail. */
  private note(line: string): void {
    this.log?.write(`${line}\n`);
    this.recentLines.push(line);
  }

  /** Keeps the log's tail and its suspicious lines, and notices reloads. */
  private watchLine(line: string): void {
    this.recentLines.push(line);
    if (this.recentLines.length > RECENT_LINES) this.recentLines.shift();
    if (TROUBLE.test(line) && !OFFLINE_NOISE.test(line)) this.complaints.push(line);
    // wrangler dev rebuilds when a source file changes: a room restarts and its sockets go quiet.
    if (/Reloading local server/.test(line)) this.reloads++;
    if (line.includes("Address already in use")) this.lostPort = true;
  }

  /** Why the server can no longer be trusted to answer, if it cannot. */
  problem(): string | undefined {
    if (this.exit) return `${this.command} exited (${this.exit}); see ${this.logPath}`;
    if (this.reloads > 0) {
      return "wrangler reloaded the Worker because a source file changed during the run: run it again once the sources are left alone";
    }
    return undefined;
  }

  /**
   * Waits until the readiness check passes; throws with the log's tail if wrangler exits or time
   * runs out. wrangler dev runs the [build] command a second time as it starts ("The file client
   * changed, restarting build", workers-sdk#7934), and now and then its reload finds the port
   * taken and wrangler exits ("Address already in use"): then it is started again, up to twice.
   */
  async waitUntilReady(): Promise<void> {
    const { path: readyPath, what, check } = this.ready;
    let lastError = "no answer yet";
    let deadline = performance.now() + this.timeoutMs.start;
    let startsLeft = 2;
    while (performance.now() < deadline) {
      if (this.exit) {
        if (startsLeft > 0 && this.lostPort) {
          startsLeft--;
          await this.stop();
          await this.start();
          this.note(`--- ${this.command} lost its port as it started: started again ---`);
          deadline = performance.now() + this.timeoutMs.start;
          continue;
        }
        throw new DevServerError(`The server did not start: ${this.command} exited (${this.exit})\n${this.logTail()}`);
      }
      try {
        const response = await fetch(`${this.baseUrl}${readyPath}`, { signal: AbortSignal.timeout(2_000) });
        const problem = await check(response);
        if (problem === undefined) return;
        lastError = problem;
      } catch (error) {
        lastError = describeFetchError(error);
      }
      await sleep(250);
    }
    throw new DevServerError(
      `The server did not answer ${what} within ${this.timeoutMs.start / 1000} s (last: ${lastError})\n${this.logTail()}`,
    );
  }

  /**
   * Stops wrangler and everything it started (SIGTERM, then SIGKILL after the stop timeout), as
   * abruptly as a deploy drops sockets; waits for the last lines to reach the log, and for the port to
   * be free (workerd may outlive wrangler by a moment), so that `start()` may follow at once.
   */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    if (!this.exit) {
      signalGroup(child.pid, "SIGTERM");
      const stopped = await Promise.race([this.exited.then(() => true), sleep(this.timeoutMs.stop).then(() => false)]);
      if (!stopped) signalGroup(child.pid, "SIGKILL");
    }
    await Promise.race([this.outputClosed, sleep(1_000)]);
    const log = this.log;
    if (log) await new Promise<void>((resolve) => log.end(resolve));
    await this.waitUntilPortFree();
  }

  /** The last lines of wrangler's output (at most RECENT_LINES), for an error message. */
  logTail(lines = RECENT_LINES): string {
    return `--- last lines of ${this.command}'s output (all of it in ${this.logPath}) ---\n${this.recentLines.slice(-lines).join("\n")}`;
  }

  private async waitUntilPortFree(): Promise<void> {
    const deadline = performance.now() + this.timeoutMs.stop;
    while (performance.now() < deadline) {
      if (!(await isListening(this.port))) return;
      await sleep(100);
    }
    throw new DevServerError(`Port ${this.port} still in use ${this.timeoutMs.stop / 1000} s after stopping ${this.command}`);
  }
}

function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** A failed fetch's cause in a few words (ECONNREFUSED, TimeoutError...). */
export function describeFetchError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error.cause as { code?: unknown } | undefined)?.code;
  return typeof code === "string" ? code : error.message;
}

/** Signals wrangler and everything it started (workerd, esbuild): they share its process group. */
function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}
