// The bodies of the REST answers, as zod schemas: routes.ts types its answers with
// them (so an answer cannot drift from its schema without a type error) and
// openapi.ts documents them. The request body of PUT …/text is the `text` message
// schema of protocol.ts itself, not a copy.
import { z } from "zod";

export const roomNamesSchema = z.array(z.string()).meta({
  description: "The configured room names, in configured order.",
  examples: [["QGIS", "Geotribu"]],
});

export const rulesSchema = z
  .object({
    rules: z.string(),
    main_lang: z.string(),
    min_author_length: z.int(),
    max_author_length: z.int(),
    max_message_length: z.int(),
    max_image_size: z.int(),
    max_geojson_features: z.int(),
    max_image_raw_length: z.int(),
    max_image_pixels: z.int(),
    max_model_raw_length: z.int(),
    max_script_raw_length: z.int(),
    max_stored_messages: z.int(),
  })
  .meta({
    description:
      "The instance's rules and limits. The keys after max_geojson_features are added by this server; more may come, so ignore keys you do not know.",
  });

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
export type StatusBody = z.output<typeof statusSchema>;
export type VersionBody = z.output<typeof versionSchema>;
export type DetailBody = z.output<typeof detailSchema>;
export type ValidationErrorBody = z.output<typeof validationErrorSchema>;
