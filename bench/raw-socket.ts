// A WebSocket client written down to the bytes, for the reconnect storm (fanout.ts --storm): one
// Node process holds all N sockets, on the machine the one-threaded server runs on, and with the
// `ws` package those sockets cost the bench about as much CPU as the server spends (its upgrade:
// random keys, SHA-1 of the answer, an http.ClientRequest per socket; then its frame parser and
// events), so the bench measured its own client as much as the server. In reality N clients are N
// machines. This one writes a fixed upgrade request on a plain TCP socket, checks the status line
// and the Sec-WebSocket-Accept of its one fixed key (computed once), and reads the server's
// frames itself (unmasked, as a server sends them; a text frame becomes a string, a ping is
// answered, a close ends it). What it sends is masked with a zero key: valid framing, though not
// the unpredictable key RFC 6455 asks of a browser (a server cannot tell). Only for the storm's
// small JSON frames: no extensions, no fragmented messages (the room sends none), no UTF-8 check.
import { createHash } from "node:crypto";
import net from "node:net";
import { CONNECTING, OPEN, type OpenSocket } from "./room-client.ts";

const CLOSING = 2;
const CLOSED = 3;
/** One key for every socket: the server's answer to it is then known in advance. */
const KEY = "dGhlIHNhbXBsZSBub25jZQ==";
const ACCEPT = createHash("sha1").update(`${KEY}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
const OPCODE = { text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

type Listener = (event: never) => void;

/** url (ws://host:port/path) -> a socket with the BenchSocket API, on a raw TCP connection. */
export function rawSocketFactory(): OpenSocket {
  return (url) => new RawSocket(new URL(url));
}

export function describeRawClient(): string {
  return "raw TCP upgrades and a minimal frame reader (bench/raw-socket.ts), compression off";
}

class RawSocket {
  readyState = CONNECTING;
  readonly extensions = "";
  private readonly socket: net.Socket;
  private readonly listeners = new Map<string, { listener: Listener; once: boolean }[]>();
  /** Bytes received and not read yet: the HTTP answer until the upgrade, then frames. */
  private pending: Buffer = Buffer.alloc(0);
  private closeEvent: { code: number; reason: string } | undefined;

  constructor(url: URL) {
    this.socket = net.connect({ host: url.hostname, port: Number(url.port || 80), noDelay: true });
    this.socket.on("connect", () =>
      this.socket.write(
        `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      ),
    );
    this.socket.on("data", (chunk: Buffer) => this.received(chunk));
    this.socket.on("error", (error) => this.emit("error", { message: error.message }));
    this.socket.on("close", () => this.closed(1006, ""));
  }

  get bufferedAmount(): number {
    return this.socket.writableLength;
  }

  send(data: string): void {
    if (this.readyState === OPEN) this.socket.write(frame(OPCODE.text, Buffer.from(data)));
  }

  close(code = 1000, reason = ""): void {
    if (this.readyState !== OPEN) return this.terminate();
    this.readyState = CLOSING;
    const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
    payload.writeUInt16BE(code, 0);
    payload.write(reason, 2);
    this.socket.end(frame(OPCODE.close, payload));
  }

  terminate(): void {
    this.socket.destroy();
  }

  addEventListener(type: string, listener: Listener, options?: { once?: boolean }): void {
    const list = this.listeners.get(type) ?? [];
    list.push({ listener, once: options?.once === true });
    this.listeners.set(type, list);
  }

  private emit(type: string, event: unknown): void {
    const list = this.listeners.get(type);
    if (!list) return;
    this.listeners.set(
      type,
      list.filter((entry) => !entry.once),
    );
    for (const { listener } of list) (listener as (event: unknown) => void)(event);
  }

  private received(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    if (this.readyState === CONNECTING && !this.upgraded()) return;
    while (this.readyState !== CLOSED && this.readFrame());
  }

  /** Reads the HTTP answer once it is whole: true if it is the 101 to this socket's key. */
  private upgraded(): boolean {
    const end = this.pending.indexOf("\r\n\r\n");
    if (end < 0) return false;
    const head = this.pending.toString("latin1", 0, end);
    this.pending = this.pending.subarray(end + 4);
    const status = head.slice(0, head.indexOf("\r\n"));
    if (!/^HTTP\/1\.1 101 /.test(status) || !head.includes(`\r\nSec-WebSocket-Accept: ${ACCEPT}`)) {
      this.emit("error", { message: `the upgrade was answered ${JSON.stringify(status)}` });
      this.terminate();
      return false;
    }
    this.readyState = OPEN;
    this.emit("open", {});
    return true;
  }

  /** Reads one whole frame off `pending`, if there is one; false when more bytes are needed. */
  private readFrame(): boolean {
    const bytes = this.pending;
    if (bytes.length < 2) return false;
    const opcode = (bytes[0] ?? 0) & 0x0f;
    const short = (bytes[1] ?? 0) & 0x7f;
    const headLength = short === 126 ? 4 : short === 127 ? 10 : 2;
    if (bytes.length < headLength) return false;
    const length = short === 126 ? bytes.readUInt16BE(2) : short === 127 ? Number(bytes.readBigUInt64BE(2)) : short;
    if (bytes.length < headLength + length) return false;
    const payload = bytes.subarray(headLength, headLength + length);
    this.pending = bytes.subarray(headLength + length);
    if (opcode === OPCODE.text) this.emit("message", { data: payload.toString("utf8") });
    else if (opcode === OPCODE.binary) this.emit("message", { data: Buffer.from(payload) });
    else if (opcode === OPCODE.ping) this.socket.write(frame(OPCODE.pong, payload));
    else if (opcode === OPCODE.close) {
      const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
      this.closeEvent = { code, reason: payload.toString("utf8", 2) };
      if (this.readyState === OPEN) this.socket.end(frame(OPCODE.close, payload.subarray(0, 2)));
      this.readyState = CLOSING;
    }
    return true;
  }

  private closed(code: number, reason: string): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSED;
    this.emit("close", this.closeEvent ?? { code, reason });
  }
}

/** A client's frame: final, masked with a zero key (so the payload goes as it is). */
function frame(opcode: number, payload: Buffer): Buffer {
  const length = payload.length;
  const headLength = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const head = Buffer.alloc(headLength + 4);
  head[0] = 0x80 | opcode;
  if (length < 126) head[1] = 0x80 | length;
  else if (length < 65_536) {
    head[1] = 0x80 | 126;
    head.writeUInt16BE(length, 2);
  } else {
    head[1] = 0x80 | 127;
    head.writeBigUInt64BE(BigInt(length), 2);
  }
  return Buffer.concat([head, payload]);
}
