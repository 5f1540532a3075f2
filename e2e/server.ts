// `wrangler dev` for the browser tests, on the shared launcher (tools/dev-server.ts): started on
// a free port with its own state directory, stopped (its whole process group) and started again
// on the same port with the same state, as a deploy would drop and bring back the server.
import { answers, type Readiness, DevServer as WranglerDev } from "../tools/dev-server.ts";

export { freePort } from "../tools/dev-server.ts";

// Slower than the benches' defaults: the tests may start while the machine is busy building.
const TIMEOUT_MS = { start: 90_000, stop: 10_000 };

/** The moderator's token of the e2e server (a var here; a secret on a real instance): spaces, deleting a message. */
export const ADMIN_TOKEN = "e2e-moderator-token-0123456789abcdef";

export class DevServer {
  private readonly server: WranglerDev;

  private constructor(server: WranglerDev) {
    this.server = server;
  }

  get port(): number {
    return this.server.port;
  }

  get baseUrl(): string {
    return this.server.baseUrl;
  }

  /**
   * Starts `wrangler dev` (or, with `selfhost`, the self-hosted build under workerd alone: build it
   * first) with these rooms (and other vars) on a free port, and waits until it answers `ready`.
   */
  static async start(
    rooms: readonly string[],
    vars: Readonly<Record<string, string>> = {},
    { selfhost = false, ready = answers("/version") }: { selfhost?: boolean; ready?: Readiness } = {},
  ): Promise<DevServer> {
    const server = await WranglerDev.create({
      name: selfhost ? "e2e-selfhost" : "e2e",
      vars: { CHANNELS: rooms.join(","), ADMIN_TOKEN, ...vars },
      ready,
      selfhost,
      timeoutMs: TIMEOUT_MS,
    });
    const devServer = new DevServer(server);
    await devServer.restart();
    return devServer;
  }

  /** (Re)starts on the same port with the same state. */
  async restart(): Promise<void> {
    await this.server.start();
    await this.server.waitUntilReady();
  }

  /** Stops wrangler and workerd (the whole process group), as abruptly as a deploy drops sockets. */
  stop(): Promise<void> {
    return this.server.stop();
  }

  /** The state directory (the self-hosted server's DATA_DIR). */
  get stateDir(): string {
    return `${this.server.workDir}/state`;
  }

  /** The server's output, for a failing test's message. */
  logTail(lines?: number): string {
    return this.server.logTail(lines);
  }
}
