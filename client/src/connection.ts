// One WebSocket to one room that comes back by itself. Every deploy of the server
// drops every socket, and phones lose their network: the connection retries with
// exponential backoff and jitter (so a whole room does not reconnect in the same
// millisecond), and a keepalive notices a connection that died silently.

import { roomPath, spacePrefix } from "./history";

export type ConnectionState =
  | { kind: "connecting"; attempt: number }
  | { kind: "open" }
  | { kind: "waiting"; attempt: number; retryAt: number; lastClose: string }
  | { kind: "refused"; reason: string }
  | { kind: "stopped" };

export interface ConnectionHandlers {
  onState(state: ConnectionState): void;
  /** Called for every frame, the keepalive's "pong" included. */
  onFrame(frame: string): void;
  onOpen(): void;
}

const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 15_000;
/** The platform answers "ping" with "pong" without waking the room. */
const KEEPALIVE_EVERY_MS = 25_000;
/** No frame at all for this long (a pong is due every 25 s) means the connection is dead. */
const SILENCE_LIMIT_MS = 40_000;
/** The server closes with 1008 for a room it does not know: retrying cannot help. */
const POLICY_VIOLATION = 1008;

export class RoomConnection {
  private socket: WebSocket | undefined;
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private keepaliveTimer: ReturnType<typeof setInterval> | undefined;
  private lastFrameAt = 0;
  private stopped = false;

  constructor(
    private readonly url: string,
    private readonly handlers: ConnectionHandlers,
  ) {}

  start(): void {
    this.stopped = false;
    this.connect();
    window.addEventListener("online", this.retryNow);
  }

  /** Closes for good (leaving the room): no reconnection. */
  stop(): void {
    this.stopped = true;
    window.removeEventListener("online", this.retryNow);
    clearTimeout(this.retryTimer);
    this.stopKeepalive();
    this.socket?.close(1000, "left the room");
    this.socket = undefined;
    this.handlers.onState({ kind: "stopped" });
  }

  get isOpen(): boolean {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  /** Sends one JSON message; false when the connection is not open. */
  send(message: object): boolean {
    if (!this.socket || !this.isOpen) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  private connect(): void {
    this.handlers.onState({ kind: "connecting", attempt: this.attempt });
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.attempt = 0;
      this.lastFrameAt = Date.now();
      this.startKeepalive();
      this.handlers.onState({ kind: "open" });
      this.handlers.onOpen();
    });
    socket.addEventListener("message", (event: MessageEvent<unknown>) => {
      this.lastFrameAt = Date.now();
      if (typeof event.data === "string") this.handlers.onFrame(event.data);
    });
    socket.addEventListener("close", (event) => {
      if (socket !== this.socket) return; // An older socket, already replaced.
      this.stopKeepalive();
      this.socket = undefined;
      if (this.stopped) return;
      if (event.code === POLICY_VIOLATION) {
        this.handlers.onState({ kind: "refused", reason: event.reason || "The server refused this room." });
        return;
      }
      this.scheduleRetry(event.wasClean ? `closed (${event.code})` : "connection lost");
    });
    // An error is always followed by a close: the close handler decides what comes next.
  }

  private scheduleRetry(lastClose: string): void {
    const delay = backoffDelay(this.attempt);
    this.attempt++;
    this.handlers.onState({ kind: "waiting", attempt: this.attempt, retryAt: Date.now() + delay, lastClose });
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  /** The browser says the network is back: no need to wait for the timer. */
  private readonly retryNow = (): void => {
    if (this.stopped || this.socket) return;
    clearTimeout(this.retryTimer);
    this.connect();
  };

  private startKeepalive(): void {
    this.stopKeepalive();
    this.keepaliveTimer = setInterval(() => {
      if (Date.now() - this.lastFrameAt > SILENCE_LIMIT_MS) {
        // Half-open: the close event will come late or never. Drop it and start over.
        const dead = this.socket;
        this.socket = undefined;
        this.stopKeepalive();
        dead?.close();
        this.scheduleRetry("no answer from the server");
        return;
      }
      this.socket?.send("ping");
    }, KEEPALIVE_EVERY_MS);
  }

  private stopKeepalive(): void {
    clearInterval(this.keepaliveTimer);
    this.keepaliveTimer = undefined;
  }
}

/** 0.5 s, 1 s, 2 s … up to 15 s, each between half and all of that, at random. */
export function backoffDelay(attempt: number): number {
  const ceiling = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** attempt);
  return Math.round(ceiling * (0.5 + Math.random() * 0.5));
}

/**
 * ws: or wss: like the page itself, to the channels family (it carries ids and
 * timestamps), in the page's realm: a space link's /s/{key} is kept.
 */
export function socketUrl(room: string, location: Pick<Location, "protocol" | "host" | "pathname">): string {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${roomPath(spacePrefix(location.pathname), room, "ws")}`;
}
