// A REST route, written once: how the Worker answers it (its guards and handler,
// registered in app.ts) and what the OpenAPI document says of it (openapi.ts).
// What it says is a function of the instance's Config: the examples and bounds
// it shows (room names, limits) are this instance's.
import type { RouteConfig } from "@hono/zod-openapi";
import type { Context, Handler, MiddlewareHandler } from "hono";
import type { Config } from "../server/config";
import type { Realm } from "./realms";
import type { ValidationErrorBody } from "./rest-schemas";

export type App = { Bindings: Env; Variables: { config: Config; realm: Realm } };

/** A createRoute config without what the route itself fixes (method, path). */
export type RouteDescription = Omit<RouteConfig, "method" | "path" | "middleware" | "hide">;

export interface RestRoute {
  method: "get" | "put" | "post" | "delete";
  /** As OpenAPI writes it (`/room/{name}/ws`); Hono's form is derived (honoPath). */
  path: string;
  /** Middleware run first, in order: the moderation checks, the room check. */
  guards?: MiddlewareHandler<App>[];
  handler: Handler<App>;
  describe: (config: Config) => RouteDescription;
  /**
   * Where it answers: by default both among the public rooms and inside every space
   * (under /s/{key}); "instance" for the instance's administration, "space" for a
   * space's own.
   */
  scope?: "instance" | "space";
}

/** What a space's paths start with: the instance URL a community types is `https://host/s/{key}`. */
export const SPACE_PREFIX = "/s/:key";

/** `/room/{name}/ws` as Hono writes it: `/room/:name/ws`. */
export function honoPath(path: string): string {
  return path.replace(/\{(\w+)\}/g, ":$1");
}

// ---------------------------------------------------------------------------
// Pieces of descriptions that several routes share.

type ResponseDescription = Exclude<RouteDescription["responses"][string], { $ref: string }>;
type MediaDescription = Exclude<NonNullable<NonNullable<ResponseDescription["content"]>[string]>, { $ref: string }>;
type MediaSchema = NonNullable<MediaDescription["schema"]>;

export const ref = (component: string) => ({ $ref: `#/components/schemas/${component}` });

export function json(schema: MediaSchema, description: string, example?: unknown): ResponseDescription {
  const media: MediaDescription = example === undefined ? { schema } : { schema, example };
  return { description, content: { "application/json": media } };
}

export function detail(description: string, example: string): ResponseDescription {
  return json(ref("Detail"), description, { detail: example });
}

export const SERVER_ERROR = detail(
  "Invalid configuration (naming the variable) or an unexpected failure.",
  'Invalid server configuration: MAX_AUTHOR_LENGTH must be a whole number, got "abc".',
);

/** A 422 and its example: the body `unprocessable` answers for this field and reason. */
export function validationError(description: string, field: string, reason: string): ResponseDescription {
  return json(ref("ValidationError"), description, validationErrorBody(field, reason));
}

// ---------------------------------------------------------------------------

/** FastAPI's shape for validation errors, which existing tools already read. `query.x` is a query parameter. */
export function validationErrorBody(field: string, message: string): ValidationErrorBody {
  const path = field === "" ? [] : field.split(".");
  const loc = path[0] === "query" ? path : ["body", ...path];
  return { detail: [{ loc, msg: message, type: "value_error" }] };
}

/** The request's body when it is a JSON object; undefined for anything else (the route answers its 422). */
export async function jsonObjectBody(c: Context<App>): Promise<Record<string, unknown> | undefined> {
  const body: unknown = await c.req.json().catch(() => undefined);
  return typeof body === "object" && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
}

export function unprocessable(c: Context<App>, field: string, message: string) {
  return c.json(validationErrorBody(field, message), 422);
}

/** The Durable Object of a room of the request's realm (the public rooms, or its space). */
export function roomStub(c: Context<App>, room: string) {
  return c.env.ROOM.get(c.env.ROOM.idFromName(c.var.realm.objectName(room)));
}
