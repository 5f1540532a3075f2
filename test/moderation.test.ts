// Banning a nickname from a room: its sockets closed, its exit announced, the
// nickname refused until the ban ends, the ban kept in SQLite and cleaned by an
// alarm that exists only while a ban does; every action logged as one JSON line.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { aliceAndBob, Client, type Family, freshRoom, request, roomPath, roomStub } from "./helpers";

const TEST_ADMIN_TOKEN = env.ADMIN_TOKEN!;
const BAN_REASON = /^The nickname 'bob' is banned from this room by a moderator until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\.$/;

function ban(
  family: Family,
  room: string,
  nickname: string,
  query: string,
  authorization: string | undefined = `Bearer ${TEST_ADMIN_TOKEN}`,
) {
  return request(roomPath(family, room, `users/${encodeURIComponent(nickname)}${query}`), {
    method: "DELETE",
    headers: authorization === undefined ? {} : { Authorization: authorization },
  });
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("DELETE /{family}/{name}/users/{nickname}", () => {
  it.each(["rooms", "channels"] as const)(
    "closes the nickname's sockets with 1008, announces its exit and answers the ban (%s)",
    async (family) => {
      const { room, alice, bob } = await aliceAndBob();
      const response = await ban(family, room, "bob", "?seconds=3600");
      expect(response.status).toBe(200);
      expect(response.headers.get("Content-Type")).toBe("application/json");
      const body = (await response.json()) as { banned_until: string };
      expect(body).toEqual({ nickname: "bob", banned_until: expect.any(String), disconnected: 1 });
      expect(Date.parse(body.banned_until) - Date.now()).toBeGreaterThan(3_590_000);
      expect(await bob.closed).toEqual({ code: 1008, reason: "Banned from this room by a moderator for 60 min." });
      expect(await alice.take(2)).toEqual([
        { type: "exiter", exiter: "bob" },
        { type: "nb_users", nb_users: 1 },
      ]);
      expect(await (await request(roomPath("rooms", room, "users"))).json()).toEqual(["alice"]);
    },
  );

  it("refuses the banned nickname everywhere in the room until the ban ends", async () => {
    const { room, alice } = await aliceAndBob();
    await ban("rooms", room, "bob", "?seconds=3600");
    await alice.take(2);
    const again = await Client.open("rooms", room);
    expect(await again.next()).toEqual({ type: "nb_users", nb_users: 2 });
    expect(await again.rejected({ type: "newcomer", newcomer: "bob" })).toMatch(BAN_REASON);
    expect(await again.rejected({ type: "text", author: "bob", text: "unregistered, still bob" })).toMatch(BAN_REASON);
    const put = await request(roomPath("channels", room, "text"), {
      method: "PUT",
      body: JSON.stringify({ author: "bob", text: "over REST" }),
    });
    expect(put.status).toBe(403);
    expect(((await put.json()) as { detail: string }).detail).toMatch(BAN_REASON);
    // Other rooms are not concerned.
    const elsewhere = await Client.join("rooms", freshRoom(), "bob");
    expect(elsewhere.isOpen).toBe(true);
  });

  it("lets the nickname back once the ban has ended, and the alarm removes it", async () => {
    const { room, alice } = await aliceAndBob();
    await ban("rooms", room, "bob", "?seconds=1");
    await alice.take(2);
    const stub = roomStub(room);
    const alarmSet = await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());
    expect(alarmSet).not.toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    // The alarm is due: run it now unless the runtime already has.
    await runDurableObjectAlarm(stub);
    const { bans, alarm } = await runInDurableObject(stub, async (_instance, state) => ({
      bans: state.storage.sql.exec("SELECT COUNT(*) AS count FROM bans").one().count,
      alarm: await state.storage.getAlarm(),
    }));
    expect({ bans, alarm }).toEqual({ bans: 0, alarm: null });
    await Client.join("rooms", room, "bob");
  });

  it("logs the ban as one JSON line with the room, the action and the target, never the token", async () => {
    const log = vi.spyOn(console, "log");
    const { room } = await aliceAndBob();
    await ban("rooms", room, "bob", "?seconds=60");
    const lines = log.mock.calls.map(([line]) => String(line)).filter((line) => line.includes('"moderation"'));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toEqual({
      event: "moderation",
      room,
      action: "ban",
      target: "bob",
      until: expect.any(String),
      disconnected: 1,
      time: expect.any(String),
    });
    expect(lines[0]).not.toContain(TEST_ADMIN_TOKEN);
  });

  it.each([
    ["no duration", ""],
    ["a duration of zero", "?seconds=0"],
    ["a duration that is not a number", "?seconds=forever"],
    ["a duration over a year", `?seconds=${366 * 24 * 3600}`],
  ])("answers 422 for %s, banning no one", async (_case, query) => {
    const { room, bob } = await aliceAndBob();
    const response = await ban("rooms", room, "bob", query);
    expect(response.status).toBe(422);
    expect(await response.json()).toEqual({
      detail: [
        {
          loc: ["query", "seconds"],
          msg: "Query parameter 'seconds' must be a whole number of seconds from 1 to 31536000 (a year): how long the ban lasts.",
          type: "value_error",
        },
      ],
    });
    expect(bob.isOpen).toBe(true);
  });

  it("answers 401 without the admin token, banning no one", async () => {
    const { room, bob } = await aliceAndBob();
    const response = await ban("rooms", room, "bob", "?seconds=60", "Bearer not-the-token");
    expect(response.status).toBe(401);
    expect(bob.isOpen).toBe(true);
    expect(await (await request(roomPath("rooms", room, "users"))).json()).toEqual(["alice", "bob"]);
  });

  it("answers 404 for an unknown room", async () => {
    const response = await ban("channels", "Nowhere", "bob", "?seconds=60");
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ detail: "Channel 'Nowhere' not registered" });
  });
});
