// The routes of a path family, /room/{name}/… or /channel/{name}/…: the room's
// WebSocket, rules, users, history and posts, and its moderation. Both families
// reach the same room; they differ in serialization and in the words of reasons.
import { z } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { clientNetwork, floodRefusal } from "../server/client-network";
import { type Config, limitsOf } from "../server/config";
import { CHANNEL_STAMP_EXAMPLE, CLIENT_MESSAGE_DOCS } from "../wire/examples";
import { FAMILIES, type Family, unknownRoomDetail } from "../wire/families";
import { type Gischat1Text, gischat1Text, parseGischat1 } from "../wire/gischat1";
import { type Parsed, parseAs, schemasFor } from "../wire/messages";
import { BAN_DURATION, DEFAULT_PAGE_LIMIT, MAX_BAN_SECONDS, MAX_PAGE_LIMIT, sentences } from "../wire/sentences";
import { realmModerator } from "./guards";
import { receivedComponent } from "./openapi";
import { RefusalCache } from "./refusal-cache";
import {
  type App,
  detail,
  json,
  jsonObjectBody,
  type RestRoute,
  ref,
  roomStub,
  SERVER_ERROR,
  unprocessable,
  validationError,
} from "./rest-route";
import { type BanBody, rulesBody } from "./rest-schemas";

export function familyRoutes(family: Family): RestRoute[] {
  const base = `/${FAMILIES[family].segment}/{name}`;
  const known = knownRoom(family);
  const routes = [
    listRoute(family),
    socketRoute(family, base),
    rulesRoute(family, base, known),
    usersRoute(family, base, known),
    lastRoute(family, base, known),
    pageRoute(family, base, known),
    exportRoute(family, base, known),
    textRoute(family, base, known),
    clearRoute(family, base, known),
    deleteMessageRoute(family, base, known),
    banRoute(family, base, known),
  ];
  // gischat 1.x's REST post (QTribu 1.0) is on the only path family 1.x had.
  return family === "rooms" ? [...routes, gischat1PostRoute(base, known)] : routes;
}

// ---------------------------------------------------------------------------
// What the routes of a family check first.

/** Answers 404 for a room that is not configured. */
export function knownRoom(family: Family): MiddlewareHandler<App> {
  return async (c, next) => {
    const room = c.req.param("name") ?? "";
    if (!c.var.realm.rooms.includes(room)) return c.json({ detail: unknownRoomDetail(family, room) }, 404);
    await next();
  };
}

/** Moderation: the instance's moderator, or in a space its owner; then the room is checked. */
function moderatorOnly(known: MiddlewareHandler<App>): MiddlewareHandler<App>[] {
  return [realmModerator, known];
}

export const stubOf = (c: Context<App>) => roomStub(c, c.req.param("name") ?? "");

// ---------------------------------------------------------------------------
// What the descriptions of a family's routes share, for one configuration.

export function familyDocs(family: Family, config: Config) {
  const { noun } = FAMILIES[family];
  const exampleRoom = config.rooms[0] ?? "";
  const name = z.string().openapi({
    param: { description: `A configured ${noun} name, URL-encoded, matched exactly (case-sensitive).`, example: exampleRoom },
  });
  const stamp = (message: object) => (family === "rooms" ? message : { ...message, ...CHANNEL_STAMP_EXAMPLE });
  return {
    tags: [`${family} family`],
    exampleRoom,
    name,
    params: z.object({ name }),
    unknown: detail(`No such ${noun}.`, unknownRoomDetail(family, "Nowhere")),
    messageRef: ref(family === "rooms" ? "RoomsFamilyMessage" : "ChannelsFamilyMessage"),
    textExample: stamp(schemasFor(config.limits).text.parse(CLIENT_MESSAGE_DOCS.text.example)),
  };
}

const MODERATION_RESPONSES = {
  401: detail("Missing or wrong token.", sentences.adminTokenRequired),
  403: detail("Moderation is off: no ADMIN_TOKEN secret.", sentences.moderationDisabled),
};

/** The answers of a post refused by the room: a 403 for a banned nickname, a 409 for a taken one. */
function postRefusals(author: string) {
  return {
    403: detail(
      "A moderator has banned the author's nickname from this room.",
      sentences.banned(author, Date.parse("2026-11-23T13:00:00.000Z")),
    ),
    409: detail("A connected socket of the room holds the author's nickname.", sentences.heldByConnectedUser(author)),
  };
}

/** The 422 of a post; its example is what the server answers for a text one character too long. */
function postValidationError(overlong: Parsed<unknown>) {
  const { field = "", reason = "" } = overlong.ok ? {} : overlong;
  return validationError("Invalid body, naming the field.", field, reason);
}

// ---------------------------------------------------------------------------
// The routes.

function listRoute(family: Family): RestRoute {
  return {
    method: "get",
    path: family === "rooms" ? "/rooms" : "/channels",
    handler: (c) => c.json(c.var.realm.rooms),
    describe: (config) => ({
      tags: familyDocs(family, config).tags,
      summary: `The configured ${family}`,
      operationId: `list_${family}`,
      responses: { 200: json(ref("RoomNames"), "The names, in configured order.", config.rooms), 500: SERVER_ERROR },
    }),
  };
}

/** Connections the rooms refused for flooding, answered here until they may retry. */
const floodRefusals = new RefusalCache();
/**
 * How long a refused flooder waits for its 429: a script retrying in a loop then
 * tries once a second instead of hundreds of times (a wait costs no CPU).
 */
const REFUSAL_DELAY_MS = 1_000;

async function answerSlowly(answer: Response): Promise<Response> {
  await scheduler.wait(REFUSAL_DELAY_MS);
  return answer;
}

/**
 * The upgrade as the room receives it: untouched, so that the room accepts the socket
 * itself and can hibernate, but without a space's key, which the room has no need of.
 */
function withoutSpacePrefix(c: Context<App>): Request {
  const key = c.req.param("key");
  if (key === undefined) return c.req.raw;
  const url = new URL(c.req.url);
  url.pathname = url.pathname.slice(`/s/${key}`.length);
  return new Request(url, c.req.raw);
}

/** Unknown rooms: the contract is a socket accepted then closed with 1008 and a reason. */
function acceptAndClose(code: number, reason: string): Response {
  const { 0: client, 1: server } = new WebSocketPair();
  server.accept();
  server.close(code, reason);
  return new Response(null, { status: 101, webSocket: client });
}

function socketRoute(family: Family, base: string): RestRoute {
  const { noun, Noun } = FAMILIES[family];
  return {
    method: "get",
    path: `${base}/ws`,
    handler: async (c) => {
      if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") return c.json({ detail: sentences.notAWebSocketUpgrade }, 426);
      const room = c.req.param("name") ?? "";
      if (!c.var.realm.rooms.includes(room)) return acceptAndClose(1008, unknownRoomDetail(family, room));
      const network = clientNetwork(c.req.raw);
      const refusedUntil = network === null ? undefined : floodRefusals.until(room, network, Date.now());
      if (refusedUntil !== undefined) return answerSlowly(floodRefusal(Noun, room, refusedUntil, Date.now()));
      // Untouched, so that the room accepts the socket itself and can hibernate.
      const answer = await stubOf(c).fetch(withoutSpacePrefix(c));
      if (network === null || answer.status !== 429) return answer;
      floodRefusals.note(room, network, answer, Date.now());
      return answerSlowly(answer);
    },
    describe: (config) => {
      const { tags, params, exampleRoom } = familyDocs(family, config);
      const received = family === "rooms" ? "RoomsFamilyMessage" : "ChannelsFamilyMessage";
      return {
        tags,
        summary: "Open a WebSocket to the room",
        operationId: `${family}_ws`,
        description:
          `Upgrade to a WebSocket. Every frame is one JSON object with a \`type\`: send the *Message components ` +
          `(TextMessage, NewcomerMessage, …), with ThreadFields if you like, receive ${received}. ` +
          "On connect, everyone receives nb_users and the new socket receives the stored messages, oldest first. " +
          (family === "rooms"
            ? 'A socket whose frame is a Gischat1Message (no `type`: QTribu 1.0) receives gischat 1.x frames from then on: texts as Gischat1Message, the count as {author: "internal", nb_users}, and a one-line notice for anything else. '
            : "") +
          `An unknown ${noun} is accepted then closed with code 1008. The text frame \`ping\` is answered \`pong\`.`,
        request: { params },
        responses: {
          101: { description: "Switching Protocols: the socket is open." },
          426: detail("Not a WebSocket upgrade.", sentences.notAWebSocketUpgrade),
          429: {
            ...detail(
              "A socket from this address was closed for flooding: connections from it are refused for a minute (Retry-After, in seconds), each answer a second late.",
              sentences.floodRefusal(Noun, exampleRoom, 57),
            ),
            headers: {
              "Retry-After": {
                description: "Seconds until a connection from this address is accepted again.",
                schema: { type: "integer", minimum: 1 },
              },
            },
          },
          500: SERVER_ERROR,
        },
      };
    },
  };
}

function rulesRoute(family: Family, base: string, known: MiddlewareHandler<App>): RestRoute {
  return {
    method: "get",
    path: `${base}/rules`,
    guards: [known],
    handler: (c) => c.json(rulesBody(c.var.config, c.var.realm.limitsOf(c.req.param("name") ?? ""), c.var.realm.rules)),
    describe: (config) => {
      const { tags, params, unknown, exampleRoom } = familyDocs(family, config);
      return {
        tags,
        summary: "The room's rules and limits",
        operationId: `${family}_rules`,
        request: { params },
        responses: {
          200: json(
            ref("Rules"),
            "The rules and this room's effective limits (ROOM_LIMITS applied).",
            rulesBody(config, limitsOf(config, exampleRoom)),
          ),
          404: unknown,
          500: SERVER_ERROR,
        },
      };
    },
  };
}

function usersRoute(family: Family, base: string, known: MiddlewareHandler<App>): RestRoute {
  return {
    method: "get",
    path: `${base}/users`,
    guards: [known],
    handler: async (c) => c.json(await stubOf(c).registeredUsers()),
    describe: (config) => {
      const { tags, params, unknown } = familyDocs(family, config);
      return {
        tags,
        summary: "Registered nicknames",
        operationId: `${family}_users`,
        request: { params },
        responses: {
          200: json({ type: "array", items: { type: "string" } }, "Nicknames registered in the room, sorted case-insensitively.", [
            "bob_gis",
            "jane_doe",
          ]),
          404: unknown,
          500: SERVER_ERROR,
        },
      };
    },
  };
}

function lastRoute(family: Family, base: string, known: MiddlewareHandler<App>): RestRoute {
  return {
    method: "get",
    path: `${base}/last`,
    guards: [known],
    handler: async (c) => c.json(await stubOf(c).recentMessages(family)),
    describe: (config) => {
      const { tags, params, unknown, messageRef, textExample } = familyDocs(family, config);
      return {
        tags,
        summary: "Recent messages",
        operationId: `${family}_last`,
        request: { params },
        responses: {
          200: json({ type: "array", items: messageRef }, "The stored messages, oldest first.", [textExample]),
          404: unknown,
          500: SERVER_ERROR,
        },
      };
    },
  };
}

/** `?limit=N` of GET …/messages: validated and documented by this schema. */
const pageLimit = z.coerce.number().int().min(1).max(MAX_PAGE_LIMIT).default(DEFAULT_PAGE_LIMIT);
/** `?before=<id>`: a message id (the server's and QChat's are UUIDs; any id the room has is accepted). */
const pageBefore = z.string().min(1).max(100).optional();

function pageRoute(family: Family, base: string, known: MiddlewareHandler<App>): RestRoute {
  return {
    method: "get",
    path: `${base}/messages`,
    guards: [known],
    handler: async (c) => {
      const limit = pageLimit.safeParse(c.req.query("limit"));
      if (!limit.success) return unprocessable(c, "query.limit", sentences.pageLimitInvalid);
      const before = pageBefore.safeParse(c.req.query("before"));
      if (!before.success) return unprocessable(c, "query.before", sentences.pageBeforeInvalid);
      const result = await stubOf(c).messagesPage(family, before.data, limit.data);
      if (!result.ok) return c.json({ detail: result.detail }, result.status);
      return c.json(result.page);
    },
    describe: (config) => {
      const { tags, name, messageRef, textExample, exampleRoom } = familyDocs(family, config);
      const limit = pageLimit.openapi({
        param: { description: `How many messages: 1 to ${MAX_PAGE_LIMIT}, ${DEFAULT_PAGE_LIMIT} if left out.`, example: 50 },
      });
      const before = pageBefore.openapi({
        param: {
          description: "A message's id: the page holds the messages older than it. Left out: the newest messages.",
          example: CHANNEL_STAMP_EXAMPLE.id,
        },
      });
      return {
        tags,
        summary: "A page of the room's history",
        operationId: `${family}_messages`,
        description:
          "The room's whole history, within its retention (RETENTION_DAYS, RETENTION_MAX_MESSAGES, RETENTION_MAX_BYTES), a page at a time from the newest backwards. " +
          "A page holds the `limit` messages just older than `before` (the newest `limit` without it), oldest first within the page, like GET …/last; " +
          "`next_before` is the id of its oldest message, to ask for the page before it, or null when there is nothing older. " +
          "Messages that arrive meanwhile never make a page skip or repeat one: they are newer than every cursor. " +
          "A page is cut short (never empty) past 8 MB of messages; next_before goes on from there.",
        request: { params: z.object({ name }), query: z.object({ before, limit }) },
        responses: {
          200: json(
            {
              type: "object",
              properties: {
                messages: { type: "array", items: messageRef, maxItems: MAX_PAGE_LIMIT },
                next_before: { type: ["string", "null"], description: "The id to pass as `before` for older messages; null: none left." },
              },
              required: ["messages", "next_before"],
            },
            "The page, oldest first.",
            { messages: [textExample], next_before: null },
          ),
          404: {
            ...detail(
              `No such ${FAMILIES[family].noun}, or \`before\` names no message of its retained history (deleted, expired, or unknown).`,
              sentences.unknownCursor(family, exampleRoom, CHANNEL_STAMP_EXAMPLE.id),
            ),
          },
          422: validationError("A bad `limit` or `before`, naming the parameter.", "query.limit", sentences.pageLimitInvalid),
          500: SERVER_ERROR,
        },
      };
    },
  };
}

function exportRoute(family: Family, base: string, known: MiddlewareHandler<App>): RestRoute {
  return {
    method: "get",
    path: `${base}/export.geojson`,
    guards: [known],
    handler: async (c) => {
      const stream = await stubOf(c).exportGeojson();
      return new Response(stream, { headers: { "Content-Type": "application/geo+json" } });
    },
    describe: (config) => {
      const { tags, params, unknown } = familyDocs(family, config);
      return {
        tags,
        summary: "The room's geodata as GeoJSON",
        operationId: `${family}_export_geojson`,
        description:
          "Everything geographic in the room's retained history, oldest first, as one RFC 7946 FeatureCollection in WGS 84 longitude/latitude: " +
          "every feature of every shared layer (its properties kept, plus message_id, message_type, author, time and layer_name), every bbox as a Polygon, every position as a Point. " +
          "Coordinates are converted with proj4js from the message's crs_authid when the server knows it (WGS 84, Web Mercator, every UTM zone, Lambert-93, British National Grid and other national grids), else from its crs_wkt (WKT1 as QGIS writes it, or WKT2); what is in a CRS it cannot convert (an engineering CRS, an unreadable WKT) is left out and counted in the foreign member `not_converted`. " +
          "A geometry that is not valid GeoJSON, or not on the Earth, is exported as null. Add the URL to QGIS as a vector layer, or give it to GDAL (ogrinfo, ogr2ogr). The same for both families.",
        request: { params },
        responses: {
          200: {
            description: "A FeatureCollection (streamed as the history is read).",
            content: {
              "application/geo+json": {
                schema: {
                  type: "object",
                  properties: {
                    type: { const: "FeatureCollection" },
                    name: { type: "string", description: "The room's name (GDAL names the layer after it)." },
                    features: { type: "array", items: { type: "object" } },
                    not_converted: {
                      type: "array",
                      description: "Per CRS the server cannot convert: the messages and features left out.",
                      items: {
                        type: "object",
                        properties: { crs_authid: { type: "string" }, messages: { type: "integer" }, features: { type: "integer" } },
                        required: ["crs_authid", "messages", "features"],
                      },
                    },
                  },
                  required: ["type", "name", "features", "not_converted"],
                },
                example: {
                  type: "FeatureCollection",
                  name: config.rooms[0] ?? "",
                  features: [
                    {
                      type: "Feature",
                      geometry: { type: "Point", coordinates: [2.3499, 48.853] },
                      properties: {
                        message_id: CHANNEL_STAMP_EXAMPLE.id,
                        message_type: "position",
                        author: "jane_doe",
                        time: new Date(CHANNEL_STAMP_EXAMPLE.timestamp * 1000).toISOString(),
                      },
                    },
                  ],
                  not_converted: [{ crs_authid: "USER:100001", messages: 2, features: 120 }],
                },
              },
            },
          },
          404: unknown,
          500: SERVER_ERROR,
        },
      };
    },
  };
}

function textRoute(family: Family, base: string, known: MiddlewareHandler<App>): RestRoute {
  return {
    method: "put",
    path: `${base}/text`,
    guards: [known],
    handler: async (c) => {
      const body = await jsonObjectBody(c);
      if (body === undefined) return unprocessable(c, "", 'The body must be a JSON object: {"author", "avatar"?, "text"}.');
      const { type = "text" } = body;
      if (type !== "text") return unprocessable(c, "type", "Field 'type' must be \"text\" on this path (or left out).");
      const parsed = parseAs("text", { ...body, type }, c.var.realm.limitsOf(c.req.param("name") ?? ""));
      if (!parsed.ok) return unprocessable(c, parsed.field ?? "", parsed.reason);
      const result = await stubOf(c).postText(family, parsed.message, parsed.threading);
      if (!result.ok) return c.json({ detail: result.detail }, result.status);
      return c.json(result.message);
    },
    describe: (config) => {
      const { tags, params, unknown, textExample } = familyDocs(family, config);
      const { example } = CLIENT_MESSAGE_DOCS.text;
      const overlong = parseAs("text", { ...example, text: "x".repeat(config.limits.maxMessageLength + 1) }, config.limits);
      return {
        tags,
        summary: "Post a text message",
        operationId: `${family}_post_text`,
        request: { params, body: { required: true, content: { "application/json": { schema: ref("TextBody") } } } },
        responses: {
          200: json(
            family === "rooms" ? ref(receivedComponent("text")) : { allOf: [ref(receivedComponent("text")), ref("ChannelStamp")] },
            "Broadcast to the room (and stored unless a cheat code); the message as this family sees it.",
            textExample,
          ),
          ...postRefusals(example.author),
          404: unknown,
          422: postValidationError(overlong),
          500: SERVER_ERROR,
        },
      };
    },
  };
}

// gischat 1.x's REST post (QTribu 1.0): the rules of PUT …/text, and the answer
// 1.x gave, the message in its own shape.
function gischat1PostRoute(base: string, known: MiddlewareHandler<App>): RestRoute {
  return {
    method: "put",
    path: `${base}/message`,
    guards: [known],
    handler: async (c) => {
      const body = await jsonObjectBody(c);
      if (body === undefined) return unprocessable(c, "", 'The body must be a JSON object: {"message", "author", "avatar"?}.');
      const parsed = parseGischat1(body, c.var.realm.limitsOf(c.req.param("name") ?? ""));
      if (!parsed.ok) return unprocessable(c, parsed.field ?? "", parsed.reason);
      const result = await stubOf(c).postText("rooms", parsed.message);
      if (!result.ok) return c.json({ detail: result.detail }, result.status);
      return c.json(gischat1Text(parsed.message) satisfies Gischat1Text);
    },
    describe: (config) => {
      const { tags, params, unknown } = familyDocs("rooms", config);
      const example = { message: "Nightly import finished", author: "bot_01", avatar: null };
      const overlong = parseGischat1({ ...example, message: "x".repeat(config.limits.maxMessageLength + 1) }, config.limits);
      return {
        tags,
        summary: "Post a text message, as gischat 1.x did",
        description:
          "The same rules and answers as PUT …/text, with gischat 1.x's body and answer: {message, author, avatar}. Everyone in the room receives a text.",
        operationId: "rooms_post_gischat1_message",
        request: { params, body: { required: true, content: { "application/json": { schema: ref("Gischat1Message") } } } },
        responses: {
          200: json(ref("Gischat1Message"), "Broadcast to the room as a text (and stored unless a cheat code).", example),
          ...postRefusals(example.author),
          404: unknown,
          422: postValidationError(overlong),
          500: SERVER_ERROR,
        },
      };
    },
  };
}

function clearRoute(family: Family, base: string, known: MiddlewareHandler<App>): RestRoute {
  return {
    method: "delete",
    path: `${base}/last`,
    guards: moderatorOnly(known),
    handler: async (c) => {
      await stubOf(c).clearHistory();
      return c.body(null, 204);
    },
    describe: (config) => {
      const { tags, params, unknown } = familyDocs(family, config);
      return {
        tags,
        summary: "Clear the room's stored messages (moderation)",
        operationId: `${family}_clear_last`,
        security: [{ adminToken: [] }],
        request: { params },
        responses: {
          204: { description: "Cleared. Connected sockets are not told." },
          ...MODERATION_RESPONSES,
          404: unknown,
          500: SERVER_ERROR,
        },
      };
    },
  };
}

function deleteMessageRoute(family: Family, base: string, known: MiddlewareHandler<App>): RestRoute {
  return {
    method: "delete",
    path: `${base}/messages/{id}`,
    guards: moderatorOnly(known),
    handler: async (c) => {
      const id = c.req.param("id") ?? "";
      if (!(await stubOf(c).deleteMessage(id)))
        return c.json({ detail: sentences.unknownMessage(family, c.req.param("name") ?? "", id) }, 404);
      return c.body(null, 204);
    },
    describe: (config) => {
      const { tags, name, exampleRoom } = familyDocs(family, config);
      const id = z.string().openapi({
        param: { description: "The message's id, as the channels family and the pages show it.", example: CHANNEL_STAMP_EXAMPLE.id },
      });
      return {
        tags,
        summary: "Delete one stored message (moderation)",
        operationId: `${family}_delete_message`,
        description:
          "Deletes the message from the room's storage, so that the replay, GET …/last, the pages and the export no longer have it, " +
          "and sends every socket of the room MessageDeletedMessageReceived (gischat 1.x sockets excepted: they cannot read it).",
        security: [{ adminToken: [] }],
        request: { params: z.object({ name, id }) },
        responses: {
          204: { description: "Deleted, and the sockets told." },
          ...MODERATION_RESPONSES,
          404: detail(
            `No such ${FAMILIES[family].noun}, or no stored message has this id.`,
            sentences.unknownMessage(family, exampleRoom, CHANNEL_STAMP_EXAMPLE.id),
          ),
          500: SERVER_ERROR,
        },
      };
    },
  };
}

/** How long a ban lasts: `?seconds=N`, validated and documented by this schema. */
const banSeconds = z.coerce.number().int().min(1).max(MAX_BAN_SECONDS);

function banRoute(family: Family, base: string, known: MiddlewareHandler<App>): RestRoute {
  return {
    method: "delete",
    path: `${base}/users/{nickname}`,
    guards: moderatorOnly(known),
    handler: async (c) => {
      const seconds = banSeconds.safeParse(c.req.query("seconds"));
      if (!seconds.success) return unprocessable(c, "query.seconds", sentences.banSecondsInvalid);
      return c.json((await stubOf(c).ban(c.req.param("nickname") ?? "", seconds.data)) satisfies BanBody);
    },
    describe: (config) => {
      const { tags, name, unknown } = familyDocs(family, config);
      const nickname = z.string().openapi({ param: { description: "The nickname to ban, URL-encoded.", example: "bob_gis" } });
      const seconds = banSeconds.openapi({ param: { description: `How long the ban lasts: ${BAN_DURATION}.`, example: 3600 } });
      return {
        tags,
        summary: "Ban a nickname from the room for a while (moderation)",
        operationId: `${family}_ban`,
        description:
          "Closes the nickname's sockets with code 1008, announces its exiter, and refuses the nickname in this room " +
          "(registration, authorship, PUT …/text) until the ban ends. Banning again keeps the later end.",
        security: [{ adminToken: [] }],
        request: { params: z.object({ name, nickname }), query: z.object({ seconds }) },
        responses: {
          200: json(ref("Ban"), "Banned.", {
            nickname: "bob_gis",
            banned_until: "2026-11-23T13:00:00.000Z",
            disconnected: 1,
          } satisfies BanBody),
          ...MODERATION_RESPONSES,
          404: unknown,
          422: validationError("No valid duration.", "query.seconds", sentences.banSecondsInvalid),
          500: SERVER_ERROR,
        },
      };
    },
  };
}
