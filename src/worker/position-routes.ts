// Who is where and who is near: each registered user's last `position` (kept by the
// room, in WGS 84, for position_max_age_seconds), as GeoJSON, and the users within a
// radius of a point or of another user, nearest first, by geodesic distance on the
// WGS 84 ellipsoid. The same for both path families.
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { UserPosition } from "../room/room";
import { distanceMetres, MAX_RADIUS_METRES } from "../wire/distance";
import { FAMILIES, type Family } from "../wire/families";
import { sentences } from "../wire/sentences";
import { familyDocs, knownRoom, stubOf } from "./family-routes";
import { type App, json, type RestRoute, SERVER_ERROR, unprocessable, validationError } from "./rest-route";

const longitude = z.coerce.number().min(-180).max(180);
const latitude = z.coerce.number().min(-90).max(90);
const radius = z.coerce.number().gt(0).max(MAX_RADIUS_METRES);

const QUERY_PROBLEMS = {
  lon: "Query parameter 'lon' must be a longitude in degrees, from -180 to 180 (or give 'nickname').",
  lat: "Query parameter 'lat' must be a latitude in degrees, from -90 to 90 (or give 'nickname').",
  radius_m: `Query parameter 'radius_m' must be a distance in metres, more than 0 and at most ${MAX_RADIUS_METRES}.`,
} as const;

function ageSeconds(position: UserPosition, now: number): number {
  return Math.max(0, Math.round((now - position.at) / 1000));
}

export function positionRoutes(family: Family): RestRoute[] {
  const base = `/${FAMILIES[family].segment}/{name}`;
  const known = knownRoom(family);
  return [
    {
      method: "get",
      path: `${base}/positions`,
      guards: [known],
      handler: async (c) => {
        const now = Date.now();
        const positions = await stubOf(c).currentPositions();
        const features = positions.map((position) => ({
          type: "Feature",
          geometry: { type: "Point", coordinates: [position.lon, position.lat] },
          properties: {
            nickname: position.nickname,
            time: new Date(position.at).toISOString(),
            age_seconds: ageSeconds(position, now),
            message_id: position.id,
          },
        }));
        return new Response(JSON.stringify({ type: "FeatureCollection", features }), {
          headers: { "Content-Type": "application/geo+json" },
        });
      },
      describe: (config) => {
        const { tags, params, unknown } = familyDocs(family, config);
        return {
          tags,
          summary: "Where the room's users are: their last positions (GeoJSON)",
          operationId: `${family}_positions`,
          description:
            "An RFC 7946 FeatureCollection (WGS 84) of the registered users' latest `position` messages: a Point each, with nickname, time (ISO 8601), age_seconds and message_id. " +
            "A position is forgotten when its user leaves the room or takes another nickname, and after position_max_age_seconds (POSITION_MAX_AGE_SECONDS, an hour by default) without a newer one; one in a CRS the server cannot convert is not kept.",
          request: { params },
          responses: {
            200: { description: "The positions.", content: { "application/geo+json": { schema: { type: "object" } } } },
            404: unknown,
            500: SERVER_ERROR,
          },
        };
      },
    },
    {
      method: "get",
      path: `${base}/nearby`,
      guards: [known],
      handler: nearby,
      describe: (config) => {
        const { tags, name, unknown } = familyDocs(family, config);
        return {
          tags,
          summary: "Who is near a point, or near a user",
          operationId: `${family}_nearby`,
          description:
            "The registered users whose last position is within `radius_m` metres of (`lon`, `lat`), or of the user `nickname` (who is not listed), nearest first. " +
            "Distances are geodesics on the WGS 84 ellipsoid (GeographicLib), exact to well under a millimetre at any range.",
          request: {
            params: z.object({ name }),
            query: z.object({
              lon: longitude.optional().openapi({ param: { description: "Longitude, degrees (WGS 84).", example: 2.35 } }),
              lat: latitude.optional().openapi({ param: { description: "Latitude, degrees (WGS 84).", example: 48.85 } }),
              nickname: z
                .string()
                .optional()
                .openapi({ param: { description: "Around this user instead of a point.", example: "jane_doe" } }),
              radius_m: radius.openapi({ param: { description: "Metres.", example: 5000 } }),
            }),
          },
          responses: {
            200: json(
              {
                type: "object",
                properties: {
                  center: { type: "array", items: { type: "number" }, description: "[lon, lat]" },
                  radius_m: { type: "number" },
                  users: {
                    type: "array",
                    items: {
                      type: "object",
                      properties: { nickname: { type: "string" }, distance_m: { type: "number" }, age_seconds: { type: "integer" } },
                    },
                  },
                },
              },
              "The users within the radius, nearest first.",
              { center: [2.35, 48.85], radius_m: 5000, users: [{ nickname: "jane_doe", distance_m: 1234.5, age_seconds: 42 }] },
            ),
            404: {
              ...unknown,
              description: `No such room, or \`nickname\` has no current position there: "${sentences.noPosition("jane_doe")}"`,
            },
            422: validationError("A missing or bad parameter, naming it.", "query.radius_m", QUERY_PROBLEMS.radius_m),
            500: SERVER_ERROR,
          },
        };
      },
    },
  ];
}

async function nearby(c: Context<App>) {
  const radiusM = radius.safeParse(c.req.query("radius_m"));
  if (!radiusM.success) return unprocessable(c, "query.radius_m", QUERY_PROBLEMS.radius_m);
  const positions = await stubOf(c).currentPositions();
  const nickname = c.req.query("nickname");
  let center: [number, number];
  if (nickname !== undefined) {
    const user = positions.find((position) => position.nickname === nickname);
    if (user === undefined) return c.json({ detail: sentences.noPosition(nickname) }, 404);
    center = [user.lon, user.lat];
  } else {
    const lon = longitude.safeParse(c.req.query("lon"));
    if (!lon.success) return unprocessable(c, "query.lon", QUERY_PROBLEMS.lon);
    const lat = latitude.safeParse(c.req.query("lat"));
    if (!lat.success) return unprocessable(c, "query.lat", QUERY_PROBLEMS.lat);
    center = [lon.data, lat.data];
  }
  const now = Date.now();
  const users = positions
    .filter((position) => position.nickname !== nickname)
    .map((position) => ({
      nickname: position.nickname,
      distance_m: Math.round(distanceMetres(center, [position.lon, position.lat]) * 10) / 10,
      age_seconds: ageSeconds(position, now),
    }))
    .filter((user) => user.distance_m <= radiusM.data)
    .sort((a, b) => a.distance_m - b.distance_m || a.nickname.localeCompare(b.nickname));
  return c.json({ center, radius_m: radiusM.data, users });
}
