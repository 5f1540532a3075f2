// The instance's configuration: wrangler `[vars]` (all strings, like the original
// server's environment) parsed once per `env` object into typed limits. A bad value
// is never replaced by a default: it becomes a ConfigError that names the variable,
// and every request is answered with it until the maintainer fixes the value.
import { z } from "zod";
import { LIMITS, type LimitSpec, type Limits } from "../wire/limits";

export { LIMITS, type Limits };

const LIMIT_NAMES = Object.keys(LIMITS) as (keyof Limits)[];

/** Where a check says what is wrong: zod's refinement context, or a list (limitsWithOverrides). */
type Problems = { addIssue(issue: { code: "custom"; message: string }): void };

export interface Config {
  rooms: readonly string[];
  rules: string;
  mainLang: string;
  /** The instance's defaults. */
  limits: Limits;
  /** Each room's effective limits: the defaults with its ROOM_LIMITS overrides. */
  roomLimits: ReadonlyMap<string, Limits>;
  /** Bearer token for moderation; moderation is disabled when it is absent. */
  adminToken: string | undefined;
  /** Where GET /qfield sends people: the QChat QField plugin's latest release. */
  qfieldPluginUrl: string;
  /** What webhooks may be and how much a room keeps for them (room/webhooks.ts). */
  webhooks: WebhookSettings;
  /** The Matrix room that texts starting with the prefix are also sent to; undefined: off. */
  matrixPing: MatrixPing | undefined;
}

export interface WebhookSettings {
  /**
   * WEBHOOK_ALLOW_HTTP_LOCAL="true": also http:// URLs on this machine (127.0.0.1, localhost,
   * [::1]), for `wrangler dev` and the tests. Production takes https:// only.
   */
  allowHttpLocal: boolean;
  /** WEBHOOK_OUTBOX_MAX: deliveries a room keeps waiting per endpoint; past it the oldest is dropped (and counted). */
  outboxMax: number;
}

/** The original server's MATRIX_PING_* settings. */
export interface MatrixPing {
  /** A text that starts with this is also sent to the Matrix room (default @matrixping). */
  prefix: string;
  /** The homeserver's base URL, e.g. https://matrix.org (no trailing slash). */
  homeserver: string;
  /** The Matrix room's id, e.g. !abcdef:matrix.org. */
  roomId: string;
  /** The access token of the Matrix account that posts (a secret). */
  token: string;
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

const DEFAULT_ROOMS = "QGIS,Geotribu";
/** The original server's: the latest release of the QChat QField plugin. */
export const DEFAULT_QFIELD_PLUGIN_URL = "https://github.com/geotribu/qchat-qfield-plugin/releases/latest/download/qfchat-latest.zip";

export const DEFAULT_MATRIX_PING_PREFIX = "@matrixping";
export const DEFAULT_WEBHOOK_OUTBOX_MAX = 1000;

/** The local host names an http:// URL may name under WEBHOOK_ALLOW_HTTP_LOCAL. */
const LOCAL_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/**
 * Why a URL may not receive the room's messages, or undefined when it may: https://
 * only, except http:// on this machine where the instance allows it (wrangler dev, tests).
 * No user:password@ (the URL is listed to moderators and logged by its origin).
 */
export function endpointUrlProblem(raw: string, allowHttpLocal: boolean, label = "Field 'url'"): string | undefined {
  if (!URL.canParse(raw)) return `${label} must be an absolute URL, e.g. https://bots.example.org/gischat.`;
  const url = new URL(raw);
  if (url.username !== "" || url.password !== "")
    return `${label} must not carry a user name or password: put a token in the path instead.`;
  if (url.protocol === "https:") return undefined;
  if (url.protocol === "http:" && allowHttpLocal && LOCAL_HOSTS.has(url.hostname)) return undefined;
  return allowHttpLocal
    ? `${label} must be an https:// URL (or http:// on 127.0.0.1, localhost or [::1] here).`
    : `${label} must be an https:// URL.`;
}

/** Empty and absent are the same: "not set", as in the original server's environment. */
const optionalText = z
  .string()
  .optional()
  .transform((raw) => (raw === undefined || raw.trim() === "" ? undefined : raw.trim()));

function booleanVar(name: string) {
  return z
    .string()
    .optional()
    .transform((raw, ctx) => {
      const value = raw?.trim().toLowerCase() ?? "";
      if (value === "" || value === "false") return false;
      if (value === "true") return true;
      ctx.addIssue({ code: "custom", message: `${name} must be "true" or "false", got ${JSON.stringify(raw)}` });
      return false;
    });
}

const MATRIX_ROOM_ID = /^![^:\s]+:\S+$/;

/** MATRIX_PING_*: all three of homeserver, room id and token, or none (off); each checked. */
function matrixPingFrom(
  vars: { prefix: string | undefined; homeserver?: string; roomId?: string; token?: string },
  allowHttpLocal: boolean,
  ctx: z.RefinementCtx,
): MatrixPing | undefined {
  const { homeserver, roomId, token } = vars;
  const given = { MATRIX_PING_HOMESERVER: homeserver, MATRIX_PING_ROOMID: roomId, MATRIX_PING_TOKEN: token };
  const missing = Object.entries(given).filter(([, value]) => value === undefined);
  if (missing.length === 3) return undefined;
  if (missing.length > 0) {
    const names = missing.map(([name]) => name).join(" and ");
    ctx.addIssue({
      code: "custom",
      message: `The Matrix ping needs MATRIX_PING_HOMESERVER, MATRIX_PING_ROOMID and the secret MATRIX_PING_TOKEN: ${names} ${missing.length > 1 ? "are" : "is"} not set (set all three, or none to turn it off)`,
    });
    return undefined;
  }
  const problem = endpointUrlProblem(homeserver ?? "", allowHttpLocal, "MATRIX_PING_HOMESERVER");
  if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem.replace(/\.$/, "") });
  if (!MATRIX_ROOM_ID.test(roomId ?? "")) {
    ctx.addIssue({
      code: "custom",
      message: `MATRIX_PING_ROOMID must be a Matrix room id like !abcdef:matrix.org (not an alias like #room:server), got ${JSON.stringify(roomId)}`,
    });
  }
  const prefix = vars.prefix ?? DEFAULT_MATRIX_PING_PREFIX;
  if (prefix.trim() === "") {
    ctx.addIssue({ code: "custom", message: "MATRIX_PING_MESSAGE_PREFIX must not be empty: every text would go to Matrix" });
  }
  return { prefix, homeserver: (homeserver ?? "").replace(/\/+$/, ""), roomId: roomId ?? "", token: token ?? "" };
}

const httpUrl = z
  .string()
  .trim()
  .refine((raw) => URL.canParse(raw) && /^https?:$/.test(new URL(raw).protocol), {
    message: "QFIELD_PLUGIN_URL must be an http:// or https:// URL",
  });

/** A limit's value from a var (a string) or from ROOM_LIMITS (a JSON number); undefined when wrong. */
function limitValue(spec: LimitSpec, raw: unknown, label: string, ctx: Problems): number | undefined {
  const text = typeof raw === "number" ? String(raw) : typeof raw === "string" ? raw.trim() : "";
  const pattern = spec.fractional ? /^\d+(\.\d+)?$/ : /^\d+$/;
  const value = Number(text);
  const kind = spec.fractional ? "a number" : "a whole number";
  if (!pattern.test(text) || !Number.isFinite(value) || (!spec.fractional && !Number.isSafeInteger(value))) {
    ctx.addIssue({ code: "custom", message: `${label} must be ${kind}, got ${JSON.stringify(raw)}` });
    return undefined;
  }
  if (value < spec.min) {
    ctx.addIssue({ code: "custom", message: `${label} must be at least ${spec.min}, got ${value}` });
    return undefined;
  }
  return value;
}

/** A var's schema: absent is the default; a bad value is an issue naming the variable. */
function limitVariable(spec: LimitSpec) {
  return z
    .string()
    .optional()
    .transform((raw, ctx) => (raw === undefined ? spec.fallback : (limitValue(spec, raw, spec.variable, ctx) ?? spec.fallback)));
}

function limitsFromVars(vars: Record<string, unknown>, ctx: z.RefinementCtx): Limits {
  const limits = Object.fromEntries(LIMIT_NAMES.map((name) => [name, vars[LIMITS[name].variable]])) as unknown as Limits;
  checkAuthorBounds(limits, "MIN_AUTHOR_LENGTH", "MAX_AUTHOR_LENGTH", ctx);
  checkReplayWithinRetention(limits, "MAX_STORED_MESSAGES", "RETENTION_MAX_MESSAGES", ctx);
  return limits;
}

function checkAuthorBounds(limits: Limits, minLabel: string, maxLabel: string, ctx: Problems): void {
  if (limits.minAuthorLength > limits.maxAuthorLength) {
    ctx.addIssue({
      code: "custom",
      message: `${minLabel} (${limits.minAuthorLength}) must not be greater than ${maxLabel} (${limits.maxAuthorLength})`,
    });
  }
}

/** The replay is taken from the history: it cannot hold more than the history keeps. */
function checkReplayWithinRetention(limits: Limits, replayLabel: string, retentionLabel: string, ctx: Problems): void {
  if (limits.maxStoredMessages > limits.retentionMaxMessages) {
    ctx.addIssue({
      code: "custom",
      message: `${replayLabel} (${limits.maxStoredMessages}) must not be greater than ${retentionLabel} (${limits.retentionMaxMessages}): the replay is taken from the history`,
    });
  }
}

const LIMIT_BY_KEY = new Map<string, keyof Limits>(LIMIT_NAMES.map((name) => [LIMITS[name].key, name]));

/**
 * ROOM_LIMITS: JSON, an object of room name -> { limit key: value }, e.g.
 * {"Field and mobile": {"max_image_size": 600, "max_users": 200}}.
 */
function roomLimitsFrom(raw: string | undefined, rooms: string[], defaults: Limits, ctx: z.RefinementCtx): Map<string, Limits> {
  const overrides = parseRoomLimits(raw, ctx);
  for (const room of Object.keys(overrides)) {
    if (!rooms.includes(room))
      ctx.addIssue({ code: "custom", message: `ROOM_LIMITS names the room ${JSON.stringify(room)}, which is not in the room list` });
  }
  return new Map(
    rooms.map((room) => {
      const override = Object.hasOwn(overrides, room) ? overrides[room] : undefined;
      if (override === undefined) return [room, defaults];
      return [room, withOverrides(defaults, override, `ROOM_LIMITS[${JSON.stringify(room)}]`, ctx)];
    }),
  );
}

/** The defaults with some limits overridden by their /rules keys; every bad key or value is an issue naming it. */
function withOverrides(defaults: Limits, overrides: Record<string, unknown>, label: string, ctx: Problems): Limits {
  const limits = { ...defaults };
  for (const [key, value] of Object.entries(overrides)) {
    const name = LIMIT_BY_KEY.get(key);
    if (name === undefined) {
      ctx.addIssue({ code: "custom", message: `${label}.${key} is not a limit (known: ${[...LIMIT_BY_KEY.keys()].join(", ")})` });
    } else {
      limits[name] = limitValue(LIMITS[name], value, `${label}.${key}`, ctx) ?? limits[name];
    }
  }
  checkAuthorBounds(limits, `${label}.min_author_length`, "max_author_length", ctx);
  checkReplayWithinRetention(limits, `${label}.max_stored_messages`, "retention_max_messages", ctx);
  return limits;
}

/**
 * Overrides given at run time (a space's limits): the limits they make, or the
 * sentences that say what is wrong, naming each key as `label.key`.
 */
export function limitsWithOverrides(
  defaults: Limits,
  overrides: Record<string, unknown>,
  label: string,
): { ok: true; limits: Limits } | { ok: false; problems: string[] } {
  const problems: string[] = [];
  const limits = withOverrides(defaults, overrides, label, { addIssue: (issue) => problems.push(issue.message) });
  return problems.length === 0 ? { ok: true, limits } : { ok: false, problems };
}

const roomLimitsSchema = z.record(z.string(), z.record(z.string(), z.unknown()));

function parseRoomLimits(raw: string | undefined, ctx: z.RefinementCtx): Record<string, Record<string, unknown>> {
  if (raw === undefined || raw.trim() === "") return {};
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    ctx.addIssue({ code: "custom", message: `ROOM_LIMITS must be JSON (${(error as Error).message})` });
    return {};
  }
  const parsed = roomLimitsSchema.safeParse(json);
  if (!parsed.success) {
    ctx.addIssue({
      code: "custom",
      message: 'ROOM_LIMITS must be a JSON object of room name -> {limit: value}, e.g. {"Field and mobile": {"max_image_size": 600}}',
    });
    return {};
  }
  return parsed.data;
}

function roomList(raw: string, variable: string, ctx: z.RefinementCtx): string[] {
  const names = raw.split(",").map((name) => name.trim());
  if (names.every((name) => name === "")) {
    ctx.addIssue({ code: "custom", message: `${variable} must list at least one room name, separated by commas` });
  } else if (names.includes("")) {
    ctx.addIssue({
      code: "custom",
      message: `${variable} has an empty room name (check for doubled or trailing commas): ${JSON.stringify(raw)}`,
    });
  }
  const duplicate = names.find((name, index) => names.indexOf(name) !== index);
  if (duplicate !== undefined && duplicate !== "") {
    ctx.addIssue({ code: "custom", message: `${variable} lists the room ${JSON.stringify(duplicate)} twice` });
  }
  return names;
}

/** Every variable the configuration reads: wrangler [vars], secrets, aliases (selfhost/ passes these from its environment). */
const envShape = {
  CHANNELS: z.string().optional(),
  ROOMS: z.string().optional(),
  RULES: z.string().default("YOLO"),
  MAIN_LANG: z.string().default("en"),
  ROOM_LIMITS: z.string().optional(),
  ADMIN_TOKEN: z.string().optional(),
  QFIELD_PLUGIN_URL: httpUrl.default(DEFAULT_QFIELD_PLUGIN_URL),
  WEBHOOK_ALLOW_HTTP_LOCAL: booleanVar("WEBHOOK_ALLOW_HTTP_LOCAL"),
  WEBHOOK_OUTBOX_MAX: limitVariable({ variable: "WEBHOOK_OUTBOX_MAX", key: "", fallback: DEFAULT_WEBHOOK_OUTBOX_MAX, min: 1 }),
  // The prefix is kept as written (a space after it is part of it); unset or empty is the default.
  MATRIX_PING_MESSAGE_PREFIX: z.string().optional(),
  MATRIX_PING_HOMESERVER: optionalText,
  MATRIX_PING_ROOMID: optionalText,
  MATRIX_PING_TOKEN: optionalText,
  ...Object.fromEntries(LIMIT_NAMES.map((name) => [LIMITS[name].variable, limitVariable(LIMITS[name])])),
};
export const CONFIG_VARIABLES: readonly string[] = Object.keys(envShape);

const envSchema = z.looseObject(envShape).transform((vars, ctx): Config => {
  if (vars.CHANNELS !== undefined && vars.ROOMS !== undefined && vars.CHANNELS !== vars.ROOMS) {
    ctx.addIssue({ code: "custom", message: "CHANNELS and ROOMS are both set and differ: set only one of them" });
  }
  const roomsVariable = vars.CHANNELS !== undefined ? "CHANNELS" : vars.ROOMS !== undefined ? "ROOMS" : "CHANNELS";
  const rooms = roomList(vars.CHANNELS ?? vars.ROOMS ?? DEFAULT_ROOMS, roomsVariable, ctx);
  const limits = limitsFromVars(vars, ctx);
  const adminToken = vars.ADMIN_TOKEN?.trim();
  return {
    rooms,
    rules: vars.RULES,
    mainLang: vars.MAIN_LANG,
    adminToken: adminToken ? adminToken : undefined,
    qfieldPluginUrl: vars.QFIELD_PLUGIN_URL,
    webhooks: { allowHttpLocal: vars.WEBHOOK_ALLOW_HTTP_LOCAL, outboxMax: vars.WEBHOOK_OUTBOX_MAX },
    matrixPing: matrixPingFrom(
      {
        prefix: vars.MATRIX_PING_MESSAGE_PREFIX === "" ? undefined : vars.MATRIX_PING_MESSAGE_PREFIX,
        homeserver: vars.MATRIX_PING_HOMESERVER,
        roomId: vars.MATRIX_PING_ROOMID,
        token: vars.MATRIX_PING_TOKEN,
      },
      vars.WEBHOOK_ALLOW_HTTP_LOCAL,
      ctx,
    ),
    limits,
    roomLimits: roomLimitsFrom(vars.ROOM_LIMITS, rooms, limits, ctx),
  };
});

const spaceLimits = new WeakMap<Config, Map<string, Limits>>();

/** A space room's limits: the instance's defaults with the space's overrides (validated when the space was made). */
export function limitsForSpace(config: Config, overrides: Record<string, number>): Limits {
  // Every frame asks: the limits of one set of overrides are built once per configuration.
  let byOverrides = spaceLimits.get(config);
  if (!byOverrides) {
    byOverrides = new Map();
    spaceLimits.set(config, byOverrides);
  }
  const key = JSON.stringify(overrides);
  let limits = byOverrides.get(key);
  if (!limits) {
    const made = limitsWithOverrides(config.limits, overrides, "space limits");
    limits = made.ok ? made.limits : config.limits;
    byOverrides.set(key, limits);
  }
  return limits;
}

/** The room's effective limits (the defaults for a room the configuration does not list). */
export function limitsOf(config: Config, room: string): Limits {
  return config.roomLimits.get(room) ?? config.limits;
}

/** The limits as /rules and /room/{name}/rules show them: by their snake_case keys. */
export function limitsByKey(limits: Limits): Record<string, number> {
  return Object.fromEntries(LIMIT_NAMES.map((name) => [LIMITS[name].key, limits[name]]));
}

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
