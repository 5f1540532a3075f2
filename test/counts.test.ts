// nb_users, coalesced (docs/protocol.md, §5): a newcomer's first frame is its own count;
// the others may skip intermediate counts, but every socket has the final count within
// 250 ms of the last arrival or departure, a count at least every 2 s while arrivals go
// on, and a burst of joins costs O(N) frames.
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { FLUSH_INTERVAL_MS, QUIET_MS, STORM_FLUSH_MS } from "../src/room/counts";
import { Client, evictForReal, freshRoom, type Json, roomStub } from "./helpers";

/** The flush interval plus what a loaded test machine may add to a timer and a delivery. */
const SETTLED_MS = FLUSH_INTERVAL_MS + 250;

/** A socket and every nb_users it has received, in order. */
interface Counted {
  client: Client;
  counts: number[];
}

function counted(client: Client): Counted {
  const entry: Counted = { client, counts: [] };
  client.ws.addEventListener("message", (event) => {
    if (typeof event.data !== "string") return;
    const frame = JSON.parse(event.data) as Json;
    if (frame.type === "nb_users") entry.counts.push(frame.nb_users as number);
  });
  return entry;
}

/** Opens `n` sockets at once (a burst); answers them with their first frames. */
async function burst(room: string, n: number): Promise<{ sockets: Counted[]; firsts: Json[] }> {
  const clients = await Promise.all(Array.from({ length: n }, () => Client.open("rooms", room)));
  const sockets = clients.map(counted);
  const firsts = await Promise.all(clients.map((client) => client.next()));
  return { sockets, firsts };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const last = (socket: Counted) => socket.counts.at(-1);

describe("nb_users, coalesced", () => {
  it("tells a newcomer its own count in its first frame", async () => {
    const room = freshRoom();
    for (let expected = 1; expected <= 5; expected++) {
      const client = await Client.open("rooms", room);
      expect(await client.next()).toEqual({ type: "nb_users", nb_users: expected });
    }
  });

  it("gives every socket the final count within 250 ms of a burst of 20 joins, then of 10 leaves, in a few frames each", async () => {
    const room = freshRoom();
    const first = counted(await Client.join("rooms", room));
    const { sockets, firsts } = await burst(room, 19);
    // Each newcomer's first frame is its own count: the room admits them one by one.
    expect(firsts.every((frame) => frame.type === "nb_users")).toBe(true);
    expect(firsts.map((frame) => frame.nb_users as number).sort((a, b) => a - b)).toEqual(Array.from({ length: 19 }, (_, i) => i + 2));
    await sleep(SETTLED_MS);
    const everyone = [first, ...sockets];
    expect(everyone.map(last)).toEqual(everyone.map(() => 20));
    // Without coalescing the first socket would have received 20 counts (1 to 20).
    expect(first.counts.length).toBeLessThanOrEqual(5);
    for (const socket of everyone) expect(socket.counts.length).toBeLessThanOrEqual(5);

    const before = everyone.map((socket) => socket.counts.length);
    const [leaving, staying] = [everyone.slice(10), everyone.slice(0, 10)];
    for (const socket of leaving) socket.client.close();
    await Promise.all(leaving.map((socket) => socket.client.closed));
    await sleep(SETTLED_MS);
    expect(staying.map(last)).toEqual(staying.map(() => 10));
    for (const [i, socket] of staying.entries()) expect(socket.counts.length - before[i]!).toBeLessThanOrEqual(4);
  });

  it("does not hold a text behind a pending count", async () => {
    const room = freshRoom();
    const alice = await Client.join("rooms", room, "alice");
    const bob = await Client.join("rooms", room, "bob");
    expect(await alice.take(2)).toEqual([
      { type: "nb_users", nb_users: 2 },
      { type: "newcomer", newcomer: "bob" },
    ]);
    // Within 250 ms of the count of 2: carol's arrival is flushed to the others later.
    const carol = await Client.open("rooms", room);
    expect(await carol.next()).toEqual({ type: "nb_users", nb_users: 3 });
    const sentAt = Date.now();
    bob.send({ type: "text", author: "bob", text: "not held" });
    expect(await alice.next()).toMatchObject({ type: "text", text: "not held" });
    const textAfter = Date.now() - sentAt;
    expect(await alice.next(SETTLED_MS)).toEqual({ type: "nb_users", nb_users: 3 });
    expect(textAfter).toBeLessThan(FLUSH_INTERVAL_MS);
  });

  it("tells the others at most one count per 250 ms, even when the room pauses sooner", async () => {
    const room = freshRoom();
    const alice = await Client.join("rooms", room, "alice");
    // Bob's arrival in a quiet room is told to alice at once.
    const bob = await Client.open("rooms", room);
    expect(await alice.next()).toEqual({ type: "nb_users", nb_users: 2 });
    const firstHeard = Date.now();
    await bob.next();
    // Carol's, right after, waits for the interval, not only for the room's pause.
    await Client.open("rooms", room);
    expect(await alice.next(SETTLED_MS)).toEqual({ type: "nb_users", nb_users: 3 });
    // Less a few ms: each of the two counts took its own time to reach alice.
    expect(Date.now() - firstHeard).toBeGreaterThanOrEqual(FLUSH_INTERVAL_MS - 25);
  });

  it("sends the flush to the sockets that lack the count only, not to the newcomer again", async () => {
    const room = freshRoom();
    const alice = counted(await Client.join("rooms", room));
    const bob = counted(await Client.join("rooms", room));
    const carol = counted(await Client.open("rooms", room));
    await sleep(SETTLED_MS);
    expect(carol.counts).toEqual([3]);
    expect(last(alice)).toBe(3);
    expect(last(bob)).toBe(3);
  });

  it("flushes a count left pending by an eviction when the room wakes", async () => {
    const room = freshRoom();
    const alice = counted(await Client.join("rooms", room));
    await Client.join("rooms", room);
    await Client.open("rooms", room);
    // The count of 3 is owed to alice and bob: the marker says so in storage.
    const owed = await runInDurableObject(roomStub(room), (_instance, state) => state.storage.kv.get("count_owed"));
    expect(owed).toBe(true);
    await evictForReal(room);
    await sleep(SETTLED_MS);
    expect(last(alice)).toBe(3);
    // Flushed by the new instance, and the marker gone with it.
    expect(await runInDurableObject(roomStub(room), (_instance, state) => state.storage.kv.get("count_owed"))).toBeUndefined();
  });

  it("while arrivals go on, tells the others a count at least every 2 s, and the final one within 250 ms of the last", async () => {
    const room = freshRoom();
    const first = counted(await Client.join("rooms", room));
    const heardAt: number[] = [];
    first.client.ws.addEventListener("message", (event) => {
      if (String(event.data).startsWith('{"type":"nb_users"')) heardAt.push(Date.now());
    });
    // One arrival every 50 ms for longer than STORM_FLUSH_MS: the room is never quiet for QUIET_MS.
    const started = Date.now();
    const arrivals = Math.ceil((STORM_FLUSH_MS * 1.5) / 50);
    for (let i = 0; i < arrivals; i++) {
      await Client.open("rooms", room);
      await sleep(QUIET_MS / 3);
    }
    const lastArrival = Date.now();
    const heardDuringArrivals = heardAt.filter((at) => at < lastArrival);
    // Not one count per arrival (that is the storm's N²), but not silence either.
    expect(heardDuringArrivals.length).toBeGreaterThanOrEqual(1);
    expect(heardDuringArrivals.length).toBeLessThan(arrivals / 2);
    expect(heardDuringArrivals[0]! - started).toBeLessThan(STORM_FLUSH_MS + 500);
    await sleep(SETTLED_MS);
    expect(last(first)).toBe(arrivals + 1);
  });
});
