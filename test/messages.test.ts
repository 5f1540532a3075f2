// One describe per message type of the contract, through real sockets of both
// families: exact field sets, reasons, and who receives what.
import { describe, expect, it } from "vitest";
import {
  BOTH_FAMILIES,
  Client,
  expectChannelStamp,
  expectNothingBefore,
  type Family,
  freshRoom,
  request,
  roomPath,
  twoUsers,
  withoutStamp,
} from "./helpers";

const FAMILIES = BOTH_FAMILIES;
const WKT = 'GEOGCRS["WGS 84",DATUM["World Geodetic System 1984"]]';

/** A rooms socket and a channels socket in one fresh room, both registered. */
async function mixedRoom() {
  const room = freshRoom();
  const { onRooms: rooms, onChannels: channels } = await twoUsers(room, "rooms_user", "channels_user");
  return { room, rooms, channels };
}

function featureCollection(count: number) {
  return {
    type: "FeatureCollection",
    features: Array.from({ length: count }, (_, i) => ({
      type: "Feature",
      properties: { id: i, name: `point ${i}` },
      geometry: { type: "Point", coordinates: [2.35 + i / 1000, 48.85] },
    })),
  };
}

/** A valid sample of every type that is broadcast, as sent and as the rooms family must receive it. */
const broadcastSamples: [string, Record<string, unknown>, Record<string, unknown>][] = [
  ["text", { type: "text", author: "rooms_user", text: "hello" }, { type: "text", author: "rooms_user", avatar: null, text: "hello" }],
  [
    "geojson",
    {
      type: "geojson",
      author: "rooms_user",
      avatar: "mIconPolygonLayer.svg",
      layer_name: "parcels",
      crs_wkt: WKT,
      crs_authid: "EPSG:4326",
      geojson: featureCollection(2),
    },
    {
      type: "geojson",
      author: "rooms_user",
      avatar: "mIconPolygonLayer.svg",
      layer_name: "parcels",
      crs_wkt: WKT,
      crs_authid: "EPSG:4326",
      geojson: featureCollection(2),
      style: null,
    },
  ],
  [
    "crs",
    { type: "crs", author: "rooms_user", crs_wkt: WKT, crs_authid: "EPSG:4326" },
    { type: "crs", author: "rooms_user", avatar: null, crs_wkt: WKT, crs_authid: "EPSG:4326" },
  ],
  [
    "bbox",
    { type: "bbox", author: "rooms_user", crs_wkt: WKT, crs_authid: "EPSG:4326", xmin: -1.5, xmax: 2, ymin: 43, ymax: 49.25 },
    { type: "bbox", author: "rooms_user", avatar: null, crs_wkt: WKT, crs_authid: "EPSG:4326", xmin: -1.5, xmax: 2, ymin: 43, ymax: 49.25 },
  ],
  [
    "position",
    { type: "position", author: "rooms_user", crs_wkt: WKT, crs_authid: "EPSG:4326", x: 2.35, y: 48.85 },
    { type: "position", author: "rooms_user", avatar: null, crs_wkt: WKT, crs_authid: "EPSG:4326", x: 2.35, y: 48.85 },
  ],
  [
    "model",
    { type: "model", author: "rooms_user", model_name: "buffer_and_clip", raw_xml: "<Model/>" },
    { type: "model", author: "rooms_user", avatar: null, model_name: "buffer_and_clip", model_group: null, raw_xml: "<Model/>" },
  ],
  [
    "script",
    { type: "script", author: "rooms_user", name: "count_features", raw_pycode: "print('hi')\n" },
    { type: "script", author: "rooms_user", avatar: null, name: "count_features", raw_pycode: "print('hi')\n" },
  ],
];

describe("serialization per family", () => {
  it.each(broadcastSamples)(
    "%s: rooms get exactly the contract's fields, channels also id and timestamp",
    async (_type, sent, expected) => {
      const { rooms, channels } = await mixedRoom();
      rooms.send({ ...sent, unexpected_key: "dropped", id: "client-chosen" });
      expect(await rooms.next()).toEqual(expected);
      const received = await channels.next();
      expect(withoutStamp(received)).toEqual(expected);
      expect(Object.keys(received)).toEqual([...Object.keys(expected), "id", "timestamp"]);
      expectChannelStamp(received);
      expect(received.id).not.toBe("client-chosen");
    },
  );

  it("gives one message one id for every channels receiver and in storage", async () => {
    const room = freshRoom();
    const first = await Client.join("channels", room, "first");
    const second = await Client.join("channels", room, "second");
    await first.take(2);
    first.send({ type: "text", author: "first", text: "same id everywhere" });
    const [a, b] = [await first.next(), await second.next()];
    expect(a.id).toBe(b.id);
    const late = await Client.open("channels", room);
    await late.next(); // nb_users
    expect((await late.next()).id).toBe(a.id);
  });
});

describe("text", () => {
  it.each(FAMILIES)("is broadcast to every socket, the sender included (%s sender)", async (family) => {
    const { rooms, channels } = await mixedRoom();
    const sender = family === "rooms" ? rooms : channels;
    sender.send({ type: "text", author: `${family}_user`, avatar: "mGeoPackage.svg", text: "bonjour" });
    const expected = { type: "text", author: `${family}_user`, avatar: "mGeoPackage.svg", text: "bonjour" };
    expect(await rooms.next()).toEqual(expected);
    expect(withoutStamp(await channels.next())).toEqual(expected);
  });

  it("counts the length in code points: 255 emoji pass, 256 do not", async () => {
    const client = await Client.join("rooms", freshRoom(), "emoji_fan");
    client.send({ type: "text", author: "emoji_fan", text: "🌍".repeat(255) });
    expect(await client.next()).toMatchObject({ type: "text" });
    expect(await client.rejected({ type: "text", author: "emoji_fan", text: "🌍".repeat(256) })).toBe(
      "Field 'text' must be at most 255 characters long.",
    );
  });

  it("requires text, and an author within the nickname rules", async () => {
    const client = await Client.join("rooms", freshRoom());
    expect(await client.rejected({ type: "text", author: "alice" })).toBe("Missing field 'text' (a string).");
    expect(await client.rejected({ type: "text", text: "hi" })).toBe("Missing field 'author' (a string).");
    expect(await client.rejected({ type: "text", author: "al", text: "hi" })).toBe(
      "Field 'author' must be between 3 and 32 characters long.",
    );
    expect(await client.rejected({ type: "text", author: "a".repeat(33), text: "hi" })).toBe(
      "Field 'author' must be between 3 and 32 characters long.",
    );
    expect(await client.rejected({ type: "text", author: "jane doe", text: "hi" })).toBe(
      "Field 'author' may only contain letters, digits, '_' and '-'.",
    );
    expect(await client.rejected({ type: "text", author: "<script>", text: "hi" })).toBe(
      "Field 'author' may only contain letters, digits, '_' and '-'.",
    );
    expect(await client.rejected({ type: "text", author: "alice", avatar: 3, text: "hi" })).toBe(
      "Field 'avatar' must be a string, got a number.",
    );
  });

  it("may not be posted under a nickname another socket holds", async () => {
    const room = freshRoom();
    const alice = await Client.join("rooms", room, "alice");
    const mallory = await Client.join("rooms", room, "mallory");
    await alice.take(2);
    expect(await mallory.rejected({ type: "text", author: "alice", text: "I am alice" })).toBe(
      "The nickname 'alice' is registered by another user in this room: post under your own nickname.",
    );
    await expectNothingBefore(alice, mallory, "mallory");
  });

  it("may be posted under a nickname nobody holds, as in the original server", async () => {
    const client = await Client.join("rooms", freshRoom());
    client.send({ type: "text", author: "unregistered", text: "hi" });
    expect(await client.next()).toMatchObject({ type: "text", author: "unregistered" });
  });
});

describe("image", () => {
  it("is validated before anything else (see images.test.ts for the pipeline)", async () => {
    const sender = await Client.join("rooms", freshRoom());
    expect(await sender.rejected({ type: "image", author: "sender" })).toBe("Missing field 'image_data' (a string).");
    expect(await sender.rejected({ type: "image", author: "sender", image_data: "a".repeat(5_000_001) })).toBe(
      "Invalid or oversized image data.",
    );
  });
});

describe("newcomer", () => {
  it("registers the socket and is broadcast to everyone in both shapes", async () => {
    const { rooms, channels } = await mixedRoom();
    const late = await Client.join("rooms", rooms.room);
    await rooms.next();
    await channels.next(); // nb_users
    late.send({ type: "newcomer", newcomer: "late_user" });
    expect(await late.next()).toEqual({ type: "newcomer", newcomer: "late_user" });
    expect(await rooms.next()).toEqual({ type: "newcomer", newcomer: "late_user" });
    const forChannels = await channels.next();
    expect(Object.keys(forChannels)).toEqual(["type", "newcomer", "id", "timestamp"]);
  });

  it.each<[Family, string]>([
    ["rooms", "room"],
    ["channels", "channel"],
  ])("refuses a nickname another socket holds (%s family: 'in %s')", async (family, noun) => {
    const room = freshRoom();
    const first = await Client.join("rooms", room, "taken");
    const second = await Client.join(family, room);
    await first.next();
    expect(await second.rejected({ type: "newcomer", newcomer: "taken" })).toBe(`User 'taken' already registered in ${noun} ${room}`);
    await expectNothingBefore(first, second, "someone");
  });

  it.each<[Family, string]>([
    ["rooms", "room"],
    ["channels", "channel"],
  ])("refuses a nickname this socket already holds (%s family)", async (family, noun) => {
    const room = freshRoom();
    const client = await Client.join(family, room, "twice");
    expect(await client.rejected({ type: "newcomer", newcomer: "twice" })).toBe(`User 'twice' already registered in ${noun} ${room}`);
  });

  it("gives up the first nickname when a socket registers a second one", async () => {
    const room = freshRoom();
    const watcher = await Client.join("rooms", room, "watcher");
    const client = await Client.join("rooms", room, "first_name");
    await watcher.take(2);
    client.send({ type: "newcomer", newcomer: "second_name" });
    expect(await watcher.take(2)).toEqual([
      { type: "exiter", exiter: "first_name" },
      { type: "newcomer", newcomer: "second_name" },
    ]);
    const users = await (await fetchUsers(room)).json();
    expect(users).toEqual(["second_name", "watcher"]);
    // The old nickname is free again.
    const other = await Client.join("rooms", room, "first_name");
    expect(other.isOpen).toBe(true);
  });

  it("applies the nickname rules", async () => {
    const client = await Client.join("rooms", freshRoom());
    expect(await client.rejected({ type: "newcomer", newcomer: "ab" })).toBe("Field 'newcomer' must be between 3 and 32 characters long.");
    client.send({ type: "newcomer", newcomer: "jean-pierre_42" });
    expect(await client.next()).toEqual({ type: "newcomer", newcomer: "jean-pierre_42" });
  });
});

function fetchUsers(room: string) {
  return request(roomPath("rooms", room, "users"));
}

describe("exiter", () => {
  it("unregisters the socket's own nickname and is broadcast", async () => {
    const room = freshRoom();
    const watcher = await Client.join("rooms", room, "watcher");
    const leaver = await Client.join("channels", room, "leaver");
    await watcher.take(2);
    leaver.send({ type: "exiter", exiter: "leaver" });
    expect(await watcher.next()).toEqual({ type: "exiter", exiter: "leaver" });
    expect(withoutStamp(await leaver.next())).toEqual({ type: "exiter", exiter: "leaver" });
    expect(await (await fetchUsers(room)).json()).toEqual(["watcher"]);
  });

  it("refuses a nickname the socket does not hold", async () => {
    const room = freshRoom();
    const watcher = await Client.join("rooms", room, "watcher");
    const other = await Client.join("rooms", room, "other");
    await watcher.take(2);
    expect(await other.rejected({ type: "exiter", exiter: "watcher" })).toBe(
      "You can only announce your own exit: this connection is registered as 'other', not 'watcher'.",
    );
    const anonymous = await Client.join("rooms", room);
    expect(await anonymous.rejected({ type: "exiter", exiter: "watcher" })).toBe(
      "You can only announce your own exit: this connection has no registered nickname, not 'watcher'.",
    );
    expect(await (await fetchUsers(room)).json()).toEqual(["other", "watcher"]);
  });
});

describe("like", () => {
  it("reaches only the liked author: not the liker, not a third socket", async () => {
    const room = freshRoom();
    const author = await Client.join("channels", room, "author");
    const liker = await Client.join("rooms", room, "liker");
    const third = await Client.join("rooms", room, "third");
    await author.take(4);
    await liker.take(2);
    liker.send({ type: "like", liker_author: "liker", liked_author: "author", message: "nice map" });
    const received = await author.next();
    expect(withoutStamp(received)).toEqual({ type: "like", liker_author: "liker", liked_author: "author", message: "nice map" });
    expectChannelStamp(received);
    await expectNothingBefore([third, liker], liker, "liker");
  });

  it("is dropped silently when nobody holds the liked nickname, and never stored", async () => {
    const room = freshRoom();
    const liker = await Client.join("rooms", room, "liker");
    liker.send({ type: "like", liker_author: "liker", liked_author: "nobody", message: "hello?" });
    await expectNothingBefore(liker, liker, "liker");
    const late = await Client.open("rooms", room);
    await late.next();
    expect((await late.next()).type).toBe("text"); // only the sentinel was stored
  });

  it("may not be sent in the name of another socket's nickname", async () => {
    const room = freshRoom();
    const victim = await Client.join("rooms", room, "victim");
    const mallory = await Client.join("rooms", room, "mallory");
    await victim.take(2);
    expect(await mallory.rejected({ type: "like", liker_author: "victim", liked_author: "victim", message: "x" })).toContain("'victim'");
    await expectNothingBefore(victim, mallory, "mallory");
  });

  it("bounds the liked message like a text", async () => {
    const liker = await Client.join("rooms", freshRoom(), "liker");
    expect(await liker.rejected({ type: "like", liker_author: "liker", liked_author: "someone", message: "a".repeat(256) })).toBe(
      "Field 'message' must be at most 255 characters long.",
    );
  });
});

describe("geojson", () => {
  const layer = (geojson: unknown, extra: Record<string, unknown> = {}) => ({
    type: "geojson",
    author: "mapper",
    layer_name: "points",
    crs_wkt: WKT,
    crs_authid: "EPSG:4326",
    geojson,
    ...extra,
  });

  it("accepts exactly MAX_GEOJSON_FEATURES features, with a QML style", async () => {
    const client = await Client.join("rooms", freshRoom(), "mapper");
    client.send(layer(featureCollection(500), { style: "<qgis/>" }));
    const received = await client.next();
    expect(received).toMatchObject({ type: "geojson", style: "<qgis/>" });
    expect((received.geojson as { features: unknown[] }).features).toHaveLength(500);
  });

  it("refuses one feature too many with the exact reason", async () => {
    const client = await Client.join("rooms", freshRoom(), "mapper");
    expect(await client.rejected(layer(featureCollection(501)))).toBe("Too many geojson features : 501 vs max 500 allowed");
  });

  it("requires a FeatureCollection of features and bounded names", async () => {
    const client = await Client.join("rooms", freshRoom(), "mapper");
    expect(await client.rejected(layer({ type: "Feature", geometry: null }))).toBe("Field 'geojson.type' must be \"FeatureCollection\".");
    expect(await client.rejected(layer({ type: "FeatureCollection" }))).toBe("Missing field 'geojson.features' (a JSON array).");
    expect(await client.rejected(layer({ type: "FeatureCollection", features: [1] }))).toBe(
      "Field 'geojson.features.0' must be a JSON object, got a number.",
    );
    expect(await client.rejected(layer("{}"))).toBe("Field 'geojson' must be a JSON object, got a string.");
    expect(await client.rejected(layer(featureCollection(1), { layer_name: "l".repeat(256) }))).toBe(
      "Field 'layer_name' must be at most 255 characters long.",
    );
    expect(await client.rejected(layer(featureCollection(1), { crs_wkt: "w".repeat(2001) }))).toBe(
      "Field 'crs_wkt' must be at most 2000 characters long.",
    );
    expect(await client.rejected(layer(featureCollection(1), { crs_authid: "E".repeat(51) }))).toBe(
      "Field 'crs_authid' must be at most 50 characters long.",
    );
  });
});

describe("crs", () => {
  it("requires both CRS fields", async () => {
    const client = await Client.join("rooms", freshRoom());
    expect(await client.rejected({ type: "crs", author: "mapper", crs_wkt: WKT })).toBe("Missing field 'crs_authid' (a string).");
  });
});

describe("bbox", () => {
  it("requires finite numbers", async () => {
    const client = await Client.join("rooms", freshRoom());
    const base = { type: "bbox", author: "mapper", crs_wkt: WKT, crs_authid: "EPSG:4326", xmin: 0, xmax: 1, ymin: 0 };
    expect(await client.rejected({ ...base, ymax: "1" })).toBe("Field 'ymax' must be a finite number, got a string.");
    expect(await client.rejected({ ...base })).toBe("Missing field 'ymax' (a finite number).");
    // JSON cannot spell Infinity, but 1e999 parses to it.
    expect(await client.rejected(JSON.stringify({ ...base, ymax: 1 }).replace('"ymax":1', '"ymax":1e999'))).toBe(
      "Field 'ymax' must be a finite number, got a number out of range.",
    );
  });
});

describe("position", () => {
  it("requires finite numbers", async () => {
    const client = await Client.join("rooms", freshRoom());
    const raw = JSON.stringify({ type: "position", author: "mapper", crs_wkt: WKT, crs_authid: "EPSG:4326", x: 1, y: 2 });
    expect(await client.rejected(raw.replace('"x":1', '"x":-1e400'))).toBe("Field 'x' must be a finite number, got a number out of range.");
  });
});

describe("model", () => {
  it("keeps the group and bounds the name, group and XML", async () => {
    const client = await Client.join("rooms", freshRoom());
    const model = { type: "model", author: "modeler", model_name: "m", model_group: "hydrology", raw_xml: "<Model/>" };
    client.send(model);
    expect(await client.next()).toEqual({ ...model, avatar: null });
    expect(await client.rejected({ ...model, model_name: "n".repeat(129) })).toBe(
      "Field 'model_name' must be at most 128 characters long.",
    );
    expect(await client.rejected({ ...model, model_group: "g".repeat(129) })).toBe(
      "Field 'model_group' must be at most 128 characters long.",
    );
    expect(await client.rejected({ ...model, raw_xml: "x".repeat(1_000_001) })).toBe(
      "Field 'raw_xml' must be at most 1000000 characters long.",
    );
  });
});

describe("script", () => {
  it("bounds the name and the code", async () => {
    const client = await Client.join("rooms", freshRoom());
    const script = { type: "script", author: "coder", name: "s", raw_pycode: "pass" };
    expect(await client.rejected({ ...script, name: "n".repeat(129) })).toBe("Field 'name' must be at most 128 characters long.");
    expect(await client.rejected({ ...script, raw_pycode: "x".repeat(2_000_001) })).toBe(
      "Field 'raw_pycode' must be at most 2000000 characters long.",
    );
  });
});
