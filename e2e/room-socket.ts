// A QGIS or QField user's socket for the Node-side tests (the self-hosted server, nginx in front
// of it): frames kept in order, request headers and a local address when a test needs them, and
// the status a handshake alone is answered with.
import http from "node:http";
import { expect } from "vitest";
import { WebSocket as HeaderedSocket } from "ws";

export type Family = "room" | "channel";
export type Frame = Record<string, unknown> & { type: string };

/** How a socket is opened: request headers, and the local address it comes from (127.0.0.2…). */
export interface Origin {
  headers?: Record<string, string>;
  localAddress?: string;
}

/** What both Node's WebSocket and the `ws` package's offer, as used here. */
interface Socket {
  addEventListener(type: "message", listener: (event: { data: unknown }) => void): void;
  addEventListener(type: "close", listener: (event: { code: number; reason: string }) => void): void;
  addEventListener(type: "open" | "error", listener: () => void): void;
  send(data: string): void;
  close(): void;
}

/** A socket of a QGIS or QField user, its frames kept in order. */
export class User {
  readonly frames: Frame[] = [];
  private waiters: (() => void)[] = [];
  closed: { code: number; reason: string } | undefined;
  readonly socket: Socket;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.addEventListener("message", (event: { data: unknown }) => {
      this.frames.push(JSON.parse(String(event.data)) as Frame);
      this.wake();
    });
    socket.addEventListener("close", (event: { code: number; reason: string }) => {
      this.closed = { code: event.code, reason: event.reason };
      this.wake();
    });
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  /** Opens a socket (from this origin, through the `ws` package, when given). */
  static async open(base: string, family: Family, room: string, origin?: Origin): Promise<User> {
    const url = `${base.replace("http", "ws")}/${family}/${encodeURIComponent(room)}/ws`;
    const socket: Socket = origin ? new HeaderedSocket(url, origin) : new WebSocket(url);
    const user = new User(socket);
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener("open", () => resolve());
      socket.addEventListener("error", () => reject(new Error(`socket to ${url} failed`)));
    });
    return user;
  }

  send(frame: Record<string, unknown>): void {
    this.socket.send(JSON.stringify(frame));
  }

  /** The first frame (from the start) that matches; waits for it. */
  async waitFor(match: (frame: Frame) => boolean, what: string, timeoutMs = 10_000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.find(match);
      if (found) return found;
      if (this.closed || Date.now() > deadline) {
        throw new Error(
          `${what}: not received (${this.closed ? `closed ${this.closed.code}` : "timeout"}); got ${JSON.stringify(this.frames)}`,
        );
      }
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  }

  async waitForClose(timeoutMs = 10_000): Promise<{ code: number; reason: string }> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    if (!this.closed) throw new Error("the socket was not closed");
    return this.closed;
  }

  async register(nickname: string): Promise<void> {
    this.send({ type: "newcomer", newcomer: nickname });
    await this.waitFor((frame) => frame.type === "newcomer" && frame.newcomer === nickname, `${nickname}'s registration`);
  }

  close(): void {
    this.socket.close();
  }
}

/** Width and height of a base64 PNG (its IHDR). */
export function pngSize(base64: string): { width: number; height: number } {
  const bytes = Buffer.from(base64, "base64");
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

/** The status a WebSocket handshake is answered with (101, or a refusal such as 429). */
export function handshakeStatus(base: string, room: string, { headers = {}, localAddress }: Origin = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.get(`${base}/room/${encodeURIComponent(room)}/ws`, {
      localAddress,
      headers: {
        Connection: "Upgrade",
        Upgrade: "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": Buffer.from("0123456789abcdef").toString("base64"),
        ...headers,
      },
    });
    request.on("upgrade", (response, socket) => {
      socket.destroy();
      resolve(response.statusCode ?? 0);
    });
    request.on("response", (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on("error", reject);
  });
}

/** Floods the room from a socket of this origin until the room closes it as a flooder. */
export async function flood(base: string, room: string, origin: Origin): Promise<void> {
  const flooder = await User.open(base, "room", room, origin);
  await flooder.register("flooder");
  for (let n = 0; n < 40 && !flooder.closed; n++) flooder.send({ type: "text", author: "flooder", avatar: null, text: `spam ${n}` });
  expect((await flooder.waitForClose()).code).not.toBe(1000);
}
