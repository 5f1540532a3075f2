// The benchmarks' sockets to a room (fanout.ts, stall.ts, flood.ts): which WebSocket class, how a
// socket's failures end a run, how a room's JSON frames are read, and a room of registered users.
// A run is the bench's own object with at least { server, ...runState() }; a client at least
// { ws, nbUsers, closed } (and { name, newcomers } for joinAndRegister).
import type { DevServer } from "../tools/dev-server.ts";
import { type AbortReason, BenchError, now, waitUntil, withTimeout } from "./util.ts";

export const CONNECTING = 0;
export const OPEN = 1;

/** What the benches use of a WebSocket: Node's own and the ws package's have it all (ws adds terminate). */
export interface BenchSocket {
  readonly readyState: number;
  readonly bufferedAmount: number;
  readonly extensions: string;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  terminate?(): void;
  /** `receivedAt`: when the frame was received, if not just now (a socket of another process: listener-pool.ts). */
  addEventListener(type: "message", listener: (event: { data: unknown; receivedAt?: number }) => void): void;
  addEventListener(type: "open", listener: () => void, options?: { once?: boolean }): void;
  addEventListener(type: "close", listener: (event: { code: number; reason: string }) => void, options?: { once?: boolean }): void;
  addEventListener(type: "error", listener: (event: { message?: string }) => void): void;
}

export type OpenSocket = (url: string) => BenchSocket;

/**
 * The WebSocket class: the `ws` package with compression off, like the QGIS and QField clients
 * (QWebSocket), or with `deflate` Node's own, which always offers permessage-deflate, like browsers
 * (workerd accepts it and then compresses every frame for every socket). Answers url -> socket.
 */
export async function socketFactory(deflate: boolean): Promise<OpenSocket> {
  if (deflate) {
    if (typeof WebSocket === "undefined")
      throw new BenchError(`No global WebSocket in Node ${process.version}: run with Node 22 (npm run ...).`);
    return (url) => new WebSocket(url) as unknown as BenchSocket;
  }
  const { WebSocket: WsWebSocket } = await import("ws");
  return (url) => new WsWebSocket(url, { perMessageDeflate: false }) as unknown as BenchSocket;
}

export function describeClient(deflate: boolean): string {
  return deflate
    ? "Node's own WebSocket, permessage-deflate (like browsers)"
    : "the ws package, compression off (like QWebSocket in QGIS and QField)";
}

/** What every run holds besides its own figures (see the top of this file), to spread into it. */
export interface RunState {
  /** Texts that are not this run's (replayed from the room's history), only counted. */
  replayed: number;
  unexpected: string[];
  /** Set by a socket handler when the run cannot go on. */
  fatal: string | undefined;
  /** True once the bench closes its sockets: closes are expected from then on. */
  closing: boolean;
}

export interface BaseRun extends RunState {
  server: DevServer;
}

export interface BaseClient {
  ws: BenchSocket;
  nbUsers: number;
  closed: boolean;
}

export function runState(): RunState {
  return { replayed: 0, unexpected: [], fatal: undefined, closing: false };
}

/** Why a run cannot go on, if it cannot; a server problem comes first, as it explains the sockets'. */
export function abortReasonOf(run: BaseRun): AbortReason {
  return () => run.server.problem() ?? run.fatal;
}

/**
 * Wires `client.ws` into `run`: its frames go to `onFrame(data)`; a close or an error before the
 * bench closes the sockets (`run.closing`) is fatal for the run, the first cause kept. `receivedAt` is
 * given when the frame was received elsewhere (listener-pool.ts). Answers a
 * promise of the opening.
 */
export function watchSocket(
  run: RunState,
  client: BaseClient,
  label: string,
  onFrame: (data: unknown, receivedAt?: number) => void,
): Promise<void> {
  client.ws.addEventListener("message", (event) => onFrame(event.data, event.receivedAt));
  client.ws.addEventListener("close", (event) => {
    client.closed = true;
    if (!run.closing) run.fatal ??= `${label} closed unexpectedly (code ${event.code} ${JSON.stringify(event.reason)})`;
  });
  client.ws.addEventListener("error", (event) => {
    // ws's error events carry the cause (ECONNRESET, a handshake timeout…); the platform's do not.
    const cause = (event as { message?: unknown }).message;
    if (!run.closing) run.fatal ??= `${label} failed (${typeof cause === "string" && cause !== "" ? cause : "WebSocket error event"})`;
  });
  return new Promise((resolve, reject) => {
    client.ws.addEventListener("open", resolve, { once: true });
    client.ws.addEventListener("close", () => reject(new BenchError(`${label} closed before opening`)), { once: true });
  });
}

/** A frame of the room, as far as the benches read it (the server's own output: not validated). */
export interface RoomFrame {
  type?: string;
  nb_users?: number;
  newcomer?: string;
  exiter?: string;
  reason?: string;
  author?: string;
  text?: string;
}

export interface FrameHandlers<R, C> {
  newcomer(run: R, client: C, name: string): void;
  text(run: R, client: C, message: RoomFrame, receivedAt: number): void;
  exiter?(run: R, client: C, name: string): void;
}

/**
 * Reads one JSON frame of the room: nb_users goes to `client.nbUsers`, newcomers and texts to
 * `on.newcomer(run, client, name)` and `on.text(run, client, message, receivedAt)`, exiters to
 * `on.exiter(run, client, name)` if the bench expects them; "uncompliant" (the server refused one of
 * the bench's own messages) is fatal; anything else is noted as unexpected.
 */
export function onRoomFrame<R extends RunState, C extends BaseClient>(
  run: R,
  client: C,
  label: string,
  data: unknown,
  receivedAt: number,
  on: FrameHandlers<R, C>,
): void {
  let message: RoomFrame;
  try {
    message = JSON.parse(String(data)) as RoomFrame;
  } catch {
    run.unexpected.push(`non-JSON frame: ${String(data).slice(0, 80)}`);
    return;
  }
  switch (message.type) {
    case "nb_users":
      client.nbUsers = message.nb_users ?? NaN;
      return;
    case "newcomer":
      return on.newcomer(run, client, String(message.newcomer));
    case "text":
      return on.text(run, client, message, receivedAt);
    case "exiter":
      if (on.exiter) return on.exiter(run, client, String(message.exiter));
      break;
    case "uncompliant":
      run.fatal ??= `${label} was told its message is uncompliant: ${message.reason}`;
      return;
  }
  run.unexpected.push(`${label} received ${String(data).slice(0, 120)}`);
}

// ---------------------------------------------------------------------------
// Timed texts: "<seq>:<send time>", so that every receiver can tell the latency (one clock: util.ts now(), the same in the stall bench's listener processes)

export interface TimedText {
  seq: number;
  /** Send time (see now()). */
  time: number;
  text: string;
  author: string;
  /** Sockets it got to. */
  reached: number;
}

/** A run that sends timed texts, each recorded with the bench's own fields `E`. */
export interface TimedRun<E extends object> extends RunState {
  sent: Map<number, TimedText & E>;
}

let nextSeq = 1;

/** Sends a text "<seq>:<send time>" from `ws` as `author`, records it in `run.sent` under its seq with `extra`, and answers the seq. */
export function sendTimedText<E extends object>(run: TimedRun<E>, ws: BenchSocket, author: string, extra: E): number {
  const seq = nextSeq++;
  const time = now().toFixed(3);
  const text = `${seq}:${time}`;
  run.sent.set(seq, { seq, time: Number(time), text, author, reached: 0, ...extra });
  ws.send(JSON.stringify({ type: "text", author, avatar: null, text }));
  return seq;
}

/**
 * The record of a text this run sent (see sendTimedText); undefined for any other text, such as
 * those of earlier rounds the room replays from its history to a new socket: those are only
 * counted, in `run.replayed`.
 */
export function sentTextOf<E extends object>(run: TimedRun<E>, message: RoomFrame): (TimedText & E) | undefined {
  const sent = run.sent.get(Number(String(message.text).split(":", 1)[0]));
  if (sent !== undefined && message.author === sent.author && message.text === sent.text) return sent;
  run.replayed++;
  return undefined;
}

// ---------------------------------------------------------------------------
// A room of registered users

export interface RegisteredClient extends BaseClient {
  name: string;
  /** Filled by the bench's frame handler. */
  newcomers: Set<string>;
}

/**
 * Waits for the sockets being opened (`opening`, their promises) and for every client of `run.clients`
 * to see nb_users = their number, then registers each as `client.name` and waits until every client
 * has seen every newcomer.
 */
export async function joinAndRegister(
  run: BaseRun & { clients: RegisteredClient[] },
  opening: Promise<void>[],
  { room, timeoutMs }: { room: string; timeoutMs: number },
): Promise<void> {
  const abortReason = abortReasonOf(run);
  const total = run.clients.length;
  await withTimeout(Promise.all(opening), timeoutMs, `Opening ${total} WebSockets to room ${room}`);
  await waitUntil(() => run.clients.every((client) => client.nbUsers === total), {
    timeoutMs,
    what: () => `Waiting for every socket to see nb_users = ${total} (lowest seen: ${Math.min(...run.clients.map((c) => c.nbUsers))})`,
    abortReason,
  });
  for (const client of run.clients) client.ws.send(JSON.stringify({ type: "newcomer", newcomer: client.name }));
  await waitUntil(() => run.clients.every((client) => client.newcomers.size >= total), {
    timeoutMs,
    what: `Waiting for every socket to receive the ${total} newcomers`,
    abortReason,
  });
}

/** Closes every socket of `run.clients` and waits for their close events. */
export async function closeAll(run: RunState & { clients: BaseClient[] }, timeoutMs: number): Promise<void> {
  run.closing = true;
  for (const { ws } of run.clients) {
    if (ws.readyState === OPEN || ws.readyState === CONNECTING) ws.close(1000, "bench done");
  }
  await waitUntil(() => run.clients.every((client) => client.closed), {
    timeoutMs,
    what: () => `Closing ${run.clients.length} sockets (${run.clients.filter((client) => !client.closed).length} still open)`,
    pollMs: 50,
  });
}
