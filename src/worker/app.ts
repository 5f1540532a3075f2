// The Worker's HTTP surface: the HTML pages, and the REST routes of routes.ts
// (both path families, WebSocket upgrades forwarded untouched to the room's
// Durable Object, moderation), each written once with its OpenAPI description.
import { type Context, Hono, type MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { ConfigError, configOf } from "../server/config";
import { logFailure } from "../server/log";
import { type Page, servePage } from "./pages";
import { publicRealm, spaceRealm } from "./realms";
import { type App, honoPath, SPACE_PREFIX } from "./rest-route";
import { REST_ROUTES } from "./routes";

export const app = new Hono<App>();

// Hono's c.json answers `application/json` with no charset parameter, which the
// QGIS plugins require (they compare the header as a string).

app.onError((error, c) => {
  // Hono's middlewares (bearer auth) answer their refusals by throwing them.
  if (error instanceof HTTPException) return error.getResponse();
  logFailure("request_failed", error, { path: c.req.path });
  return c.json({ detail: "Internal server error" }, 500);
});

const notFound = (c: Context<App>) => c.json({ detail: "Not Found" }, 404);
app.notFound(notFound);

// A bad configuration answers every request, naming the variable, until it is fixed.
app.use(async (c, next) => {
  try {
    c.set("config", configOf(c.env));
  } catch (error) {
    if (error instanceof ConfigError) return c.json({ detail: error.message }, 500);
    throw error;
  }
  await next();
});

/**
 * The routes that answer HTML for people rather than JSON (the browser client and
 * the API docs: static files served with their security headers). Everything else
 * is in the OpenAPI document. wrangler.toml's run_worker_first lists the same paths.
 */
const PAGES = { "/": "client", "/docs": "docs" } as const satisfies Record<string, Page>;
for (const [path, page] of Object.entries(PAGES)) {
  app.get(path, (c) => servePage(page, c.req.raw, c.env.ASSETS));
}

const amongPublicRooms: MiddlewareHandler<App> = async (c, next) => {
  c.set("realm", await publicRealm(c.env, c.var.config));
  await next();
};

/** A wrong, old or revoked key is answered exactly like a path that does not exist. */
const inSpace: MiddlewareHandler<App> = async (c, next) => {
  const realm = await spaceRealm(c.env, c.var.config, c.req.param("key") ?? "");
  if (realm === undefined) return notFound(c);
  c.set("realm", realm);
  await next();
};

// A space link, https://host/s/{key}/, opens the browser client in that space (it
// takes its paths from its own address); without the slash, it is sent there.
app.get(`${SPACE_PREFIX}/`, inSpace, (c) => servePage("client", c.req.raw, c.env.ASSETS, "/"));
app.get(SPACE_PREFIX, inSpace, (c) => c.redirect(`${new URL(c.req.url).pathname}/`, 302));
/** The pages the assets would answer themselves: wrangler.toml's run_worker_first lists them (no file lies under /s/). */
export const STATIC_PAGES: readonly string[] = Object.keys(PAGES);
export const HTML_PAGES: readonly string[] = [...STATIC_PAGES, `${SPACE_PREFIX}/`, SPACE_PREFIX];

for (const { method, path, guards = [], handler, scope } of REST_ROUTES) {
  if (scope !== "space") app.on(method, [honoPath(path)], amongPublicRooms, ...guards, handler);
  if (scope !== "instance") app.on(method, [`${SPACE_PREFIX}${honoPath(path)}`], inSpace, ...guards, handler);
}
