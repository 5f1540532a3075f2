// The whole history through REST: pages with a stable cursor (messages arriving
// between pages make none skip or repeat), the bounds of `limit` and `before`,
// each family's shape; deleting one message (its rows gone, every socket told, a
// gischat 1.x socket told nothing); and the geodata exported as GeoJSON.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { fromWebMercator } from "../src/wire/crs";
import { BOTH_FAMILIES, Client, expectChannelStamp, type Family, freshRoom, type Json, request, roomPath, roomStub } from "./helpers";
import { freshHostileRoom } from "./rooms";

const TEST_ADMIN_TOKEN = env.ADMIN_TOKEN!;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

type Page = { messages: Json[]; next_before: string | null };

/** Posts texts over REST, one after the other; their ids as the channels family answers them. */
async function postTexts(room: string, texts: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const text of texts) {
    const response = await request(roomPath("channels", room, "text"), {
      method: "PUT",
      body: JSON.stringify({ author: "poster", text }),
    });
    expect(response.status).toBe(200);
    ids.push(((await response.json()) as { id: string }).id);
  }
  return ids;
}

async function page(family: Family, room: string, query = ""): Promise<Page> {
  const response = await request(roomPath(family, room, `messages${query}`));
  expect(response.status, await response.clone().text()).toBe(200);
  expect(response.headers.get("Content-Type")).toBe("application/json");
  return (await response.json()) as Page;
}

const texts = (messages: Json[]) => messages.map((message) => message.text);
const numbered = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `m${from + i}`);

function sqlCount(room: string, query: string, ...params: unknown[]): Promise<number> {
  return runInDurableObject(roomStub(room), (_instance, state) => Number(state.storage.sql.exec(query, ...params).one().count));
}

describe("GET /{family}/{name}/messages", () => {
  it("pages from the newest backwards, oldest first within a page, without skipping or repeating while messages arrive", async () => {
    const room = freshRoom();
    const ids = await postTexts(room, numbered(1, 12));
    const first = await page("channels", room, "?limit=5");
    expect(texts(first.messages)).toEqual(numbered(8, 12));
    expect(first.next_before).toBe(ids[7]);
    // Newer messages arrive between pages: they are newer than every cursor.
    await postTexts(room, ["late 1", "late 2", "late 3"]);
    const second = await page("channels", room, `?limit=5&before=${first.next_before}`);
    expect(texts(second.messages)).toEqual(numbered(3, 7));
    expect(second.next_before).toBe(ids[2]);
    await postTexts(room, ["late 4"]);
    const third = await page("channels", room, `?limit=5&before=${second.next_before}`);
    expect(texts(third.messages)).toEqual(numbered(1, 2));
    expect(third.next_before).toBeNull();
    const seen = [...third.messages, ...second.messages, ...first.messages].map((message) => message.id);
    expect(seen).toEqual(ids);
    // The newest page now starts with what arrived meanwhile.
    expect(texts((await page("channels", room, "?limit=4")).messages)).toEqual(["late 1", "late 2", "late 3", "late 4"]);
  });

  it("answers the newest 50 by default, and a limit of 1 and of 100", async () => {
    const room = freshRoom();
    await postTexts(room, numbered(1, 101));
    const byDefault = await page("rooms", room);
    expect(texts(byDefault.messages)).toEqual(numbered(52, 101));
    expect(texts((await page("rooms", room, "?limit=1")).messages)).toEqual(["m101"]);
    const hundred = await page("rooms", room, "?limit=100");
    expect(texts(hundred.messages)).toEqual(numbered(2, 101));
    expect(hundred.next_before).toEqual(expect.stringMatching(UUID));
    const last = await page("rooms", room, `?limit=100&before=${hundred.next_before}`);
    expect(last).toEqual({ messages: [{ type: "text", author: "poster", avatar: null, text: "m1" }], next_before: null });
  });

  it.each(BOTH_FAMILIES)("serializes the messages for the family of the path (%s)", async (family) => {
    const room = freshRoom();
    const [id] = await postTexts(room, ["hello"]);
    const body = await page(family, room);
    if (family === "rooms") {
      expect(body).toEqual({ messages: [{ type: "text", author: "poster", avatar: null, text: "hello" }], next_before: null });
    } else {
      expect(body).toEqual({
        messages: [{ type: "text", author: "poster", avatar: null, text: "hello", id, timestamp: expect.any(Number) }],
        next_before: null,
      });
      expectChannelStamp(body.messages[0]!);
    }
  });

  it("answers an empty page for an empty room", async () => {
    expect(await page("rooms", freshRoom())).toEqual({ messages: [], next_before: null });
  });

  it.each(["0", "101", "-1", "1.5", "abc", ""])("refuses limit=%j with a 422 naming the query parameter", async (limit) => {
    const response = await request(roomPath("rooms", freshRoom(), `messages?limit=${limit}`));
    expect(response.status).toBe(422);
    expect(response.headers.get("Content-Type")).toBe("application/json");
    expect(await response.json()).toEqual({
      detail: [
        {
          loc: ["query", "limit"],
          msg: "Query parameter 'limit' must be a whole number from 1 to 100 (default 50): how many messages the page holds.",
          type: "value_error",
        },
      ],
    });
  });

  it("refuses an empty before with a 422 naming it", async () => {
    const response = await request(roomPath("channels", freshRoom(), "messages?before="));
    expect(response.status).toBe(422);
    expect(((await response.json()) as { detail: { loc: string[] }[] }).detail[0]!.loc).toEqual(["query", "before"]);
  });

  it.each(BOTH_FAMILIES)("answers 404 with a detail for a before that names no message (%s)", async (family) => {
    const room = freshRoom();
    await postTexts(room, ["kept"]);
    const unknown = crypto.randomUUID();
    const response = await request(roomPath(family, room, `messages?before=${unknown}`));
    expect(response.status).toBe(404);
    expect(response.headers.get("Content-Type")).toBe("application/json");
    const noun = family === "rooms" ? "room" : "channel";
    expect(await response.json()).toEqual({
      detail: `No message with id '${unknown}' in the history of ${noun} ${room}: it was deleted, or is past the retention, or never was. Ask again without 'before' for the newest page.`,
    });
  });

  it("answers 404 for an unknown room", async () => {
    const response = await request(roomPath("channels", "Nowhere", "messages"));
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ detail: "Channel 'Nowhere' not registered" });
  });
});

describe("DELETE /{family}/{name}/messages/{id} (moderation)", () => {
  const remove = (family: Family, room: string, id: string, authorization: string | null = `Bearer ${TEST_ADMIN_TOKEN}`) =>
    request(roomPath(family, room, `messages/${encodeURIComponent(id)}`), {
      method: "DELETE",
      headers: authorization === null ? {} : { Authorization: authorization },
    });

  it.each(BOTH_FAMILIES)(
    "deletes its rows, tells every socket, and the replay, /last and the pages no longer have it (%s)",
    async (family) => {
      const room = freshRoom();
      const onRooms = await Client.join("rooms", room, "alice");
      const onChannels = await Client.join("channels", room, "bob");
      await onRooms.take(2);
      const [keep1, gone, keep2] = await postTexts(room, ["one", "two (to delete)", "three"]);
      await onRooms.take(3);
      await onChannels.take(3);
      const seqOf = await runInDurableObject(roomStub(room), (_instance, state) =>
        Number(state.storage.sql.exec("SELECT seq FROM messages WHERE id = ?", gone).one().seq),
      );
      const response = await remove(family, room, gone!);
      expect(response.status).toBe(204);
      expect(await onRooms.next()).toEqual({ type: "message_deleted", message_id: gone });
      const told = await onChannels.next();
      expect(told).toEqual({ type: "message_deleted", message_id: gone, id: expect.any(String), timestamp: expect.any(Number) });
      expectChannelStamp(told);
      expect(told.id).not.toBe(gone);
      // Gone from storage: its row and its chunks.
      expect(await sqlCount(room, "SELECT COUNT(*) AS count FROM messages WHERE id = ?", gone)).toBe(0);
      expect(await sqlCount(room, "SELECT COUNT(*) AS count FROM message_parts WHERE seq = ?", seqOf)).toBe(0);
      expect(await sqlCount(room, "SELECT COUNT(*) AS count FROM messages")).toBe(2);
      expect(texts((await page("channels", room)).messages)).toEqual(["one", "three"]);
      expect(texts((await (await request(roomPath("rooms", room, "last"))).json()) as Json[])).toEqual(["one", "three"]);
      const late = await Client.open("channels", room);
      expect(await late.next()).toMatchObject({ type: "nb_users" });
      expect((await late.take(2)).map((message) => message.id)).toEqual([keep1, keep2]);
      // Deleting it again: it is not there any more.
      expect((await remove(family, room, gone!)).status).toBe(404);
    },
  );

  it("sends nothing to a gischat 1.x socket, which raises on any frame without author and message", async () => {
    const room = freshRoom();
    const alice = await Client.join("rooms", room, "alice");
    const jane = await Client.open("rooms", room);
    expect(await jane.next()).toMatchObject({ type: "nb_users" });
    await alice.next();
    jane.send({ message: "hello", author: "jane", avatar: null });
    expect(await jane.take(2)).toEqual([
      { author: "internal", nb_users: 2 },
      { message: "hello", author: "jane", avatar: null },
    ]);
    await alice.take(2); // jane's newcomer, her text
    const [id] = await postTexts(room, ["to delete"]);
    expect(await jane.next()).toEqual({ message: "to delete", author: "poster", avatar: null });
    await alice.next();
    expect((await remove("rooms", room, id!)).status).toBe(204);
    expect(await alice.next()).toEqual({ type: "message_deleted", message_id: id });
    // The very next frame jane sees is alice's sentinel: nothing came before it.
    alice.send({ type: "text", author: "alice", text: "sentinel" });
    expect(await jane.next()).toEqual({ message: "sentinel", author: "alice", avatar: null });
  });

  it("answers 404 with a detail for an id the room does not have", async () => {
    const room = freshRoom();
    await postTexts(room, ["kept"]);
    const response = await remove("channels", room, "3f0c9a52-6f1e-4c8e-9a57-2d8b1e0f4c11");
    expect(response.status).toBe(404);
    expect(response.headers.get("Content-Type")).toBe("application/json");
    expect(await response.json()).toEqual({
      detail: `No message with id '3f0c9a52-6f1e-4c8e-9a57-2d8b1e0f4c11' in the history of channel ${room}: it was already deleted, or is past the retention.`,
    });
    expect(await sqlCount(room, "SELECT COUNT(*) AS count FROM messages")).toBe(1);
  });

  it("answers 401 without the token and deletes nothing, and 404 for an unknown room", async () => {
    const room = freshRoom();
    const [id] = await postTexts(room, ["kept"]);
    const refused = await remove("rooms", room, id!, null);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toEqual({ detail: "A valid 'Authorization: Bearer <ADMIN_TOKEN>' header is required." });
    expect(await sqlCount(room, "SELECT COUNT(*) AS count FROM messages")).toBe(1);
    expect((await remove("rooms", "Nowhere", id!)).status).toBe(404);
  });
});

describe("GET /{family}/{name}/export.geojson", () => {
  const WKT = "GEOGCRS[]";
  const SITE_GRID_WKT = 'LOCAL_CS["Site grid",LOCAL_DATUM["Site datum",0],UNIT["metre",1],AXIS["X",EAST],AXIS["Y",NORTH]]';
  const CUSTOM_TM_WKT =
    'PROJCS["Chantier Nantes TM",GEOGCS["ETRS89",DATUM["European_Terrestrial_Reference_System_1989",SPHEROID["GRS 1980",6378137,298.257222101]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",47.2],PARAMETER["central_meridian",-1.55],PARAMETER["scale_factor",1.0001],PARAMETER["false_easting",10000],PARAMETER["false_northing",20000],UNIT["metre",1]]';

  async function shareGeodata(room: string) {
    const alice = await Client.join("channels", room, "alice");
    const shared: Json[] = [];
    const send = async (message: Json) => {
      alice.send(message);
      shared.push(await alice.next());
    };
    await send({ type: "text", author: "alice", text: "not geographic" });
    await send({
      type: "geojson",
      author: "alice",
      layer_name: "points 4326",
      crs_wkt: WKT,
      crs_authid: "EPSG:4326",
      geojson: {
        type: "FeatureCollection",
        features: [
          {
            type: "Feature",
            id: 7,
            properties: { name: "Notre-Dame", height: 69 },
            geometry: { type: "Point", coordinates: [2.3499, 48.853] },
          },
          {
            type: "Feature",
            properties: null,
            geometry: {
              type: "LineString",
              coordinates: [
                [2, 48],
                [3, 49],
              ],
            },
          },
        ],
      },
    });
    await send({
      type: "geojson",
      author: "alice",
      layer_name: "square 3857",
      crs_wkt: WKT,
      crs_authid: "EPSG:3857",
      geojson: {
        type: "FeatureCollection",
        features: [
          {
            type: "Feature",
            properties: { kind: "square" },
            geometry: {
              type: "Polygon",
              coordinates: [
                [
                  [0, 0],
                  [111319.49079327357, 0],
                  [111319.49079327357, 111325.14286638486],
                  [0, 0],
                ],
              ],
            },
          },
        ],
      },
    });
    await send({ type: "bbox", author: "alice", crs_wkt: WKT, crs_authid: "EPSG:4326", xmin: 2, xmax: 3, ymin: 48, ymax: 49 });
    await send({ type: "position", author: "alice", crs_wkt: WKT, crs_authid: "EPSG:3857", x: 261_600, y: 6_250_000 });
    await send({
      type: "geojson",
      author: "alice",
      layer_name: "lambert",
      crs_wkt: WKT,
      crs_authid: "EPSG:2154",
      geojson: {
        type: "FeatureCollection",
        features: [
          { type: "Feature", properties: {}, geometry: { type: "Point", coordinates: [652_000, 6_862_000] } },
          { type: "Feature", properties: {}, geometry: { type: "Point", coordinates: [653_000, 6_863_000] } },
        ],
      },
    });
    // A CRS that cannot be converted: a building's own grid (an engineering CRS, as a QGIS custom CRS), on no place of the Earth.
    await send({
      type: "geojson",
      author: "alice",
      layer_name: "site plan",
      crs_wkt: SITE_GRID_WKT,
      crs_authid: "USER:100001",
      geojson: {
        type: "FeatureCollection",
        features: [
          { type: "Feature", properties: {}, geometry: { type: "Point", coordinates: [12, 34] } },
          { type: "Feature", properties: {}, geometry: { type: "Point", coordinates: [56, 78] } },
        ],
      },
    });
    // A position in a CRS given only as WKT (a QGIS custom CRS has no authid to go by).
    await send({ type: "position", author: "alice", crs_wkt: CUSTOM_TM_WKT, crs_authid: "", x: 10_000, y: 20_000 });
    return shared;
  }

  it.each(BOTH_FAMILIES)("is one RFC 7946 FeatureCollection of every layer, extent and position, in WGS 84 (%s)", async (family) => {
    // Four layers and four other messages in a row: more than the default rate limit lets one socket send.
    const room = freshHostileRoom();
    const [, layer4326, layer3857, bbox, position, lambert, , wktPosition] = await shareGeodata(room);
    const response = await request(roomPath(family, room, "export.geojson"));
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("application/geo+json");
    const about = (message: Json) => ({
      message_id: message.id,
      message_type: message.type,
      author: "alice",
      time: new Date((message.timestamp as number) * 1000).toISOString(),
    });
    const [lon, lat] = fromWebMercator(261_600, 6_250_000);
    expect(lon).toBeCloseTo(2.35, 2);
    expect(lat).toBeCloseTo(48.85, 1);
    expect(await response.json()).toEqual({
      type: "FeatureCollection",
      name: room,
      features: [
        {
          type: "Feature",
          id: 7,
          geometry: { type: "Point", coordinates: [2.3499, 48.853] },
          properties: { name: "Notre-Dame", height: 69, ...about(layer4326!), layer_name: "points 4326" },
        },
        {
          type: "Feature",
          geometry: {
            type: "LineString",
            coordinates: [
              [2, 48],
              [3, 49],
            ],
          },
          properties: { ...about(layer4326!), layer_name: "points 4326" },
        },
        {
          type: "Feature",
          geometry: {
            type: "Polygon",
            coordinates: [
              [
                [0, 0],
                [1, 0],
                [1, 1],
                [0, 0],
              ],
            ],
          },
          properties: { kind: "square", ...about(layer3857!), layer_name: "square 3857" },
        },
        {
          type: "Feature",
          geometry: {
            type: "Polygon",
            coordinates: [
              [
                [2, 48],
                [3, 48],
                [3, 49],
                [2, 49],
                [2, 48],
              ],
            ],
          },
          properties: about(bbox!),
        },
        { type: "Feature", geometry: { type: "Point", coordinates: [lon, lat] }, properties: about(position!) },
        // Lambert-93, converted since the server has proj4js (cs2cs gives the same figures).
        {
          type: "Feature",
          geometry: { type: "Point", coordinates: [2.345811959, 48.856248141] },
          properties: { ...about(lambert!), layer_name: "lambert" },
        },
        {
          type: "Feature",
          geometry: { type: "Point", coordinates: [2.359329695, 48.86531475] },
          properties: { ...about(lambert!), layer_name: "lambert" },
        },
        { type: "Feature", geometry: { type: "Point", coordinates: [-1.55, 47.2] }, properties: about(wktPosition!) },
      ],
      // The site grid is the CRS here that cannot be converted (EPSG:2154 used to be, before proj4js).
      not_converted: [{ crs_authid: "USER:100001", messages: 1, features: 2 }],
    });
  });

  it("is an empty FeatureCollection for a room with no geodata, and leaves out a deleted layer", async () => {
    const room = freshRoom();
    const expectEmpty = async () =>
      expect(await (await request(roomPath("rooms", room, "export.geojson"))).json()).toEqual({
        type: "FeatureCollection",
        name: room,
        features: [],
        not_converted: [],
      });
    await expectEmpty();
    const alice = await Client.join("rooms", room, "alice");
    alice.send({ type: "position", author: "alice", crs_wkt: WKT, crs_authid: "EPSG:4326", x: 1, y: 2 });
    await alice.next();
    const [{ id }] = (await page("channels", room)).messages as [{ id: string }];
    await request(roomPath("rooms", room, `messages/${id}`), {
      method: "DELETE",
      headers: { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    });
    await alice.next();
    await expectEmpty();
  });

  it("streams a history larger than one batch, every feature once", async () => {
    // Six layers in a row: more than the default rate limit lets one socket send.
    const room = freshHostileRoom();
    const alice = await Client.join("rooms", room, "alice");
    // 6 layers of 500 points, about 0.9 MB each: the export reads them two batches at a time.
    for (let layer = 0; layer < 6; layer++) {
      const features = Array.from({ length: 500 }, (_, i) => ({
        type: "Feature",
        properties: { n: layer * 500 + i, padding: "x".repeat(1_700) },
        geometry: { type: "Point", coordinates: [i / 100, layer] },
      }));
      alice.send({
        type: "geojson",
        author: "alice",
        layer_name: `layer ${layer}`,
        crs_wkt: WKT,
        crs_authid: "EPSG:4326",
        geojson: { type: "FeatureCollection", features },
      });
      await alice.next();
    }
    const body = (await (await request(roomPath("rooms", room, "export.geojson"))).json()) as { features: { properties: { n: number } }[] };
    expect(body.features.map((feature) => feature.properties.n)).toEqual(Array.from({ length: 3_000 }, (_, i) => i));
  });

  it("answers 404 for an unknown room", async () => {
    const response = await request(roomPath("rooms", "Nowhere", "export.geojson"));
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ detail: "Room 'Nowhere' not registered" });
  });
});
