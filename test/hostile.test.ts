// Hostile input, generated: for every message type, frames mutated to be invalid
// (a field of the wrong kind or missing, strings past their bound, deep nesting,
// non-finite numbers, unknown types, duplicate and prototype-polluting keys),
// plus random text and random bytes. For each frame: the sender gets exactly one
// `uncompliant`, no one else gets anything, both sockets stay open, the handler
// never fails internally, and the room's users and stored messages are unchanged.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../src/server/config";
import { type ClientMessageType, schemasFor } from "../src/wire/messages";
import { CLIENT_MESSAGE_DOCS } from "../src/worker/openapi";
import { type Client, type Json, request, roomPath, roomStub, twoUsers } from "./helpers";
import { freshHostileRoom } from "./rooms";

const limits = parseConfig(env as unknown as Record<string, unknown>).limits;
const schemas = schemasFor(limits);
const TYPES = Object.keys(CLIENT_MESSAGE_DOCS) as ClientMessageType[];
const INTERNAL_FAILURE = "The server could not process this message; nothing was sent. Please try again.";
/** A cheat code: broadcast but never stored, so checking for silence leaves no trace. */
const SENTINEL = "givemesomecheese";
const RUNS = 60;

type Shape = Record<string, { safeParse(value: unknown): { success: boolean } }>;
const shapeOf = (type: ClientMessageType) => (schemas[type] as unknown as { shape: Shape }).shape;

/** Fields a valid message must have with a non-null value: mutating one always invalidates. */
function requiredFields(type: ClientMessageType): string[] {
  const shape = shapeOf(type);
  return Object.keys(shape).filter(
    (field) => field !== "type" && !shape[field]!.safeParse(undefined).success && !shape[field]!.safeParse(null).success,
  );
}

const anyJson = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.string(),
  fc.array(fc.jsonValue(), { maxLength: 5 }),
  fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 5 }),
);

const deeplyNested = fc.integer({ min: 500, max: 5_000 }).map((depth) => JSON.parse("[".repeat(depth) + "]".repeat(depth)) as unknown);

const pastTheBound = fc
  .tuple(fc.integer({ min: 1, max: 300 }), fc.constantFrom("a", "é", "😀", "\u0000", "\ud800", "‮"))
  .map(([extra, unit]) => unit.repeat(Math.max(limits.maxAuthorLength, limits.maxMessageLength, 2_000) + extra));

const POLLUTING_KEYS = ["__proto__", "constructor", "prototype"];

/** Frames for one message type, each invalid by construction. */
function hostileFrames(type: ClientMessageType): fc.Arbitrary<string> {
  const base = CLIENT_MESSAGE_DOCS[type].example as Json;
  const fields = requiredFields(type);
  const shape = shapeOf(type);
  const field = fc.constantFrom(...fields);
  const rejectedBy = (name: string) => (value: unknown) => !shape[name]!.safeParse(value).success;
  const withField = (name: string, value: unknown) => JSON.stringify({ ...base, [name]: value });
  return fc.oneof(
    // A required field of the wrong kind, or deeply nested, or too long.
    field.chain((name) =>
      fc
        .oneof(anyJson, deeplyNested, pastTheBound)
        .filter(rejectedBy(name))
        .map((value) => withField(name, value)),
    ),
    // A required field missing.
    field.map((name) => JSON.stringify(Object.fromEntries(Object.entries(base).filter(([key]) => key !== name)))),
    // Non-finite numbers: 1e999 parses as Infinity; NaN is not JSON at all.
    fc.tuple(field, fc.constantFrom("1e999", "-1e999", "NaN", "Infinity")).map(([name, raw]) => withField(name, "§").replace('"§"', raw)),
    // An unknown or missing type.
    fc
      .string()
      .filter((other) => !(TYPES as string[]).includes(other))
      .map((other) => JSON.stringify({ ...base, type: other })),
    fc.constant(JSON.stringify({ ...base, type: undefined })),
    // Duplicate keys: the last one wins, and it is wrong.
    fc
      .string()
      .filter((other) => !(TYPES as string[]).includes(other))
      .map((other) => `${JSON.stringify(base).slice(0, -1)},"type":${JSON.stringify(other)}}`),
    // Prototype-polluting keys on a message that is invalid anyway.
    fc
      .tuple(field, fc.constantFrom(...POLLUTING_KEYS), fc.jsonValue())
      .map(
        ([name, key, value]) =>
          `${withField(name, { nested: true }).slice(0, -1)},${JSON.stringify(key)}:${JSON.stringify({ polluted: value })}}`,
      ),
  );
}

/** A room with no rate limit to speak of, a registered sender and a registered watcher. */
async function hostileRoom() {
  const room = freshHostileRoom();
  const { onRooms: watcher, onChannels: sender } = await twoUsers(room, "watcher", "sender");
  return { room, watcher, sender };
}

async function roomState(room: string) {
  const users = await (await request(roomPath("rooms", room, "users"))).json();
  const last = await (await request(roomPath("rooms", room, "last"))).json();
  return { users, last };
}

/** Sends one frame, then proves it got exactly one uncompliant and nobody else anything. */
async function expectRefusedAlone(sender: Client, watcher: Client, frame: string | ArrayBuffer): Promise<void> {
  sender.send(frame);
  const answer = await sender.next();
  expect(answer.type, `answer to ${summarize(frame)}`).toBe("uncompliant");
  expect(answer.reason).toEqual(expect.any(String));
  expect(answer.reason).not.toBe(INTERNAL_FAILURE);
  watcher.send({ type: "text", author: "watcher", text: SENTINEL });
  expect(await sender.next()).toMatchObject({ type: "text", text: SENTINEL });
  expect(await watcher.next()).toMatchObject({ type: "text", text: SENTINEL });
  expect(sender.isOpen && watcher.isOpen).toBe(true);
}

function summarize(frame: string | ArrayBuffer): string {
  return typeof frame === "string" ? JSON.stringify(frame.slice(0, 200)) : `${frame.byteLength} binary bytes`;
}

async function expectUnharmed(room: string, before: Awaited<ReturnType<typeof roomState>>) {
  expect(await roomState(room)).toEqual(before);
  const polluted = await runInDurableObject(
    roomStub(room),
    () => Object.keys(Object.prototype).length + Object.keys(Array.prototype).length,
  );
  expect(polluted).toBe(0);
}

describe.each(TYPES)("hostile %s frames", (type) => {
  it("are each refused with one uncompliant to the sender alone, the room unchanged", async () => {
    const { room, watcher, sender } = await hostileRoom();
    const before = await roomState(room);
    await fc.assert(
      fc.asyncProperty(hostileFrames(type), (frame) => expectRefusedAlone(sender, watcher, frame)),
      { numRuns: RUNS },
    );
    await expectUnharmed(room, before);
  });
});

describe("hostile frames of no type at all", () => {
  it("random text and random bytes are each refused alone, the room unchanged", async () => {
    const { room, watcher, sender } = await hostileRoom();
    const before = await roomState(room);
    // "ping" is the keepalive the platform answers itself.
    const text = fc.string({ unit: "binary", maxLength: 500 }).filter((frame) => frame !== "ping");
    const bytes = fc.uint8Array({ maxLength: 500 }).map((array) => array.slice().buffer as ArrayBuffer);
    await fc.assert(
      fc.asyncProperty(fc.oneof(text, bytes), (frame) => expectRefusedAlone(sender, watcher, frame)),
      { numRuns: RUNS * 2 },
    );
    await expectUnharmed(room, before);
  });

  it("refuses a frame at the size cap, and deeply nested GeoJSON, within a bounded time", async () => {
    const { room, watcher, sender } = await hostileRoom();
    const before = await roomState(room);
    const atTheCap = `{"type":"text","author":"sender","text":"${"x".repeat(limits.maxFrameLength - 40)}"}`;
    const depth = 200_000;
    const nestedLayer = `{"type":"geojson","author":"sender","layer_name":"deep","crs_wkt":"w","crs_authid":"EPSG:4326","geojson":{"type":"FeatureCollection","features":[${"[".repeat(depth)}${"]".repeat(depth)}]}}`;
    for (const frame of [atTheCap, `${atTheCap} `.repeat(2), nestedLayer]) {
      const started = performance.now();
      await expectRefusedAlone(sender, watcher, frame);
      expect(performance.now() - started).toBeLessThan(5_000);
    }
    await expectUnharmed(room, before);
  });
});
