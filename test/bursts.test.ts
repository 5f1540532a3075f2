// A burst: messages sent back to back are stored together and then sent (src/room/burst.ts).
// What the clients see must not change: every socket gets every message once and in the order
// the room took them, a refusal or a close never overtakes what came before it, a message is
// stored before anyone sees it, and whatever reads the history finds the whole burst.
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { Client, type Json, request, roomPath, roomStub } from "./helpers";
import { freshHostileRoom, freshSlowRoom } from "./rooms";

/** More than a burst holds (100 messages), so that one burst is stored in several. */
const MANY = 250;

const texts = (messages: Json[]) => messages.map((message) => message.text);
const numbered = (count: number, prefix = "m") => Array.from({ length: count }, (_, i) => `${prefix}${i}`);

/** alice (rooms) and bob (channels), registered, in a room without rate limits. */
async function aliceAndBobUnlimited() {
  const room = freshHostileRoom();
  const alice = await Client.join("rooms", room, "alice");
  const bob = await Client.join("channels", room, "bob");
  await alice.take(2); // nb_users, bob's newcomer
  return { room, alice, bob };
}

/**
 * The frames, as if they had all arrived from `nickname`'s socket before the room could take
 * any of them: handed to the room's own handler in one turn, so that they make one burst
 * (a test's socket delivers its frames one turn apart).
 */
async function inOneTurn(room: string, nickname: string, frames: Json[]): Promise<void> {
  await runInDurableObject(roomStub(room), async (instance, state) => {
    const ws = state
      .getWebSockets()
      .find((socket) => (socket.deserializeAttachment() as { nickname: string | null }).nickname === nickname);
    if (ws === undefined) throw new Error(`no socket registered as ${nickname} in ${room}`);
    const handler = instance as unknown as { webSocketMessage(ws: WebSocket, frame: string): Promise<void> };
    await Promise.all(frames.map((frame) => handler.webSocketMessage(ws, JSON.stringify(frame))));
  });
}

const text = (author: string, text: string, extra: Json = {}): Json => ({ type: "text", author, text, ...extra });

function storedCount(room: string): Promise<number> {
  return runInDurableObject(roomStub(room), (_instance, state) =>
    Number(state.storage.sql.exec("SELECT COUNT(*) AS count FROM messages").one().count),
  );
}

/** Every text of the room's history through REST, oldest first, a page at a time. */
async function historyTexts(room: string): Promise<unknown[]> {
  const all: Json[] = [];
  let before: string | null = null;
  do {
    const query: string = before === null ? "?limit=100" : `?limit=100&before=${before}`;
    const page = (await (await request(roomPath("channels", room, `messages${query}`))).json()) as {
      messages: Json[];
      next_before: string | null;
    };
    all.unshift(...page.messages);
    before = page.next_before;
  } while (before !== null);
  return texts(all);
}

describe("a burst of texts", () => {
  it("reaches every socket once and in order, stored before anyone saw it, in the same order", async () => {
    const { room, alice, bob } = await aliceAndBobUnlimited();
    const sent = numbered(MANY);
    for (const text of sent) alice.send({ type: "text", author: "alice", text });
    expect(texts(await bob.take(MANY))).toEqual(sent);
    // Bob has seen the last one: all of them are in SQLite (read there, not through the room).
    expect(await storedCount(room)).toBe(MANY);
    expect(texts(await alice.take(MANY))).toEqual(sent);
    expect(await historyTexts(room)).toEqual(sent);
  });

  it("lets no refusal overtake the messages sent before it", async () => {
    const { room, alice, bob } = await aliceAndBobUnlimited();
    await inOneTurn(room, "alice", [text("alice", "first"), text("bob", "posing as bob"), text("alice", "second")]);
    const [first, refusal, second] = await alice.take(3);
    expect(first).toMatchObject({ type: "text", text: "first" });
    expect(refusal).toMatchObject({ type: "uncompliant" });
    expect(second).toMatchObject({ type: "text", text: "second" });
    expect(texts(await bob.take(2))).toEqual(["first", "second"]);
  });

  it("keeps a client's id once when two messages of the same burst carry it", async () => {
    const { room, alice, bob } = await aliceAndBobUnlimited();
    const id = crypto.randomUUID();
    await inOneTurn(room, "bob", [text("bob", "one", { id }), text("bob", "two", { id })]);
    const [one, two] = await bob.take(2);
    expect(one).toMatchObject({ text: "one", id });
    expect(two).toMatchObject({ text: "two" });
    expect(two!.id).not.toBe(id);
    expect(texts(await alice.take(2))).toEqual(["one", "two"]);
  });

  it("closes a flooder after its own messages and its warnings, in that order", async () => {
    const room = freshSlowRoom(); // 5 messages at once, the registration one of them
    const watcher = await Client.join("rooms", room, "watcher");
    const flooder = await Client.join("channels", room, "flooder");
    await watcher.take(2); // nb_users and the flooder's newcomer
    await inOneTurn(
      room,
      "flooder",
      numbered(30, "flood ").map((line) => text("flooder", line)),
    );
    // The close comes after everything sent before it: by then those are all in the inbox.
    expect(await flooder.closed).toMatchObject({ code: 1008 });
    const answered: Json[] = [];
    for (;;) {
      const message = await flooder.next(100).catch(() => undefined);
      if (message === undefined) break;
      answered.push(message);
    }
    expect(texts(answered.slice(0, 4))).toEqual(["flood 0", "flood 1", "flood 2", "flood 3"]);
    for (const refusal of answered.slice(4)) expect(refusal).toMatchObject({ type: "uncompliant" });
    expect(answered.length).toBeGreaterThan(4);
    const seen = await watcher.take(6);
    expect(texts(seen.slice(0, 4))).toEqual(["flood 0", "flood 1", "flood 2", "flood 3"]);
    expect(seen.slice(4)).toEqual([
      { type: "exiter", exiter: "flooder" },
      { type: "nb_users", nb_users: 1 },
    ]);
  });

  it("is replayed whole to a socket that joins right behind it, and sent to it not twice", async () => {
    const { room, alice } = await aliceAndBobUnlimited();
    // The replay is the room's last 5 (MAX_STORED_MESSAGES): a burst of 5 is all of it.
    const sent = numbered(5, "r");
    const burst = inOneTurn(
      room,
      "alice",
      sent.map((line) => text("alice", line)),
    );
    const carol = await Client.open("rooms", room);
    await burst;
    alice.send({ type: "text", author: "alice", text: "after" });
    const seen: unknown[] = [];
    while (seen.at(-1) !== "after") {
      const message = await carol.next();
      if (message.type === "text") seen.push(message.text);
    }
    // However the join fell among the frames: each text once, in order, none missing.
    expect(seen).toEqual([...sent, "after"]);
  });

  it("is in every REST answer as soon as it is sent", async () => {
    const { room, alice } = await aliceAndBobUnlimited();
    const sent = numbered(20, "q");
    for (const text of sent) alice.send({ type: "text", author: "alice", text });
    // The Worker's GET may come in before the room has had any of them, or among them, or after:
    // the room must answer with a prefix of the burst, in order, never a gap.
    const first = await historyTexts(room);
    expect(sent.slice(0, first.length)).toEqual(first);
    await alice.take(sent.length);
    expect(await historyTexts(room)).toEqual(sent);
  });
});

describe("a burst in which one message cannot be stored", () => {
  it("sends that one to nobody, tells its sender, and keeps the others", async () => {
    const { room, alice, bob } = await aliceAndBobUnlimited();
    await runInDurableObject(roomStub(room), (instance) => {
      const { history } = instance as unknown as { history: { append: (...args: unknown[]) => unknown } };
      const append = history.append.bind(history);
      let calls = 0;
      history.append = (...args: unknown[]) => {
        if (++calls === 2) throw new Error("SQLITE_FULL: database or disk is full");
        return append(...args);
      };
    });
    await inOneTurn(room, "alice", [text("alice", "one"), text("alice", "two"), text("alice", "three")]);
    const [one, three, refusal] = await alice.take(3);
    expect([one!.text, three!.text]).toEqual(["one", "three"]);
    expect(refusal).toMatchObject({ type: "uncompliant" });
    alice.send({ type: "text", author: "alice", text: "four" });
    expect(texts(await bob.take(3))).toEqual(["one", "three", "four"]);
    expect(await historyTexts(room)).toEqual(["one", "three", "four"]);
  });
});
