// The instance's configuration: wrangler `[vars]` (all strings, like the original
// server's environment) parsed once per `env` object into typed limits. A bad value
// is never replaced by a default: it becomes a ConfigError that names the variable,
// and every request is answered with it until the maintainer fixes the value.
import { z } from "zod";
import type { Limits } from "./limits";

// Limits live in their own module so that the browser client can import the
// message types (protocol.ts) without the Worker's Env.
export type { Limits };

export interface Config {
  rooms: readonly string[];
  rules: string;
  mainLang: string;
  limits: Limits;
  /** Bearer token for moderation; moderation is disabled when it is absent. */
  adminToken: string | undefined;
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

const DEFAULT_ROOMS = "QGIS,Geotribu";

function wholeNumber(variable: string, fallback: number, min = 1) {
  return z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined) return fallback;
      const text = raw.trim();
      const value = Number(text);
      if (!/^\d+$/.test(text) || !Number.isSafeInteger(value)) {
        ctx.addIssue({ code: "custom", message: `${variable} must be a whole number, got ${JSON.stringify(raw)}` });
        return z.NEVER;
      }
      if (value < min) {
        ctx.addIssue({ code: "custom", message: `${variable} must be at least ${min}, got ${value}` });
        return z.NEVER;
      }
      return value;
    });
}

function roomList(raw: string, variable: string, ctx: z.RefinementCtx): string[] {
  const names = raw.split(",").map((name) => name.trim());
  if (names.every((name) => name === "")) {
    ctx.addIssue({ code: "custom", message: `${variable} must list at least one room name, separated by commas` });
  } else if (names.includes("")) {
    ctx.addIssue({ code: "custom", message: `${variable} has an empty room name (check for doubled or trailing commas): ${JSON.stringify(raw)}` });
  }
  const duplicate = names.find((name, index) => names.indexOf(name) !== index);
  if (duplicate !== undefined && duplicate !== "") {
    ctx.addIssue({ code: "custom", message: `${variable} lists the room ${JSON.stringify(duplicate)} twice` });
  }
  return names;
}

const envSchema = z
  .object({
    CHANNELS: z.string().optional(),
    ROOMS: z.string().optional(),
    RULES: z.string().default("YOLO"),
    MAIN_LANG: z.string().default("en"),
    MIN_AUTHOR_LENGTH: wholeNumber("MIN_AUTHOR_LENGTH", 3),
    MAX_AUTHOR_LENGTH: wholeNumber("MAX_AUTHOR_LENGTH", 32),
    MAX_MESSAGE_LENGTH: wholeNumber("MAX_MESSAGE_LENGTH", 255),
    MAX_IMAGE_SIZE: wholeNumber("MAX_IMAGE_SIZE", 800),
    MAX_IMAGE_RAW_LENGTH: wholeNumber("MAX_IMAGE_RAW_LENGTH", 5_000_000),
    // 12.6 megapixels: a 12 MP phone photo (4032x3024, or 4080x3072) and a 4K screenshot (3840x2160).
    MAX_IMAGE_PIXELS: wholeNumber("MAX_IMAGE_PIXELS", 12_600_000),
    MAX_GEOJSON_FEATURES: wholeNumber("MAX_GEOJSON_FEATURES", 500),
    MAX_MODEL_RAW_LENGTH: wholeNumber("MAX_MODEL_RAW_LENGTH", 1_000_000),
    MAX_SCRIPT_RAW_LENGTH: wholeNumber("MAX_SCRIPT_RAW_LENGTH", 2_000_000),
    MAX_STORED_MESSAGES: wholeNumber("MAX_STORED_MESSAGES", 5, 0),
    MAX_FRAME_LENGTH: wholeNumber("MAX_FRAME_LENGTH", 12_000_000),
    ADMIN_TOKEN: z.string().optional(),
  })
  .transform((vars, ctx): Config => {
    if (vars.CHANNELS !== undefined && vars.ROOMS !== undefined && vars.CHANNELS !== vars.ROOMS) {
      ctx.addIssue({ code: "custom", message: "CHANNELS and ROOMS are both set and differ: set only one of them" });
    }
    const roomsVariable = vars.CHANNELS !== undefined ? "CHANNELS" : vars.ROOMS !== undefined ? "ROOMS" : "CHANNELS";
    const rooms = roomList(vars.CHANNELS ?? vars.ROOMS ?? DEFAULT_ROOMS, roomsVariable, ctx);
    if (vars.MIN_AUTHOR_LENGTH > vars.MAX_AUTHOR_LENGTH) {
      ctx.addIssue({
        code: "custom",
        message: `MIN_AUTHOR_LENGTH (${vars.MIN_AUTHOR_LENGTH}) must not be greater than MAX_AUTHOR_LENGTH (${vars.MAX_AUTHOR_LENGTH})`,
      });
    }
    const adminToken = vars.ADMIN_TOKEN?.trim();
    return {
      rooms,
      rules: vars.RULES,
      mainLang: vars.MAIN_LANG,
      adminToken: adminToken ? adminToken : undefined,
      limits: {
        minAuthorLength: vars.MIN_AUTHOR_LENGTH,
        maxAuthorLength: vars.MAX_AUTHOR_LENGTH,
        maxMessageLength: vars.MAX_MESSAGE_LENGTH,
        maxImageSize: vars.MAX_IMAGE_SIZE,
        maxImageRawLength: vars.MAX_IMAGE_RAW_LENGTH,
        maxImagePixels: vars.MAX_IMAGE_PIXELS,
        maxGeojsonFeatures: vars.MAX_GEOJSON_FEATURES,
        maxModelRawLength: vars.MAX_MODEL_RAW_LENGTH,
        maxScriptRawLength: vars.MAX_SCRIPT_RAW_LENGTH,
        maxStoredMessages: vars.MAX_STORED_MESSAGES,
        maxFrameLength: vars.MAX_FRAME_LENGTH,
      },
    };
  });

/** Parses the vars; throws a ConfigError naming every bad variable. */
export function parseConfig(vars: Record<string, unknown>): Config {
  const result = envSchema.safeParse(vars);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) =>
    issue.code === "custom" ? issue.message : `${issue.path.join(".")} must be a string (${issue.message})`,
  );
  return fail(`Invalid server configuration: ${problems.join("; ")}.`);
}

function fail(message: string): never {
  throw new ConfigError(message);
}

// The same env object is handed to every request of an isolate: parse it once.
const parsed = new WeakMap<object, Config | ConfigError>();

/** The configuration of this env, parsed on first use; throws its ConfigError every time if it is bad. */
export function configOf(env: Env): Config {
  let entry = parsed.get(env);
  if (entry === undefined) {
    try {
      entry = parseConfig(env as unknown as Record<string, unknown>);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      entry = error;
    }
    parsed.set(env, entry);
  }
  if (entry instanceof ConfigError) throw entry;
  return entry;
}
