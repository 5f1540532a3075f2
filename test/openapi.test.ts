// GET /openapi.json: an OpenAPI 3.1 document generated from the zod schemas,
// covering every route the Worker answers with JSON, with examples that the
// server itself accepts.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import packageJson from "../package.json";
import { floodRefusal } from "../src/server/client-network";
import { parseConfig } from "../src/server/config";
import { parseMessage, serverSchemas } from "../src/wire/messages";
import { sentences } from "../src/wire/sentences";
import { app, HTML_PAGES } from "../src/worker/app";
import { CLIENT_MESSAGE_DOCS, receivedComponent, SERVER_MESSAGE_DOCS, sentComponent } from "../src/worker/openapi";
import { Client, freshRoom, request, roomPath } from "./helpers";

// biome-ignore lint/suspicious/noExplicitAny: the document is walked by path in assertions, where a wrong path fails the test
type Json = Record<string, any>;

const HTTP_METHODS = ["get", "put", "post", "delete", "patch", "head", "options"];

async function fetchDocument(): Promise<Json> {
  const response = await request("/openapi.json");
  expect(response.status).toBe(200);
  expect(response.headers.get("Content-Type")).toBe("application/json");
  return (await response.json()) as Json;
}

/** Every `$ref` anywhere in the document. */
function refsIn(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) refsIn(item, found);
  else if (typeof value === "object" && value !== null) {
    for (const [key, inner] of Object.entries(value)) {
      if (key === "$ref" && typeof inner === "string") found.push(inner);
      else refsIn(inner, found);
    }
  }
  return found;
}

/** Hono's `/room/:name/ws` as OpenAPI writes it: `/room/{name}/ws`. */
/** The path as the document writes it, in the server it belongs to (/s/{key} for a space's). */
function openApiPath(honoPath: string): string {
  if (honoPath.startsWith("/s/:key/")) return openApiPath(honoPath.slice("/s/:key".length));
  return honoPath.replace(/:(\w+)/g, "{$1}");
}

describe("GET /openapi.json", () => {
  it("is an OpenAPI 3.1 document about this server", async () => {
    const document = await fetchDocument();
    expect(document.openapi).toBe("3.1.0");
    expect(document.info).toMatchObject({ title: "gischat-edge", version: packageJson.version });
    expect(Object.keys(document.paths).length).toBeGreaterThan(0);
    for (const [path, item] of Object.entries<Json>(document.paths)) {
      for (const method of Object.keys(item).filter((key) => HTTP_METHODS.includes(key))) {
        const operation = item[method];
        expect(operation.operationId, `${method} ${path}`).toMatch(/^\w+$/);
        expect(Object.keys(operation.responses).length, `${method} ${path} responses`).toBeGreaterThan(0);
        if (path.includes("{name}")) {
          expect(item.parameters ?? operation.parameters, `${path} declares {name}`).toContainEqual(
            expect.objectContaining({ name: "name", in: "path", required: true }),
          );
        }
      }
    }
    const operationIds = Object.values<Json>(document.paths).flatMap((item) =>
      Object.entries(item)
        .filter(([key]) => HTTP_METHODS.includes(key))
        .map(([, operation]) => operation.operationId),
    );
    expect(new Set(operationIds).size).toBe(operationIds.length);
  });

  it("documents every route of the Worker except the HTML pages, with the same methods", async () => {
    const document = await fetchDocument();
    // A space's routes are the same API under the server /s/{key}: documented once, by their path in it.
    expect(document.servers.map((server: Json) => server.url)).toEqual(["/", "/s/{key}"]);
    const routes = app.routes.filter((route) => route.method !== "ALL" && !HTML_PAGES.includes(route.path));
    expect(routes.length).toBeGreaterThan(10);
    for (const route of routes) {
      const item = document.paths[openApiPath(route.path)];
      expect(item, `${route.method} ${route.path} is in the document`).toBeDefined();
      expect(item[route.method.toLowerCase()], `${route.method} ${route.path} is documented`).toBeDefined();
    }
    // And nothing documented that the Worker does not answer.
    const routeKeys = new Set(app.routes.map((route) => `${route.method.toLowerCase()} ${openApiPath(route.path)}`));
    for (const [path, item] of Object.entries<Json>(document.paths)) {
      for (const method of Object.keys(item).filter((key) => HTTP_METHODS.includes(key))) {
        expect(routeKeys.has(`${method} ${path}`), `${method} ${path} is a real route`).toBe(true);
      }
    }
  });

  it("has both families' per-room paths", async () => {
    const paths = Object.keys((await fetchDocument()).paths);
    for (const segment of ["room", "channel"]) {
      for (const rest of ["ws", "users", "last", "text"]) expect(paths).toContain(`/${segment}/{name}/${rest}`);
    }
    expect(paths).toEqual(expect.arrayContaining(["/rooms", "/channels", "/rules", "/status", "/version", "/openapi.json"]));
  });

  it("resolves every $ref to a component", async () => {
    const document = await fetchDocument();
    const refs = refsIn(document);
    expect(refs.length).toBeGreaterThan(20);
    for (const ref of refs) {
      const name = ref.replace("#/components/schemas/", "");
      expect(document.components.schemas[name], ref).toBeDefined();
    }
  });

  it("has a component, with an example, for every WebSocket message type, sent and received", async () => {
    const schemas = (await fetchDocument()).components.schemas;
    for (const type of Object.keys(CLIENT_MESSAGE_DOCS)) {
      const sent = schemas[sentComponent(type as keyof typeof CLIENT_MESSAGE_DOCS)];
      expect(sent.properties.type).toEqual({ type: "string", const: type });
      expect(sent.examples).toHaveLength(1);
      expect(schemas[receivedComponent(type as keyof typeof CLIENT_MESSAGE_DOCS)].examples).toHaveLength(1);
    }
    for (const type of Object.keys(serverSchemas)) {
      expect(schemas[receivedComponent(type as keyof typeof serverSchemas)].properties.type.const).toBe(type);
    }
    expect(schemas.RoomsFamilyMessage.oneOf).toHaveLength(
      Object.keys(CLIENT_MESSAGE_DOCS).length + Object.keys(SERVER_MESSAGE_DOCS).length,
    );
    expect(schemas.ChannelStamp.required).toEqual(["id", "timestamp"]);
  });

  it("shows the instance's own limits, from the same schemas that validate", async () => {
    const schemas = (await fetchDocument()).components.schemas;
    expect(schemas.TextMessage.properties.author).toMatchObject({ minLength: 3, maxLength: 32, pattern: "^[A-Za-z0-9_-]+$" });
    expect(schemas.TextMessage.properties.text.maxLength).toBe(255);
    expect(schemas.TextMessage.required).toEqual(["type", "author", "text"]);
    // As received, optional fields are always there (null when absent).
    expect(schemas.TextMessageReceived.required).toEqual(["type", "author", "avatar", "text"]);
    expect(schemas.GeojsonMessage.properties.geojson.properties.features.maxItems).toBe(500);
    expect(schemas.TextBody.required).toEqual(["author", "text"]);
  });

  it("has message examples that the server accepts", () => {
    const { limits } = parseConfig(env as unknown as Record<string, unknown>);
    for (const { example } of Object.values(CLIENT_MESSAGE_DOCS)) {
      const parsed = parseMessage(example, limits);
      expect(parsed, JSON.stringify(example).slice(0, 80)).toMatchObject({ ok: true });
    }
    for (const [type, { example }] of Object.entries(SERVER_MESSAGE_DOCS)) {
      expect(serverSchemas[type as keyof typeof serverSchemas].safeParse(example).success).toBe(true);
    }
  });

  it("answers the REST examples of the document when asked the same", async () => {
    const document = await fetchDocument();
    const example = (path: string) => document.paths[path].get.responses["200"].content["application/json"].example;
    expect(await (await request("/rooms")).json()).toEqual(example("/rooms"));
    expect(await (await request("/rules")).json()).toEqual(example("/rules"));
    expect(await (await request("/version")).json()).toEqual(example("/version"));
  });

  // The room writes these sentences itself (src/room); the document shows them from src/wire/sentences.ts.
  it("shows the refusals of a post as the room answers them", async () => {
    const post = (room: string) =>
      request(roomPath("rooms", room, "text"), { method: "PUT", body: JSON.stringify({ author: "jane_doe", text: "hello" }) });
    const refusal = (await fetchDocument()).paths["/room/{name}/text"].put.responses;
    const taken = freshRoom();
    await Client.join("rooms", taken, "jane_doe");
    expect(await (await post(taken)).json()).toEqual({ detail: sentences.heldByConnectedUser("jane_doe") });
    expect(refusal["409"].content["application/json"].example).toEqual({ detail: sentences.heldByConnectedUser("jane_doe") });

    const banned = freshRoom();
    const ban = await request(roomPath("rooms", banned, "users/jane_doe?seconds=60"), {
      method: "DELETE",
      headers: { Authorization: `Bearer ${env.ADMIN_TOKEN}` },
    });
    const { banned_until } = (await ban.json()) as { banned_until: string };
    expect(await (await post(banned)).json()).toEqual({ detail: sentences.banned("jane_doe", Date.parse(banned_until)) });
  });

  it("shows the flood refusal as the Worker and the room answer it", async () => {
    const now = Date.now();
    expect(await floodRefusal("Room", "QGIS", now + 57_000, now).json()).toEqual({ detail: sentences.floodRefusal("Room", "QGIS", 57) });
  });
});
