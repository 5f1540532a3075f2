// Per-room limits (ROOM_LIMITS in vitest.config.ts): the room's rules, its cap on
// live sockets, and each socket's rate limit, which hibernation does not reset.
import { describe, expect, it } from "vitest";
import { Client, evictForReal, expectNothingBefore, freshRoom, request, roomPath, type Family } from "./helpers";

const FAMILIES: Family[] = ["rooms", "channels"];
const TOO_FAST = /^You are sending messages too fast: wait \d+ s before sending again \(pictures and layers count more\)\.$/;

let slowRooms = 0;
/** A room where a socket may send 5 messages at once, then one every 5 s. */
function freshSlowRoom(): string {
  return `slow-${slowRooms++}`;
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
    expect((await json(roomPath(family, "slow-0", "rules"))).body).toEqual({ ...defaults, rate_limit_burst: 5, rate_limit_per_second: 0.2 });
    expect((await json(roomPath(family, "QGIS", "rules"))).body).toEqual(defaults);
  });

  it("answers 404 for an unknown room", async () => {
    expect(await json(roomPath("channels", "nowhere", "rules"))).toEqual({ status: 404, body: { detail: "Channel 'nowhere' not registered" } });
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
    const layer = { type: "geojson", author: "mapper", layer_name: "points", crs_wkt: "EPSG:4326", crs_authid: "EPSG:4326", geojson: { type: "FeatureCollection", features: [] } };
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
    expect(seen.slice(4)).toEqual([{ type: "exiter", exiter: "flooder" }, { type: "nb_users", nb_users: 1 }]);
    expect(watcher.isOpen).toBe(true);
    // The frames still in flight when it was closed were dropped, not broadcast.
    await expectNothingBefore(watcher, watcher, "watcher");
  });

  it("starts a flooder's next socket from the same address with an empty budget", async () => {
    const room = freshSlowRoom();
    const from = (address: string) => ({ "CF-Connecting-IP": address });
    const flooder = await Client.join("rooms", room, "flooder", from("203.0.113.7"));
    for (let i = 0; i < 30; i++) flooder.send({ type: "text", author: "flooder", text: `flood ${i}` });
    expect((await flooder.closed).code).toBe(1008);
    const again = await Client.open("rooms", room, from("203.0.113.7"));
    await again.take(5); // nb_users, and the four texts that got through, replayed
    expect(await again.rejected({ type: "newcomer", newcomer: "flooder" })).toMatch(TOO_FAST);
    const neighbour = await Client.open("rooms", room, from("198.51.100.1"));
    await neighbour.take(5);
    neighbour.send({ type: "newcomer", newcomer: "neighbour" });
    expect(await neighbour.next()).toMatchObject({ type: "newcomer", newcomer: "neighbour" });
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
