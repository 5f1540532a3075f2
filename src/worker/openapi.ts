// GET /openapi.json: an OpenAPI 3.1 document for this instance, with its own
// limits, so the bounds it shows are the ones this server enforces.
//
// Paths: each REST route is written once (rest-route.ts), its answer and its
// description together; the description goes through @hono/zod-openapi's
// createRoute and generator. Not through `app.openapi()`, for two reasons:
// - it records a route's description when the route is registered, once per
//   app, and ours depends on the configuration (room names, limits in the
//   examples and bounds), which is known per request, from the environment;
// - its request validation answers its own 400s and 415s, and the clients read
//   our 422s, with our reasons (wire/messages.ts): the handlers validate.
// So the document is that of an OpenAPIHono built, once per Config, only to hold
// the routes as described for that Config; the Worker's app answers them.
//
// Components: generated from the zod schemas that validate the traffic
// (wire/messages.ts for messages, rest-schemas.ts for REST answers) by zod's own
// z.toJSONSchema: JSON Schema 2020-12 is OpenAPI 3.1's schema dialect, and zod's
// output keeps the bounds the schemas carry as metadata (code-point lengths).
import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import type { Config } from "../server/config";
import { CHANNEL_STAMP_EXAMPLE, CLIENT_MESSAGE_DOCS, SERVER_MESSAGE_DOCS, type ServerMessageType } from "../wire/examples";
import { gischat1Schema } from "../wire/gischat1";
import { type ClientMessageType, schemasFor, serverSchemas, THREADED_TYPES } from "../wire/messages";
import type { RestRoute } from "./rest-route";
import { banSchema, detailSchema, roomNamesSchema, rulesSchema, statusSchema, validationErrorSchema, versionSchema } from "./rest-schemas";

// The examples were here; tests and tools still find them here.
export { CLIENT_MESSAGE_DOCS, SERVER_MESSAGE_DOCS };

type JsonObject = Record<string, unknown>;
type MessageType = ClientMessageType | ServerMessageType;

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
  components.RoomsFamilyMessage = {
    description:
      "Any message, as the rooms family (/room/… sockets and REST answers) receives it: exactly the fields of its type, no more, no fewer (QTribu builds a frozen dataclass from the keys).",
    oneOf: allTypes.map((type) => ref(receivedComponent(type))),
    discriminator: {
      propertyName: "type",
      mapping: Object.fromEntries(allTypes.map((type) => [type, `#/components/schemas/${receivedComponent(type)}`])),
    },
  };
  components.ChannelStamp = {
    type: "object",
    description: "Added to every message the channels family receives; one id per message, the same for every receiver and in history.",
    properties: {
      id: {
        type: "string",
        format: "uuid",
        description:
          "The client's own id when it sent a UUID that no stored message of the room has (QChat does), else one stamped by the server.",
      },
      timestamp: {
        type: "integer",
        description: "Whole seconds since the Unix epoch, by the server's clock (a client's own is not kept).",
      },
      in_reply_to_id: {
        type: "string",
        format: "uuid",
        description: `Only on a reply, and only on ${THREADED_TYPES.join(", ")}: the id of the message answered (QChat 1.7 threads). Absent, never null, on any other message: older clients break on a key they lack.`,
      },
    },
    required: ["id", "timestamp"],
    examples: [CHANNEL_STAMP_EXAMPLE],
  };
  components.ThreadFields = {
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
  components.ChannelsFamilyMessage = {
    description:
      "Any message, as the channels family (/channel/… sockets and REST answers) receives it: the rooms-family fields, then id and timestamp.",
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

const DESCRIPTION = `A chat server for QGIS and QField users, speaking the gischat protocol.

Every room is reachable through two path families: **rooms** (\`/room/{name}/…\`, used by QTribu) and **channels** (\`/channel/{name}/…\`, used by QChat and QField). Both reach the same room; they differ only in serialization: the rooms family receives exactly the fields of each message type, the channels family also receives \`id\` and \`timestamp\`.

The WebSocket message types are documented as components: \`…Message\` is what a client sends, \`…MessageReceived\` what it receives. Every JSON answer has \`Content-Type: application/json\` exactly, with no charset parameter.`;

type Document = ReturnType<OpenAPIHono["getOpenAPI31Document"]>;

/** Built once per configuration: the document depends on nothing else. */
const documents = new WeakMap<Config, Document>();

export function openApiDocument(config: Config, version: string, routes: readonly RestRoute[]): Document {
  let document = documents.get(config);
  if (!document) {
    document = describedRoutes(config, routes).getOpenAPI31Document({
      openapi: "3.1.0",
      info: { title: "gischat-edge", version, description: DESCRIPTION },
      // A private space is the same API under another base URL: /s/{key}.
      servers: [
        { url: "/", description: "The public rooms." },
        {
          url: "/s/{key}",
          description: "A private space: every path answers there too (but the instance's administration), for that space's rooms.",
          variables: { key: { default: "your-space-key", description: "The space's key, as its owner shared it." } },
        },
      ],
      tags: [
        { name: "instance", description: "The instance as a whole." },
        { name: "rooms family", description: "/room/{name}/…: QTribu, QChat before gischat 3.0." },
        { name: "channels family", description: "/channel/{name}/…: QChat for gischat 3.x, QField." },
        { name: "spaces", description: "Rooms made at run time, and a space's own administration (under /s/{key})." },
        { name: "administration", description: "The instance's moderator: private spaces." },
      ],
    });
    documents.set(config, document);
  }
  return document;
}

type SchemaComponent = Parameters<OpenAPIHono["openAPIRegistry"]["registerComponent"]>[2];

/** The routes and components as this configuration describes them, in an app that answers none of them. */
function describedRoutes(config: Config, routes: readonly RestRoute[]): OpenAPIHono {
  const described = new OpenAPIHono();
  const registry = described.openAPIRegistry;
  for (const [name, schema] of Object.entries({ ...restComponents(config), ...messageComponents(config) })) {
    registry.registerComponent("schemas", name, schema as SchemaComponent);
  }
  registry.registerComponent("securitySchemes", "adminToken", { type: "http", scheme: "bearer", description: "The ADMIN_TOKEN secret." });
  registry.registerComponent("securitySchemes", "ownerToken", {
    type: "http",
    scheme: "bearer",
    description: "A space's owner token, shown once when the space is made (for the routes under /s/{key}).",
  });
  for (const { method, path, describe } of routes) registry.registerPath(createRoute({ method, path, ...describe(config) }));
  return described;
}
