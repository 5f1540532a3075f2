// The room's recent messages: replay order, the replay's bound, what is never stored,
// messages larger than one SQLite row, and moderation's clearing of them.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { History } from "../src/room/history";
import { envelope } from "../src/wire/envelope";
import { Client, freshRoom, type Json, request, roomPath, roomStub, twoUsers, withoutStamp } from "./helpers";

const DAY_MS = 24 * 3600 * 1000;
const MAX_STORED = Number(env.MAX_STORED_MESSAGES);
const TEST_ADMIN_TOKEN = env.ADMIN_TOKEN!;

async function post(client: Client, text: string, author = "poster"): Promise<void> {
  client.send({ type: "text", author, text });
  expect(await client.next()).toMatchObject({ type: "text", text });
}

/** Opens a socket and returns what it is replayed after its nb_users. */
async function replayOf(room: string, count: number, family: "rooms" | "channels" = "rooms") {
  const late = await Client.open(family, room);
  expect(await late.next()).toMatchObject({ type: "nb_users" });
  const replayed = await late.take(count);
  return { late, replayed };
}

describe("stored-message replay", () => {
  it("replays to the new socket alone, oldest first, after nb_users", async () => {
    const room = freshRoom();
    const poster = await Client.join("rooms", room);
    await post(poster, "first");
    await post(poster, "second");
    const { late, replayed } = await replayOf(room, 2);
    expect(replayed.map((message) => message.text)).toEqual(["first", "second"]);
    expect(await poster.next()).toEqual({ type: "nb_users", nb_users: 2 });
    await post(poster, "live");
    expect(await late.next()).toMatchObject({ text: "live" });
  });

  // MAX_STORED_MESSAGES bounds the replay, no longer what is stored: the history keeps
  // every message up to its retention (test/retention.test.ts), so the rows are counted.
  it(`replays only the newest MAX_STORED_MESSAGES (${MAX_STORED}), and stores them all`, async () => {
    const room = freshRoom();
    const poster = await Client.join("rooms", room);
    for (let i = 1; i <= MAX_STORED + 3; i++) await post(poster, `message ${i}`);
    const { late, replayed } = await replayOf(room, MAX_STORED);
    expect(replayed.map((message) => message.text)).toEqual(Array.from({ length: MAX_STORED }, (_, i) => `message ${i + 4}`));
    const rows = await runInDurableObject(
      roomStub(room),
      (_instance, state) => state.storage.sql.exec("SELECT COUNT(*) AS count FROM messages").one().count,
    );
    expect(rows).toBe(MAX_STORED + 3);
    expect(await poster.next()).toMatchObject({ type: "nb_users", nb_users: 2 });
    await post(poster, "sentinel");
    expect(await late.next()).toMatchObject({ text: "sentinel" });
  });

  it("replays to the channels family with the ids the message had live", async () => {
    const room = freshRoom();
    const poster = await Client.join("channels", room);
    poster.send({ type: "text", author: "poster", text: "kept" });
    const live = await poster.next();
    const { replayed } = await replayOf(room, 1, "channels");
    expect(replayed[0]).toEqual(live);
  });

  // The stored envelope is built from the frame the room sent (room/outgoing.ts): what a
  // newcomer is replayed and GET …/last answers after many messages must be, key for key,
  // what each family saw live, replies included.
  it("after many messages, replays and answers GET …/last exactly as each family saw them live", async () => {
    const room = freshRoom();
    const { onRooms, onChannels } = await twoUsers(room, "alice", "bob");
    const live: { rooms: Json; channels: Json }[] = [];
    // Three replays' worth, within the test rooms' rate limit (a burst of 20 per socket).
    for (let i = 1; i <= 3 * MAX_STORED; i++) {
      const [sender, author] = i % 2 === 0 ? [onRooms, "alice"] : [onChannels, "bob"];
      const reply = live.at(-1)?.channels.id;
      sender.send({ type: "text", author, avatar: i % 3 === 0 ? "a.svg" : null, text: `message ${i} "quoted"\n`, in_reply_to_id: reply });
      live.push({ rooms: (await onRooms.next()) as Json, channels: (await onChannels.next()) as Json });
    }
    // As JSON text: the keys' order is part of the contract, and deep equality ignores it.
    const asText = (messages: unknown[]) => messages.map((message) => JSON.stringify(message));
    const newest = live.slice(-MAX_STORED);
    for (const family of ["rooms", "channels"] as const) {
      const expected = asText(newest.map((seen) => seen[family]));
      const { replayed } = await replayOf(room, MAX_STORED, family);
      expect(asText(replayed)).toEqual(expected);
      expect(asText((await (await request(roomPath(family, room, "last"))).json()) as unknown[])).toEqual(expected);
    }
  });

  it("stores every broadcast type, and no newcomer, exiter, like or cheat code", async () => {
    const room = freshRoom();
    const poster = await Client.join("rooms", room, "poster");
    const wkt = "GEOGCRS[]";
    const stored = [
      { type: "crs", author: "poster", avatar: null, crs_wkt: wkt, crs_authid: "EPSG:4326" },
      { type: "position", author: "poster", avatar: null, crs_wkt: wkt, crs_authid: "EPSG:4326", x: 1, y: 2 },
      { type: "script", author: "poster", avatar: null, name: "s", raw_pycode: "pass" },
    ];
    for (const message of stored) {
      poster.send(message);
      await poster.next();
    }
    for (const cheat of [
      "givemesomecheese",
      "lookattheflickofqgis",
      "iamarobot",
      "its10oclock",
      "qgisprolicense",
      "wizz",
      "spaceandtime",
    ]) {
      await post(poster, cheat);
    }
    poster.send({ type: "like", liker_author: "poster", liked_author: "poster", message: "me" });
    await poster.next();
    poster.send({ type: "newcomer", newcomer: "renamed" });
    await poster.take(2);
    const body = await (await request(roomPath("rooms", room, "last"))).json();
    expect(body).toEqual(stored);
  });

  it("stores and replays intact a message larger than one SQLite row (2 MB)", async () => {
    const room = freshRoom();
    const poster = await Client.join("rooms", room, "poster");
    // 500 polygons of 400 vertices with multi-byte names: about 9 MB of JSON.
    const features = Array.from({ length: 500 }, (_, i) => ({
      type: "Feature",
      properties: { id: i, nom: `parcelle n°${i} — été 🌍` },
      geometry: { type: "Polygon", coordinates: [Array.from({ length: 400 }, (_, k) => [2.3 + k / 1e4 + i, 48.8 + k / 1e4])] },
    }));
    const layer = {
      type: "geojson",
      author: "poster",
      avatar: null,
      layer_name: "parcelles",
      crs_wkt: "GEOGCRS[]",
      crs_authid: "EPSG:4326",
      geojson: { type: "FeatureCollection", features },
      style: null,
    };
    expect(JSON.stringify(layer).length).toBeGreaterThan(4_000_000);
    poster.send(layer);
    expect(await poster.next()).toEqual(layer);
    const { replayed } = await replayOf(room, 1);
    expect(replayed[0]).toEqual(layer);
  });
});

describe("DELETE /{family}/{name}/last (moderation)", () => {
  const clear = (family: "rooms" | "channels", room: string, authorization?: string) =>
    request(roomPath(family, room, "last"), {
      method: "DELETE",
      headers: authorization === undefined ? {} : { Authorization: authorization },
    });

  it.each(["rooms", "channels"] as const)("clears the stored messages with the admin token (%s): 204", async (family) => {
    const room = freshRoom();
    const poster = await Client.join("rooms", room);
    await post(poster, "to be removed");
    const response = await clear(family, room, `Bearer ${TEST_ADMIN_TOKEN}`);
    expect(response.status).toBe(204);
    expect(await (await request(roomPath("rooms", room, "last"))).json()).toEqual([]);
    await post(poster, "after");
    const { replayed } = await replayOf(room, 1);
    expect(withoutStamp(replayed[0]!)).toMatchObject({ text: "after" });
  });

  it.each([
    ["no Authorization header", undefined],
    ["a wrong token", "Bearer not-the-token"],
    ["another scheme", `Basic ${TEST_ADMIN_TOKEN}`],
  ])("answers 401 with %s and keeps the messages", async (_name, authorization) => {
    const room = freshRoom();
    const poster = await Client.join("rooms", room);
    await post(poster, "kept");
    const response = await clear("rooms", room, authorization);
    expect(response.status).toBe(401);
    expect(response.headers.get("Content-Type")).toBe("application/json");
    expect(await response.json()).toEqual({ detail: "A valid 'Authorization: Bearer <ADMIN_TOKEN>' header is required." });
    expect(await (await request(roomPath("rooms", room, "last"))).json()).toHaveLength(1);
  });

  it("answers 404 for an unknown room, with a valid token", async () => {
    const response = await clear("rooms", "Nowhere", `Bearer ${TEST_ADMIN_TOKEN}`);
    expect(response.status).toBe(404);
  });
});

// The recent messages are kept in memory between two changes of the history (a reconnect
// storm reads them once): every change, and the first expiry, must show in the next replay.
describe("the replay between changes of the history", () => {
  const admin = { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
  /** A socket's replay, exactly: `texts` after its nb_users, then nothing but counts. */
  async function expectReplay(room: string, texts: string[], family: "rooms" | "channels" = "rooms"): Promise<Json[]> {
    const { late, replayed } = await replayOf(room, texts.length, family);
    expect(replayed.map((message) => message.text)).toEqual(texts);
    expect((await framesFor(late, 300)).filter((message) => message.type !== "nb_users")).toEqual([]);
    late.close();
    return replayed;
  }

  /** What a socket receives in the next `ms`. */
  async function framesFor(client: Client, ms: number): Promise<Json[]> {
    const frames: Json[] = [];
    const until = Date.now() + ms;
    for (;;) {
      const left = until - Date.now();
      if (left <= 0) return frames;
      try {
        frames.push(await client.next(left));
      } catch {
        return frames;
      }
    }
  }

  /** Sends a text and waits for the room's copy of it (counts may come first): its id. */
  async function posted(poster: Client, text: string): Promise<string> {
    poster.send({ type: "text", author: "poster", text });
    for (let message = await poster.next(); ; message = await poster.next()) {
      if (message.type === "text" && message.text === text) return message.id as string;
    }
  }

  it("replays each newcomer the history as it is after a text, a deletion and a clear", async () => {
    const room = freshRoom();
    const poster = await Client.join("channels", room);
    await posted(poster, "one");
    const two = await posted(poster, "two");
    await expectReplay(room, ["one", "two"]);
    await expectReplay(room, ["one", "two"]);
    await posted(poster, "three");
    await expectReplay(room, ["one", "two", "three"]);
    const deleted = await request(roomPath("rooms", room, `messages/${two}`), { method: "DELETE", headers: admin });
    expect(deleted.status).toBe(204);
    await expectReplay(room, ["one", "three"]);
    expect((await (await request(roomPath("rooms", room, "last"))).json()) as Json[]).toMatchObject([{ text: "one" }, { text: "three" }]);
    expect((await request(roomPath("rooms", room, "last"), { method: "DELETE", headers: admin })).status).toBe(204);
    await expectReplay(room, []);
    expect(await (await request(roomPath("rooms", room, "last"))).json()).toEqual([]);
  });

  it("replays to each family, one after another, exactly what that family saw live", async () => {
    const room = freshRoom();
    const { onRooms, onChannels } = await twoUsers(room, "alice", "bob");
    onRooms.send({ type: "text", author: "alice", text: "hello" });
    const live = { rooms: await onRooms.next(), channels: await onChannels.next() };
    for (const family of ["rooms", "channels", "rooms", "channels"] as const) {
      expect(await expectReplay(room, ["hello"], family)).toEqual([live[family]]);
    }
  });

  it("keeps the newest messages only while none of them has expired", async () => {
    const room = freshRoom();
    const retention = { days: 1, maxMessages: 100, maxBytes: 1_000_000 };
    const texts = await runInDurableObject(roomStub(room), (_instance, state) => {
      let now = Date.now();
      const history = new History(state.storage, () => now);
      const texts = (): string[] => history.recent(5, retention).map((stored) => (stored.message as { text: string }).text);
      const store = (text: string) => history.append(envelope({ type: "text", author: "poster", avatar: null, text }), retention);
      store("older");
      now += 1_000;
      store("newer");
      const seen = [texts()];
      now += DAY_MS - 1_001; // the older one's last millisecond
      seen.push(texts());
      now += 1; // it has expired; nothing was written meanwhile
      seen.push(texts());
      now += 1_000; // and the newer one
      seen.push(texts());
      return seen;
    });
    expect(texts).toEqual([["older", "newer"], ["older", "newer"], ["newer"], []]);
  });
});
