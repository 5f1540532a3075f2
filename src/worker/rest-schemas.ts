// The bodies of the REST answers, as zod schemas: the routes type their answers
// with them (so an answer cannot drift from its schema without a type error) and
// openapi.ts documents them. The request body of PUT …/text is the `text` message
// schema of wire/messages.ts itself, not a copy.
import { z } from "zod";
import { type Config, LIMITS, type Limits, limitsByKey } from "../server/config";
import type { LimitSpec } from "../wire/limits";

export const roomNamesSchema = z.array(z.string()).meta({
  description: "The configured room names, in configured order.",
  examples: [["QGIS", "Geotribu"]],
});

const limitSchemas = Object.fromEntries(
  (Object.keys(LIMITS) as (keyof Limits)[]).map((name) => {
    const spec: LimitSpec = LIMITS[name];
    return [
      spec.key,
      (spec.fractional ? z.number() : z.int()).min(spec.min).meta({ description: `${spec.variable}, default ${spec.fallback}` }),
    ];
  }),
);

export const rulesSchema = z.object({ rules: z.string(), main_lang: z.string(), ...limitSchemas }).meta({
  description:
    "The rules and limits: /rules answers the instance's defaults, …/{name}/rules a room's own (its ROOM_LIMITS applied). " +
    "The original server sends rules, main_lang, min_author_length, max_author_length, max_message_length, max_image_size and max_geojson_features; the others are added by this server, and more may come, so ignore keys you do not know.",
});

/** The rules text and the limits, by the names the clients read. */
export function rulesBody(config: Config, limits: Limits, rules = config.rules): RulesBody {
  return { rules, main_lang: config.mainLang, ...limitsByKey(limits) };
}

export const banSchema = z
  .object({
    nickname: z.string(),
    banned_until: z.iso.datetime().meta({ description: "When the ban ends, ISO 8601 in UTC." }),
    disconnected: z.int().nonnegative().meta({ description: "Sockets that held the nickname and were closed with 1008." }),
  })
  .meta({ description: "The ban in place." });

const roomCountSchema = z.object({ name: z.string(), nb_connected_users: z.int().nonnegative() });

export const statusSchema = z
  .object({
    status: z.literal("ok"),
    healthy: z.literal(true),
    rooms: z.array(roomCountSchema),
    channels: z.array(roomCountSchema),
  })
  .meta({ description: "Live sockets per room, registered or not. `channels` is the same list as `rooms`." });

export const versionSchema = z.object({ version: z.string() }).meta({ description: "The server's version." });

export const detailSchema = z.object({ detail: z.string() }).meta({ description: "An error, as a sentence." });

export const validationErrorSchema = z
  .object({
    detail: z.array(
      z.object({
        loc: z.array(z.string()).meta({ description: '["body", "<field>"], or ["body"] when the body is not a JSON object.' }),
        msg: z.string(),
        type: z.literal("value_error"),
      }),
    ),
  })
  .meta({ description: "FastAPI's shape for a validation error: which field is wrong, and why." });

export type RulesBody = z.output<typeof rulesSchema>;
export type BanBody = z.output<typeof banSchema>;
export type StatusBody = z.output<typeof statusSchema>;
export type VersionBody = z.output<typeof versionSchema>;
export type DetailBody = z.output<typeof detailSchema>;
export type ValidationErrorBody = z.output<typeof validationErrorSchema>;
