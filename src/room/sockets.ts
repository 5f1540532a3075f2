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

/**
 * The live sockets, indexed in memory: all of them in the order they were accepted, by the
 * dialect they read (a broadcast serializes once per dialect and sends that one string to the
 * whole group) and by nickname (the author rule is a lookup, not a scan). Only a cache: built
 * from the attachments on first use after every wake-up, and kept up to date by every change.
 */
interface LiveIndex {
  all: Set<WebSocket>;
  byDialect: Map<Dialect, Set<WebSocket>>;
  byNickname: Map<string, Set<WebSocket>>;
}

export class Sockets {
  /** The attachments, read once per socket after every wake-up. */
  private readonly cache = new WeakMap<WebSocket, SocketState>();
  private index: LiveIndex | undefined;

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

  /** Open sockets whose departure is not announced, in the order they were accepted. */
  live(): WebSocket[] {
    return [...this.indexed().all].filter((ws) => ws.readyState === WebSocket.OPEN);
  }

  /** How many sockets the room counts: those whose departure is not announced. */
  count(): number {
    return this.indexed().all.size;
  }

  holding(nickname: string): WebSocket[] {
    return [...(this.indexed().byNickname.get(nickname) ?? [])].filter((ws) => ws.readyState === WebSocket.OPEN);
  }

  holderOf(nickname: string): WebSocket | undefined {
    for (const ws of this.indexed().byNickname.get(nickname) ?? []) if (ws.readyState === WebSocket.OPEN) return ws;
    return undefined;
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
    this.sendToAll(new Outgoing(envelope(message)));
  }

  /**
   * To every socket whose departure is not announced: one frame per dialect, the same string
   * to each socket of its group. A socket closing meanwhile refuses it (caught: its close
   * handler announces the departure), as it would have refused the next message.
   */
  sendToAll(outgoing: Outgoing): void {
    for (const [dialect, group] of this.indexed().byDialect) {
      const frame = outgoing.for(dialect);
      if (frame === undefined) continue;
      for (const ws of group) sendOne(ws, frame);
    }
  }

  /** One dead socket must never break a broadcast: each send stands alone. */
  send(sockets: Iterable<WebSocket>, outgoing: Outgoing): void {
    for (const ws of sockets) {
      const frame = outgoing.for(dialectOf(this.stateOf(ws)));
      if (frame !== undefined) sendOne(ws, frame);
    }
  }

  /** The cache always; the attachment unless the socket is already closed (it goes with it then). */
  private remember(ws: WebSocket, state: SocketState): void {
    const previous = this.cache.get(ws);
    this.cache.set(ws, state);
    if (this.index !== undefined) reindex(this.index, ws, previous, state);
    try {
      ws.serializeAttachment(state);
    } catch (error) {
      if (!state.departed) throw error;
    }
  }

  /** The index, built from the platform's list of the room's sockets and their attachments on first use. */
  private indexed(): LiveIndex {
    if (this.index === undefined) {
      const index: LiveIndex = { all: new Set(), byDialect: new Map(), byNickname: new Map() };
      for (const ws of this.ctx.getWebSockets()) {
        if (ws.readyState === WebSocket.OPEN) reindex(index, ws, undefined, this.stateOf(ws));
      }
      this.index = index;
    }
    return this.index;
  }
}

function sendOne(ws: WebSocket, frame: string): void {
  try {
    ws.send(frame);
  } catch {
    // Gone away; its close handler announces the departure.
  }
}

/** Moves a socket within the index from its previous state (undefined: not in it) to its new one. */
function reindex(index: LiveIndex, ws: WebSocket, previous: SocketState | undefined, state: SocketState): void {
  if (previous !== undefined && !previous.departed) {
    // The budget changes with every frame; the groups only with a nickname, a dialect or a departure.
    if (!state.departed && previous.nickname === state.nickname && dialectOf(previous) === dialectOf(state)) return;
    index.byDialect.get(dialectOf(previous))?.delete(ws);
    if (previous.nickname !== null) removeFrom(index.byNickname, previous.nickname, ws);
  }
  if (state.departed) {
    index.all.delete(ws);
    return;
  }
  index.all.add(ws);
  addTo(index.byDialect, dialectOf(state), ws);
  if (state.nickname !== null) addTo(index.byNickname, state.nickname, ws);
}

function addTo<K>(groups: Map<K, Set<WebSocket>>, key: K, ws: WebSocket): void {
  const group = groups.get(key);
  if (group) group.add(ws);
  else groups.set(key, new Set([ws]));
}

function removeFrom<K>(groups: Map<K, Set<WebSocket>>, key: K, ws: WebSocket): void {
  const group = groups.get(key);
  if (group?.delete(ws) && group.size === 0) groups.delete(key);
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
