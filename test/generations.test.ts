// Every client generation in use today, in one room: QChat 1.7 threads and its own
// message ids, QChat before 1.7 and QTribu 1.1+ unchanged, and gischat 1.x (QTribu
// 1.0) speaking untyped frames on the rooms path. Exact field sets throughout.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  aliceAndBob,
  Client,
  evictForReal,
  expectChannelStamp,
  expectNothingBefore,
  freshRoom,
  type Json,
  request,
  roomPath,
  withoutStamp,
} from "./helpers";
import { freshSlowRoom } from "./rooms";

const WKT =
  'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]]';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const REPLY_REASON = "Field 'in_reply_to_id' must be the id (a UUID string) of the message answered, or null.";
const NOTICE = "(server)";

/** A small image the pipeline accepts: a 1×1 PNG. */
const TINY_PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

/** One sample of each type QChat 1.7 threads, as alice (registered) sends it. */
const THREADED_SAMPLES: Record<string, Json> = {
  text: { type: "text", author: "alice", avatar: null, text: "an answer" },
  image: { type: "image", author: "alice", avatar: null, image_data: TINY_PNG },
  geojson: {
    type: "geojson",
    author: "alice",
    avatar: null,
    layer_name: "roads",
    crs_wkt: WKT,
    crs_authid: "EPSG:4326",
    geojson: {
      type: "FeatureCollection",
      features: [{ type: "Feature", properties: {}, geometry: { type: "Point", coordinates: [2, 48] } }],
    },
    style: null,
  },
  crs: { type: "crs", author: "alice", avatar: null, crs_wkt: WKT, crs_authid: "EPSG:4326" },
  bbox: { type: "bbox", author: "alice", avatar: null, crs_wkt: WKT, crs_authid: "EPSG:4326", xmin: 1, xmax: 2, ymin: 48, ymax: 49 },
  position: { type: "position", author: "alice", avatar: null, crs_wkt: WKT, crs_authid: "EPSG:4326", x: 2.35, y: 48.85 },
};

/** Sends a text from bob (channels) and returns the id everyone knows it by. */
async function original(bob: Client, alice: Client, text = "a question"): Promise<string> {
  bob.send({ type: "text", author: "bob", text });
  const received = await bob.next();
  await alice.next();
  return received.id as string;
}

async function replayOf(family: "rooms" | "channels", room: string, count: number): Promise<Json[]> {
  const client = await Client.open(family, room);
  const [, ...replayed] = await client.take(1 + count);
  client.close();
  return replayed;
}

async function lastOf(family: "rooms" | "channels", room: string): Promise<Json[]> {
  return (await (await request(roomPath(family, room, "last"))).json()) as Json[];
}

describe("threads: in_reply_to_id (QChat 1.7)", () => {
  it.each(Object.keys(THREADED_SAMPLES))("a %s reply reaches channels with in_reply_to_id and its id, rooms with neither", async (type) => {
    const { alice, bob } = await aliceAndBob();
    const answered = await original(bob, alice);
    const id = crypto.randomUUID();
    alice.send({ ...THREADED_SAMPLES[type], id, in_reply_to_id: answered });
    const atRooms = await alice.next();
    const atChannels = await bob.next();
    // The image comes back resized and re-encoded: its data is the server's own.
    const content = type === "image" ? { ...THREADED_SAMPLES[type], image_data: atRooms.image_data } : THREADED_SAMPLES[type];
    expect(atRooms).toEqual(content);
    expect(atChannels).toEqual({ ...content, id, timestamp: expect.any(Number), in_reply_to_id: answered });
    expectChannelStamp(atChannels);
  });

  it.each([
    ["absent", {}],
    ["null", { in_reply_to_id: null }],
  ])("a message that is not a reply (in_reply_to_id %s) reaches channels with exactly the older field set", async (_case, extra) => {
    const { alice, bob } = await aliceAndBob();
    alice.send({ type: "text", author: "alice", text: "plain", ...extra });
    const expected = { type: "text", author: "alice", avatar: null, text: "plain" };
    expect(await alice.next()).toEqual(expected);
    const received = await bob.next();
    expect(Object.keys(received)).toEqual([...Object.keys(expected), "id", "timestamp"]);
    expect(withoutStamp(received)).toEqual(expected);
  });

  it.each([
    ["model", { type: "model", author: "alice", avatar: null, model_name: "buffer", model_group: null, raw_xml: "<Model/>" }],
    ["script", { type: "script", author: "alice", avatar: null, name: "count", raw_pycode: "print(1)\n" }],
  ])("a %s never carries in_reply_to_id: QChat 1.7 has no such field there", async (_type, sample) => {
    const { alice, bob } = await aliceAndBob();
    const answered = await original(bob, alice);
    alice.send({ ...sample, in_reply_to_id: answered });
    expect(await alice.next()).toEqual(sample);
    const received = await bob.next();
    expect(Object.keys(received)).toEqual([...Object.keys(sample), "id", "timestamp"]);
  });

  it.each([
    ["a number", 42],
    ["not a UUID", "message-12"],
    ["an object", { id: "x" }],
    ["an empty string", ""],
  ])("in_reply_to_id that is %s is uncompliant, naming the field, and nobody else hears of it", async (_case, value) => {
    const { alice, bob } = await aliceAndBob();
    expect(await alice.rejected({ type: "text", author: "alice", text: "x", in_reply_to_id: value })).toBe(REPLY_REASON);
    await expectNothingBefore([alice, bob], alice, "alice");
  });

  it("a message cannot answer itself", async () => {
    const { alice, bob } = await aliceAndBob();
    const id = crypto.randomUUID();
    expect(await alice.rejected({ type: "text", author: "alice", text: "me?", id, in_reply_to_id: id })).toBe(
      "Field 'in_reply_to_id' is this message's own id: a reply names the id of another message.",
    );
    await expectNothingBefore([alice, bob], alice, "alice");
  });

  it("need not name a stored message: the original may be older than the history", async () => {
    const { alice, bob } = await aliceAndBob();
    const unknown = crypto.randomUUID();
    alice.send({ type: "text", author: "alice", text: "re: long ago", in_reply_to_id: unknown });
    await alice.next();
    expect(await bob.next()).toMatchObject({ text: "re: long ago", in_reply_to_id: unknown });
  });

  it("the replay and GET …/last keep the thread, for the channels family only", async () => {
    const { room, alice, bob } = await aliceAndBob();
    const answered = await original(bob, alice);
    alice.send({ type: "text", author: "alice", text: "the answer", in_reply_to_id: answered });
    await alice.next();
    const reply = await bob.next();
    const [question, answer] = await replayOf("channels", room, 2);
    expect(question).toEqual({
      type: "text",
      author: "bob",
      avatar: null,
      text: "a question",
      id: answered,
      timestamp: expect.any(Number),
    });
    expect(answer).toEqual(reply);
    expect(await replayOf("rooms", room, 2)).toEqual([
      { type: "text", author: "bob", avatar: null, text: "a question" },
      { type: "text", author: "alice", avatar: null, text: "the answer" },
    ]);
    expect((await lastOf("channels", room))[1]).toEqual(reply);
    expect((await lastOf("rooms", room))[1]).toEqual({ type: "text", author: "alice", avatar: null, text: "the answer" });
  });

  it("PUT …/text takes a reply too (a bot answering)", async () => {
    const { room, alice, bob } = await aliceAndBob();
    const answered = await original(bob, alice);
    const response = await request(roomPath("channels", room, "text"), {
      method: "PUT",
      body: JSON.stringify({ author: "bot_01", text: "noted", in_reply_to_id: answered }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ text: "noted", in_reply_to_id: answered });
    expect(await bob.next()).toMatchObject({ text: "noted", in_reply_to_id: answered });
    expect(await alice.next()).toEqual({ type: "text", author: "bot_01", avatar: null, text: "noted" });
  });
});

describe("a client's own id and timestamp", () => {
  it("keeps a client's UUID: every receiver, the replay and GET …/last know the message by it", async () => {
    const { room, alice, bob } = await aliceAndBob();
    const id = crypto.randomUUID();
    bob.send({ type: "text", author: "bob", text: "mine", id, timestamp: 1 });
    const echoed = await bob.next();
    expect(echoed.id).toBe(id);
    await alice.next();
    expect((await replayOf("channels", room, 1))[0]!.id).toBe(id);
    expect((await lastOf("channels", room))[0]!.id).toBe(id);
  });

  it("keeps the server's timestamp, not the client's (the server's clock orders the history)", async () => {
    const { bob } = await aliceAndBob();
    bob.send({ type: "text", author: "bob", text: "from a phone with a wrong clock", id: crypto.randomUUID(), timestamp: 946_684_800 });
    expectChannelStamp(await bob.next());
  });

  it("stamps a fresh id when a stored message already has the client's: never two stored messages with one id", async () => {
    const { room, alice, bob } = await aliceAndBob();
    const id = crypto.randomUUID();
    bob.send({ type: "text", author: "bob", text: "first", id });
    expect((await bob.next()).id).toBe(id);
    await alice.next();
    bob.send({ type: "text", author: "bob", text: "second", id });
    const second = await bob.next();
    expect(second).toMatchObject({ text: "second" });
    expect(second.id).toMatch(UUID);
    expect(second.id).not.toBe(id);
    const replayed = await replayOf("channels", room, 2);
    expect(replayed.map((message) => [message.text, message.id])).toEqual([
      ["first", id],
      ["second", second.id],
    ]);
  });

  it.each([
    ["not a UUID", "client-chosen"],
    ["a number", 7],
    ["null", null],
  ])("stamps a fresh id when the client's is %s, without an error", async (_case, id) => {
    const { bob } = await aliceAndBob();
    bob.send({ type: "text", author: "bob", text: "hi", id });
    const received = await bob.next();
    expect(received).toMatchObject({ type: "text", text: "hi" });
    expect(received.id).toMatch(UUID);
  });

  it("keeps an image's id through the resize: one id for the sender, the others and the replay", async () => {
    const { room, alice, bob } = await aliceAndBob();
    const id = crypto.randomUUID();
    bob.send({ type: "image", author: "bob", image_data: TINY_PNG, id });
    expect((await bob.next()).id).toBe(id);
    await alice.next();
    expect((await replayOf("channels", room, 1))[0]!.id).toBe(id);
  });
});

/** A QTribu 1.0 socket: on the rooms path, it speaks untyped frames. */
async function gischat1(room: string): Promise<Client> {
  const client = await Client.open("rooms", room);
  // Before its first frame the server cannot tell it from QTribu 1.1+: the typed count.
  expect(await client.next()).toMatchObject({ type: "nb_users" });
  return client;
}

/** alice (rooms, 2.x), bob (channels, 3.x) and jane on gischat 1.x, who has said hello; everyone has read everything. */
async function threeGenerations() {
  const { room, alice, bob } = await aliceAndBob();
  const jane = await gischat1(room);
  await alice.next();
  await bob.next(); // nb_users 3
  jane.send({ message: "hello", author: "jane", avatar: "mIconInfo.svg" });
  expect(await jane.take(2)).toEqual([
    { author: "internal", nb_users: 3 },
    { message: "hello", author: "jane", avatar: "mIconInfo.svg" },
  ]);
  await alice.take(2);
  await bob.take(2);
  return { room, alice, bob, jane };
}

/** Proves jane (1.x) received nothing since her last read: alice's sentinel text must come next. */
async function expectNothingBefore1x(jane: Client, alice: Client, others: Client[] = []): Promise<void> {
  const sentinel = `sentinel-${crypto.randomUUID()}`;
  alice.send({ type: "text", author: "alice", text: sentinel });
  expect(await jane.next()).toEqual({ message: sentinel, author: "alice", avatar: null });
  for (const other of [alice, ...others]) expect(await other.next()).toMatchObject({ text: sentinel });
}

describe("gischat 1.x clients (QTribu 1.0)", () => {
  it("a 1.x frame is a text for everyone: rooms and channels receive it typed, after the 1.x client's arrival", async () => {
    const { room, alice, bob } = await aliceAndBob();
    const jane = await gischat1(room);
    await alice.next();
    await bob.next();
    jane.send({ message: "hello from QTribu 1.0", author: "jane", avatar: "mIconInfo.svg" });
    expect(await jane.take(2)).toEqual([
      { author: "internal", nb_users: 3 },
      { message: "hello from QTribu 1.0", author: "jane", avatar: "mIconInfo.svg" },
    ]);
    const text = { type: "text", author: "jane", avatar: "mIconInfo.svg", text: "hello from QTribu 1.0" };
    expect(await alice.take(2)).toEqual([{ type: "newcomer", newcomer: "jane" }, text]);
    const [arrival, received] = await bob.take(2);
    expect(withoutStamp(arrival!)).toEqual({ type: "newcomer", newcomer: "jane" });
    expect(Object.keys(received!)).toEqual([...Object.keys(text), "id", "timestamp"]);
    expect(withoutStamp(received!)).toEqual(text);
    expect(await (await request(roomPath("rooms", room, "users"))).json()).toEqual(["alice", "bob", "jane"]);
  });

  it("avatar may be left out, as 1.x allowed", async () => {
    const { room, alice } = await aliceAndBob();
    const jane = await gischat1(room);
    await alice.next();
    jane.send({ message: "no avatar", author: "jane" });
    expect((await jane.take(2))[1]).toEqual({ message: "no avatar", author: "jane", avatar: null });
  });

  it("the 1.x text is stored and replayed like any other", async () => {
    const { room } = await threeGenerations();
    expect(await replayOf("rooms", room, 1)).toEqual([{ type: "text", author: "jane", avatar: "mIconInfo.svg", text: "hello" }]);
    expect(withoutStamp((await replayOf("channels", room, 1))[0]!)).toEqual({
      type: "text",
      author: "jane",
      avatar: "mIconInfo.svg",
      text: "hello",
    });
  });

  it("receives the others' texts and counts as 1.x frames, and nothing of their arrivals and departures", async () => {
    const { room, alice, bob, jane } = await threeGenerations();
    bob.send({ type: "text", author: "bob", text: "hi jane" });
    expect(await jane.next()).toEqual({ message: "hi jane", author: "bob", avatar: null });
    await alice.next();
    await bob.next();
    // The room has history: carol's own frames are not read.
    const carol = await Client.open("channels", room);
    carol.send({ type: "newcomer", newcomer: "carol" });
    expect(await jane.next()).toEqual({ author: "internal", nb_users: 4 });
    // Counts are coalesced (docs/protocol.md, §5): carol arrives within 250 ms of the last
    // count, so alice's nb_users 4 may come after carol's newcomer; both come.
    const toAlice = await alice.take(2);
    expect(toAlice).toHaveLength(2);
    expect(toAlice).toEqual(
      expect.arrayContaining([
        { type: "nb_users", nb_users: 4 },
        { type: "newcomer", newcomer: "carol" },
      ]),
    );
    carol.close();
    expect(await jane.next()).toEqual({ author: "internal", nb_users: 3 });
    expect(await alice.take(2)).toEqual([
      { type: "exiter", exiter: "carol" },
      { type: "nb_users", nb_users: 3 },
    ]);
    await bob.take(4);
    await expectNothingBefore1x(jane, alice, [bob]);
  });

  it("stays a 1.x client when the room hibernates: its attachment says so", async () => {
    const { room, alice, bob, jane } = await threeGenerations();
    await evictForReal(room);
    bob.send({ type: "text", author: "bob", text: "after a nap" });
    expect(await jane.next()).toEqual({ message: "after a nap", author: "bob", avatar: null });
    await alice.next();
    await bob.next();
    jane.close();
    expect(await alice.take(2)).toEqual([
      { type: "exiter", exiter: "jane" },
      { type: "nb_users", nb_users: 2 },
    ]);
  });

  it("its departure is announced to the others like anyone's", async () => {
    const { alice, bob, jane } = await threeGenerations();
    jane.close();
    expect(await alice.take(2)).toEqual([
      { type: "exiter", exiter: "jane" },
      { type: "nb_users", nb_users: 2 },
    ]);
    expect((await bob.take(2)).map(withoutStamp)).toEqual([
      { type: "exiter", exiter: "jane" },
      { type: "nb_users", nb_users: 2 },
    ]);
  });

  it("a changed nickname gives up the old one, as a second newcomer would", async () => {
    const { alice, jane } = await threeGenerations();
    jane.send({ message: "renamed", author: "jane_doe", avatar: null });
    expect(await jane.next()).toEqual({ message: "renamed", author: "jane_doe", avatar: null });
    expect(await alice.take(3)).toEqual([
      { type: "exiter", exiter: "jane" },
      { type: "newcomer", newcomer: "jane_doe" },
      { type: "text", author: "jane_doe", avatar: null, text: "renamed" },
    ]);
  });

  it.each([
    ["a text too long", { message: "x".repeat(256), author: "jane" }, "Field 'message' must be at most 255 characters long."],
    ["a short nickname", { message: "hi", author: "jo" }, "Field 'author' must be between 3 and 32 characters long."],
    ["a nickname with spaces", { message: "hi", author: "jane doe" }, "Field 'author' may only contain letters, digits, '_' and '-'."],
    ["a message that is not a string", { message: 12, author: "jane" }, "Field 'message' must be a string, got a number."],
    [
      "someone else's nickname",
      { message: "I am bob", author: "bob" },
      "The nickname 'bob' is registered by another user in this room: post under your own nickname.",
    ],
  ])("its refusals arrive as a notice it can show, never a typed frame: %s", async (_case, frame, reason) => {
    const { alice, bob, jane } = await threeGenerations();
    jane.send(frame);
    expect(await jane.next()).toEqual({ message: reason, author: NOTICE, avatar: "mIconWarning.svg" });
    await expectNothingBefore1x(jane, alice, [bob]);
  });

  it("a banned nickname is refused with a notice", async () => {
    const { room, alice, jane } = await threeGenerations();
    const banned = await request(roomPath("rooms", room, "users/mallory?seconds=600"), {
      method: "DELETE",
      headers: { Authorization: `Bearer ${env.ADMIN_TOKEN}` },
    });
    expect(banned.status).toBe(200);
    jane.send({ message: "hi", author: "mallory" });
    const notice = await jane.next();
    expect(notice).toMatchObject({ author: NOTICE, avatar: "mIconWarning.svg" });
    expect(notice.message).toMatch(/^The nickname 'mallory' is banned from this room by a moderator until /);
    await expectNothingBefore1x(jane, alice);
  });

  it("a 1.x socket's garbage is refused with a notice too, once it is known to speak 1.x", async () => {
    const { alice, jane } = await threeGenerations();
    jane.send("not json");
    expect(await jane.next()).toEqual({
      message: "Message is not valid JSON: send one JSON object with a 'type' field per frame.",
      author: NOTICE,
      avatar: "mIconWarning.svg",
    });
    await expectNothingBefore1x(jane, alice);
  });

  it.each([
    ["geojson", THREADED_SAMPLES.geojson!, "alice shared the layer 'roads' (1 feature): update QTribu to see it."],
    ["crs", THREADED_SAMPLES.crs!, "alice shared the CRS EPSG:4326: update QTribu to see it."],
    ["bbox", THREADED_SAMPLES.bbox!, "alice shared an extent in EPSG:4326: update QTribu to see it."],
    ["position", THREADED_SAMPLES.position!, "alice shared a position (2.35, 48.85 in EPSG:4326): the QChat plugin shows it."],
    [
      "model",
      { type: "model", author: "alice", model_name: "buffer", raw_xml: "<Model/>" },
      "alice shared the processing model 'buffer': the QChat plugin shows it.",
    ],
    [
      "script",
      { type: "script", author: "alice", name: "count", raw_pycode: "print(1)" },
      "alice shared the processing script 'count': the QChat plugin shows it.",
    ],
    ["image", THREADED_SAMPLES.image!, "alice shared an image: update QTribu to see it."],
  ])("a %s shared by a newer client reaches it as a one-line notice", async (_type, sample, summary) => {
    const { alice, bob, jane } = await threeGenerations();
    alice.send(sample);
    expect(await jane.next()).toEqual({ message: summary, author: NOTICE, avatar: "mIconInfo.svg" });
    await alice.next();
    await bob.next();
    await expectNothingBefore1x(jane, alice, [bob]);
  });

  it("a like for its nickname reaches it as a notice", async () => {
    const { alice, jane } = await threeGenerations();
    alice.send({ type: "like", liker_author: "alice", liked_author: "jane", message: "hello" });
    expect(await jane.next()).toEqual({ message: "alice liked your message: 'hello'", author: NOTICE, avatar: "mIconInfo.svg" });
  });

  it("is held to the rate limit like everyone", async () => {
    // ROOM_LIMITS (vitest.config.ts): 5 messages at once, then one every 5 s.
    const jane = await gischat1(freshSlowRoom());
    for (let i = 0; i < 5; i++) jane.send({ message: `m${i}`, author: "jane" });
    expect(await jane.take(6)).toEqual([
      { author: "internal", nb_users: 1 },
      ...Array.from({ length: 5 }, (_, i) => ({ message: `m${i}`, author: "jane", avatar: null })),
    ]);
    jane.send({ message: "one too many", author: "jane" });
    const notice = await jane.next();
    expect(notice).toMatchObject({ author: NOTICE, avatar: "mIconWarning.svg" });
    expect(notice.message).toMatch(/^You are sending messages too fast: wait \d+ s before sending again/);
  });

  it("only on the rooms path: the channels family has no 1.x, so a frame without type is uncompliant there", async () => {
    const room = freshRoom();
    const client = await Client.join("channels", room);
    const answer = await client.rejected({ message: "hi", author: "jane" });
    expect(answer).toMatch(/^Message has no 'type' field/);
  });

  it("1.x, 2.x and 3.x clients see each other's texts", async () => {
    const { alice, bob, jane } = await threeGenerations();
    alice.send({ type: "text", author: "alice", text: "from 2.x" });
    bob.send({ type: "text", author: "bob", text: "from 3.x" });
    jane.send({ message: "from 1.x", author: "jane" });
    const texts = (messages: Json[]) => messages.map((message) => message.text ?? message.message).sort();
    expect(texts(await jane.take(3))).toEqual(["from 1.x", "from 2.x", "from 3.x"]);
    expect(texts(await alice.take(3))).toEqual(["from 1.x", "from 2.x", "from 3.x"]);
    expect(texts(await bob.take(3))).toEqual(["from 1.x", "from 2.x", "from 3.x"]);
  });
});

describe("PUT /room/{name}/message (gischat 1.x)", () => {
  const put = (path: string, body: unknown) => request(path, { method: "PUT", body: JSON.stringify(body) });

  it("posts a text to everyone and answers the 1.x message", async () => {
    const { room, alice, bob, jane } = await threeGenerations();
    const response = await put(roomPath("rooms", room, "message"), { message: "from a 1.x script", author: "cron_job" });
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("application/json");
    expect(await response.json()).toEqual({ message: "from a 1.x script", author: "cron_job", avatar: null });
    expect(await alice.next()).toEqual({ type: "text", author: "cron_job", avatar: null, text: "from a 1.x script" });
    expect(withoutStamp(await bob.next())).toEqual({ type: "text", author: "cron_job", avatar: null, text: "from a 1.x script" });
    expect(await jane.next()).toEqual({ message: "from a 1.x script", author: "cron_job", avatar: null });
    expect(await replayOf("rooms", room, 2)).toContainEqual({ type: "text", author: "cron_job", avatar: null, text: "from a 1.x script" });
  });

  it("answers 422 naming the field, with PUT …/text's rules", async () => {
    const room = freshRoom();
    const response = await put(roomPath("rooms", room, "message"), { message: "x".repeat(256), author: "cron_job" });
    expect(response.status).toBe(422);
    expect(await response.json()).toEqual({
      detail: [{ loc: ["body", "message"], msg: "Field 'message' must be at most 255 characters long.", type: "value_error" }],
    });
    const notObject = await put(roomPath("rooms", room, "message"), ["hi"]);
    expect(notObject.status).toBe(422);
  });

  it("answers 409 for a nickname a connected user holds, and 404 for an unknown room", async () => {
    const { room } = await aliceAndBob();
    const taken = await put(roomPath("rooms", room, "message"), { message: "I am alice", author: "alice" });
    expect(taken.status).toBe(409);
    expect(await taken.json()).toEqual({ detail: "The nickname 'alice' is registered by a connected user: post under another nickname." });
    const unknown = await put(roomPath("rooms", "Nowhere", "message"), { message: "hi", author: "cron_job" });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ detail: "Room 'Nowhere' not registered" });
  });

  it("exists on the rooms family only, as in 1.x", async () => {
    const response = await put(roomPath("channels", freshRoom(), "message"), { message: "hi", author: "cron_job" });
    expect(response.status).toBe(404);
  });
});

describe("GET /qfield", () => {
  it("redirects to the QChat QField plugin's latest release", async () => {
    const response = await request("/qfield", { redirect: "manual" });
    expect(response.status).toBe(302);
    expect(response.headers.get("Location")).toBe(
      "https://github.com/geotribu/qchat-qfield-plugin/releases/latest/download/qfchat-latest.zip",
    );
  });
});
