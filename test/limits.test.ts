// Per-room limits (ROOM_LIMITS in vitest.config.ts): the room's rules, its cap on
// live sockets, and each socket's rate limit, which hibernation does not reset.
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { networkOf } from "../src/server/client-network";
import { BOTH_FAMILIES, Client, evictForReal, expectNothingBefore, freshRoom, type Json, request, roomPath, roomStub } from "./helpers";
import { freshSlowRoom } from "./rooms";

const FAMILIES = BOTH_FAMILIES;
const TOO_FAST = /^You are sending messages too fast: wait \d+ s before sending again \(pictures and layers count more\)\.$/;

const FLOODER_ADDRESS = "203.0.113.7";

function from(address: string) {
  return { "CF-Connecting-IP": address };
}

/** Floods a slow room's socket (5 messages, then 10 warnings) until the room closes it. */
async function floodUntilClosed(flooder: Client): Promise<void> {
  for (let i = 0; i < 30; i++) flooder.send({ type: "text", author: "flooder", text: `flood ${i}` });
  expect((await flooder.closed).code).toBe(1008);
}

/** An upgrade request from an address: its answer, whatever it is. */
async function upgrade(room: string, address: string): Promise<Response> {
  const answer = await request(roomPath("rooms", room, "ws"), { headers: { Upgrade: "websocket", ...from(address) } });
  answer.webSocket?.accept();
  answer.webSocket?.close(1000, "probe");
  return answer;
}

/** As if the refusals' minute had passed: the room's clock cannot be moved from here. */
async function endRefusals(room: string): Promise<void> {
  await runInDurableObject(roomStub(room), (_instance, state) => {
    state.storage.sql.exec("UPDATE flooders SET refused_until = 0");
  });
}

async function json(path: string) {
  const response = await request(path);
  expect(response.headers.get("Content-Type")).toBe("application/json");
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe("GET /{family}/{name}/rules", () => {
  it.each(FAMILIES)("answers the room's effective limits (%s)", async (family) => {
    const defaults = (await json("/rules")).body;
    expect(defaults).toMatchObject({ rules: "YOLO", main_lang: "en", max_users: 1000, rate_limit_burst: 20, rate_limit_per_second: 2 });
    expect((await json(roomPath(family, "small room", "rules"))).body).toEqual({ ...defaults, max_users: 3 });
    expect((await json(roomPath(family, "slow-0", "rules"))).body).toEqual({
      ...defaults,
      rate_limit_burst: 5,
      rate_limit_per_second: 0.2,
    });
    expect((await json(roomPath(family, "QGIS", "rules"))).body).toEqual(defaults);
  });

  it("answers 404 for an unknown room", async () => {
    expect(await json(roomPath("channels", "nowhere", "rules"))).toEqual({
      status: 404,
      body: { detail: "Channel 'nowhere' not registered" },
    });
  });
});

describe("max_users", () => {
  it("closes a socket over the cap with 1013 and a reason, and lets one in again when a place frees", async () => {
    const present = await Promise.all([0, 1, 2].map(() => Client.open("rooms", "small room")));
    const late = await Client.open("channels", "small room");
    expect(await late.closed).toEqual({ code: 1013, reason: "Channel 'small room' is full (3 connected): try again later." });
    expect(present.every((client) => client.isOpen)).toBe(true);

    present[0]!.close();
    const watcher = present[1]!;
    // Wait until the room has counted the departure.
    for (let message = await watcher.next(); message.nb_users !== 2; message = await watcher.next());
    const next = await Client.open("rooms", "small room");
    expect(await next.next()).toEqual({ type: "nb_users", nb_users: 3 });
  });
});

describe("rate limit", () => {
  it("lets a registration and ten quick messages through with the default budget", async () => {
    const room = freshRoom();
    const sender = await Client.join("rooms", room, "quick");
    for (let i = 0; i < 10; i++) sender.send({ type: "text", author: "quick", text: `message ${i}` });
    const received = await sender.take(10);
    expect(received.map((message) => message.text)).toEqual(Array.from({ length: 10 }, (_, i) => `message ${i}`));
  });

  it("refuses a message over the budget with a reason to slow down, sent to the sender alone", async () => {
    const room = freshSlowRoom();
    const watcher = await Client.join("rooms", room, "watcher");
    const sender = await Client.join("rooms", room, "sender"); // 1 of 5
    await watcher.take(2); // nb_users and sender's newcomer
    for (let i = 0; i < 4; i++) sender.send({ type: "text", author: "sender", text: `ok ${i}` });
    expect((await sender.take(4)).map((message) => message.text)).toEqual(["ok 0", "ok 1", "ok 2", "ok 3"]);
    await watcher.take(4);
    expect(await sender.rejected({ type: "text", author: "sender", text: "one too many" })).toMatch(TOO_FAST);
    expect(sender.isOpen).toBe(true);
    // The watcher's own next message is the first it gets: nothing of the refused one.
    await expectNothingBefore(watcher, watcher, "watcher");
  });

  it("counts a layer as five messages", async () => {
    const room = freshSlowRoom();
    const sender = await Client.join("rooms", room, "mapper"); // 4 left
    const layer = {
      type: "geojson",
      author: "mapper",
      layer_name: "points",
      crs_wkt: "EPSG:4326",
      crs_authid: "EPSG:4326",
      geojson: { type: "FeatureCollection", features: [] },
    };
    expect(await sender.rejected(layer)).toMatch(TOO_FAST);
    sender.send({ type: "text", author: "mapper", text: "a text still fits" });
    expect(await sender.next()).toMatchObject({ type: "text", text: "a text still fits" });
  });

  it("charges frames that are not even valid messages", async () => {
    const room = freshSlowRoom();
    const sender = await Client.open("rooms", room);
    await sender.next(); // nb_users
    for (let i = 0; i < 5; i++) expect(await sender.rejected("not json")).not.toMatch(TOO_FAST);
    expect(await sender.rejected("not json")).toMatch(TOO_FAST);
  });

  it("closes a socket that keeps flooding after the warnings with 1008, and announces its exit", async () => {
    const room = freshSlowRoom();
    const watcher = await Client.join("rooms", room, "watcher");
    const flooder = await Client.join("channels", room, "flooder");
    await watcher.take(2); // nb_users and the flooder's newcomer
    for (let i = 0; i < 30; i++) flooder.send({ type: "text", author: "flooder", text: `flood ${i}` });
    expect(await flooder.closed).toEqual({ code: 1008, reason: "Closed for flooding: too many messages after warnings to slow down." });
    const seen = await watcher.take(6);
    expect(seen.slice(0, 4).map((message) => message.text)).toEqual(["flood 0", "flood 1", "flood 2", "flood 3"]);
    expect(seen.slice(4)).toEqual([
      { type: "exiter", exiter: "flooder" },
      { type: "nb_users", nb_users: 1 },
    ]);
    expect(watcher.isOpen).toBe(true);
    // The frames still in flight when it was closed were dropped, not broadcast.
    await expectNothingBefore(watcher, watcher, "watcher");
  });

  it("lets a fresh socket's first 20 of 400 texts sent at once through, refuses 10, closes it, and drops the rest unread", async () => {
    const room = freshRoom(); // the defaults: a burst of 20
    const watcher = await Client.join("rooms", room, "watcher");
    const flooder = await Client.open("rooms", room, from(FLOODER_ADDRESS));
    expect(await flooder.next()).toMatchObject({ type: "nb_users" });
    const flood = Array.from({ length: 400 }, (_, i) => ({ type: "text", author: "flooder", avatar: null, text: `flood ${i + 1}` }));
    for (const text of flood) flooder.send(text);
    const first20 = flood.slice(0, 20);

    const answered = await flooder.take(30);
    expect(answered.slice(0, 20)).toEqual(first20);
    for (const refusal of answered.slice(20)) expect(refusal).toEqual({ type: "uncompliant", reason: expect.stringMatching(TOO_FAST) });
    expect(await flooder.closed).toEqual({ code: 1008, reason: "Closed for flooding: too many messages after warnings to slow down." });
    // The 370 frames after the one that closed it were dropped unanswered.
    await expect(flooder.next(300)).rejects.toThrow(/no message within/);

    const seen: Json[] = [];
    for (let message = await watcher.next(); !(message.type === "nb_users" && message.nb_users === 1); message = await watcher.next()) {
      seen.push(message);
    }
    expect(seen.filter((message) => message.type !== "nb_users")).toEqual(first20);
    // Its other 380 frames reached no one, and the room still answers the others at once.
    await expectNothingBefore(watcher, watcher, "watcher");
  });

  it("refuses connections from a flooder's address for a minute with 429 and a reason, and no one else's", async () => {
    const room = freshSlowRoom();
    const flooder = await Client.join("rooms", room, "flooder", from(FLOODER_ADDRESS));
    await floodUntilClosed(flooder);
    for (const family of FAMILIES) {
      const refused = await request(roomPath(family, room, "ws"), { headers: { Upgrade: "websocket", ...from(FLOODER_ADDRESS) } }); // the room, then the Worker
      expect(refused.status).toBe(429);
      expect(refused.webSocket).toBeNull();
      const seconds = Number(refused.headers.get("Retry-After"));
      expect(seconds).toBeGreaterThan(50);
      expect(seconds).toBeLessThanOrEqual(60);
      expect(refused.headers.get("Content-Type")).toBe("application/json");
      const noun = family === "rooms" ? "Room" : "Channel";
      expect(await refused.json()).toEqual({
        detail: `${noun} '${room}' closed a connection from your address for flooding: new connections from it are refused for ${seconds} s more.`,
      });
    }
    const neighbour = await Client.open("rooms", room, from("198.51.100.1"));
    await neighbour.take(5); // nb_users, and the four texts that got through, replayed
    neighbour.send({ type: "newcomer", newcomer: "neighbour" });
    expect(await neighbour.next()).toMatchObject({ type: "newcomer", newcomer: "neighbour" });
  });

  it("starts a flooder's next socket after the refusal with an empty budget", async () => {
    const room = freshSlowRoom();
    const flooder = await Client.join("rooms", room, "flooder", from(FLOODER_ADDRESS));
    await floodUntilClosed(flooder);
    await endRefusals(room);
    const again = await Client.open("rooms", room, from(FLOODER_ADDRESS));
    await again.take(5); // nb_users, and the four texts that got through, replayed
    expect(await again.rejected({ type: "newcomer", newcomer: "flooder" })).toMatch(TOO_FAST);
  });

  it("remembers an IPv6 flooder by its /64, where one host picks its addresses", async () => {
    const room = freshSlowRoom();
    const flooder = await Client.join("rooms", room, "flooder", from("2001:db8:1:2::7"));
    await floodUntilClosed(flooder);
    expect((await upgrade(room, "2001:db8:1:2:a:b:c:d")).status).toBe(429);
    expect((await upgrade(room, "2001:db8:1:3::7")).status).toBe(101);
  });

  it("answers a flooder's next attempts in the Worker, a second late, until its Retry-After, without waking the room", async () => {
    const room = freshSlowRoom();
    const flooder = await Client.join("rooms", room, "flooder", from(FLOODER_ADDRESS));
    await floodUntilClosed(flooder);
    expect((await upgrade(room, FLOODER_ADDRESS)).status).toBe(429); // the room's answer
    await endRefusals(room); // the room would now let it in...
    const asked = Date.now();
    const again = await upgrade(room, FLOODER_ADDRESS);
    expect(again.status).toBe(429); // ...but the Worker still holds the refusal it passed on
    expect(Date.now() - asked).toBeGreaterThanOrEqual(1_000); // and answers it slowly, so that a retry loop slows down
    expect(Number(again.headers.get("Retry-After"))).toBeGreaterThan(50);
    expect((await upgrade(room, "198.51.100.1")).status).toBe(101);
  });

  it("keeps a spent budget across hibernation", async () => {
    const room = freshSlowRoom();
    const sender = await Client.join("rooms", room, "sleeper");
    for (let i = 0; i < 4; i++) sender.send({ type: "text", author: "sleeper", text: `ok ${i}` });
    await sender.take(4);
    await evictForReal(room);
    expect(await sender.rejected({ type: "text", author: "sleeper", text: "after the nap" })).toMatch(TOO_FAST);
  });
});

describe("flooders' networks", () => {
  it.each([
    ["203.0.113.7", "203.0.113.7"],
    ["::ffff:203.0.113.7", "203.0.113.7"],
    ["2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"],
    ["2001:DB8:1:2::", "2001:db8:1:2::/64"],
    ["not an address", "not an address"],
    // IPv4 written otherwise than in plain dotted decimal is remembered as its plain form.
    ["010.0.0.1", "8.0.0.1"],
    ["1.2.3.04", "1.2.3.4"],
    ["0x7f.0.0.1", "127.0.0.1"],
    ["0.0.0.0", "0.0.0.0"],
    ["255.255.255.255", "255.255.255.255"],
    ["256.1.1.1", "256.1.1.1"],
  ])("remembers %s as %s", (address, network) => {
    expect(networkOf(address)).toBe(network);
  });
});
