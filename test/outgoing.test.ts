// A message is serialized once (the rooms frame) and the channels frame and the stored
// envelope are built around that string: each must be exactly what JSON.stringify of the
// shaped message (or of the envelope) gives, for every message type, with and without a
// thread, for every dialect.
import { describe, expect, it } from "vitest";
import { Outgoing, serialize } from "../src/room/outgoing";
import { type Dialect, envelope } from "../src/wire/envelope";
import { CLIENT_MESSAGE_DOCS, SERVER_MESSAGE_DOCS } from "../src/wire/examples";
import { LIMITS, type Limits } from "../src/wire/limits";
import type { WireMessage } from "../src/wire/messages";
import { parseMessage } from "../src/wire/messages";

const DIALECTS: Dialect[] = ["rooms", "channels", "gischat1"];
const LIMITS_DEFAULTS = Object.fromEntries(Object.entries(LIMITS).map(([name, spec]) => [name, spec.fallback])) as unknown as Limits;

/** Every example as the room holds it: client messages parsed (nulls filled in), server ones as they are. */
const MESSAGES: [string, WireMessage][] = [
  ...Object.entries(CLIENT_MESSAGE_DOCS).map(([type, { example }]): [string, WireMessage] => {
    const parsed = parseMessage(example, LIMITS_DEFAULTS);
    if (!parsed.ok) throw new Error(`The ${type} example does not parse: ${parsed.reason}`);
    return [type, parsed.message];
  }),
  ...Object.entries(SERVER_MESSAGE_DOCS).map(([type, { example }]): [string, WireMessage] => [type, example as WireMessage]),
  // Characters JSON escapes, in a text and in an author's avatar.
  ["text with escapes", { type: "text", author: "jane_doe", avatar: 'a "b"\\c', text: "line\nnext \u2028 \u0000 😀 </script>" }],
];

const STAMPS = [
  { name: "a fresh message", stamp: {} },
  { name: "a client's id", stamp: { id: "0b7f1c2e-6a4d-4f0e-9d3c-5e8a7b6c4d21" } },
  { name: "a reply", stamp: { inReplyTo: "6a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d" } },
];

describe("a message on its way out", () => {
  for (const [type, message] of MESSAGES) {
    for (const { name, stamp } of STAMPS) {
      it(`${type}, ${name}: every dialect's frame and the stored envelope, exactly`, () => {
        const stamped = envelope(message, stamp);
        const outgoing = new Outgoing(stamped);
        for (const dialect of DIALECTS) expect(outgoing.for(dialect)).toBe(serialize(stamped, dialect));
        expect(outgoing.stored()).toBe(JSON.stringify(stamped));
        expect(JSON.parse(outgoing.stored())).toEqual(stamped);
      });
    }
  }

  it("builds the channels frame from the rooms frame whichever is asked first", () => {
    const stamped = envelope(MESSAGES[0]![1], { inReplyTo: "6a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d" });
    const channelsFirst = new Outgoing(stamped);
    expect(channelsFirst.for("channels")).toBe(serialize(stamped, "channels"));
    expect(channelsFirst.for("rooms")).toBe(serialize(stamped, "rooms"));
  });
});
