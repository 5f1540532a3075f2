// Private spaces and rooms made at run time: a space is an instance URL with a path
// (/s/{key}) that unmodified clients use like any instance, fully apart from the
// public rooms and from other spaces; a wrong key answers like a missing path and
// wakes no Durable Object; revoking, rotating and removing close sockets with a reason.
import { listDurableObjectIds, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { roomObjectName } from "../src/server/room-names";
import { sentences } from "../src/wire/sentences";
import { Client, freshRoom, type Json, request, roomPath, withoutStamp } from "./helpers";

const ADMIN = { Authorization: `Bearer ${env.ADMIN_TOKEN}` };
const NOT_FOUND = { detail: "Not Found" };

interface Space {
  id: string;
  key: string;
  path: string;
  owner_token: string;
  rooms: string[];
}

let spaceCounter = 0;

async function createSpace(fields: Json = {}): Promise<Space> {
  const response = await request("/spaces", {
    method: "POST",
    headers: ADMIN,
    body: JSON.stringify({ name: `Space ${spaceCounter++}`, rooms: ["QGIS", "Terrain"], ...fields }),
  });
  expect(response.status, await response.clone().text()).toBe(201);
  return (await response.json()) as Space;
}

function owner(space: Space) {
  return { Authorization: `Bearer ${space.owner_token}` };
}

async function json(path: string, init?: RequestInit): Promise<{ status: number; body: unknown }> {
  const response = await request(path, init);
  expect(response.headers.get("Content-Type")).toMatch(/^application\/json$/);
  return { status: response.status, body: await response.json() };
}

/** Every Durable Object id of the Room class that exists, as hex. */
async function roomObjects(): Promise<string[]> {
  return (await listDurableObjectIds(env.ROOM)).map((id) => id.toString()).sort();
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("POST /spaces (the instance's moderator)", () => {
  it("creates a space: its key (URL-safe, 48 characters) and owner token are shown once", async () => {
    const response = await request("/spaces", {
      method: "POST",
      headers: ADMIN,
      body: JSON.stringify({ name: "Jura mappers", rules: "Be kind", rooms: ["Général", "Terrain"], limits: { max_users: 50 } }),
    });
    expect(response.status).toBe(201);
    expect(response.headers.get("Content-Type")).toBe("application/json");
    const space = (await response.json()) as Space & Json;
    expect(space).toEqual({
      id: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
      name: "Jura mappers",
      rooms: ["Général", "Terrain"],
      rules: "Be kind",
      limits: { max_users: 50 },
      created_at: expect.any(String),
      key: expect.stringMatching(/^[A-Za-z0-9_-]{48}$/),
      path: `/s/${space.key}`,
      owner_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    const listed = await json("/spaces", { headers: ADMIN });
    expect(JSON.stringify(listed.body)).not.toContain(space.key);
    expect(JSON.stringify(listed.body)).not.toContain(space.owner_token);
    expect(listed.body).toContainEqual({
      id: space.id,
      name: "Jura mappers",
      rooms: ["Général", "Terrain"],
      rules: "Be kind",
      limits: { max_users: 50 },
      created_at: space.created_at,
    });
  });

  it.each([
    [{ name: "", rooms: ["a"] }, "name", "Field 'name' must be the space's name, 1 to 64 characters."],
    [{ name: "x", rooms: [] }, "rooms", "Field 'rooms' must list 1 to 50 room names."],
    [{ name: "x", rooms: Array.from({ length: 51 }, (_, i) => `r${i}`) }, "rooms", "Field 'rooms' must list 1 to 50 room names."],
    [{ name: "x", rooms: ["a", "a"] }, "rooms.1", "Field 'rooms' lists 'a' twice."],
    [{ name: "x", rooms: ["a,b"] }, "rooms.0", "Room 1's name may not contain a comma, a slash or a control character."],
    [{ name: "x", rooms: ["x".repeat(65)] }, "rooms.0", "Room 1's name must be at most 64 characters long."],
    [{ name: "x", rooms: ["a"], limits: { max_userz: 3 } }, "limits", expect.stringContaining("limits.max_userz is not a limit")],
    [{ name: "x", rooms: ["a"], limits: { max_users: 0 } }, "limits", "limits.max_users must be at least 1, got 0."],
  ])("answers 422 naming the field: %j", async (body, field, reason) => {
    const { status, body: answer } = await json("/spaces", { method: "POST", headers: ADMIN, body: JSON.stringify(body) });
    expect(status).toBe(422);
    expect(answer).toEqual({ detail: [{ loc: ["body", ...field.split(".")], msg: reason, type: "value_error" }] });
  });

  it("needs the admin token", async () => {
    const { status, body } = await json("/spaces", { method: "POST", body: JSON.stringify({ name: "x", rooms: ["a"] }) });
    expect(status).toBe(401);
    expect(body).toEqual({ detail: sentences.adminTokenRequired });
    expect((await json("/spaces")).status).toBe(401);
  });
});

describe("a space is an instance of its own, under /s/{key}", () => {
  it("answers /rooms, /channels, /status and /rules for its rooms, rules and limits", async () => {
    const space = await createSpace({ rooms: ["Général", "Terrain"], rules: "Français", limits: { max_message_length: 100 } });
    expect((await json(`${space.path}/rooms`)).body).toEqual(["Général", "Terrain"]);
    expect((await json(`${space.path}/channels`)).body).toEqual(["Général", "Terrain"]);
    const status = (await json(`${space.path}/status`)).body as Json;
    expect(status.rooms).toEqual([
      { name: "Général", nb_connected_users: 0 },
      { name: "Terrain", nb_connected_users: 0 },
    ]);
    const rules = (await json(`${space.path}/rules`)).body as Json;
    expect(rules).toMatchObject({ rules: "Français", max_message_length: 100 });
    expect((await json(`${space.path}/room/Terrain/rules`)).body).toMatchObject({ rules: "Français", max_message_length: 100 });
  });

  it("keeps its own users, sockets and history: the same room name in two spaces and among the public rooms is three rooms", async () => {
    const a = await createSpace({ rooms: ["QGIS"] });
    const b = await createSpace({ rooms: ["QGIS"] });
    const inA = await Client.join("channels", "QGIS", "alice", {}, a.path);
    const inB = await Client.join("rooms", "QGIS", "bob", {}, b.path);
    const inPublic = await Client.join("rooms", "QGIS", "carol");
    inA.send({ type: "text", author: "alice", text: "only in A" });
    expect(withoutStamp(await inA.next())).toEqual({ type: "text", author: "alice", avatar: null, text: "only in A" });
    inB.send({ type: "text", author: "bob", text: "only in B" });
    expect(await inB.next()).toEqual({ type: "text", author: "bob", avatar: null, text: "only in B" });
    expect((await json(roomPath("rooms", "QGIS", "last", a.path))).body).toEqual([
      { type: "text", author: "alice", avatar: null, text: "only in A" },
    ]);
    expect((await json(roomPath("rooms", "QGIS", "last", b.path))).body).toEqual([
      { type: "text", author: "bob", avatar: null, text: "only in B" },
    ]);
    expect((await json(roomPath("rooms", "QGIS", "users", a.path))).body).toEqual(["alice"]);
    expect((await json(roomPath("rooms", "QGIS", "users", b.path))).body).toEqual(["bob"]);
    expect((await json(roomPath("rooms", "QGIS", "users"))).body).toEqual(["carol"]);
    // Nothing crossed over: the public socket's next message is its own.
    inPublic.send({ type: "text", author: "carol", text: "public" });
    expect(await inPublic.next()).toMatchObject({ text: "public" });
  });

  it("applies its limits in its rooms", async () => {
    const space = await createSpace({ rooms: ["Terrain"], limits: { max_message_length: 10 } });
    const client = await Client.join("rooms", "Terrain", "alice", {}, space.path);
    expect(await client.rejected({ type: "text", author: "alice", text: "more than ten" })).toBe(
      "Field 'text' must be at most 10 characters long.",
    );
  });
});

describe("wrong keys", () => {
  it("answer exactly like a path that does not exist, and wake no room", async () => {
    const space = await createSpace();
    const before = await roomObjects();
    const missing = await request("/no/such/path");
    const tampered = `${space.key.slice(0, -1)}${space.key.endsWith("A") ? "B" : "A"}`;
    for (const key of ["garbage", tampered, "x".repeat(48), ""]) {
      for (const rest of ["rooms", "status", "room/QGIS/users", "channel/QGIS/last"]) {
        const response = await request(`/s/${key}/${rest}`);
        expect(response.status, `/s/${key}/${rest}`).toBe(404);
        expect(response.headers.get("Content-Type")).toBe(missing.headers.get("Content-Type"));
        expect(await response.json()).toEqual(NOT_FOUND);
      }
      const upgrade = await request(`/s/${key}/channel/QGIS/ws`, { headers: { Upgrade: "websocket" } });
      expect(upgrade.status).toBe(404);
      expect(await upgrade.json()).toEqual(NOT_FOUND);
    }
    expect(await missing.json()).toEqual(NOT_FOUND);
    // A room the space does not have is refused by the Worker, as among the public rooms.
    expect((await json(roomPath("rooms", "Nowhere", "users", space.path))).status).toBe(404);
    expect(await roomObjects()).toEqual(before);
  });

  it("never appear in the logs, nor do owner tokens", async () => {
    const lines: string[] = [];
    for (const method of ["log", "error", "warn", "info"] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => lines.push(args.map(String).join(" ")));
    }
    const space = await createSpace();
    const client = await Client.join("channels", "QGIS", "alice", {}, space.path);
    await request(`${space.path}/rooms`, { method: "POST", headers: owner(space), body: JSON.stringify({ name: "Logged" }) });
    const rotated = (await (await request(`${space.path}/key`, { method: "POST", headers: owner(space) })).json()) as Space;
    await client.closed;
    const logs = lines.join("\n");
    expect(logs).toContain("space_created");
    for (const secret of [space.key, space.owner_token, rotated.key]) expect(logs).not.toContain(secret);
  });
});

describe("DELETE /spaces/{id} (revocation)", () => {
  it("closes the space's sockets with a reason, deletes its rooms' storage, and its key answers 404", async () => {
    const space = await createSpace({ rooms: ["QGIS"] });
    const client = await Client.join("channels", "QGIS", "alice", {}, space.path);
    client.send({ type: "text", author: "alice", text: "soon gone" });
    await client.next();
    const response = await request(`/spaces/${space.id}`, { method: "DELETE", headers: ADMIN });
    expect(response.status).toBe(204);
    expect(await client.closed).toEqual({ code: 1001, reason: sentences.spaceRevoked });
    expect((await json(`${space.path}/rooms`)).body).toEqual(NOT_FOUND);
    const stub = env.ROOM.get(env.ROOM.idFromName(roomObjectName("QGIS", space.id)));
    await runInDurableObject(stub, (_instance, state) => {
      // Everything deleted: no message left, only the tombstone that keeps the room closed.
      expect(state.storage.sql.exec("SELECT COUNT(*) AS n FROM messages").one().n).toBe(0);
      expect([...state.storage.kv.list()].map(([key]) => key)).toEqual(["dissolved_at"]);
    });
    // A Worker elsewhere whose list is still a few seconds old cannot bring the room back.
    const late = await stub.fetch("http://gischat.test/channel/QGIS/ws", { headers: { Upgrade: "websocket" } });
    expect(late.status).toBe(404);
    expect((await request(`/spaces/${space.id}`, { method: "DELETE", headers: ADMIN })).status).toBe(404);
  });
});

describe("POST /s/{key}/key (rotation, by the owner)", () => {
  it("gives a new key shown once, closes the old sockets, and keeps the history", async () => {
    const space = await createSpace({ rooms: ["QGIS"] });
    const client = await Client.join("rooms", "QGIS", "alice", {}, space.path);
    client.send({ type: "text", author: "alice", text: "kept" });
    await client.next();
    const response = await request(`${space.path}/key`, { method: "POST", headers: owner(space) });
    expect(response.status).toBe(200);
    const rotated = (await response.json()) as Space;
    expect(rotated.key).not.toBe(space.key);
    expect(rotated).not.toHaveProperty("owner_token");
    expect(await client.closed).toEqual({ code: 1001, reason: sentences.keyRotated });
    expect((await json(`${space.path}/rooms`)).status).toBe(404);
    expect((await json(roomPath("rooms", "QGIS", "last", rotated.path))).body).toEqual([
      { type: "text", author: "alice", avatar: null, text: "kept" },
    ]);
  });

  it("is the owner's: another space's token, or none, is refused", async () => {
    const space = await createSpace();
    const other = await createSpace();
    for (const headers of [{}, owner(other), { Authorization: "Bearer wrong" }]) {
      const { status, body } = await json(`${space.path}/key`, { method: "POST", headers });
      expect(status).toBe(401);
      expect(body).toEqual({ detail: sentences.spaceOwnerRequired });
    }
  });
});

describe("a space's owner", () => {
  it("moderates its rooms (clear, ban) and nothing outside them", async () => {
    const space = await createSpace({ rooms: ["QGIS"] });
    const bob = await Client.join("rooms", "QGIS", "bob", {}, space.path);
    const banned = await request(roomPath("rooms", "QGIS", "users/bob?seconds=60", space.path), {
      method: "DELETE",
      headers: owner(space),
    });
    expect(banned.status).toBe(200);
    expect((await bob.closed).code).toBe(1008);
    expect((await request(roomPath("rooms", "QGIS", "last", space.path), { method: "DELETE", headers: owner(space) })).status).toBe(204);
    // The public room of the same name is the instance moderator's.
    const outside = await json(roomPath("rooms", "QGIS", "last"), { method: "DELETE", headers: owner(space) });
    expect(outside).toEqual({ status: 401, body: { detail: sentences.adminTokenRequired } });
  });

  it("sets its rules", async () => {
    const space = await createSpace();
    const { status } = await json(`${space.path}/rules`, {
      method: "PUT",
      headers: owner(space),
      body: JSON.stringify({ rules: "New rules" }),
    });
    expect(status).toBe(200);
    expect((await json(`${space.path}/rules`)).body).toMatchObject({ rules: "New rules" });
    expect((await json("/rules")).body).toMatchObject({ rules: "YOLO" });
  });
});

describe("rooms made at run time: POST /rooms, DELETE /rooms/{name}", () => {
  it("adds a public room after the seed list, in /rooms, /channels and /status, without a deploy", async () => {
    const seeds = (await json("/rooms")).body as string[];
    const { status, body } = await json("/rooms", { method: "POST", headers: ADMIN, body: JSON.stringify({ name: "Made at run time" }) });
    expect(status).toBe(201);
    expect(body).toEqual({ rooms: [...seeds, "Made at run time"] });
    expect((await json("/channels")).body).toEqual([...seeds, "Made at run time"]);
    const listed = (await json("/status")).body as { rooms: Json[] };
    expect(listed.rooms.at(-1)).toEqual({ name: "Made at run time", nb_connected_users: 0 });
    const client = await Client.join("channels", "Made at run time", "alice");
    expect(client.isOpen).toBe(true);
  });

  it("removes a room: its sockets closed with a reason, its history deleted, its name free again", async () => {
    const room = freshRoom();
    const client = await Client.join("rooms", room, "alice");
    client.send({ type: "text", author: "alice", text: "forgotten" });
    await client.next();
    expect((await json(roomPath("rooms", room, "last"))).body).toMatchObject([{ text: "forgotten" }]);
    const { status, body } = await json(`/rooms/${encodeURIComponent(room)}`, { method: "DELETE", headers: ADMIN });
    expect(status).toBe(200);
    expect(body).not.toHaveProperty("rooms", expect.arrayContaining([room]));
    expect(await client.closed).toEqual({ code: 1001, reason: sentences.roomRemoved });
    expect((await json(roomPath("rooms", room, "users"))).status).toBe(404);
    expect((await json("/rooms", { method: "POST", headers: ADMIN, body: JSON.stringify({ name: room }) })).status).toBe(201);
    expect((await json(roomPath("rooms", room, "last"))).body).toEqual([]);
    // The same instance, brought back: a newcomer is replayed nothing of what it held.
    const newcomer = await Client.open("rooms", room);
    expect(await newcomer.next()).toEqual({ type: "nb_users", nb_users: 1 });
    await expect(newcomer.next(300)).rejects.toThrow(/no message within/);
    newcomer.close();
  });

  it.each([
    [{ name: "" }, "Field 'name' must not be empty."],
    [{ name: " padded " }, "Field 'name' must not start or end with spaces."],
    [{ name: "x".repeat(65) }, "Field 'name' must be at most 64 characters long."],
    [{ name: "a/b" }, "Field 'name' may not contain a comma, a slash or a control character."],
    [{}, "Field 'name' must be a string: the room's name."],
  ])("answers 422 for a bad name: %j", async (body, reason) => {
    const answer = await json("/rooms", { method: "POST", headers: ADMIN, body: JSON.stringify(body) });
    expect(answer).toEqual({ status: 422, body: { detail: [{ loc: ["body", "name"], msg: reason, type: "value_error" }] } });
  });

  it("answers 409 for a room that exists and 404 for one that does not", async () => {
    expect(await json("/rooms", { method: "POST", headers: ADMIN, body: JSON.stringify({ name: "QGIS" }) })).toEqual({
      status: 409,
      body: { detail: sentences.roomExists("QGIS") },
    });
    expect(await json("/rooms/Nowhere", { method: "DELETE", headers: ADMIN })).toEqual({
      status: 404,
      body: { detail: sentences.noSuchRoom("Nowhere") },
    });
  });

  it("in a space, are its owner's, up to 50", async () => {
    const space = await createSpace({ rooms: Array.from({ length: 49 }, (_, i) => `r${i}`) });
    const added = await json(`${space.path}/rooms`, { method: "POST", headers: owner(space), body: JSON.stringify({ name: "Fiftieth" }) });
    expect(added.status).toBe(201);
    expect((await json(`${space.path}/rooms`)).body).toContain("Fiftieth");
    expect((await json("/rooms")).body).not.toContain("Fiftieth");
    const full = await json(`${space.path}/rooms`, {
      method: "POST",
      headers: owner(space),
      body: JSON.stringify({ name: "One too many" }),
    });
    expect(full).toEqual({
      status: 422,
      body: { detail: [{ loc: ["body", "name"], msg: sentences.tooManyRooms(50), type: "value_error" }] },
    });
    expect((await json(`${space.path}/rooms/r0`, { method: "DELETE", headers: owner(space) })).status).toBe(200);
    expect((await json(`/rooms`, { method: "POST", headers: owner(space), body: JSON.stringify({ name: "x" }) })).status).toBe(401);
  });
});

describe("GET /s/{key}/ (a space link)", () => {
  it("opens the browser client in the space, with its security policy; a wrong key is a missing path", async () => {
    const space = await createSpace();
    const page = await request(`${space.path}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("Content-Type")).toMatch(/^text\/html/);
    expect(await page.text()).toContain('src="/app.js"');
    expect(page.headers.get("Content-Security-Policy")).toContain("script-src 'self'");
    const bare = await request(space.path, { redirect: "manual" });
    expect(bare.status).toBe(302);
    expect(bare.headers.get("Location")).toBe(`${space.path}/`);
    const wrong = await request("/s/not-a-key/");
    expect(wrong.status).toBe(404);
    expect(await wrong.json()).toEqual(NOT_FOUND);
  });
});
