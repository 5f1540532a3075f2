// Webhooks: a moderator registers one on a room, and every storable message (and
// arrivals and departures, if asked) is POSTed to it, signed, at least once, in
// order, by the room's alarm, without holding the room up. The receiver is a Worker
// of its own (test/webhook-receiver.js, the outbound service in vitest.config.ts):
// each test gives its webhooks their own host name, tells the receiver when to fail,
// and reads what it received.
//
// Retries are due seconds or hours later: a test moves the due time back in the
// room's SQLite (`dueNow`), as the clock would, then rings the alarm.
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { DISABLE_AFTER_MS, RETRY_BASE_MS } from "../src/room/outbox";
import { Client, freshRoom, type Json, request, roomPath, roomStub } from "./helpers";
import { freshReceiver } from "./receiver";

const ADMIN = { Authorization: `Bearer ${env.ADMIN_TOKEN}` };
const SECRET = "a-secret-of-at-least-16-characters";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const OUTBOX_MAX = Number(env.WEBHOOK_OUTBOX_MAX);
const WAIT_MS = 5_000;

interface Webhook {
  id: string;
  url: string;
  presence: boolean;
  enabled: boolean;
  disabled_at: string | null;
  disabled_reason: string | null;
  secret?: string;
  stats: {
    pending: number;
    delivered: number;
    dropped: number;
    consecutive_failures: number;
    last_status: string | null;
    next_attempt_at: string | null;
  };
}

const receiver = freshReceiver;

function register(room: string, body: Json, headers: Record<string, string> = ADMIN, prefix = "") {
  return request(roomPath("channels", room, "webhooks", prefix), { method: "POST", headers, body: JSON.stringify(body) });
}

async function registered(room: string, body: Json): Promise<Webhook> {
  const response = await register(room, body);
  expect(response.status, await response.clone().text()).toBe(201);
  return response.json();
}

async function list(room: string, prefix = "", headers = ADMIN): Promise<{ webhooks: Webhook[]; matrix_ping: unknown }> {
  const response = await request(roomPath("rooms", room, "webhooks", prefix), { headers });
  expect(response.status).toBe(200);
  return response.json();
}

async function webhookOf(room: string, id: string): Promise<Webhook> {
  const found = (await list(room)).webhooks.find((webhook) => webhook.id === id);
  if (found === undefined) throw new Error(`no webhook ${id} in ${room}`);
  return found;
}

function putText(room: string, text: string, author = "bot_one", prefix = "") {
  return request(roomPath("channels", room, "text", prefix), { method: "PUT", body: JSON.stringify({ author, text }) });
}

/** Waits until the webhook's state satisfies `ready` (its attempts happen in the room's alarm). */
async function until(room: string, id: string, ready: (webhook: Webhook) => boolean): Promise<Webhook> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const webhook = await webhookOf(room, id);
    if (ready(webhook)) return webhook;
    if (Date.now() > deadline) throw new Error(`webhook ${id} never got there: ${JSON.stringify(webhook)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** As if the clock had reached the webhook's next attempt: then the alarm finds it due. */
async function dueNow(room: string, id: string, change = ""): Promise<void> {
  await runInDurableObject(roomStub(room), (_instance, state) => {
    state.storage.sql.exec(`UPDATE hook_endpoints SET next_attempt_at = 0 ${change} WHERE id = ?`, id);
  });
}

/** The signature a receiver computes: HMAC-SHA256 of the raw body under the secret, in hex. */
async function expectedSignature(secret: string, body: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(body)));
  return `sha256=${Array.from(mac, (byte) => byte.toString(16).padStart(2, "0")).join("")}`;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("registering a webhook", () => {
  it("needs the moderator's token and a known room", async () => {
    const room = freshRoom();
    const url = receiver().url();
    expect((await register(room, { url, secret: SECRET }, {})).status).toBe(401);
    expect((await register(room, { url, secret: SECRET }, { Authorization: "Bearer wrong" })).status).toBe(401);
    expect((await request(roomPath("rooms", room, "webhooks"))).status).toBe(401);
    const unknown = await register("Nowhere", { url, secret: SECRET });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ detail: "Channel 'Nowhere' not registered" });
  });

  it("never shows a secret it was given, and shows one it made once", async () => {
    const room = freshRoom();
    const given = await registered(room, { url: receiver().url(), secret: SECRET });
    expect(given).toEqual({
      id: expect.stringMatching(UUID),
      url: expect.stringMatching(/^https:\/\/t-.*\.hooks\.test\/hook$/),
      presence: false,
      created_at: expect.any(String),
      enabled: true,
      disabled_at: null,
      disabled_reason: null,
      stats: {
        pending: 0,
        delivered: 0,
        dropped: 0,
        consecutive_failures: 0,
        last_attempt_at: null,
        last_status: null,
        last_success_at: null,
        next_attempt_at: null,
      },
    });
    const made = await registered(room, { url: receiver().url(), presence: true });
    expect(made.secret).toMatch(/^[0-9a-f]{64}$/);
    expect(made.presence).toBe(true);
    const listed = await list(room);
    expect(listed.webhooks.map((webhook) => webhook.id)).toEqual([given.id, made.id]);
    expect(JSON.stringify(listed)).not.toContain(SECRET);
    expect(JSON.stringify(listed)).not.toContain(made.secret);
    expect(listed.matrix_ping).toBeNull();
  });

  it.each([
    [
      { url: "http://bots.example.org/hook", secret: SECRET },
      "url",
      "Field 'url' must be an https:// URL (or http:// on 127.0.0.1, localhost or [::1] here).",
    ],
    [
      { url: "ftp://bots.example.org/hook", secret: SECRET },
      "url",
      "Field 'url' must be an https:// URL (or http:// on 127.0.0.1, localhost or [::1] here).",
    ],
    [{ url: "/relative", secret: SECRET }, "url", "Field 'url' must be an absolute URL, e.g. https://bots.example.org/gischat."],
    [
      { url: "https://user:pass@bots.example.org/", secret: SECRET },
      "url",
      "Field 'url' must not carry a user name or password: put a token in the path instead.",
    ],
    [{ secret: SECRET }, "url", "Field 'url' must be a URL of at most 2000 characters."],
    [
      { url: "https://bots.example.org/", secret: "short" },
      "secret",
      "Field 'secret' must be a text of 16 to 256 characters, or left out.",
    ],
    [{ url: "https://bots.example.org/", presence: "yes" }, "presence", "Field 'presence' must be true or false."],
  ])("refuses %j with a 422 naming the field", async (body, field, msg) => {
    const response = await register(freshRoom(), body);
    expect(response.status).toBe(422);
    expect(await response.json()).toEqual({ detail: [{ loc: ["body", field], msg, type: "value_error" }] });
  });

  it("takes http:// on this machine where WEBHOOK_ALLOW_HTTP_LOCAL is on (as the tests and wrangler dev have it)", async () => {
    const room = freshRoom();
    for (const url of ["http://127.0.0.1:9/hook", "http://localhost:9/hook", "http://[::1]:9/hook"]) {
      expect((await register(room, { url, secret: SECRET })).status).toBe(201);
    }
  });

  it("replaces the secret of a URL registered again, enables it, and keeps ten webhooks at most", async () => {
    const room = freshRoom();
    const url = receiver().url();
    const first = await registered(room, { url, secret: SECRET });
    const again = await register(room, { url, secret: `${SECRET}-new`, presence: true });
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ id: first.id, presence: true, enabled: true });
    for (let i = 1; i < 10; i++) await registered(room, { url: receiver().url(), secret: SECRET });
    const eleventh = await register(room, { url: receiver().url(), secret: SECRET });
    expect(eleventh.status).toBe(422);
    expect(await eleventh.json()).toMatchObject({
      detail: [{ loc: ["body", "url"], msg: "This room has 10 webhooks already: remove one first." }],
    });
  });

  it("removes a webhook and what it was owed; an unknown id is a 404", async () => {
    const room = freshRoom();
    const hook = receiver();
    await hook.fail(-1);
    const webhook = await registered(room, { url: hook.url(), secret: SECRET });
    await putText(room, "owed");
    await until(room, webhook.id, (w) => w.stats.consecutive_failures === 1);
    const path = roomPath("rooms", room, `webhooks/${webhook.id}`);
    expect((await request(path, { method: "DELETE" })).status).toBe(401);
    expect((await request(path, { method: "DELETE", headers: ADMIN })).status).toBe(204);
    expect((await list(room)).webhooks).toEqual([]);
    const pending = await runInDurableObject(
      roomStub(room),
      (_i, state) => state.storage.sql.exec("SELECT COUNT(*) AS n FROM outbox").one().n,
    );
    expect(pending).toBe(0);
    const gone = await request(path, { method: "DELETE", headers: ADMIN });
    expect(gone.status).toBe(404);
    expect(await gone.json()).toEqual({ detail: `No webhook '${webhook.id}' in this room.` });
  });
  it("goes with its room: a room removed and made again has none, and takes messages", async () => {
    const name = `hooks-made-${crypto.randomUUID().slice(0, 8)}`;
    const make = () => request("/rooms", { method: "POST", headers: ADMIN, body: JSON.stringify({ name }) });
    expect((await make()).status).toBe(201);
    const hook = receiver();
    await registered(name, { url: hook.url(), secret: SECRET });
    await putText(name, "before");
    await hook.waitFor(1);
    expect((await request(`/rooms/${encodeURIComponent(name)}`, { method: "DELETE", headers: ADMIN })).status).toBe(200);
    expect((await make()).status).toBe(201);
    expect((await putText(name, "after")).status).toBe(200);
    expect((await list(name)).webhooks).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await hook.received()).map((r) => JSON.parse(r.body).text)).toEqual(["before"]);
  });
});

describe("what a webhook receives", () => {
  it("POSTs each storable message, signed, with a delivery id, as the channels family sees it plus the room", async () => {
    const room = freshRoom();
    const hook = receiver();
    await registered(room, { url: hook.url("/gischat?token=abc"), secret: SECRET });
    const bob = await Client.join("channels", room, "bob");
    bob.send({ type: "text", author: "bob", text: "hello bots 👋" });
    const seen = await bob.next();
    const [delivery] = await hook.waitFor(1);
    if (delivery === undefined) throw new Error("no delivery");
    expect(delivery.method).toBe("POST");
    expect(delivery.url).toBe(hook.url("/gischat?token=abc"));
    expect(delivery.headers["content-type"]).toBe("application/json");
    expect(delivery.headers["user-agent"]).toMatch(/^gischat-edge\/\d+\.\d+\.\d+ \(webhook\)$/);
    expect(delivery.headers["x-gischat-delivery"]).toMatch(UUID);
    expect(delivery.headers["x-gischat-attempt"]).toBe("1");
    expect(delivery.headers["x-gischat-signature"]).toBe(await expectedSignature(SECRET, delivery.body));
    expect(delivery.headers["x-gischat-signature"]).not.toBe(await expectedSignature(`${SECRET}x`, delivery.body));
    // The channels shape, the very message the sockets saw (one id), then where it was said.
    expect(JSON.parse(delivery.body)).toEqual({ ...seen, room, space: null });
    expect(Object.keys(JSON.parse(delivery.body))).toEqual(["type", "author", "avatar", "text", "id", "timestamp", "room", "space"]);
  });

  it("sends every storable type, in order, and nothing that is not stored (cheat codes, likes, counts, arrivals)", async () => {
    const room = freshRoom();
    const hook = receiver();
    await registered(room, { url: hook.url(), secret: SECRET });
    const alice = await Client.join("rooms", room, "alice");
    const wgs84 = { crs_wkt: 'GEOGCS["WGS 84"]', crs_authid: "EPSG:4326" };
    const frames: Json[] = [
      { type: "text", author: "alice", text: "one" },
      { type: "text", author: "alice", text: "givemesomecheese" },
      { type: "like", liker_author: "alice", liked_author: "alice", message: "one" },
      { type: "crs", author: "alice", ...wgs84 },
      { type: "bbox", author: "alice", ...wgs84, xmin: 0, xmax: 1, ymin: 0, ymax: 1 },
      { type: "position", author: "alice", ...wgs84, x: 2.35, y: 48.85 },
      { type: "geojson", author: "alice", layer_name: "roads", ...wgs84, geojson: { type: "FeatureCollection", features: [] } },
      { type: "model", author: "alice", model_name: "buffer", raw_xml: "<Model/>" },
      { type: "script", author: "alice", name: "count", raw_pycode: "print(1)" },
      { type: "text", author: "alice", text: "last" },
    ];
    for (const frame of frames) alice.send(frame);
    await alice.take(frames.length); // all broadcast back (the like to alice herself)
    const received = await hook.waitFor(8);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const bodies = (await hook.received()).map((r) => JSON.parse(r.body) as Json);
    expect(received.length).toBe(8);
    expect(bodies.map((body) => body.type)).toEqual(["text", "crs", "bbox", "position", "geojson", "model", "script", "text"]);
    expect(bodies[0]).toMatchObject({ text: "one", room });
    expect(bodies.at(-1)).toMatchObject({ text: "last" });
    // One delivery id per delivery.
    expect(new Set((await hook.received()).map((r) => r.headers["x-gischat-delivery"])).size).toBe(8);
  });

  it("also sends arrivals and departures to a webhook that asked", async () => {
    const room = freshRoom();
    const quiet = receiver();
    const presence = receiver();
    await registered(room, { url: quiet.url(), secret: SECRET });
    await registered(room, { url: presence.url(), secret: SECRET, presence: true });
    const carol = await Client.join("channels", room, "carol");
    carol.send({ type: "text", author: "carol", text: "bye" });
    await carol.next();
    carol.send({ type: "exiter", exiter: "carol" });
    await carol.next();
    const bodies = (await presence.waitFor(3)).map((r) => JSON.parse(r.body) as Json);
    expect(bodies.map((body) => body.type)).toEqual(["newcomer", "text", "exiter"]);
    expect(bodies[0]).toEqual({
      type: "newcomer",
      newcomer: "carol",
      id: expect.stringMatching(UUID),
      timestamp: expect.any(Number),
      room,
      space: null,
    });
    expect(bodies[2]).toMatchObject({ type: "exiter", exiter: "carol", room });
    expect((await quiet.waitFor(1)).map((r) => JSON.parse(r.body).type)).toEqual(["text"]);
  });

  it("sends a space's messages with the space's id, never its key, to the webhook its owner registered", async () => {
    const made = await request("/spaces", { method: "POST", headers: ADMIN, body: JSON.stringify({ name: "Hooked", rooms: ["General"] }) });
    const space = (await made.json()) as { id: string; key: string; path: string; owner_token: string };
    const owner = { Authorization: `Bearer ${space.owner_token}` };
    const hook = receiver();
    // The owner token is worth nothing among the public rooms.
    expect((await register("QGIS", { url: hook.url(), secret: SECRET }, owner)).status).toBe(401);
    const response = await register("General", { url: hook.url(), secret: SECRET }, owner, space.path);
    expect(response.status).toBe(201);
    expect((await putText("General", "in the space", "bot_one", space.path)).status).toBe(200);
    const [delivery] = await hook.waitFor(1);
    expect(JSON.parse(delivery?.body ?? "")).toMatchObject({ type: "text", text: "in the space", room: "General", space: space.id });
    expect(delivery?.body).not.toContain(space.key);
    expect((await list("General", space.path, owner)).webhooks).toHaveLength(1);
  });
});

describe("delivery: at least once, with backoff, never holding the room up", () => {
  it("retries a failing endpoint with the same delivery id, waiting longer each time", async () => {
    const room = freshRoom();
    const hook = receiver();
    await hook.fail(2, 503);
    const webhook = await registered(room, { url: hook.url(), secret: SECRET });
    const before = Date.now();
    expect((await putText(room, "try again")).status).toBe(200);
    const first = await until(room, webhook.id, (w) => w.stats.consecutive_failures === 1);
    expect(first.stats).toMatchObject({ pending: 1, delivered: 0, last_status: "503" });
    const firstDelay = Date.parse(first.stats.next_attempt_at ?? "") - before;
    expect(firstDelay).toBeGreaterThanOrEqual(RETRY_BASE_MS - 1_000);
    expect(firstDelay).toBeLessThanOrEqual(RETRY_BASE_MS * 1.1 + 2_000);
    // The alarm is set for the retry, not sooner.
    const alarm = await runInDurableObject(roomStub(room), (_i, state) => state.storage.getAlarm());
    expect(alarm).toBeGreaterThan(Date.now() + RETRY_BASE_MS / 2);

    await dueNow(room, webhook.id);
    const secondAt = Date.now();
    expect(await runDurableObjectAlarm(roomStub(room))).toBe(true);
    const second = await webhookOf(room, webhook.id);
    expect(second.stats).toMatchObject({ pending: 1, consecutive_failures: 2, last_status: "503" });
    const secondDelay = Date.parse(second.stats.next_attempt_at ?? "") - secondAt;
    expect(secondDelay).toBeGreaterThanOrEqual(2 * RETRY_BASE_MS - 1_000);

    await dueNow(room, webhook.id);
    await runDurableObjectAlarm(roomStub(room));
    const third = await webhookOf(room, webhook.id);
    expect(third.stats).toMatchObject({ pending: 0, delivered: 1, consecutive_failures: 0, last_status: "200", next_attempt_at: null });

    const attempts = await hook.received();
    expect(attempts.map((a) => a.answered)).toEqual([503, 503, 200]);
    expect(attempts.map((a) => a.headers["x-gischat-attempt"])).toEqual(["1", "2", "3"]);
    expect(new Set(attempts.map((a) => a.headers["x-gischat-delivery"])).size).toBe(1);
    expect(new Set(attempts.map((a) => a.body)).size).toBe(1);
    // Nothing left to do: no alarm for the outbox (the history's retention keeps one, a month away).
    const after = await runInDurableObject(roomStub(room), (_i, state) => state.storage.getAlarm());
    expect(after === null || after > Date.now() + 24 * 3_600_000).toBe(true);
  });

  it("keeps the room's messages flowing while an endpoint fails, and the other endpoints undelayed", async () => {
    const room = freshRoom();
    const down = receiver();
    const up = receiver();
    await down.fail(-1, 500);
    await registered(room, { url: down.url(), secret: SECRET });
    await registered(room, { url: up.url(), secret: SECRET });
    const dave = await Client.join("channels", room, "dave");
    for (let i = 0; i < 5; i++) {
      dave.send({ type: "text", author: "dave", text: `n${i}` });
      expect(await dave.next(1_000)).toMatchObject({ text: `n${i}` });
    }
    const bodies = (await up.waitFor(5)).map((r) => JSON.parse(r.body).text);
    expect(bodies).toEqual(["n0", "n1", "n2", "n3", "n4"]);
    // The failing one was tried once, and waits: its order is kept for when it answers.
    expect((await down.received()).length).toBe(1);
  });

  it(`keeps at most WEBHOOK_OUTBOX_MAX (${OUTBOX_MAX} here) deliveries per endpoint, dropping the oldest, counted`, async () => {
    const room = freshRoom();
    const hook = receiver();
    await hook.fail(-1, 500);
    const webhook = await registered(room, { url: hook.url(), secret: SECRET });
    expect((await putText(room, "m1")).status).toBe(200);
    await until(room, webhook.id, (w) => w.stats.consecutive_failures === 1);
    for (let i = 2; i <= OUTBOX_MAX + 5; i++) expect((await putText(room, `m${i}`)).status).toBe(200);
    const full = await webhookOf(room, webhook.id);
    expect(full.stats).toMatchObject({ pending: OUTBOX_MAX, dropped: 5, delivered: 0 });

    await hook.fail(0);
    await dueNow(room, webhook.id);
    await runDurableObjectAlarm(roomStub(room));
    const done = await webhookOf(room, webhook.id);
    expect(done.stats).toMatchObject({ pending: 0, dropped: 5, delivered: OUTBOX_MAX });
    const delivered = (await hook.received()).filter((r) => r.answered === 200).map((r) => JSON.parse(r.body).text);
    expect(delivered).toEqual(Array.from({ length: OUTBOX_MAX }, (_, i) => `m${i + 6}`));
    // Bodies are kept once, and go with their last delivery.
    const left = await runInDurableObject(roomStub(room), (_i, state) => ({
      bodies: state.storage.sql.exec("SELECT COUNT(*) AS n FROM outbox_bodies").one().n,
      parts: state.storage.sql.exec("SELECT COUNT(*) AS n FROM outbox_body_parts").one().n,
      bytes: state.storage.sql.exec("SELECT bytes FROM outbox_totals").one().bytes,
    }));
    expect(left).toEqual({ bodies: 0, parts: 0, bytes: 0 });
  });

  it("keeps what is owed across eviction: the next alarm delivers it", async () => {
    const room = freshRoom();
    const hook = receiver();
    await hook.fail(1, 502);
    const webhook = await registered(room, { url: hook.url(), secret: SECRET });
    await putText(room, "survives");
    await until(room, webhook.id, (w) => w.stats.consecutive_failures === 1);
    // Evicted at once: nothing of the delivery (no timer) keeps the room awake.
    const evicting = Date.now();
    await evictDurableObject(roomStub(room));
    expect(Date.now() - evicting).toBeLessThan(1_000);
    await dueNow(room, webhook.id);
    await runDurableObjectAlarm(roomStub(room));
    const attempts = await hook.received();
    expect(attempts.map((a) => a.answered)).toEqual([502, 200]);
    expect(JSON.parse(attempts[1]?.body ?? "")).toMatchObject({ text: "survives" });
  });

  it("stores a layer larger than a SQLite row in chunks and delivers it whole", async () => {
    const room = freshRoom();
    const hook = receiver();
    await registered(room, { url: hook.url(), secret: SECRET });
    const features = Array.from({ length: 400 }, (_, i) => ({
      type: "Feature",
      properties: { name: `f${i}`, note: "x".repeat(6_000) },
      geometry: { type: "Point", coordinates: [i / 100, 45] },
    }));
    const erin = await Client.join("channels", room, "erin");
    erin.send({
      type: "geojson",
      author: "erin",
      layer_name: "big",
      crs_wkt: 'GEOGCS["WGS 84"]',
      crs_authid: "EPSG:4326",
      geojson: { type: "FeatureCollection", features },
    });
    await erin.next();
    const [delivery] = await hook.waitFor(1);
    expect(delivery?.body.length).toBeGreaterThan(2_000_000);
    expect(JSON.parse(delivery?.body ?? "").geojson.features).toHaveLength(400);
    expect(delivery?.headers["x-gischat-signature"]).toBe(await expectedSignature(SECRET, delivery?.body ?? ""));
  });
});

describe("an endpoint that keeps failing", () => {
  it("is disabled after a day of failures (at least 10 in a row), logged once without its secret or path, then enabled again", async () => {
    const room = freshRoom();
    const hook = receiver();
    await hook.fail(-1, 500);
    const webhook = await registered(room, { url: hook.url("/secret-path/token123"), secret: SECRET });
    await putText(room, "first");
    await until(room, webhook.id, (w) => w.stats.consecutive_failures === 1);
    const log = vi.spyOn(console, "log");
    // Nine failures already, the first of them more than a day ago: the next one disables it.
    await dueNow(room, webhook.id, `, failures = 9, failing_since = ${Date.now() - DISABLE_AFTER_MS - 3_600_000}`);
    await runDurableObjectAlarm(roomStub(room));
    const disabled = await webhookOf(room, webhook.id);
    expect(disabled).toMatchObject({ enabled: false, disabled_at: expect.any(String) });
    expect(disabled.disabled_reason).toMatch(
      /^10 failed deliveries in a row over 25 h \(last: 500\): register it again, or enable it, once it answers\.$/,
    );
    expect(disabled.stats).toMatchObject({ pending: 1, consecutive_failures: 10, next_attempt_at: null });
    const lines = log.mock.calls.map(([line]) => String(line)).filter((line) => line.includes('"webhook_disabled"'));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? "")).toMatchObject({
      event: "webhook_disabled",
      room,
      webhook: webhook.id,
      failures: 10,
      last_status: "500",
    });
    expect(lines[0]).not.toContain(SECRET);
    expect(lines[0]).not.toContain("token123");

    // Disabled: nothing more is queued for it, nothing is tried, no alarm rings for it.
    await putText(room, "while disabled");
    expect((await webhookOf(room, webhook.id)).stats.pending).toBe(1);
    await runDurableObjectAlarm(roomStub(room));
    expect((await hook.received()).length).toBe(2);
    expect(log.mock.calls.filter(([line]) => String(line).includes('"webhook_disabled"'))).toHaveLength(1);

    // Enabled again once it answers: what it was owed goes at once.
    await hook.fail(0);
    const enable = roomPath("rooms", room, `webhooks/${webhook.id}/enable`);
    expect((await request(enable, { method: "POST" })).status).toBe(401);
    const enabled = await request(enable, { method: "POST", headers: ADMIN });
    expect(enabled.status).toBe(200);
    expect(await enabled.json()).toMatchObject({
      enabled: true,
      disabled_at: null,
      disabled_reason: null,
      stats: { consecutive_failures: 0 },
    });
    const after = await until(room, webhook.id, (w) => w.stats.delivered === 1);
    expect(after.stats.pending).toBe(0);
    expect(JSON.parse((await hook.received()).at(-1)?.body ?? "")).toMatchObject({ text: "first" });
    expect((await request(roomPath("rooms", room, "webhooks/nope/enable"), { method: "POST", headers: ADMIN })).status).toBe(404);
  });

  it("is not disabled by many quick failures alone: only by a day of them", async () => {
    const room = freshRoom();
    const hook = receiver();
    await hook.fail(-1, 500);
    const webhook = await registered(room, { url: hook.url(), secret: SECRET });
    await putText(room, "first");
    await until(room, webhook.id, (w) => w.stats.consecutive_failures === 1);
    await dueNow(room, webhook.id, ", failures = 30");
    await runDurableObjectAlarm(roomStub(room));
    expect(await webhookOf(room, webhook.id)).toMatchObject({ enabled: true, stats: { consecutive_failures: 31 } });
  });
});
