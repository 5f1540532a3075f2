// Real WebSockets through the Worker, with a queue of received messages and a
// timeout (and a reason) on every wait.
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { expect } from "vitest";

import { FAMILIES, type Family } from "../src/wire/families";
import { freshRoom } from "./rooms";

export type { Family };
export { freshRoom };
export type Json = Record<string, unknown>;
/** Both path families, for it.each. */
export const BOTH_FAMILIES = Object.keys(FAMILIES) as Family[];

const BASE = "http://gischat.test";
const WAIT_MS = 3_000;

/** A room's path; `prefix` is a space's (`/s/{key}`), empty for a public room. */
export function roomPath(family: Family, room: string, rest: string, prefix = ""): string {
  return `${BASE}${prefix}/${FAMILIES[family].segment}/${encodeURIComponent(room)}/${rest}`;
}

export function request(path: string, init?: RequestInit): Promise<Response> {
  return exports.default.fetch(path.startsWith("http") ? path : `${BASE}${path}`, init);
}

export function roomStub(room: string) {
  return env.ROOM.get(env.ROOM.idFromName(room));
}

type Marked = { evictionMarker?: string };

/** Evicts the room (real hibernation) and proves the next call meets a new instance. */
export async function evictForReal(room: string): Promise<void> {
  const stub = roomStub(room);
  await runInDurableObject(stub, (instance) => {
    (instance as Marked).evictionMarker = "before";
  });
  await evictDurableObject(stub);
  await runInDurableObject(stub, (instance) => {
    expect((instance as Marked).evictionMarker).toBeUndefined();
  });
}

const openClients = new Set<Client>();

/**
 * Two registered users in an empty room, the first on the rooms family and the
 * second on the channels family; the first has read the second's arrival.
 */
export async function twoUsers(room: string, roomsNickname: string, channelsNickname: string) {
  const onRooms = await Client.join("rooms", room, roomsNickname);
  const onChannels = await Client.join("channels", room, channelsNickname);
  await onRooms.take(2); // nb_users, the second's newcomer
  return { onRooms, onChannels };
}

/** alice (rooms) and bob (channels) in a fresh room. */
export async function aliceAndBob() {
  const room = freshRoom();
  const { onRooms: alice, onChannels: bob } = await twoUsers(room, "alice", "bob");
  return { room, alice, bob };
}

export async function closeAllClients(): Promise<void> {
  for (const client of openClients) client.close();
  openClients.clear();
}

export class Client {
  private readonly inbox: unknown[] = [];
  private readonly waiters: ((message: unknown) => void)[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(
    readonly ws: WebSocket,
    readonly family: Family,
    readonly room: string,
  ) {
    ws.addEventListener("message", (event) => {
      const data = typeof event.data === "string" ? parseOrRaw(event.data) : event.data;
      const waiter = this.waiters.shift();
      if (waiter) waiter(data);
      else this.inbox.push(data);
    });
    this.closed = new Promise((resolve) => {
      ws.addEventListener("close", (event) => resolve({ code: event.code, reason: event.reason }));
    });
    openClients.add(this);
  }

  /** Opens a socket; the caller reads the `nb_users` and replay itself. */
  static async open(family: Family, room: string, headers: Record<string, string> = {}, prefix = ""): Promise<Client> {
    const response = await request(roomPath(family, room, "ws", prefix), { headers: { Upgrade: "websocket", ...headers } });
    const ws = response.webSocket;
    if (!ws) throw new Error(`No WebSocket in the answer (status ${response.status}): ${await response.text()}`);
    ws.accept();
    return new Client(ws, family, room);
  }

  /** Opens a socket and reads its `nb_users` (and nothing else: use it on rooms with no history). */
  static async join(family: Family, room: string, nickname?: string, headers: Record<string, string> = {}, prefix = ""): Promise<Client> {
    const client = await Client.open(family, room, headers, prefix);
    const first = await client.next();
    expect(first).toMatchObject({ type: "nb_users" });
    if (nickname !== undefined) {
      client.send({ type: "newcomer", newcomer: nickname });
      expect(await client.next()).toMatchObject({ type: "newcomer", newcomer: nickname });
    }
    return client;
  }

  send(message: Json | string | ArrayBuffer): void {
    this.ws.send(typeof message === "string" || message instanceof ArrayBuffer ? message : JSON.stringify(message));
  }

  /** The next message this socket receives, failing after a timeout. */
  next(timeoutMs = WAIT_MS): Promise<Json> {
    const queued = this.inbox.shift();
    if (queued !== undefined) return Promise.resolve(queued as Json);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`${this.family} socket in ${this.room}: no message within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = (message: unknown) => {
        clearTimeout(timer);
        resolve(message as Json);
      };
      this.waiters.push(waiter);
    });
  }

  /** The next `count` messages, in order. */
  async take(count: number): Promise<Json[]> {
    const messages: Json[] = [];
    for (let i = 0; i < count; i++) messages.push(await this.next());
    return messages;
  }

  /** Sends a message and returns the `uncompliant` answer, asserting it is one. */
  async rejected(message: Json | string | ArrayBuffer): Promise<string> {
    this.send(message);
    const answer = await this.next();
    expect(answer.type, `expected uncompliant, got ${JSON.stringify(answer)}`).toBe("uncompliant");
    return answer.reason as string;
  }

  close(code = 1000, reason = "done"): void {
    openClients.delete(this);
    try {
      this.ws.close(code, reason);
    } catch {
      // Already closed.
    }
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }
}

/** Everything a channels socket receives carries these two. */
export function expectChannelStamp(message: Json): void {
  expect(message.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  expect(Number.isInteger(message.timestamp)).toBe(true);
  expect(Math.abs((message.timestamp as number) - Date.now() / 1000)).toBeLessThan(60);
}

/** The message minus the channels stamp, for deep equality with the rooms shape. */
export function withoutStamp(message: Json): Json {
  const { id: _id, timestamp: _timestamp, ...rest } = message;
  return rest;
}

/** Server frames are JSON, except the keepalive answer "pong". */
function parseOrRaw(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Proves sockets received nothing since their last read: `from` sends a message
 * everyone receives, and it must be the very next thing each of them sees.
 */
export async function expectNothingBefore(clients: Client | Client[], from: Client, author: string): Promise<void> {
  const sentinel = `sentinel-${crypto.randomUUID()}`;
  from.send({ type: "text", author, text: sentinel });
  for (const client of [clients].flat()) {
    expect(await client.next()).toMatchObject({ type: "text", text: sentinel });
  }
}
