// Who is where and who is near: the room keeps each registered user's last position
// (in WGS 84, in the socket's attachment), forgets it when the user leaves or takes
// another nickname and after position_max_age_seconds, and answers it as GeoJSON
// and as "who is within this radius", nearest first, by geodesic distance.
import { describe, expect, it } from "vitest";
import { Client, freshRoom, type Json, request, roomPath } from "./helpers";
import { freshBriefRoom } from "./rooms";

const WGS84 = { crs_wkt: 'GEOGCS["WGS 84"]', crs_authid: "EPSG:4326" };
const MERCATOR = { crs_wkt: 'PROJCS["WGS 84 / Pseudo-Mercator"]', crs_authid: "EPSG:3857" };

async function share(client: Client, author: string, x: number, y: number, crs = WGS84): Promise<Json> {
  client.send({ type: "position", author, ...crs, x, y });
  return client.next();
}

async function positions(room: string, family: "rooms" | "channels" = "channels") {
  const response = await request(roomPath(family, room, "positions"));
  expect(response.headers.get("Content-Type")).toBe("application/geo+json");
  return (await response.json()) as { type: string; features: Json[] };
}

async function nearby(room: string, query: string) {
  const response = await request(`${roomPath("channels", room, "nearby")}?${query}`);
  expect(response.headers.get("Content-Type")).toBe("application/json");
  return { status: response.status, body: (await response.json()) as Json };
}

async function user(room: string, nickname: string): Promise<Client> {
  const client = await Client.open("channels", room);
  client.send({ type: "newcomer", newcomer: nickname });
  // nb_users, then (after the others' arrivals have settled) its own newcomer.
  for (let message = await client.next(); message.newcomer !== nickname; message = await client.next());
  return client;
}

describe("GET …/{name}/positions", () => {
  it("answers each registered user's last position in WGS 84, with its time, age and message id", async () => {
    const room = freshRoom();
    const jane = await user(room, "jane");
    await share(jane, "jane", 1, 1);
    const latest = await share(jane, "jane", 2.35, 48.85);
    const bob = await user(room, "bob");
    // 3857: the Eiffel tower, given in metres.
    await share(bob, "bob", 253_531.64, 6_250_787.33, MERCATOR);
    const collection = await positions(room);
    expect(collection.type).toBe("FeatureCollection");
    const byName = Object.fromEntries(collection.features.map((feature) => [(feature.properties as Json).nickname, feature]));
    expect(byName.jane).toEqual({
      type: "Feature",
      geometry: { type: "Point", coordinates: [2.35, 48.85] },
      properties: { nickname: "jane", time: expect.any(String), age_seconds: 0, message_id: latest.id },
    });
    const [lon, lat] = (byName.bob!.geometry as { coordinates: number[] }).coordinates as [number, number];
    expect(lon).toBeCloseTo(2.2775, 3);
    expect(lat).toBeCloseTo(48.8583, 3);
    expect(await positions(room, "rooms")).toEqual(collection);
  });

  it("keeps only a registered user's own position, and none in a CRS the server cannot convert", async () => {
    const room = freshRoom();
    const anonymous = await Client.join("channels", room);
    await share(anonymous, "passer_by", 2, 48);
    const jane = await user(room, "jane");
    await share(jane, "jane", 652_000, 6_862_000, { crs_wkt: "LOCAL_CS[]", crs_authid: "USER:100000" });
    expect((await positions(room)).features).toEqual([]);
  });

  it("forgets a position when its user leaves, gives up the nickname or takes another", async () => {
    const room = freshRoom();
    const jane = await user(room, "jane");
    const bob = await user(room, "bob");
    const carol = await user(room, "carol");
    await share(jane, "jane", 2, 48);
    await share(bob, "bob", 3, 48);
    await share(carol, "carol", 4, 48);
    jane.close();
    bob.send({ type: "exiter", exiter: "bob" });
    carol.send({ type: "newcomer", newcomer: "carol_2" });
    await carol.next();
    await bob.next();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await positions(room)).features).toEqual([]);
  });

  it("forgets a position older than the room's position_max_age_seconds", async () => {
    const room = freshBriefRoom(); // ROOM_LIMITS: position_max_age_seconds 1
    const jane = await user(room, "jane");
    await share(jane, "jane", 2, 48);
    expect((await positions(room)).features).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect((await positions(room)).features).toEqual([]);
    expect((await nearby(room, "lon=2&lat=48&radius_m=1000")).body.users).toEqual([]);
  });
});

describe("GET …/{name}/nearby", () => {
  async function field() {
    const room = freshRoom();
    const jane = await user(room, "jane");
    const bob = await user(room, "bob");
    const carol = await user(room, "carol");
    await share(jane, "jane", 0, 0);
    await share(bob, "bob", 0, 1);
    await share(carol, "carol", 0, 0.5);
    return room;
  }

  it("lists the users within the radius of a point, nearest first, by geodesic distance on WGS 84", async () => {
    const room = await field();
    const { status, body } = await nearby(room, "lon=0&lat=0&radius_m=200000");
    expect(status).toBe(200);
    // On the WGS 84 ellipsoid, as PROJ's geod computes them (`echo "0 0 0.5 0" | geod +ellps=WGS84 -I +units=m`):
    // 0° to 0.5° of latitude 55,287.152 m, to 1° 110,574.389 m, 1° to 0.5° 55,287.237 m.
    expect(body).toEqual({
      center: [0, 0],
      radius_m: 200_000,
      users: [
        { nickname: "jane", distance_m: 0, age_seconds: 0 },
        { nickname: "carol", distance_m: 55_287.2, age_seconds: 0 },
        { nickname: "bob", distance_m: 110_574.4, age_seconds: 0 },
      ],
    });
  });

  it("leaves out who is further than the radius", async () => {
    const room = await field();
    const { body } = await nearby(room, "lon=0&lat=0&radius_m=100000");
    expect((body.users as Json[]).map((u) => u.nickname)).toEqual(["jane", "carol"]);
  });

  it("around a user: the others, nearest first", async () => {
    const room = await field();
    const { body } = await nearby(room, "nickname=bob&radius_m=120000");
    expect(body.center).toEqual([0, 1]);
    expect(body.users).toEqual([
      { nickname: "carol", distance_m: 55_287.2, age_seconds: 0 },
      { nickname: "jane", distance_m: 110_574.4, age_seconds: 0 },
    ]);
  });

  it.each([
    ["lon=0&lat=0", "radius_m", "Query parameter 'radius_m' must be a distance in metres, more than 0 and at most 20037509."],
    ["lon=0&lat=0&radius_m=0", "radius_m", "Query parameter 'radius_m' must be a distance in metres, more than 0 and at most 20037509."],
    [
      "lon=0&lat=0&radius_m=30000000",
      "radius_m",
      "Query parameter 'radius_m' must be a distance in metres, more than 0 and at most 20037509.",
    ],
    ["lat=0&radius_m=10", "lon", "Query parameter 'lon' must be a longitude in degrees, from -180 to 180 (or give 'nickname')."],
    ["lon=200&lat=0&radius_m=10", "lon", "Query parameter 'lon' must be a longitude in degrees, from -180 to 180 (or give 'nickname')."],
    ["lon=0&lat=abc&radius_m=10", "lat", "Query parameter 'lat' must be a latitude in degrees, from -90 to 90 (or give 'nickname')."],
  ])("answers 422 naming the parameter: ?%s", async (query, parameter, message) => {
    const room = freshRoom();
    expect(await nearby(room, query)).toEqual({
      status: 422,
      body: { detail: [{ loc: ["query", parameter], msg: message, type: "value_error" }] },
    });
  });

  it("answers 404 for a user with no current position, and for an unknown room", async () => {
    const room = freshRoom();
    const { status, body } = await nearby(room, "nickname=ghost&radius_m=10");
    expect(status).toBe(404);
    expect(body.detail).toMatch(/^'ghost' has no current position in this room/);
    expect((await nearby("Nowhere", "lon=0&lat=0&radius_m=10")).status).toBe(404);
  });
});
