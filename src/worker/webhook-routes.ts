// A room's webhooks, for its moderator (the instance's ADMIN_TOKEN among the public
// rooms, a space's owner token in the space): register one, list them (never their
// secrets), enable one again, remove one. Under both path families, like every
// per-room path; what a webhook receives is the same whichever family registered it.
// Each route is written once with its OpenAPI operation (rest-route.ts).
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { endpointUrlProblem } from "../server/config";
import { newWebhookSecret } from "../server/hmac";
import { FAMILIES, type Family, unknownRoomDetail } from "../wire/families";
import { sentences } from "../wire/sentences";
import { knownRoom } from "./family-routes";
import { realmModerator } from "./guards";
import {
  type App,
  detail,
  json,
  jsonObjectBody,
  type RestRoute,
  roomStub,
  SERVER_ERROR,
  unprocessable,
  validationError,
} from "./rest-route";

const MIN_SECRET = 16;
const MAX_SECRET = 256;
const MAX_URL = 2_000;

const EITHER_TOKEN: Record<string, string[]>[] = [{ adminToken: [] }, { ownerToken: [] }];

const newWebhook = z
  .object({
    url: z.string().openapi({
      description:
        "Where the room's messages are POSTed: an https:// URL (http:// on this machine only where WEBHOOK_ALLOW_HTTP_LOCAL is on).",
      example: "https://bots.example.org/gischat/hook",
    }),
    secret: z
      .string()
      .min(MIN_SECRET)
      .max(MAX_SECRET)
      .optional()
      .openapi({
        description: `The key every delivery is signed with (HMAC-SHA256), ${MIN_SECRET} to ${MAX_SECRET} characters. Left out: the server makes one and shows it once.`,
      }),
    presence: z.boolean().optional().openapi({ description: "Also send newcomer and exiter (arrivals and departures). Default false." }),
  })
  .openapi("NewWebhook");

const stats = z
  .object({
    pending: z.int().openapi({ description: "Deliveries waiting (at most WEBHOOK_OUTBOX_MAX)." }),
    delivered: z.int(),
    dropped: z.int().openapi({ description: "Deliveries dropped, oldest first, because the outbox was full." }),
    consecutive_failures: z.int(),
    last_attempt_at: z.string().nullable(),
    last_status: z.string().nullable().openapi({ description: 'The last attempt\'s HTTP status, or "timeout", "network error".' }),
    last_success_at: z.string().nullable(),
    next_attempt_at: z.string().nullable().openapi({ description: "When the next attempt is due, while deliveries wait for a retry." }),
  })
  .openapi("DeliveryStats");

const webhook = z
  .object({
    id: z.string(),
    url: z.string(),
    presence: z.boolean(),
    created_at: z.string(),
    enabled: z
      .boolean()
      .openapi({ description: "False once it has failed for a day (at least 10 attempts in a row): nothing is sent to it." }),
    disabled_at: z.string().nullable(),
    disabled_reason: z.string().nullable(),
    stats,
  })
  .openapi("Webhook");

const created = webhook
  .extend({ secret: z.string().optional().openapi({ description: "Only when the server made the secret: shown this once." }) })
  .openapi("NewWebhookAnswer");

const list = z.object({ webhooks: z.array(webhook), matrix_ping: stats.nullable() }).openapi("WebhookList");

const EXAMPLE_STATS = {
  pending: 0,
  delivered: 12,
  dropped: 0,
  consecutive_failures: 0,
  last_attempt_at: "2026-11-23T13:00:00.000Z",
  last_status: "200",
  last_success_at: "2026-11-23T13:00:00.000Z",
  next_attempt_at: null,
};
const EXAMPLE_WEBHOOK = {
  id: "0b8f2a8e-4a53-4d5e-9b0a-3f1c2d4e5f60",
  url: "https://bots.example.org/gischat/hook",
  presence: false,
  created_at: "2026-11-20T09:00:00.000Z",
  enabled: true,
  disabled_at: null,
  disabled_reason: null,
  stats: EXAMPLE_STATS,
};

const MODERATION_RESPONSES = {
  401: detail("Missing or wrong token.", sentences.adminTokenRequired),
  403: detail("Moderation is off: no ADMIN_TOKEN secret.", sentences.moderationDisabled),
};

const noSuchWebhook = (id: string) => `No webhook '${id}' in this room.`;

function docs(family: Family) {
  const { noun } = FAMILIES[family];
  const name = z.string().openapi({ param: { description: `A ${noun} name, URL-encoded, matched exactly.`, example: "QGIS" } });
  const id = z.string().openapi({ param: { description: "The webhook's id.", example: EXAMPLE_WEBHOOK.id } });
  return {
    tags: ["webhooks"],
    params: z.object({ name }),
    withId: z.object({ name, id }),
    unknownRoom: detail(`No such ${noun}.`, unknownRoomDetail(family, "Nowhere")),
  };
}

const stubOf = (c: Context<App>) => roomStub(c, c.req.param("name") ?? "");

export function webhookRoutes(family: Family): RestRoute[] {
  const base = `/${FAMILIES[family].segment}/{name}/webhooks`;
  const guards = [realmModerator, knownRoom(family)];
  const addWebhook: RestRoute = {
    method: "post",
    path: base,
    guards,
    handler: async (c) => {
      const body = await jsonObjectBody(c);
      if (body === undefined) return unprocessable(c, "", 'The body must be a JSON object: {"url", "secret"?, "presence"?}.');
      const { url, secret, presence = false } = body;
      if (typeof url !== "string" || url.length > MAX_URL) {
        return unprocessable(c, "url", `Field 'url' must be a URL of at most ${MAX_URL} characters.`);
      }
      const problem = endpointUrlProblem(url, c.var.config.webhooks.allowHttpLocal);
      if (problem !== undefined) return unprocessable(c, "url", problem);
      if (secret !== undefined && (typeof secret !== "string" || secret.length < MIN_SECRET || secret.length > MAX_SECRET)) {
        return unprocessable(c, "secret", `Field 'secret' must be a text of ${MIN_SECRET} to ${MAX_SECRET} characters, or left out.`);
      }
      if (typeof presence !== "boolean") return unprocessable(c, "presence", "Field 'presence' must be true or false.");
      const made = secret === undefined ? newWebhookSecret() : undefined;
      const result = await stubOf(c).addWebhook({ url: new URL(url).href, secret: secret ?? made ?? "", presence });
      if (!result.ok) return unprocessable(c, "url", result.detail);
      return c.json(made === undefined ? result.webhook : { ...result.webhook, secret: made }, result.created ? 201 : 200);
    },
    describe: () => {
      const { tags, params, unknownRoom } = docs(family);
      return {
        tags,
        summary: "Register a webhook on the room (moderation)",
        description:
          "Every storable message of the room (text, image, geojson, crs, bbox, position, model, script; and newcomer and exiter with `presence`) " +
          "is POSTed to the URL as JSON: the message as the channels family receives it, plus `room` and `space` (the space's id, null for a public room). " +
          "Headers: `X-Gischat-Signature: sha256=<hex HMAC-SHA256 of the raw body under the secret>`, `X-Gischat-Delivery` (the same on every retry: de-duplicate on it), `X-Gischat-Attempt`. " +
          "Any 2xx answer within 10 s is a delivery; anything else is retried after 10 s, doubling up to an hour. " +
          "A webhook that has failed for a day (at least 10 attempts in a row) is disabled. Registering a URL again replaces its secret and options and enables it again (200).",
        operationId: `${family}_add_webhook`,
        security: EITHER_TOKEN,
        request: { params, body: { required: true, content: { "application/json": { schema: newWebhook } } } },
        responses: {
          201: json(created, "Registered. The secret is never shown again (nor ever, when you gave it).", EXAMPLE_WEBHOOK),
          200: json(created, "That URL was registered already: its secret and options replaced, enabled again.", EXAMPLE_WEBHOOK),
          ...MODERATION_RESPONSES,
          404: unknownRoom,
          422: validationError("No valid URL or secret, or the room has 10 webhooks.", "url", "Field 'url' must be an https:// URL."),
          500: SERVER_ERROR,
        },
      };
    },
  };

  const listWebhooks: RestRoute = {
    method: "get",
    path: base,
    guards,
    handler: async (c) => c.json(await stubOf(c).webhooks()),
    describe: () => {
      const { tags, params, unknownRoom } = docs(family);
      return {
        tags,
        summary: "The room's webhooks and how their deliveries go (moderation)",
        description:
          "Never their secrets. `matrix_ping` is the Matrix ping's deliveries from this room (MATRIX_PING_*), once it has pinged.",
        operationId: `${family}_list_webhooks`,
        security: EITHER_TOKEN,
        request: { params },
        responses: {
          200: json(list, "The webhooks, oldest first.", { webhooks: [EXAMPLE_WEBHOOK], matrix_ping: null }),
          ...MODERATION_RESPONSES,
          404: unknownRoom,
          500: SERVER_ERROR,
        },
      };
    },
  };

  const removeWebhook: RestRoute = {
    method: "delete",
    path: `${base}/{id}`,
    guards,
    handler: async (c) => {
      const id = c.req.param("id") ?? "";
      if (!(await stubOf(c).removeWebhook(id))) return c.json({ detail: noSuchWebhook(id) }, 404);
      return c.body(null, 204);
    },
    describe: () => {
      const { tags, withId } = docs(family);
      return {
        tags,
        summary: "Remove a webhook, and what it was still owed (moderation)",
        operationId: `${family}_remove_webhook`,
        security: EITHER_TOKEN,
        request: { params: withId },
        responses: {
          204: { description: "Removed." },
          ...MODERATION_RESPONSES,
          404: detail("No such room, or no such webhook in it.", noSuchWebhook(EXAMPLE_WEBHOOK.id)),
          500: SERVER_ERROR,
        },
      };
    },
  };

  const enableWebhook: RestRoute = {
    method: "post",
    path: `${base}/{id}/enable`,
    guards,
    handler: async (c) => {
      const id = c.req.param("id") ?? "";
      const enabled = await stubOf(c).enableWebhook(id);
      if (enabled === undefined) return c.json({ detail: noSuchWebhook(id) }, 404);
      return c.json(enabled);
    },
    describe: () => {
      const { tags, withId } = docs(family);
      return {
        tags,
        summary: "Enable a webhook again, and retry it now (moderation)",
        description:
          "For a webhook disabled after a day of failures, or waiting for a retry: its failures are forgotten and what it is owed is sent at once.",
        operationId: `${family}_enable_webhook`,
        security: EITHER_TOKEN,
        request: { params: withId },
        responses: {
          200: json(webhook, "Enabled.", EXAMPLE_WEBHOOK),
          ...MODERATION_RESPONSES,
          404: detail("No such room, or no such webhook in it.", noSuchWebhook(EXAMPLE_WEBHOOK.id)),
          500: SERVER_ERROR,
        },
      };
    },
  };

  return [addWebhook, listWebhooks, removeWebhook, enableWebhook];
}
