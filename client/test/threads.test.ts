// Threads: which messages are replies, what a quote of each type says, and the
// reply field on what the composer sends.
import { describe, expect, it } from "vitest";
import { type OutgoingMessage, type Received, WGS84 } from "../src/protocol";
import { isThreadedType, QUOTE_LENGTH, quoteOf, replyTargetOf, shorten, summaryOf, withReply } from "../src/threads";

const STAMP = { id: "7f9c1c1e-0000-4000-8000-000000000001", timestamp: 1_760_000_000 };
const ORIGINAL_ID = "7f9c1c1e-0000-4000-8000-00000000000a";
const by = { author: "jane_doe", avatar: null };

const received = {
  text: { type: "text", ...by, text: "the roads layer is up", ...STAMP },
  image: { type: "image", ...by, image_data: "iVBORw0KGgo=", ...STAMP },
  geojson: {
    type: "geojson",
    ...by,
    layer_name: "roads",
    ...WGS84,
    style: null,
    ...STAMP,
    geojson: { type: "FeatureCollection", features: [{ type: "Feature" }, { type: "Feature" }] },
  },
  bbox: { type: "bbox", ...by, ...WGS84, xmin: 2.3, xmax: 2.4, ymin: 48.83, ymax: 48.88, ...STAMP },
  position: { type: "position", ...by, ...WGS84, x: 2.3499, y: 48.853, ...STAMP },
  crs: { type: "crs", ...by, crs_wkt: "", crs_authid: "EPSG:2154", ...STAMP },
  model: { type: "model", ...by, model_name: "buffer", model_group: "tools", raw_xml: "<x/>", ...STAMP },
  script: { type: "script", ...by, name: "hello", raw_pycode: "print(1)", ...STAMP },
} satisfies Record<string, Received>;

describe("summaryOf and quoteOf", () => {
  it("quote a text as it is, and every other type by the line the conversation shows", () => {
    expect(quoteOf(received.text)).toEqual({ author: "jane_doe", text: "the roads layer is up" });
    expect(quoteOf(received.image)?.text).toBe("shared an image");
    expect(quoteOf(received.geojson)?.text).toBe("shared the layer “roads” (2 features, EPSG:4326)");
    expect(quoteOf(received.bbox)?.text).toBe("shared an extent (EPSG:4326): 2.30000, 48.83000 – 2.40000, 48.88000");
    expect(quoteOf(received.position)?.text).toBe("shared a position (EPSG:4326): 2.34990, 48.85300");
    expect(quoteOf(received.crs)?.text).toBe("shared a CRS: EPSG:2154");
    expect(quoteOf(received.model)?.text).toBe("shared the processing model “buffer” (tools)");
    expect(quoteOf(received.script)?.text).toBe("shared the processing script “hello”");
  });

  it("say one feature, not one features", () => {
    const one = { ...received.geojson, geojson: { type: "FeatureCollection" as const, features: [{ type: "Feature" as const }] } };
    expect(summaryOf(one)).toBe("shared the layer “roads” (1 feature, EPSG:4326)");
  });

  it("have nothing to quote for what no one authored", () => {
    expect(quoteOf({ type: "nb_users", nb_users: 2, ...STAMP })).toBeUndefined();
    expect(quoteOf({ type: "newcomer", newcomer: "jane_doe", ...STAMP })).toBeUndefined();
    expect(quoteOf({ type: "uncompliant", reason: "no", ...STAMP })).toBeUndefined();
  });

  it("cut a long text to one line of at most 80 characters, ellipsis included", () => {
    const long = `${"word ".repeat(40)}end`;
    const quote = quoteOf({ ...received.text, text: long })!.text;
    expect([...quote].length).toBeLessThanOrEqual(QUOTE_LENGTH);
    expect(quote.endsWith("…")).toBe(true);
    expect(quote.startsWith("word word")).toBe(true);
    expect(quoteOf({ ...received.text, text: "two\nlines\t and  spaces" })!.text).toBe("two lines and spaces");
    const layer = quoteOf({ ...received.geojson, layer_name: "x".repeat(255) })!.text;
    expect([...layer].length).toBe(QUOTE_LENGTH);
  });
});

describe("shorten", () => {
  it("keeps short lines whole and never cuts inside a character", () => {
    expect(shorten("hello", 80)).toBe("hello");
    expect(shorten("x".repeat(80), 80)).toBe("x".repeat(80));
    expect(shorten("x".repeat(81), 80)).toBe(`${"x".repeat(79)}…`);
    // A flag is two code points, a family seven: each stays whole, or goes whole.
    expect(shorten("🇫🇷".repeat(10), 5)).toBe(`${"🇫🇷".repeat(4)}…`);
    expect(shorten(`ab${"👨‍👩‍👧‍👦"}cd`, 4)).toBe(`ab${"👨‍👩‍👧‍👦"}…`);
  });
});

describe("replyTargetOf", () => {
  it("reads in_reply_to_id on the threaded types only", () => {
    expect(replyTargetOf({ ...received.text, in_reply_to_id: ORIGINAL_ID })).toBe(ORIGINAL_ID);
    expect(replyTargetOf({ ...received.position, in_reply_to_id: ORIGINAL_ID })).toBe(ORIGINAL_ID);
    expect(replyTargetOf(received.text)).toBeUndefined();
    // Whatever some other server sends on a model, or as a null, is no reply.
    expect(replyTargetOf({ ...received.model, in_reply_to_id: ORIGINAL_ID } as Received)).toBeUndefined();
    expect(replyTargetOf({ ...received.text, in_reply_to_id: null } as unknown as Received)).toBeUndefined();
    expect(replyTargetOf({ ...received.text, in_reply_to_id: "" })).toBeUndefined();
  });
});

describe("withReply", () => {
  const outgoing = {
    text: { type: "text", ...by, text: "agreed" },
    image: { type: "image", ...by, image_data: "iVBORw0KGgo=" },
    geojson: { type: "geojson", ...by, layer_name: "roads", ...WGS84, geojson: { type: "FeatureCollection", features: [] }, style: null },
    bbox: { type: "bbox", ...by, ...WGS84, xmin: 0, xmax: 1, ymin: 0, ymax: 1 },
    position: { type: "position", ...by, ...WGS84, x: 1, y: 2 },
    like: { type: "like", liker_author: "jane_doe", liked_author: "john_doe", message: "hi" },
    newcomer: { type: "newcomer", newcomer: "jane_doe" },
    exiter: { type: "exiter", exiter: "jane_doe" },
  } satisfies Record<string, OutgoingMessage>;

  it("adds in_reply_to_id to texts, images, layers, extents and positions", () => {
    for (const message of [outgoing.text, outgoing.image, outgoing.geojson, outgoing.bbox, outgoing.position]) {
      expect(withReply(message, ORIGINAL_ID)).toEqual({ ...message, in_reply_to_id: ORIGINAL_ID });
      // The message itself is left as it was.
      expect(message).not.toHaveProperty("in_reply_to_id");
    }
  });

  it("never adds it to likes, arrivals and departures, which have no such field", () => {
    for (const message of [outgoing.like, outgoing.newcomer, outgoing.exiter]) {
      expect(withReply(message, ORIGINAL_ID)).toBe(message);
      expect(JSON.stringify(withReply(message, ORIGINAL_ID))).not.toContain("in_reply_to_id");
    }
  });

  it("adds nothing outside reply mode: the key is absent, not null", () => {
    expect(withReply(outgoing.text, undefined)).toBe(outgoing.text);
    expect(Object.keys(withReply(outgoing.text, undefined))).not.toContain("in_reply_to_id");
  });

  it("knows the six threaded types of QChat 1.7", () => {
    expect(["text", "image", "geojson", "crs", "bbox", "position"].every(isThreadedType)).toBe(true);
    for (const type of ["model", "script", "like", "newcomer", "exiter", "nb_users", "uncompliant", "toString", "__proto__"]) {
      expect(isThreadedType(type), type).toBe(false);
    }
  });
});
