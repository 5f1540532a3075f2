// Faults: the room evicted in the middle of a conversation, a storage write that
// fails, a socket that has gone away during a broadcast, and a client that comes
// back after its socket was dropped (what every deploy does). Nothing registered or
// stored is lost, and no other socket is dropped.
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { aliceAndBob, Client, evictForReal, request, roomPath, roomStub, withoutStamp } from "./helpers";

const INTERNAL_FAILURE = "The server could not process this message; nothing was sent. Please try again.";

async function users(room: string) {
  return (await request(roomPath("rooms", room, "users"))).json();
}

async function storedTexts(room: string) {
  const last = (await (await request(roomPath("rooms", room, "last"))).json()) as { text?: string }[];
  return last.map((message) => message.text);
}

/** The room's own objects, which tests reach into to inject faults. */
type RoomInternals = { history: { append: (...args: unknown[]) => unknown } };

describe("eviction in the middle of a conversation", () => {
  it("loses no registration and no message, and messages flow on", async () => {
    const { room, alice, bob } = await aliceAndBob();
    alice.send({ type: "text", author: "alice", text: "one" });
    bob.send({ type: "text", author: "bob", text: "two" });
    await evictForReal(room);
    alice.send({ type: "text", author: "alice", text: "three" });
    const seenByBob = (await bob.take(3)).map((message) => message.text);
    expect(seenByBob).toHaveLength(3);
    expect(new Set(seenByBob)).toEqual(new Set(["one", "two", "three"]));
    expect(await storedTexts(room)).toEqual(expect.arrayContaining(["one", "two", "three"]));
    expect(await users(room)).toEqual(["alice", "bob"]);
    expect(alice.isOpen && bob.isOpen).toBe(true);
  });
});

describe("a storage write that fails", () => {
  it("refuses that one message to its sender, sends it to no one, and keeps everything else", async () => {
    const { room, alice, bob } = await aliceAndBob();
    alice.send({ type: "text", author: "alice", text: "stored" });
    await alice.next();
    await bob.next();
    await runInDurableObject(roomStub(room), (instance) => {
      const { history } = instance as unknown as RoomInternals;
      const append = history.append;
      history.append = () => {
        history.append = append;
        throw new Error("SQLITE_FULL: database or disk is full");
      };
    });
    expect(await alice.rejected({ type: "text", author: "alice", text: "lost in the fault" })).toBe(INTERNAL_FAILURE);
    // Bob never saw it: a message someone saw is always a message the room stored.
    alice.send({ type: "text", author: "alice", text: "after the fault" });
    expect(await bob.next()).toMatchObject({ type: "text", text: "after the fault" });
    expect(await storedTexts(room)).toEqual(["stored", "after the fault"]);
    expect(await users(room)).toEqual(["alice", "bob"]);
  });
});

describe("a socket gone away during a broadcast", () => {
  it("does not stop the broadcast to the others, and its departure is announced", async () => {
    const { room, alice, bob } = await aliceAndBob();
    const carol = await Client.join("rooms", room, "carol");
    await alice.take(2);
    await bob.take(2);
    await runInDurableObject(roomStub(room), (_instance, state) => {
      const bobs = state.getWebSockets().find((ws) => (ws.deserializeAttachment() as { nickname: string }).nickname === "bob");
      // As if the network had dropped it an instant ago: sending to it throws.
      Object.defineProperty(bobs, "send", {
        value: () => {
          throw new TypeError("WebSocket is closed");
        },
      });
    });
    alice.send({ type: "text", author: "alice", text: "still delivered" });
    expect(await carol.next()).toMatchObject({ type: "text", text: "still delivered" });
    expect(await alice.next()).toMatchObject({ type: "text", text: "still delivered" });
    // The fault was real: bob's socket got nothing.
    await expect(bob.next(300)).rejects.toThrow("no message within 300 ms");
    bob.close(1001, "gone");
    expect(await carol.take(2)).toEqual([
      { type: "exiter", exiter: "bob" },
      { type: "nb_users", nb_users: 2 },
    ]);
    expect(await users(room)).toEqual(["alice", "carol"]);
  });
});

describe("a socket dropped by a deploy", () => {
  it("gets the recent messages back when its client reconnects", async () => {
    const { room, alice, bob } = await aliceAndBob();
    for (const text of ["first", "second"]) {
      alice.send({ type: "text", author: "alice", text });
      await alice.next();
      await bob.next();
    }
    // A deploy closes every socket (the client sees code 1006, or 1001 going away).
    alice.close(1001, "going away");
    bob.close(1001, "going away");
    await evictForReal(room);
    const back = await Client.open("channels", room);
    expect(withoutStamp(await back.next())).toEqual({ type: "nb_users", nb_users: 1 });
    const replayed = await back.take(2);
    expect(replayed.map((message) => withoutStamp(message))).toEqual([
      { type: "text", author: "alice", avatar: null, text: "first" },
      { type: "text", author: "alice", avatar: null, text: "second" },
    ]);
    back.send({ type: "newcomer", newcomer: "bob" });
    expect(await back.next()).toEqual(expect.objectContaining({ type: "newcomer", newcomer: "bob" }));
  });
});
