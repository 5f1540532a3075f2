// The room's sockets, as a shard of a big room would hold its own: each socket's
// state in its attachment (the truth that survives hibernation) with a cache in
// memory, which of them are live, sending to them, and closing them.
import { type Dialect, envelope } from "../wire/envelope";
import type { Family } from "../wire/families";
import type { WireMessage } from "../wire/messages";
import { Outgoing } from "./outgoing";
import type { Bucket } from "./rate-limit";

/** What the room must remember about a socket across hibernation: its attachment (at most 16 KiB). */
export interface SocketState {
  family: Family;
  nickname: string | null;
  /** Set once the socket's first 1.x frame showed it speaks gischat 1.x (QTribu 1.0): it then receives 1.x frames. */
  gischat1?: true;
  /** Its rate-limit budget, kept here so that hibernating does not refill it. */
  bucket: Bucket;
  /** The client's network (CF-Connecting-IP, or its /64 for IPv6), to remember a flooder by. */
  address: string | null;
  /** The registered user's latest position (positions, nearby). */
  position?: LastPosition;
  /**
   * Its departure is announced: it closed, errored or was closed by the room. Close and
   * error can both fire, and frames a socket sent before the room closed it still arrive.
   */
  departed?: true;
}

/** A position in WGS 84, when it was shared, and the message that shared it. */
export interface LastPosition {
  lon: number;
  lat: number;
  /** Date.now() when it was shared. */
  at: number;
  id: string;
}

const NORMAL_CLOSURE = 1000;
/** Close codes a peer may receive but no endpoint may send. */
const RESERVED_CLOSE_CODES = new Set([1005, 1006, 1015]);
const MAX_CLOSE_REASON_BYTES = 123;

export class Sockets {
  /** The attachments, read once per socket after every wake-up. */
  private readonly cache = new WeakMap<WebSocket, SocketState>();

  constructor(private readonly ctx: DurableObjectState) {}

  /** Only ctx.acceptWebSocket lets the room hibernate with the socket open. */
  accept(ws: WebSocket, state: SocketState): void {
    this.ctx.acceptWebSocket(ws);
    this.remember(ws, state);
  }

  stateOf(ws: WebSocket): SocketState {
    let state = this.cache.get(ws);
    if (!state) {
      state = ws.deserializeAttachment() as SocketState;
      this.cache.set(ws, state);
    }
    return state;
  }

  update(ws: WebSocket, change: Partial<SocketState>): SocketState {
    const state = { ...this.stateOf(ws), ...change };
    this.remember(ws, state);
    return state;
  }

  /** Open sockets whose departure is not announced. */
  live(): WebSocket[] {
    return this.ctx.getWebSockets().filter((ws) => ws.readyState === WebSocket.OPEN && !this.stateOf(ws).departed);
  }

  holding(nickname: string): WebSocket[] {
    return this.live().filter((ws) => this.stateOf(ws).nickname === nickname);
  }

  holderOf(nickname: string): WebSocket | undefined {
    return this.live().find((ws) => this.stateOf(ws).nickname === nickname);
  }

  registeredNicknames(): string[] {
    return this.live().flatMap((ws) => this.stateOf(ws).nickname ?? []);
  }

  /**
   * Marks the socket as gone, once: the state it had, for the room to announce its
   * departure, or undefined when it was already announced.
   */
  leave(ws: WebSocket): SocketState | undefined {
    const state = this.stateOf(ws);
    if (state.departed) return undefined;
    // Forgotten in the attachment too, in case the room hibernates before the socket is gone.
    this.remember(ws, { ...state, nickname: null, departed: true });
    return state;
  }

  /** Closes a socket on the room's initiative. */
  close(ws: WebSocket, code: number, reason: string): void {
    try {
      ws.close(code, reason);
    } catch {
      // Already closing.
    }
  }

  /** In local workerd a hibernated socket's close is only completed when the room answers it. */
  answerClose(ws: WebSocket, code: number, reason: string): void {
    this.close(ws, RESERVED_CLOSE_CODES.has(code) ? NORMAL_CLOSURE : code, truncateUtf8(reason, MAX_CLOSE_REASON_BYTES));
  }

  broadcast(message: WireMessage): void {
    this.send(this.live(), new Outgoing(envelope(message)));
  }

  /** One dead socket must never break a broadcast: each send stands alone. */
  send(sockets: Iterable<WebSocket>, outgoing: Outgoing): void {
    for (const ws of sockets) {
      const frame = outgoing.for(dialectOf(this.stateOf(ws)));
      if (frame === undefined) continue;
      try {
        ws.send(frame);
      } catch {
        // Gone away; its close handler announces the departure.
      }
    }
  }

  /** The cache always; the attachment unless the socket is already closed (it goes with it then). */
  private remember(ws: WebSocket, state: SocketState): void {
    this.cache.set(ws, state);
    try {
      ws.serializeAttachment(state);
    } catch (error) {
      if (!state.departed) throw error;
    }
  }
}

function dialectOf(state: SocketState): Dialect {
  return state.gischat1 ? "gischat1" : state.family;
}

function truncateUtf8(text: string, maxBytes: number): string {
  const encoder = new TextEncoder();
  if (encoder.encode(text).length <= maxBytes) return text;
  let result = "";
  for (const char of text) {
    if (encoder.encode(result + char).length > maxBytes) break;
    result += char;
  }
  return result;
}
