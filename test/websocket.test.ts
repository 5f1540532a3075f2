// The life of a socket: connect, keepalive, malformed frames, close and error.
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Room } from "../src/room/room";
import { Client, expectNothingBefore, type Family, freshRoom, request, roomPath, roomStub } from "./helpers";

describe.each<Family>(["rooms", "channels"])("connecting on the %s family", (family) => {
  it("sends nb_users to every socket of the room, the new one included", async () => {
    const room = freshRoom();
    const first = await Client.join(family, room);
    const second = await Client.open(family, room);
    expect(await second.next()).toMatchObject({ type: "nb_users", nb_users: 2 });
    expect(await first.next()).toMatchObject({ type: "nb_users", nb_users: 2 });
  });

  it("accepts then closes an unknown room with 1008 and a reason naming it", async () => {
    const client = await Client.open(family, "Atlantis");
    const noun = family === "rooms" ? "Room" : "Channel";
    expect(await client.closed).toEqual({ code: 1008, reason: `${noun} 'Atlantis' not registered` });
  });

  it("reaches a room whose name has spaces", async () => {
    // Both families share this configured room, so the second test also gets the first's message replayed.
    const client = await Client.open(family, "Field and mobile");
    expect(await client.next()).toMatchObject({ type: "nb_users", nb_users: 1 });
    const text = `from the field on ${family}`;
    client.send({ type: "text", author: "fieldworker", text });
    let received = await client.next();
    while (received.text !== text) {
      expect(received).toMatchObject({ type: "text", author: "fieldworker" });
      received = await client.next();
    }
  });

  it("answers a plain GET on the socket path with 426", async () => {
    const response = await request(roomPath(family, "QGIS", "ws"));
    expect(response.status).toBe(426);
    expect(response.headers.get("Content-Type")).toBe("application/json");
  });
});

describe("keepalive", () => {
  it("answers 'ping' with 'pong'", async () => {
    const client = await Client.join("rooms", freshRoom());
    client.send("ping");
    expect(await client.next()).toBe("pong");
  });
});

describe("malformed frames", () => {
  const cases: [string, string | ArrayBuffer, string][] = [
    ["invalid JSON", "{not json", "not valid JSON"],
    ["a JSON array", "[1, 2]", "must be a JSON object with a 'type' field, got an array"],
    ["JSON null", "null", "got null"],
    ["a JSON number", "42", "got a number"],
    ["a binary frame", new Uint8Array([1, 2, 3]).buffer, "Binary frames are not supported"],
    ["no type", JSON.stringify({ author: "alice", text: "hi" }), "no 'type' field"],
    ["a non-string type", JSON.stringify({ type: 7 }), "Field 'type' must be a string"],
    ["an unknown type", JSON.stringify({ type: "teleport" }), "Unknown message type 'teleport'"],
    ["a server-only type", JSON.stringify({ type: "nb_users", nb_users: 3 }), "sent by the server only"],
    ["a wrong field type", JSON.stringify({ type: "text", author: "alice", text: 5 }), "Field 'text' must be a string, got a number"],
  ];

  it.each(cases)("%s: uncompliant to the sender alone, socket kept, nothing broadcast", async (_name, frame, reason) => {
    const room = freshRoom();
    const other = await Client.join("rooms", room, "other");
    const sender = await Client.join("rooms", room);
    await other.next(); // nb_users for the sender
    expect(await sender.rejected(frame)).toContain(reason);
    expect(sender.isOpen).toBe(true);
    await expectNothingBefore(other, sender, "sender");
  });

  it("refuses a frame over the size cap before parsing it, keeping the socket", async () => {
    const sender = await Client.join("rooms", freshRoom());
    const reason = await sender.rejected("x".repeat(12_000_001));
    expect(reason).toBe("Message too large: 12000001 characters, the limit is 12000000.");
    sender.send({ type: "text", author: "sender", text: "still here" });
    expect(await sender.next()).toMatchObject({ type: "text", text: "still here" });
  });

  it("sends the channels family its uncompliant with id and timestamp", async () => {
    const sender = await Client.join("channels", freshRoom());
    sender.send("{");
    const answer = await sender.next();
    expect(Object.keys(answer)).toEqual(["type", "reason", "id", "timestamp"]);
  });
});

describe("closing", () => {
  it("tells the remaining sockets nb_users, and exiter once when the socket had registered", async () => {
    const room = freshRoom();
    const stays = await Client.join("rooms", room, "stays");
    const leaves = await Client.join("rooms", room, "leaves");
    await stays.take(2); // nb_users and newcomer for `leaves`
    leaves.close();
    expect(await stays.take(2)).toEqual([
      { type: "exiter", exiter: "leaves" },
      { type: "nb_users", nb_users: 1 },
    ]);
    await expectNothingBefore(stays, stays, "stays");
  });

  it("announces nothing but nb_users for an anonymous socket", async () => {
    const room = freshRoom();
    const stays = await Client.join("rooms", room);
    const leaves = await Client.join("rooms", room);
    await stays.next();
    leaves.close();
    expect(await stays.next()).toEqual({ type: "nb_users", nb_users: 1 });
    await expectNothingBefore(stays, stays, "stays");
  });

  it("does not announce exiter again when the client sent its own before closing (QField)", async () => {
    const room = freshRoom();
    const stays = await Client.join("rooms", room, "stays");
    const leaves = await Client.join("rooms", room, "qfield_user");
    await stays.take(2);
    leaves.send({ type: "exiter", exiter: "qfield_user" });
    leaves.close();
    expect(await stays.take(2)).toEqual([
      { type: "exiter", exiter: "qfield_user" },
      { type: "nb_users", nb_users: 1 },
    ]);
    await expectNothingBefore(stays, stays, "stays");
  });

  it("announces an abrupt disconnect (error, then close 1006) exactly once", async () => {
    const room = freshRoom();
    const stays = await Client.join("rooms", room, "stays");
    await Client.join("rooms", room, "vanishes");
    await stays.take(2);
    await runInDurableObject(roomStub(room), async (instance: Room, state) => {
      const socket = state.getWebSockets().find((ws) => (ws.deserializeAttachment() as { nickname: string }).nickname === "vanishes")!;
      await instance.webSocketError(socket, new Error("connection reset"));
      await instance.webSocketClose(socket, 1006, "", false);
    });
    expect(await stays.take(2)).toEqual([
      { type: "exiter", exiter: "vanishes" },
      { type: "nb_users", nb_users: 1 },
    ]);
    await expectNothingBefore(stays, stays, "stays");
    expect(await (await request(roomPath("rooms", room, "users"))).json()).toEqual(["stays"]);
  });
});
