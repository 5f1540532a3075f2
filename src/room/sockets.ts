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

/**
 * Characters sent in one turn of a broadcast at most (with at least one socket): beyond that, a
 * broadcast goes out a few sockets per turn (see sendToAll). Each send copies the frame (1.3 MB for
 * a resized photo, ~0.5-2 ms per socket), so 22 sockets of it were one block of 10-40 ms.
 */
export const TURN_CHARS = 4 * 1024 * 1024;

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
  /**
   * The sockets a paced broadcast has yet to reach, each with the frames it is owed, in the room's
   * order (the long frame first): whatever the room sends them meanwhile waits there, behind it.
   */
  private readonly owed = new Map<WebSocket, string[]>();
  /** The paced broadcasts, one after the other. */
  private pacing: Promise<void> = Promise.resolve();

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

  /** Closes a socket on the room's initiative, after what it is owed. */
  close(ws: WebSocket, code: number, reason: string): void {
    this.payOwed(ws);
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
   *
   * A group's frame longer in all than TURN_CHARS (a photo to a room) is paced: sent to
   * a few sockets per turn of the room's thread, so that a text arriving meanwhile is not held
   * up behind the whole loop. Each socket still receives everything in the room's (and the
   * history's) order: what the room sends a socket the frame has not reached yet waits behind
   * the frame; the sockets it has reached get it at once.
   */
  sendToAll(outgoing: Outgoing): void {
    const paced: WebSocket[] = [];
    for (const [dialect, group] of this.indexed().byDialect) {
      const frame = outgoing.for(dialect);
      if (frame === undefined) continue;
      const pace = frame.length * group.size > TURN_CHARS;
      for (const ws of group) {
        if (pace && this.owe(ws, frame)) paced.push(ws);
        else this.sendInOrder(ws, frame);
      }
    }
    if (paced.length > 0) this.pacing = this.pacing.then(() => this.payInTurns(paced));
  }

  /** One dead socket must never break a broadcast: each send stands alone. */
  send(sockets: Iterable<WebSocket>, outgoing: Outgoing): void {
    for (const ws of sockets) {
      const frame = outgoing.for(dialectOf(this.stateOf(ws)));
      if (frame !== undefined) this.sendInOrder(ws, frame);
    }
  }

  /** Now, or behind a paced frame the socket has not been sent yet. */
  private sendInOrder(ws: WebSocket, frame: string): void {
    const owed = this.owed.get(ws);
    if (owed) owed.push(frame);
    else sendOne(ws, frame);
  }

  /** Queues a paced frame for `ws`; true when the socket is new to the queue (its turn is to come). */
  private owe(ws: WebSocket, frame: string): boolean {
    const owed = this.owed.get(ws);
    if (owed) owed.push(frame);
    else this.owed.set(ws, [frame]);
    return owed === undefined;
  }

  /** Sends the sockets what they are owed, a turn whenever TURN_CHARS have gone out. */
  private async payInTurns(sockets: readonly WebSocket[]): Promise<void> {
    let chars = 0;
    for (const ws of sockets) {
      if (chars >= TURN_CHARS) {
        await nextTurn();
        chars = 0;
      }
      chars += this.payOwed(ws);
    }
  }

  /** Sends `ws` the frames it is owed, in order; answers their length. */
  private payOwed(ws: WebSocket): number {
    const owed = this.owed.get(ws);
    if (!owed) return 0;
    this.owed.delete(ws);
    let chars = 0;
    for (const frame of owed) {
      sendOne(ws, frame);
      chars += frame.length;
    }
    return chars;
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

/**
 * A timer, not a microtask: the room's incoming frames (and the sends they cause) run
 * before the next turn of a paced broadcast.
 */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
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
