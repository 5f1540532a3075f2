// `wrangler dev` for the browser tests: started on a free port with its own state
// directory, stopped (its whole process group) and started again on the same
// port with the same state, as a deploy would drop and bring back the server.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

const PROJECT_DIR = path.resolve(import.meta.dirname, "..");
const WRANGLER = path.join(PROJECT_DIR, "node_modules", "wrangler", "bin", "wrangler.js");
const START_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 10_000;

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

export class DevServer {
  readonly port: number;
  private readonly stateDir: string;
  private readonly rooms: readonly string[];
  private readonly logPath: string;
  private child: ChildProcess | undefined;
  private log: fs.WriteStream | undefined;

  private constructor(port: number, stateDir: string, rooms: readonly string[]) {
    this.port = port;
    this.stateDir = stateDir;
    this.rooms = rooms;
    this.logPath = path.join(stateDir, "wrangler.log");
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts `wrangler dev` with these rooms on a free port, and waits until it answers. */
  static async start(rooms: readonly string[]): Promise<DevServer> {
    const server = new DevServer(await freePort(), fs.mkdtempSync(path.join(os.tmpdir(), "gischat-e2e-")), rooms);
    await server.restart();
    return server;
  }

  /** (Re)starts on the same port with the same state. */
  async restart(): Promise<void> {
    if (this.child) throw new Error("The server is already running");
    const inspectorPort = await freePort();
    this.log = fs.createWriteStream(this.logPath, { flags: "a" });
    // This very Node (wrangler needs 22), detached so that its whole group can be stopped.
    const child = spawn(
      process.execPath,
      [
        WRANGLER,
        "dev",
        "--ip", "127.0.0.1",
        "--port", String(this.port),
        "--inspector-port", String(inspectorPort),
        "--persist-to", path.join(this.stateDir, "state"),
        "--var", `CHANNELS:${this.rooms.join(",")}`,
        "--show-interactive-dev-session=false",
      ],
      { cwd: PROJECT_DIR, detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, WRANGLER_SEND_METRICS: "false" } },
    );
    child.stdout?.pipe(this.log, { end: false });
    child.stderr?.pipe(this.log, { end: false });
    this.child = child;
    await this.waitUntilAnswering();
  }

  /** Stops wrangler and workerd (the whole process group), as abruptly as a deploy drops sockets. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child?.pid) return;
    this.child = undefined;
    const exited = child.exitCode === null ? once(child, "exit") : Promise.resolve();
    signalGroup(child.pid, "SIGTERM");
    const stopped = await Promise.race([exited.then(() => true), sleep(STOP_TIMEOUT_MS).then(() => false)]);
    if (!stopped) signalGroup(child.pid, "SIGKILL");
    // workerd may outlive wrangler by a moment: the port must be free before a restart.
    await this.waitUntilPortFree();
    this.log?.end();
  }

  /** The server's output, for a failing test's message. */
  logTail(lines = 40): string {
    try {
      return fs.readFileSync(this.logPath, "utf8").split("\n").slice(-lines).join("\n");
    } catch {
      return "(no log)";
    }
  }

  private async waitUntilAnswering(): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (this.child?.exitCode !== null) throw new Error(`wrangler dev exited early:\n${this.logTail()}`);
      try {
        const response = await fetch(`${this.baseUrl}/version`, { signal: AbortSignal.timeout(2_000) });
        if (response.ok) return;
      } catch {
        // Not listening yet.
      }
      await sleep(250);
    }
    throw new Error(`wrangler dev did not answer within ${START_TIMEOUT_MS / 1000} s:\n${this.logTail()}`);
  }

  private async waitUntilPortFree(): Promise<void> {
    const deadline = Date.now() + STOP_TIMEOUT_MS;
    while (Date.now() < deadline) {
      const listening = await new Promise<boolean>((resolve) => {
        const socket = net.connect(this.port, "127.0.0.1");
        socket.once("connect", () => {
          socket.destroy();
          resolve(true);
        });
        socket.once("error", () => resolve(false));
      });
      if (!listening) return;
      await sleep(100);
    }
    throw new Error(`Port ${this.port} still in use ${STOP_TIMEOUT_MS / 1000} s after stopping wrangler dev`);
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}
