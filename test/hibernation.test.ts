// Real hibernation: the room object is evicted (its instance torn down, its
// sockets kept open by the platform) and must rebuild everything it knows from
// the sockets' attachments and its SQLite storage.
import { describe, expect, it } from "vitest";
import { aliceAndBob, Client, evictForReal, request, roomPath, withoutStamp } from "./helpers";

async function setUp() {
  const { room, alice, bob } = await aliceAndBob();
  alice.send({ type: "text", author: "alice", text: "before eviction" });
  await alice.next();
  await bob.next();
  await evictForReal(room);
  return { room, alice, bob };
}

describe("after eviction", () => {
  it("still knows the registered users and the live count", async () => {
    const { room } = await setUp();
    expect(await (await request(roomPath("rooms", room, "users"))).json()).toEqual(["alice", "bob"]);
    const status = (await (await request("/status")).json()) as { rooms: { name: string; nb_connected_users: number }[] };
    expect(status.rooms.find((entry) => entry.name === room)?.nb_connected_users).toBe(2);
  });

  it("keeps delivering messages, in each socket's family shape", async () => {
    const { alice, bob } = await setUp();
    bob.send({ type: "text", author: "bob", text: "after eviction" });
    expect(await alice.next()).toEqual({ type: "text", author: "bob", avatar: null, text: "after eviction" });
    expect(Object.keys(await bob.next())).toEqual(["type", "author", "avatar", "text", "id", "timestamp"]);
  });

  it("still refuses a nickname held before eviction, and still applies the author rule", async () => {
    const { room, bob } = await setUp();
    const intruder = await Client.join("rooms", room);
    expect(await intruder.next()).toMatchObject({ text: "before eviction" }); // replay
    expect(await intruder.rejected({ type: "newcomer", newcomer: "alice" })).toBe(`User 'alice' already registered in room ${room}`);
    expect(await intruder.rejected({ type: "text", author: "bob", text: "x" })).toContain("'bob'");
    expect(await bob.next()).toMatchObject({ type: "nb_users", nb_users: 3 });
    bob.send({ type: "exiter", exiter: "bob" });
    expect(await bob.next()).toMatchObject({ type: "exiter", exiter: "bob" });
  });

  // The room's index of live sockets (by nickname, by dialect) is a cache rebuilt from the
  // attachments: after eviction it must follow every change as the attachments do.
  it("follows nicknames given up and taken after eviction, and leaves the departed out of the fan-out", async () => {
    const { room, alice, bob } = await setUp();
    alice.send({ type: "exiter", exiter: "alice" });
    expect(await alice.next()).toEqual({ type: "exiter", exiter: "alice" });
    expect(await bob.next()).toMatchObject({ type: "exiter", exiter: "alice" });
    // bob takes the nickname alice gave up: his own is released first.
    bob.send({ type: "newcomer", newcomer: "alice" });
    for (const client of [alice, bob]) {
      expect((await client.take(2)).map(withoutStamp)).toEqual([
        { type: "exiter", exiter: "bob" },
        { type: "newcomer", newcomer: "alice" },
      ]);
    }
    expect(await alice.rejected({ type: "text", author: "alice", text: "not mine any more" })).toContain("'alice'");
    bob.send({ type: "text", author: "alice", text: "bob as alice" });
    expect(await alice.next()).toEqual({ type: "text", author: "alice", avatar: null, text: "bob as alice" });
    expect(await bob.next()).toMatchObject({ type: "text", text: "bob as alice" });
    expect(await (await request(roomPath("rooms", room, "users"))).json()).toEqual(["alice"]);
    bob.close();
    expect(await alice.take(2)).toEqual([
      { type: "exiter", exiter: "alice" },
      { type: "nb_users", nb_users: 1 },
    ]);
    expect(await (await request(roomPath("rooms", room, "users"))).json()).toEqual([]);
    alice.send({ type: "newcomer", newcomer: "alice" });
    expect(await alice.next()).toEqual({ type: "newcomer", newcomer: "alice" });
  });

  it("replays the messages stored before eviction", async () => {
    const { room } = await setUp();
    const late = await Client.open("rooms", room);
    expect(await late.next()).toEqual({ type: "nb_users", nb_users: 3 });
    expect(await late.next()).toEqual({ type: "text", author: "alice", avatar: null, text: "before eviction" });
  });

  it("announces the exiter of a socket registered before eviction when it closes", async () => {
    const { alice, bob } = await setUp();
    bob.close();
    expect(await alice.take(2)).toEqual([
      { type: "exiter", exiter: "bob" },
      { type: "nb_users", nb_users: 1 },
    ]);
  });

  it("answers keepalives", async () => {
    const { alice } = await setUp();
    alice.send("ping");
    expect(await alice.next()).toBe("pong");
  });
});
