// The Matrix ping, as the original server does it: a text that starts with
// MATRIX_PING_MESSAGE_PREFIX is also sent to the Matrix room MATRIX_PING_ROOMID
// through the client-server API, through the room's outbox (so a Matrix outage
// loses nothing and stalls nobody). vitest.config.ts points MATRIX_PING_HOMESERVER
// at the receiver Worker (test/webhook-receiver.js), which records each request.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../src/server/config";
import { Client, freshRoom, request, roomPath, roomStub } from "./helpers";
import { type Received, receiverAt } from "./receiver";

const ADMIN = { Authorization: `Bearer ${env.ADMIN_TOKEN}` };
const HOMESERVER = env.MATRIX_PING_HOMESERVER;
const MATRIX_HOST = new URL(HOMESERVER).host;
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
/** The path of a send, its txnId captured: the room id URL-encoded (! stays, : is %3A). */
const SEND_PATH = new RegExp(
  `^/_matrix/client/v3/rooms/${escapeRegExp(encodeURIComponent(env.MATRIX_PING_ROOMID))}/send/m\\.room\\.message/([0-9a-f-]{36})$`,
);

const homeserver = receiverAt(MATRIX_HOST);

/** What the homeserver received about this gischat room (the body names it). */
async function pingsOf(room: string): Promise<Received[]> {
  return (await homeserver.received()).filter((r) => r.body.includes(`**${room}**`));
}

function waitForPings(room: string, count: number, timeoutMs = 5_000): Promise<Received[]> {
  return homeserver.waitFor(count, timeoutMs, (r) => r.body.includes(`**${room}**`));
}

const failMatrix = (count: number, status = 502) => homeserver.fail(count, status);

function putText(room: string, author: string, text: string, prefix = "") {
  return request(roomPath("channels", room, "text", prefix), { method: "PUT", body: JSON.stringify({ author, text }) });
}

describe("the Matrix ping", () => {
  it("PUTs the text to the Matrix room, as the original server words it, with the access token", async () => {
    const room = freshRoom();
    const jane = await Client.join("channels", room, "jane_doe");
    jane.send({ type: "text", author: "jane_doe", text: "@matrixping the WMS is down" });
    await jane.next();
    const [ping] = await waitForPings(room, 1);
    if (ping === undefined) throw new Error("no ping");
    const url = new URL(ping.url);
    expect(ping.method).toBe("PUT");
    expect(url.origin).toBe(HOMESERVER);
    expect(url.pathname).toMatch(SEND_PATH);
    const txnId = SEND_PATH.exec(url.pathname)?.[1];
    expect(url.pathname).toBe(`/_matrix/client/v3/rooms/!gischat%3Amatrix.test/send/m.room.message/${txnId}`);
    expect(url.search).toBe("");
    expect(ping.headers.authorization).toBe(`Bearer ${env.MATRIX_PING_TOKEN}`);
    expect(ping.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(ping.body)).toEqual({
      msgtype: "m.text",
      body: `💬 QChat message in channel **${room}** by _jane_doe_:\n@matrixping the WMS is down`,
      format: "org.matrix.custom.html",
      formatted_body: `<p>💬 QChat message in channel <strong>${room}</strong> by <em>jane_doe</em>:<br>@matrixping the WMS is down</p>`,
    });
  });

  it("pings from PUT …/text too, and escapes HTML in the formatted body", async () => {
    const room = freshRoom();
    expect((await putText(room, "bot_one", "@matrixping <script>alert(1)</script> & co")).status).toBe(200);
    const [ping] = await waitForPings(room, 1);
    const content = JSON.parse(ping?.body ?? "");
    expect(content.body).toContain("<script>alert(1)</script> & co");
    expect(content.formatted_body).toBe(
      `<p>💬 QChat message in channel <strong>${room}</strong> by <em>bot_one</em>:<br>@matrixping &#60;script&#62;alert(1)&#60;/script&#62; &#38; co</p>`,
    );
  });

  it("sends only texts that start with the prefix", async () => {
    const room = freshRoom();
    await putText(room, "bot_one", "no ping here @matrixping");
    await putText(room, "bot_one", " @matrixping (a space first)");
    await putText(room, "bot_one", "@matrixping this one");
    const pings = await waitForPings(room, 1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await pingsOf(room)).length).toBe(1);
    expect(JSON.parse(pings[0]?.body ?? "").body).toContain("this one");
  });

  it("retries through a Matrix outage with the same txnId (idempotent), losing nothing, stalling nobody", async () => {
    const room = freshRoom();
    await failMatrix(2, 502);
    const bob = await Client.join("channels", room, "bob");
    bob.send({ type: "text", author: "bob", text: "@matrixping first" });
    expect(await bob.next(1_000)).toMatchObject({ text: "@matrixping first" });
    bob.send({ type: "text", author: "bob", text: "@matrixping second" });
    expect(await bob.next(1_000)).toMatchObject({ text: "@matrixping second" });
    await waitForPings(room, 1);
    // The outage is seen in the room's webhook list.
    const deadline = Date.now() + 5_000;
    let listed: { matrix_ping: { pending: number; consecutive_failures: number; last_status: string } | null };
    do {
      listed = await (await request(roomPath("rooms", room, "webhooks"), { headers: ADMIN })).json();
    } while (listed.matrix_ping?.consecutive_failures !== 1 && Date.now() < deadline);
    expect(listed.matrix_ping).toMatchObject({ pending: 2, consecutive_failures: 1, last_status: "502" });
    for (let i = 0; i < 2; i++) {
      await runInDurableObject(roomStub(room), (_i, state) => {
        state.storage.sql.exec("UPDATE hook_endpoints SET next_attempt_at = 0 WHERE id = 'matrix'");
      });
      await runDurableObjectAlarm(roomStub(room));
    }
    const pings = await pingsOf(room);
    expect(pings.map((p) => p.answered)).toEqual([502, 502, 200, 200]);
    const txn = (p: Received | undefined) => SEND_PATH.exec(new URL(p?.url ?? "https://x").pathname)?.[1];
    expect(txn(pings[0])).toBe(txn(pings[1]));
    expect(txn(pings[1])).toBe(txn(pings[2]));
    expect(txn(pings[3])).not.toBe(txn(pings[2]));
    expect(pings.map((p) => JSON.parse(p.body).body.split("\n")[1])).toEqual([
      "@matrixping first",
      "@matrixping first",
      "@matrixping first",
      "@matrixping second",
    ]);
  });

  it("never sends a private space's texts to the instance's Matrix room", async () => {
    const made = await request("/spaces", { method: "POST", headers: ADMIN, body: JSON.stringify({ name: "Quiet", rooms: ["Inside"] }) });
    const space = (await made.json()) as { path: string };
    expect((await putText("Inside", "bot_one", "@matrixping secret plans", space.path)).status).toBe(200);
    // A public room's ping sent after it arrives alone.
    const room = freshRoom();
    await putText(room, "bot_one", "@matrixping public");
    await waitForPings(room, 1);
    expect((await pingsOf("Inside")).length).toBe(0);
  });
});

describe("MATRIX_PING_* configuration", () => {
  const full = { MATRIX_PING_HOMESERVER: "https://matrix.example.org/", MATRIX_PING_ROOMID: "!abc:example.org", MATRIX_PING_TOKEN: "t" };

  it("is off when nothing is set, and on with all three (the prefix defaults to @matrixping)", () => {
    expect(parseConfig({}).matrixPing).toBeUndefined();
    expect(parseConfig({ MATRIX_PING_HOMESERVER: "", MATRIX_PING_ROOMID: "" }).matrixPing).toBeUndefined();
    expect(parseConfig(full).matrixPing).toEqual({
      prefix: "@matrixping",
      homeserver: "https://matrix.example.org",
      roomId: "!abc:example.org",
      token: "t",
    });
    expect(parseConfig({ ...full, MATRIX_PING_MESSAGE_PREFIX: "!ping " }).matrixPing?.prefix).toBe("!ping ");
  });

  it.each([
    [{ MATRIX_PING_HOMESERVER: "https://matrix.example.org" }, "MATRIX_PING_ROOMID and MATRIX_PING_TOKEN are not set"],
    [{ ...full, MATRIX_PING_TOKEN: " " }, "MATRIX_PING_TOKEN is not set"],
    [
      { ...full, MATRIX_PING_ROOMID: "#gischat:example.org" },
      'MATRIX_PING_ROOMID must be a Matrix room id like !abcdef:matrix.org (not an alias like #room:server), got "#gischat:example.org"',
    ],
    [{ ...full, MATRIX_PING_HOMESERVER: "http://matrix.example.org" }, "MATRIX_PING_HOMESERVER must be an https:// URL"],
    [{ ...full, MATRIX_PING_HOMESERVER: "matrix.example.org" }, "MATRIX_PING_HOMESERVER must be an absolute URL"],
    [{ ...full, MATRIX_PING_MESSAGE_PREFIX: "  " }, "MATRIX_PING_MESSAGE_PREFIX must not be empty"],
    [{ WEBHOOK_ALLOW_HTTP_LOCAL: "yes" }, 'WEBHOOK_ALLOW_HTTP_LOCAL must be "true" or "false", got "yes"'],
    [{ WEBHOOK_OUTBOX_MAX: "0" }, "WEBHOOK_OUTBOX_MAX must be at least 1, got 0"],
  ])("names what is wrong in %j", (vars, message) => {
    expect(() => parseConfig(vars)).toThrow(message);
  });

  it("takes an http:// homeserver on this machine only where WEBHOOK_ALLOW_HTTP_LOCAL is on", () => {
    const local = { ...full, MATRIX_PING_HOMESERVER: "http://127.0.0.1:8008" };
    expect(() => parseConfig(local)).toThrow("MATRIX_PING_HOMESERVER must be an https:// URL");
    expect(parseConfig({ ...local, WEBHOOK_ALLOW_HTTP_LOCAL: "true" }).matrixPing?.homeserver).toBe("http://127.0.0.1:8008");
  });
});
