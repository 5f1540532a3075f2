// GET /openapi.json: an OpenAPI 3.1 document generated from the zod schemas that
// validate the traffic (protocol.ts for messages, rest-schemas.ts for REST
// answers), with the instance's own limits, so the bounds it shows are the ones
// this server enforces. JSON Schema 2020-12, which zod emits, is OpenAPI 3.1's
// schema dialect. This file adds only prose and examples.
import { z } from "zod";
import { limitsOf, type Config } from "../server/config";
import { gischat1Schema } from "../wire/gischat1";
import { FAMILIES, type Family } from "../wire/families";
import { THREADED_TYPES, schemasFor, serverSchemas, type ClientMessageType, type ClientSchemas } from "../wire/messages";
import {
  detailSchema,
  roomNamesSchema,
  banSchema,
  rulesBody,
  rulesSchema,
  statusSchema,
  validationErrorSchema,
  versionSchema,
} from "./rest-schemas";

type JsonObject = Record<string, unknown>;
type ServerMessageType = keyof typeof serverSchemas;
type MessageType = ClientMessageType | ServerMessageType;

// ---------------------------------------------------------------------------
// Prose and examples of each message type. The examples are typed by the
// schemas, and test/openapi.test.ts checks that each one parses.

/** A 1×1 PNG: the smallest image_data the server accepts. */
const TINY_PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
const WGS84_WKT =
  'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433],AUTHORITY["EPSG","4326"]]';

type ClientDocs = { [T in ClientMessageType]: { description: string; example: z.input<ClientSchemas[T]> } };
type ServerDocs = { [T in ServerMessageType]: { description: string; example: z.output<(typeof serverSchemas)[T]> } };

export const CLIENT_MESSAGE_DOCS: ClientDocs = {
  text: {
    description: "A chat message. Broadcast, and stored unless it is one of the cheat codes.",
    example: { type: "text", author: "jane_doe", avatar: "mGeoPackage.svg", text: "Hi @all, the new layer is up" },
  },
  image: {
    description:
      "A PNG or JPEG, base64 without a data: prefix. The server shrinks it to MAX_IMAGE_SIZE on its longest side and broadcasts it as PNG.",
    example: { type: "image", author: "jane_doe", avatar: null, image_data: TINY_PNG },
  },
  newcomer: {
    description: "Registers this socket under a nickname, and announces it to the room.",
    example: { type: "newcomer", newcomer: "jane_doe" },
  },
  exiter: {
    description: "Releases this socket's own nickname (QField sends it before closing). Sent by the server when a registered socket leaves.",
    example: { type: "exiter", exiter: "jane_doe" },
  },
  like: {
    description: "Reaches only the sockets registered as liked_author; never stored.",
    example: { type: "like", liker_author: "bob_gis", liked_author: "jane_doe", message: "Hi @all, the new layer is up" },
  },
  geojson: {
    description: "A vector layer as a GeoJSON FeatureCollection in the CRS given by crs_authid / crs_wkt, with an optional QML style.",
    example: {
      type: "geojson",
      author: "jane_doe",
      avatar: null,
      layer_name: "survey points",
      crs_wkt: WGS84_WKT,
      crs_authid: "EPSG:4326",
      geojson: {
        type: "FeatureCollection",
        features: [{ type: "Feature", properties: { name: "well 1" }, geometry: { type: "Point", coordinates: [2.35, 48.85] } }],
      },
    },
  },
  crs: {
    description: "A coordinate reference system.",
    example: { type: "crs", author: "jane_doe", avatar: null, crs_wkt: WGS84_WKT, crs_authid: "EPSG:4326" },
  },
  bbox: {
    description: "A map extent in the given CRS.",
    example: {
      type: "bbox",
      author: "jane_doe",
      avatar: null,
      crs_wkt: WGS84_WKT,
      crs_authid: "EPSG:4326",
      xmin: 2.22,
      xmax: 2.47,
      ymin: 48.81,
      ymax: 48.91,
    },
  },
  position: {
    description: "A point in the given CRS.",
    example: { type: "position", author: "jane_doe", avatar: null, crs_wkt: WGS84_WKT, crs_authid: "EPSG:4326", x: 2.35, y: 48.85 },
  },
  model: {
    description: "A QGIS Processing graphical model (.model3 XML).",
    example: { type: "model", author: "jane_doe", model_name: "buffer then clip", raw_xml: "<!DOCTYPE model>\n<Option type=\"Map\"/>" },
  },
  script: {
    description: "A QGIS Processing Python script.",
    example: { type: "script", author: "jane_doe", name: "count_features", raw_pycode: "print(layer.featureCount())" },
  },
};

export const SERVER_MESSAGE_DOCS: ServerDocs = {
  nb_users: {
    description: "How many sockets are connected to the room, registered or not. Sent to everyone when someone connects or leaves.",
    example: { type: "nb_users", nb_users: 2 },
  },
  uncompliant: {
    description: "Why a frame was refused, as a sentence a person can act on. Sent to the sender alone; the socket stays open.",
    example: { type: "uncompliant", reason: "Field 'text' must be at most 255 characters long." },
  },
};

const CHANNEL_STAMP_EXAMPLE = { id: "3f0c9a52-6f1e-4c8e-9a57-2d8b1e0f4c11", timestamp: 1767225600 };

// ---------------------------------------------------------------------------
// Components

/** `nb_users` → `NbUsers`. */
function pascal(type: string): string {
  return type
    .split("_")
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join("");
}

export const sentComponent = (type: ClientMessageType) => `${pascal(type)}Message`;
export const receivedComponent = (type: MessageType) => `${pascal(type)}MessageReceived`;
const ref = (component: string) => ({ $ref: `#/components/schemas/${component}` });

/** A zod schema as a component: JSON Schema 2020-12 without the document-level keys. */
function jsonSchema(schema: z.ZodType, io: "input" | "output"): JsonObject {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io }) as JsonObject;
  return rest;
}

/** The messages as received: the output form, where optional fields are present as null. */
function receivedSchema(schema: z.ZodType, description: string, example: unknown): JsonObject {
  // The channels family adds id and timestamp to these very objects (allOf below),
  // so the closed-object marker zod emits for output would forbid them.
  const { additionalProperties: _closed, ...open } = jsonSchema(schema, "output");
  return { ...open, description, examples: [example] };
}

function messageComponents(config: Config): Record<string, JsonObject> {
  const schemas = schemasFor(config.limits);
  const components: Record<string, JsonObject> = {};
  for (const type of Object.keys(CLIENT_MESSAGE_DOCS) as ClientMessageType[]) {
    const { description, example } = CLIENT_MESSAGE_DOCS[type];
    components[sentComponent(type)] = {
      ...jsonSchema(schemas[type], "input"),
      description: `${description} Sent by clients; optional fields may be left out.`,
      examples: [example],
    };
    // What the server broadcasts is what it parsed: run the example through the real schema.
    const parsed = schemas[type].safeParse(example);
    components[receivedComponent(type)] = receivedSchema(
      schemas[type],
      `${description} As received, every field present (null when absent).`,
      parsed.success ? parsed.data : example,
    );
  }
  for (const type of Object.keys(SERVER_MESSAGE_DOCS) as ServerMessageType[]) {
    const { description, example } = SERVER_MESSAGE_DOCS[type];
    components[receivedComponent(type)] = receivedSchema(serverSchemas[type], `${description} Sent by the server only.`, example);
  }
  const allTypes = [...Object.keys(CLIENT_MESSAGE_DOCS), ...Object.keys(SERVER_MESSAGE_DOCS)] as MessageType[];
  components["RoomsFamilyMessage"] = {
    description:
      "Any message, as the rooms family (/room/… sockets and REST answers) receives it: exactly the fields of its type, no more, no fewer (QTribu builds a frozen dataclass from the keys).",
    oneOf: allTypes.map((type) => ref(receivedComponent(type))),
    discriminator: {
      propertyName: "type",
      mapping: Object.fromEntries(allTypes.map((type) => [type, `#/components/schemas/${receivedComponent(type)}`])),
    },
  };
  components["ChannelStamp"] = {
    type: "object",
    description: "Added to every message the channels family receives; one id per message, the same for every receiver and in history.",
    properties: {
      id: {
        type: "string",
        format: "uuid",
        description: "The client's own id when it sent a UUID that no stored message of the room has (QChat does), else one stamped by the server.",
      },
      timestamp: { type: "integer", description: "Whole seconds since the Unix epoch, by the server's clock (a client's own is not kept)." },
      in_reply_to_id: {
        type: "string",
        format: "uuid",
        description: `Only on a reply, and only on ${THREADED_TYPES.join(", ")}: the id of the message answered (QChat 1.7 threads). Absent, never null, on any other message: older clients break on a key they lack.`,
      },
    },
    required: ["id", "timestamp"],
    examples: [CHANNEL_STAMP_EXAMPLE],
  };
  components["ThreadFields"] = {
    type: "object",
    description:
      `What a client may add to a message it sends: its own \`id\` (kept when it is a UUID no stored message has, else replaced, never an error) and, on ${THREADED_TYPES.join(", ")}, \`in_reply_to_id\`: the id of the message answered, or null. ` +
      "A reply reaches the channels family with in_reply_to_id; the rooms family never sees it.",
    properties: {
      id: { type: "string", format: "uuid" },
      in_reply_to_id: { type: ["string", "null"], format: "uuid", description: "Not this message's own id." },
    },
    examples: [{ id: "8d6f4f8e-0b7a-4d0e-8f3a-6b2c1d9e7a10", in_reply_to_id: CHANNEL_STAMP_EXAMPLE.id }],
  };
  components["ChannelsFamilyMessage"] = {
    description: "Any message, as the channels family (/channel/… sockets and REST answers) receives it: the rooms-family fields, then id and timestamp.",
    allOf: [ref("RoomsFamilyMessage"), ref("ChannelStamp")],
  };
  return components;
}

function restComponents(config: Config): Record<string, JsonObject> {
  const textBody = schemasFor(config.limits).text.partial({ type: true });
  return {
    RoomNames: jsonSchema(roomNamesSchema, "output"),
    Rules: jsonSchema(rulesSchema, "output"),
    Ban: jsonSchema(banSchema, "output"),
    Status: jsonSchema(statusSchema, "output"),
    Version: jsonSchema(versionSchema, "output"),
    Detail: jsonSchema(detailSchema, "output"),
    ValidationError: jsonSchema(validationErrorSchema, "output"),
    Gischat1Message: {
      ...jsonSchema(gischat1Schema(config.limits), "input"),
      description: "A message as gischat 1.x (QTribu 1.0) sends and receives it: a text, with the bounds of a text message.",
      examples: [{ message: "Hello from QTribu 1.0", author: "jane_doe", avatar: "mGeoPackage.svg" }],
    },
    TextBody: {
      ...jsonSchema(textBody, "input"),
      description: "A text message; `type` may be left out, ThreadFields added (a bot can reply). Unknown keys are dropped.",
      examples: [{ author: "bot_01", avatar: null, text: "Nightly import finished" }],
    },
  };
}

// ---------------------------------------------------------------------------
// Paths

function json(schemaOrRef: JsonObject, description: string, example?: unknown): JsonObject {
  const media: JsonObject = { schema: schemaOrRef };
  if (example !== undefined) media["example"] = example;
  return { description, content: { "application/json": media } };
}

function detail(description: string, example: string): JsonObject {
  return json(ref("Detail"), description, { detail: example });
}

const SERVER_ERROR = detail(
  "Invalid configuration (naming the variable) or an unexpected failure.",
  'Invalid server configuration: MAX_AUTHOR_LENGTH must be a whole number, got "abc".',
);

const MODERATION_UNAUTHORIZED = detail("Missing or wrong token.", "A valid 'Authorization: Bearer <ADMIN_TOKEN>' header is required.");
const MODERATION_DISABLED = detail(
  "Moderation is off: no ADMIN_TOKEN secret.",
  "Moderation is disabled on this server: no ADMIN_TOKEN secret is configured.",
);

function familyPaths(family: Family, config: Config): Record<string, JsonObject> {
  const { segment, Noun } = FAMILIES[family];
  const base = `/${segment}/{name}`;
  const tags = [`${family} family`];
  const messageRef = ref(family === "rooms" ? "RoomsFamilyMessage" : "ChannelsFamilyMessage");
  const stamp = (message: object) => (family === "rooms" ? message : { ...message, ...CHANNEL_STAMP_EXAMPLE });
  const textExample = stamp(schemasFor(config.limits).text.parse(CLIENT_MESSAGE_DOCS.text.example));
  const nameParameter = {
    name: "name",
    in: "path",
    required: true,
    description: `A configured ${FAMILIES[family].noun} name, URL-encoded, matched exactly (case-sensitive).`,
    schema: { type: "string" },
    example: config.rooms[0],
  };
  const unknown = detail(`No such ${FAMILIES[family].noun}.`, `${Noun} 'Nowhere' not registered`);
  const listPath = family === "rooms" ? "/rooms" : "/channels";
  return {
    [listPath]: {
      get: {
        tags,
        summary: `The configured ${family}`,
        operationId: `list_${family}`,
        responses: { "200": json(ref("RoomNames"), "The names, in configured order.", config.rooms), "500": SERVER_ERROR },
      },
    },
    [`${base}/ws`]: {
      parameters: [nameParameter],
      get: {
        tags,
        summary: "Open a WebSocket to the room",
        operationId: `${family}_ws`,
        description:
          `Upgrade to a WebSocket. Every frame is one JSON object with a \`type\`: send the *Message components ` +
          `(TextMessage, NewcomerMessage, …), with ThreadFields if you like, receive ${family === "rooms" ? "RoomsFamilyMessage" : "ChannelsFamilyMessage"}. ` +
          "On connect, everyone receives nb_users and the new socket receives the stored messages, oldest first. " +
          (family === "rooms"
            ? "A socket whose frame is a Gischat1Message (no `type`: QTribu 1.0) receives gischat 1.x frames from then on: texts as Gischat1Message, the count as {author: \"internal\", nb_users}, and a one-line notice for anything else. "
            : "") +
          `An unknown ${FAMILIES[family].noun} is accepted then closed with code 1008. The text frame \`ping\` is answered \`pong\`.`,
        responses: {
          "101": { description: "Switching Protocols: the socket is open." },
          "426": detail("Not a WebSocket upgrade.", "Expected a WebSocket upgrade (Upgrade: websocket)"),
          "429": {
            ...detail(
              `A socket from this address was closed for flooding: connections from it are refused for a minute (Retry-After, in seconds), each answer a second late.`,
              `${FAMILIES[family].Noun} 'QGIS' closed a connection from your address for flooding: new connections from it are refused for 57 s more.`,
            ),
            headers: { "Retry-After": { description: "Seconds until a connection from this address is accepted again.", schema: { type: "integer", minimum: 1 } } },
          },
          "500": SERVER_ERROR,
        },
      },
    },
    [`${base}/users`]: {
      parameters: [nameParameter],
      get: {
        tags,
        summary: "Registered nicknames",
        operationId: `${family}_users`,
        responses: {
          "200": json({ type: "array", items: { type: "string" } }, "Nicknames registered in the room, sorted case-insensitively.", ["bob_gis", "jane_doe"]),
          "404": unknown,
          "500": SERVER_ERROR,
        },
      },
    },
    [`${base}/rules`]: {
      parameters: [nameParameter],
      get: {
        tags,
        summary: "The room's rules and limits",
        operationId: `${family}_rules`,
        responses: {
          "200": json(ref("Rules"), "The rules and this room's effective limits (ROOM_LIMITS applied).", rulesBody(config, limitsOf(config, config.rooms[0] ?? ""))),
          "404": unknown,
          "500": SERVER_ERROR,
        },
      },
    },
    [`${base}/users/{nickname}`]: {
      parameters: [
        nameParameter,
        { name: "nickname", in: "path", required: true, description: "The nickname to ban, URL-encoded.", schema: { type: "string" }, example: "bob_gis" },
      ],
      delete: {
        tags,
        summary: "Ban a nickname from the room for a while (moderation)",
        operationId: `${family}_ban`,
        description:
          "Closes the nickname's sockets with code 1008, announces its exiter, and refuses the nickname in this room " +
          "(registration, authorship, PUT …/text) until the ban ends. Banning again keeps the later end.",
        security: [{ adminToken: [] }],
        parameters: [
          {
            name: "seconds",
            in: "query",
            required: true,
            description: "How long the ban lasts, in seconds: 1 to 31536000 (a year).",
            schema: { type: "integer", minimum: 1, maximum: 31_536_000 },
            example: 3600,
          },
        ],
        responses: {
          "200": json(ref("Ban"), "Banned.", { nickname: "bob_gis", banned_until: "2026-11-23T13:00:00.000Z", disconnected: 1 }),
          "401": MODERATION_UNAUTHORIZED,
          "403": MODERATION_DISABLED,
          "404": unknown,
          "422": json(ref("ValidationError"), "No valid duration.", {
            detail: [
              {
                loc: ["query", "seconds"],
                msg: "Query parameter 'seconds' must be a whole number of seconds from 1 to 31536000 (a year): how long the ban lasts.",
                type: "value_error",
              },
            ],
          }),
          "500": SERVER_ERROR,
        },
      },
    },
    [`${base}/last`]: {
      parameters: [nameParameter],
      get: {
        tags,
        summary: "Recent messages",
        operationId: `${family}_last`,
        responses: {
          "200": json({ type: "array", items: messageRef }, "The stored messages, oldest first.", [textExample]),
          "404": unknown,
          "500": SERVER_ERROR,
        },
      },
      delete: {
        tags,
        summary: "Clear the room's stored messages (moderation)",
        operationId: `${family}_clear_last`,
        security: [{ adminToken: [] }],
        responses: {
          "204": { description: "Cleared. Connected sockets are not told." },
          "401": MODERATION_UNAUTHORIZED,
          "403": MODERATION_DISABLED,
          "404": unknown,
          "500": SERVER_ERROR,
        },
      },
    },
    [`${base}/text`]: {
      parameters: [nameParameter],
      put: {
        tags,
        summary: "Post a text message",
        operationId: `${family}_post_text`,
        requestBody: { required: true, content: { "application/json": { schema: ref("TextBody") } } },
        responses: {
          "200": json(
            family === "rooms" ? ref(receivedComponent("text")) : { allOf: [ref(receivedComponent("text")), ref("ChannelStamp")] },
            "Broadcast to the room (and stored unless a cheat code); the message as this family sees it.",
            textExample,
          ),
          "403": detail(
            "A moderator has banned the author's nickname from this room.",
            "The nickname 'jane_doe' is banned from this room by a moderator until 2026-11-23T13:00:00.000Z.",
          ),
          "404": unknown,
          "409": detail(
            "A connected socket of the room holds the author's nickname.",
            "The nickname 'jane_doe' is registered by a connected user: post under another nickname.",
          ),
          "422": json(ref("ValidationError"), "Invalid body, naming the field.", {
            detail: [{ loc: ["body", "text"], msg: "Field 'text' must be at most 255 characters long.", type: "value_error" }],
          }),
          "500": SERVER_ERROR,
        },
      },
    },
    ...(family === "rooms" ? { [`${base}/message`]: gischat1PostPath(nameParameter, unknown, tags) } : {}),
  };
}

/** gischat 1.x's REST post, on the rooms family only (1.x had no other). */
function gischat1PostPath(nameParameter: JsonObject, unknown: JsonObject, tags: string[]): JsonObject {
  const example = { message: "Nightly import finished", author: "bot_01", avatar: null };
  return {
    parameters: [nameParameter],
    put: {
      tags,
      summary: "Post a text message, as gischat 1.x did",
      description: "The same rules and answers as PUT …/text, with gischat 1.x's body and answer: {message, author, avatar}. Everyone in the room receives a text.",
      operationId: "rooms_post_gischat1_message",
      requestBody: { required: true, content: { "application/json": { schema: ref("Gischat1Message") } } },
      responses: {
        "200": json(ref("Gischat1Message"), "Broadcast to the room as a text (and stored unless a cheat code).", example),
        "403": detail("A moderator has banned the author's nickname from this room.", "The nickname 'bot_01' is banned from this room by a moderator until 2026-11-23T13:00:00.000Z."),
        "404": unknown,
        "409": detail("A connected socket of the room holds the author's nickname.", "The nickname 'bot_01' is registered by a connected user: post under another nickname."),
        "422": json(ref("ValidationError"), "Invalid body, naming the field.", {
          detail: [{ loc: ["body", "message"], msg: "Field 'message' must be at most 255 characters long.", type: "value_error" }],
        }),
        "500": SERVER_ERROR,
      },
    },
  };
}

function instancePaths(config: Config, version: string): Record<string, JsonObject> {
  const tags = ["instance"];
  return {
    "/rules": {
      get: {
        tags,
        summary: "Rules and limits",
        operationId: "rules",
        responses: {
          "200": json(ref("Rules"), "The instance's rules and default limits.", rulesBody(config, config.limits)),
          "500": SERVER_ERROR,
        },
      },
    },
    "/status": {
      get: {
        tags,
        summary: "Health and connected sockets per room",
        operationId: "status",
        responses: {
          "200": json(ref("Status"), "Live counts.", {
            status: "ok",
            healthy: true,
            rooms: config.rooms.map((name) => ({ name, nb_connected_users: 0 })),
            channels: config.rooms.map((name) => ({ name, nb_connected_users: 0 })),
          }),
          "500": SERVER_ERROR,
        },
      },
    },
    "/version": {
      get: {
        tags,
        summary: "Server version",
        operationId: "version",
        responses: { "200": json(ref("Version"), "The package version.", { version }), "500": SERVER_ERROR },
      },
    },
    "/qfield": {
      get: {
        tags,
        summary: "The QChat QField plugin",
        description: "Redirects to the latest release of the QChat QField plugin (a zip), as the original server serves it (QFIELD_PLUGIN_URL).",
        operationId: "qfield_plugin",
        responses: {
          "302": { description: "Found: the Location header is the download.", headers: { Location: { schema: { type: "string", format: "uri" }, example: config.qfieldPluginUrl } } },
          "500": SERVER_ERROR,
        },
      },
    },
    "/openapi.json": {
      get: {
        tags,
        summary: "This document",
        operationId: "openapi",
        responses: { "200": json({ type: "object" }, "OpenAPI 3.1, with this instance's limits."), "500": SERVER_ERROR },
      },
    },
  };
}

// ---------------------------------------------------------------------------

const DESCRIPTION = `A chat server for QGIS and QField users, speaking the gischat protocol.

Every room is reachable through two path families: **rooms** (\`/room/{name}/…\`, used by QTribu) and **channels** (\`/channel/{name}/…\`, used by QChat and QField). Both reach the same room; they differ only in serialization: the rooms family receives exactly the fields of each message type, the channels family also receives \`id\` and \`timestamp\`.

The WebSocket message types are documented as components: \`…Message\` is what a client sends, \`…MessageReceived\` what it receives. Every JSON answer has \`Content-Type: application/json\` exactly, with no charset parameter.`;

/** Built once per configuration: the document depends on nothing else. */
const documents = new WeakMap<Config, JsonObject>();

export function openApiDocument(config: Config, version: string): JsonObject {
  let document = documents.get(config);
  if (!document) {
    document = {
      openapi: "3.1.0",
      info: { title: "gischat-edge", version, description: DESCRIPTION },
      tags: [
        { name: "instance", description: "The instance as a whole." },
        { name: "rooms family", description: "/room/{name}/…: QTribu, QChat before gischat 3.0." },
        { name: "channels family", description: "/channel/{name}/…: QChat for gischat 3.x, QField." },
      ],
      paths: { ...familyPaths("rooms", config), ...familyPaths("channels", config), ...instancePaths(config, version) },
      components: {
        schemas: { ...restComponents(config), ...messageComponents(config) },
        securitySchemes: { adminToken: { type: "http", scheme: "bearer", description: "The ADMIN_TOKEN secret." } },
      },
    };
    documents.set(config, document);
  }
  return document;
}
