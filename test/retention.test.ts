// Retention: a room keeps its whole history up to an age, a number of messages and
// a number of bytes. Each test counts the rows actually left in the room's SQLite,
// not only what the replay or a page shows (their LIMIT would hide a history that
// is never trimmed). Age is enforced by the room's one alarm, shared with bans, and
// by every read before the alarm has run.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { Client, freshRoom, type Json, request, roomPath, roomStub } from "./helpers";
import { freshFewRoom, freshSmallRoom } from "./rooms";

const TEST_ADMIN_TOKEN = env.ADMIN_TOKEN!;
const DAY_MS = 24 * 3600 * 1000;
const RETENTION_DAYS = 30;

async function postTexts(room: string, texts: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const text of texts) {
    const response = await request(roomPath("channels", room, "text"), { method: "PUT", body: JSON.stringify({ author: "poster", text }) });
    expect(response.status).toBe(200);
    ids.push(((await response.json()) as { id: string }).id);
  }
  return ids;
}

/** What the room's SQLite holds: the messages' ids oldest first, their chunks, the totals the caps read. */
function storedRows(room: string) {
  return runInDurableObject(roomStub(room), (_instance, state) => {
    const { sql } = state.storage;
    return {
      ids: sql
        .exec<{ id: string }>("SELECT id FROM messages ORDER BY seq")
        .toArray()
        .map((row) => row.id),
      parts: Number(sql.exec("SELECT COUNT(DISTINCT seq) AS count FROM message_parts").one().count),
      orphanParts: Number(sql.exec("SELECT COUNT(*) AS count FROM message_parts WHERE seq NOT IN (SELECT seq FROM messages)").one().count),
      bytes: Number(sql.exec("SELECT COALESCE(SUM(length(data)), 0) AS bytes FROM message_parts").one().bytes),
      totals: sql.exec<{ messages: number; bytes: number }>("SELECT messages, bytes FROM history_totals").one(),
    };
  });
}

const numbered = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `m${from + i}`);
const lastTexts = async (room: string) =>
  ((await (await request(roomPath("rooms", room, "last"))).json()) as Json[]).map((message) => message.text);
const pageTexts = async (room: string, query = "?limit=100") =>
  ((await (await request(roomPath("rooms", room, `messages${query}`))).json()) as { messages: Json[] }).messages.map(
    (message) => message.text,
  );

function alarmOf(room: string): Promise<number | null> {
  return runInDurableObject(roomStub(room), (_instance, state) => state.storage.getAlarm());
}

/** Moves the stored time of these messages `days` into the past, as if they had been sent then. */
function age(room: string, ids: string[], days: number): Promise<void> {
  return runInDurableObject(roomStub(room), (_instance, state) => {
    for (const id of ids) state.storage.sql.exec("UPDATE messages SET created_at = created_at - ? WHERE id = ?", days * DAY_MS, id);
  });
}

function createdAt(room: string, id: string): Promise<number> {
  return runInDurableObject(roomStub(room), (_instance, state) =>
    Number(state.storage.sql.exec("SELECT created_at FROM messages WHERE id = ?", id).one().created_at),
  );
}

describe("the whole history", () => {
  it("keeps every message, while the replay and GET …/last stay the newest MAX_STORED_MESSAGES", async () => {
    const room = freshRoom();
    const ids = await postTexts(room, numbered(1, 40));
    const rows = await storedRows(room);
    expect(rows.ids).toEqual(ids);
    expect(rows.parts).toBe(40);
    expect(rows.totals).toEqual({ messages: 40, bytes: rows.bytes });
    expect(await lastTexts(room)).toEqual(numbered(36, 40));
    expect(await pageTexts(room)).toEqual(numbered(1, 40));
  });
});

describe("retention by number (RETENTION_MAX_MESSAGES)", () => {
  it("deletes the oldest beyond the cap on every append, rows and chunks", async () => {
    const room = freshFewRoom(); // at most 6
    const ids = await postTexts(room, numbered(1, 10));
    const rows = await storedRows(room);
    expect(rows.ids).toEqual(ids.slice(4));
    expect(rows.parts).toBe(6);
    expect(rows.orphanParts).toBe(0);
    expect(rows.totals).toEqual({ messages: 6, bytes: rows.bytes });
    expect(await pageTexts(room)).toEqual(numbered(5, 10));
    expect(await lastTexts(room)).toEqual(numbered(6, 10));
  });
});

describe("retention by bytes (RETENTION_MAX_BYTES)", () => {
  it("deletes the oldest until the history is within the cap, counting what SQLite holds", async () => {
    const room = freshSmallRoom(); // at most 2,000 bytes
    const texts = Array.from({ length: 30 }, (_, i) => `${String(i + 1).padStart(2, "0")} ${"x".repeat(100)}`);
    const ids = await postTexts(room, texts);
    const rows = await storedRows(room);
    expect(rows.bytes).toBeLessThanOrEqual(2_000);
    expect(rows.totals).toEqual({ messages: rows.ids.length, bytes: rows.bytes });
    expect(rows.orphanParts).toBe(0);
    // The newest, as many as fit: one more would not.
    expect(rows.ids).toEqual(ids.slice(ids.length - rows.ids.length));
    const oneMessage = rows.bytes / rows.ids.length;
    expect(rows.bytes + oneMessage).toBeGreaterThan(2_000);
    expect(rows.ids.length).toBeGreaterThan(5);
  });

  it("broadcasts but does not store a message larger than the whole cap, and keeps the others", async () => {
    const room = freshSmallRoom();
    const ids = await postTexts(room, ["small"]);
    const alice = await Client.open("rooms", room);
    await alice.take(2); // nb_users, the replayed "small"
    const layer = {
      type: "geojson",
      author: "alice",
      layer_name: "big",
      crs_wkt: "GEOGCRS[]",
      crs_authid: "EPSG:4326",
      geojson: { type: "FeatureCollection", features: [{ type: "Feature", properties: { note: "y".repeat(3_000) }, geometry: null }] },
    };
    alice.send(layer);
    expect(await alice.next()).toMatchObject({ type: "geojson", layer_name: "big" });
    expect((await storedRows(room)).ids).toEqual(ids);
  });
});

describe("retention by age (RETENTION_DAYS) and the room's one alarm", () => {
  it("never shows an expired message, even before the alarm, and the alarm deletes its rows", async () => {
    const room = freshRoom();
    const ids = await postTexts(room, ["old 1", "old 2", "recent"]);
    // Set when the first message was stored, for when it expires.
    const first = await createdAt(room, ids[0]!);
    expect(await alarmOf(room)).toBe(first + RETENTION_DAYS * DAY_MS);
    await age(room, ids.slice(0, 2), RETENTION_DAYS + 1);
    // Still in SQLite, shown nowhere.
    expect((await storedRows(room)).ids).toEqual(ids);
    expect(await lastTexts(room)).toEqual(["recent"]);
    expect(await pageTexts(room)).toEqual(["recent"]);
    const late = await Client.open("rooms", room);
    expect(await late.next()).toMatchObject({ type: "nb_users" });
    expect(await late.next()).toMatchObject({ text: "recent" });
    const cursor = await request(roomPath("rooms", room, `messages?before=${ids[1]}`));
    expect(cursor.status).toBe(404);
    // The alarm: rows gone, set again for the one left.
    expect(await runDurableObjectAlarm(roomStub(room))).toBe(true);
    const rows = await storedRows(room);
    expect(rows.ids).toEqual([ids[2]]);
    expect(rows.parts).toBe(1);
    expect(rows.totals).toEqual({ messages: 1, bytes: rows.bytes });
    expect(await alarmOf(room)).toBe((await createdAt(room, ids[2]!)) + RETENTION_DAYS * DAY_MS);
  });

  it("is one alarm for bans and messages, at the earliest of both, and does both when it rings", async () => {
    const room = freshRoom();
    const [id] = await postTexts(room, ["hello"]);
    const expiry = (await createdAt(room, id!)) + RETENTION_DAYS * DAY_MS;
    const ban = await request(roomPath("rooms", room, "users/bob?seconds=1"), {
      method: "DELETE",
      headers: { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    });
    const bannedUntil = Date.parse(((await ban.json()) as { banned_until: string }).banned_until);
    // The ban ends first: the one alarm is for it.
    expect(await alarmOf(room)).toBe(bannedUntil);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await runDurableObjectAlarm(roomStub(room));
    const bans = await runInDurableObject(roomStub(room), (_instance, state) =>
      Number(state.storage.sql.exec("SELECT COUNT(*) AS count FROM bans").one().count),
    );
    expect(bans).toBe(0);
    // The message stays, and the alarm is now for it.
    expect((await storedRows(room)).ids).toEqual([id]);
    expect(await alarmOf(room)).toBe(expiry);

    // A message past its age, then a ban of an hour: the alarm is for the message (due now), not the ban.
    await age(room, [id!], RETENTION_DAYS + 1);
    await request(roomPath("rooms", room, "users/carol?seconds=3600"), {
      method: "DELETE",
      headers: { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    });
    const due = await alarmOf(room);
    // Due now (a past expiry is set as "now"), not in an hour. The runtime may have rung it
    // already (it is due): then the message is gone and the alarm is set again, for the ban.
    if (due !== null && due > Date.now()) expect((await storedRows(room)).ids).toEqual([]);
    else await runDurableObjectAlarm(roomStub(room));
    expect((await storedRows(room)).ids).toEqual([]);
    const { carol, alarm } = await runInDurableObject(roomStub(room), async (_instance, state) => ({
      carol: Number(state.storage.sql.exec("SELECT until FROM bans WHERE nickname = 'carol'").one().until),
      alarm: await state.storage.getAlarm(),
    }));
    expect(alarm).toBe(carol);
  });

  it("has no alarm once nothing can expire", async () => {
    const room = freshRoom();
    await postTexts(room, ["soon cleared"]);
    expect(await alarmOf(room)).not.toBeNull();
    const cleared = await request(roomPath("rooms", room, "last"), {
      method: "DELETE",
      headers: { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    });
    expect(cleared.status).toBe(204);
    expect(await alarmOf(room)).toBeNull();
    expect((await storedRows(room)).ids).toEqual([]);
  });
});
