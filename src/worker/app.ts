// The Worker's HTTP surface: REST for both path families, WebSocket upgrades
// forwarded untouched to the room's Durable Object, and moderation.
import { Hono, type Context, type MiddlewareHandler } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { HTTPException } from "hono/http-exception";
import { timingSafeEqual } from "hono/utils/buffer";
import { z } from "zod";
import packageJson from "../../package.json";
import { ConfigError, configOf, limitsOf, type Config } from "../server/config";
import { clientNetwork, floodRefusal } from "../server/client-network";
import { RefusalCache } from "./refusal-cache";
import { openApiDocument } from "./openapi";
import { servePage, type Page } from "./pages";
import { gischat1Text, parseGischat1, type Gischat1Text } from "../wire/gischat1";
import { FAMILIES, unknownRoomDetail, type Family } from "../wire/families";
import { parseAs } from "../wire/messages";
import { rulesBody, type BanBody, type StatusBody, type ValidationErrorBody, type VersionBody } from "./rest-schemas";

type App = { Bindings: Env; Variables: { config: Config } };

export const app = new Hono<App>();

// Hono's c.json answers `application/json` with no charset parameter, which the
// QGIS plugins require (they compare the header as a string).

app.onError((error, c) => {
  // Hono's middlewares (bearer auth) answer their refusals by throwing them.
  if (error instanceof HTTPException) return error.getResponse();
  console.error(JSON.stringify({ event: "request_failed", path: c.req.path, error: String(error) }));
  return c.json({ detail: "Internal server error" }, 500);
});

app.notFound((c) => c.json({ detail: "Not Found" }, 404));

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

function roomStub(env: Env, room: string) {
  return env.ROOM.get(env.ROOM.idFromName(room));
}

/**
 * The routes that answer HTML for people rather than JSON (the browser client and
 * the API docs: static files served with their security headers). Everything else
 * is in the OpenAPI document. wrangler.toml's run_worker_first lists the same paths.
 */
const PAGES = { "/": "client", "/docs": "docs" } as const satisfies Record<string, Page>;
export const HTML_PAGES: readonly string[] = Object.keys(PAGES);
for (const [path, page] of Object.entries(PAGES)) {
  app.get(path, (c) => servePage(page, c.req.raw, c.env.ASSETS));
}

app.get("/openapi.json", (c) => c.json(openApiDocument(c.var.config, packageJson.version)));

app.get("/rooms", (c) => c.json(c.var.config.rooms));
app.get("/channels", (c) => c.json(c.var.config.rooms));

// The instance's defaults; a room's own limits are at …/{name}/rules.
app.get("/rules", (c) => c.json(rulesBody(c.var.config, c.var.config.limits)));

app.get("/status", async (c) => {
  const { rooms } = c.var.config;
  const counts = await Promise.all(rooms.map((room) => roomStub(c.env, room).connectedCount()));
  const list = rooms.map((name, index) => ({ name, nb_connected_users: counts[index] ?? 0 }));
  return c.json({ status: "ok", healthy: true, rooms: list, channels: list } satisfies StatusBody);
});

app.get("/version", (c) => c.json({ version: packageJson.version } satisfies VersionBody));

// The QChat QField plugin's latest release: the original server streams the zip,
// we send the client to where it is published (QField follows redirects).
app.get("/qfield", (c) => c.redirect(c.var.config.qfieldPluginUrl, 302));

const moderatorOnly: MiddlewareHandler<App> = async (c, next) => {
  if (c.var.config.adminToken === undefined) {
    return c.json({ detail: "Moderation is disabled on this server: no ADMIN_TOKEN secret is configured." }, 403);
  }
  await next();
};

function requireAdminToken(): MiddlewareHandler<App>[] {
  const unauthorized = { detail: "A valid 'Authorization: Bearer <ADMIN_TOKEN>' header is required." };
  return [
    bearerAuth({
      verifyToken: (token, c) => timingSafeEqual(c.var.config.adminToken ?? "", token),
      noAuthenticationHeader: { message: unauthorized },
      invalidToken: { message: unauthorized },
      invalidAuthenticationHeader: { message: () => Response.json(unauthorized, { status: 401 }) },
    }),
  ];
}

for (const family of Object.keys(FAMILIES) as Family[]) {
  const base = `/${FAMILIES[family].segment}/:name`;
  const known: MiddlewareHandler<App> = async (c, next) => {
    const room = c.req.param("name") ?? "";
    if (!c.var.config.rooms.includes(room)) return c.json({ detail: unknownRoomDetail(family, room) }, 404);
    await next();
  };
  const stubOf = (c: Context<App>) => roomStub(c.env, c.req.param("name") ?? "");

  app.get(`${base}/ws`, async (c) => {
    if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") {
      return c.json({ detail: "Expected a WebSocket upgrade (Upgrade: websocket)" }, 426);
    }
    const room = c.req.param("name") ?? "";
    if (!c.var.config.rooms.includes(room)) return acceptAndClose(1008, unknownRoomDetail(family, room));
    const network = clientNetwork(c.req.raw);
    const refusedUntil = network === null ? undefined : floodRefusals.until(room, network, Date.now());
    if (refusedUntil !== undefined) return answerSlowly(floodRefusal(FAMILIES[family].Noun, room, refusedUntil, Date.now()));
    // Untouched, so that the room accepts the socket itself and can hibernate.
    const answer = await stubOf(c).fetch(c.req.raw);
    if (network === null || answer.status !== 429) return answer;
    floodRefusals.note(room, network, answer, Date.now());
    return answerSlowly(answer);
  });

  app.get(`${base}/rules`, known, (c) => c.json(rulesBody(c.var.config, limitsOf(c.var.config, c.req.param("name") ?? ""))));

  app.get(`${base}/users`, known, async (c) => c.json(await stubOf(c).registeredUsers()));

  app.get(`${base}/last`, known, async (c) => c.json(await stubOf(c).recentMessages(family)));

  app.put(`${base}/text`, known, async (c) => {
    const body = await c.req.json().catch(() => undefined);
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      return unprocessable(c, "", "The body must be a JSON object: {\"author\", \"avatar\"?, \"text\"}.");
    }
    const { type = "text" } = body as { type?: unknown };
    if (type !== "text") return unprocessable(c, "type", "Field 'type' must be \"text\" on this path (or left out).");
    const parsed = parseAs("text", { ...body, type }, c.var.config.limits);
    if (!parsed.ok) return unprocessable(c, parsed.field ?? "", parsed.reason);
    const result = await stubOf(c).postText(family, parsed.message, parsed.threading);
    if (!result.ok) return c.json({ detail: result.detail }, result.status);
    return c.json(result.message);
  });

  // gischat 1.x's REST post (QTribu 1.0), on the path family 1.x had: the rules of
  // PUT …/text, and the answer 1.x gave, the message in its own shape.
  if (family === "rooms") {
    app.put(`${base}/message`, known, async (c) => {
      const body = await c.req.json().catch(() => undefined);
      if (typeof body !== "object" || body === null || Array.isArray(body)) {
        return unprocessable(c, "", "The body must be a JSON object: {\"message\", \"author\", \"avatar\"?}.");
      }
      const parsed = parseGischat1(body, c.var.config.limits);
      if (!parsed.ok) return unprocessable(c, parsed.field ?? "", parsed.reason);
      const result = await stubOf(c).postText(family, parsed.message);
      if (!result.ok) return c.json({ detail: result.detail }, result.status);
      return c.json(gischat1Text(parsed.message) satisfies Gischat1Text);
    });
  }

  app.delete(`${base}/last`, moderatorOnly, ...requireAdminToken(), known, async (c) => {
    await stubOf(c).clearHistory();
    return c.body(null, 204);
  });

  app.delete(`${base}/users/:nickname`, moderatorOnly, ...requireAdminToken(), known, async (c) => {
    const seconds = banSeconds.safeParse(c.req.query("seconds"));
    if (!seconds.success) {
      return unprocessable(c, "query.seconds", `Query parameter 'seconds' must be a whole number of seconds from 1 to ${MAX_BAN_SECONDS} (a year): how long the ban lasts.`);
    }
    return c.json((await stubOf(c).ban(c.req.param("nickname") ?? "", seconds.data)) satisfies BanBody);
  });
}

const MAX_BAN_SECONDS = 365 * 24 * 3600;
const banSeconds = z.coerce.number().int().min(1).max(MAX_BAN_SECONDS);

/** FastAPI's shape for validation errors, which existing tools already read. `query.x` is a query parameter. */
function unprocessable(c: Context<App>, field: string, message: string) {
  const path = field === "" ? [] : field.split(".");
  const loc = path[0] === "query" ? path : ["body", ...path];
  return c.json({ detail: [{ loc, msg: message, type: "value_error" }] } satisfies ValidationErrorBody, 422);
}

/** Unknown rooms: the contract is a socket accepted then closed with 1008 and a reason. */
function acceptAndClose(code: number, reason: string): Response {
  const { 0: client, 1: server } = new WebSocketPair();
  server.accept();
  server.close(code, reason);
  return new Response(null, { status: 101, webSocket: client });
}
