// The gischat message types: one zod schema per message type (validation, the
// TypeScript type and the field order on the wire all come from it), the reasons
// sent back in `uncompliant`, and what a client may add (its own id, the message
// a reply answers).
import { z } from "zod";
import type { Limits } from "./limits";
import { isWithinCodePoints, NICKNAME_PATTERN, textSentences } from "./text";

// ---------------------------------------------------------------------------
// Field helpers, on the rules of text.ts.

export const CHEAT_CODES: ReadonlySet<string> = new Set([
  "givemesomecheese",
  "lookattheflickofqgis",
  "iamarobot",
  "its10oclock",
  "qgisprolicense",
  "wizz",
  "spaceandtime",
]);

export function boundedString(field: string, max: number) {
  return (
    z
      .string()
      .refine((text) => isWithinCodePoints(text, max), { message: textSentences.tooLong(`Field '${field}'`, max) })
      // For the OpenAPI document: JSON Schema's maxLength counts code points too.
      .meta({ maxLength: max })
  );
}

export function nickname(field: string, limits: Limits) {
  const { minAuthorLength: min, maxAuthorLength: max } = limits;
  const subject = `Field '${field}'`;
  return z
    .string()
    .min(min, { message: textSentences.nicknameLength(subject, min, max) })
    .max(max, { message: textSentences.nicknameLength(subject, min, max) })
    .regex(NICKNAME_PATTERN, { message: textSentences.nicknameCharacters(subject) });
}

export function optionalString(field: string, max: number) {
  return boundedString(field, max).nullable().default(null);
}

const finiteNumber = z.number();

// ---------------------------------------------------------------------------
// Message schemas. Parsing strips unknown keys and fills absent optionals with
// null, so a parsed message is exactly what the rooms family receives, with the
// keys in the order of the shape below.

export const AVATAR_MAX = 255;
const LAYER_NAME_MAX = 255;
const CRS_WKT_MAX = 2000;
const CRS_AUTHID_MAX = 50;
const MODEL_NAME_MAX = 128;
const SCRIPT_NAME_MAX = 128;

function buildSchemas(limits: Limits) {
  const author = nickname("author", limits);
  const avatar = optionalString("avatar", AVATAR_MAX);
  const crs = { crs_wkt: boundedString("crs_wkt", CRS_WKT_MAX), crs_authid: boundedString("crs_authid", CRS_AUTHID_MAX) };
  const maxFeatures = limits.maxGeojsonFeatures;

  const featureCollection = z.looseObject({
    type: z.literal("FeatureCollection"),
    // Counted before any feature is looked at, so a huge layer is refused cheaply.
    features: z
      .array(z.unknown())
      .check((ctx) => {
        if (ctx.value.length > maxFeatures) {
          ctx.issues.push({
            code: "custom",
            input: ctx.value,
            message: `Too many geojson features : ${ctx.value.length} vs max ${maxFeatures} allowed`,
            abort: true,
          });
        }
      })
      .pipe(z.array(z.looseObject({ type: z.literal("Feature") })))
      .meta({ maxItems: maxFeatures }),
  });

  return {
    text: z.object({
      type: z.literal("text"),
      author,
      avatar,
      text: boundedString("text", limits.maxMessageLength),
    }),
    image: z.object({
      type: z.literal("image"),
      author,
      avatar,
      image_data: z.string().max(limits.maxImageRawLength, { message: "Invalid or oversized image data." }),
    }),
    newcomer: z.object({ type: z.literal("newcomer"), newcomer: nickname("newcomer", limits) }),
    exiter: z.object({ type: z.literal("exiter"), exiter: nickname("exiter", limits) }),
    like: z.object({
      type: z.literal("like"),
      liker_author: nickname("liker_author", limits),
      liked_author: nickname("liked_author", limits),
      message: boundedString("message", limits.maxMessageLength),
    }),
    geojson: z.object({
      type: z.literal("geojson"),
      author,
      avatar,
      layer_name: boundedString("layer_name", LAYER_NAME_MAX),
      ...crs,
      geojson: featureCollection,
      style: z.string().nullable().default(null),
    }),
    crs: z.object({ type: z.literal("crs"), author, avatar, ...crs }),
    bbox: z.object({
      type: z.literal("bbox"),
      author,
      avatar,
      ...crs,
      xmin: finiteNumber,
      xmax: finiteNumber,
      ymin: finiteNumber,
      ymax: finiteNumber,
    }),
    position: z.object({ type: z.literal("position"), author, avatar, ...crs, x: finiteNumber, y: finiteNumber }),
    model: z.object({
      type: z.literal("model"),
      author,
      avatar,
      model_name: boundedString("model_name", MODEL_NAME_MAX),
      model_group: optionalString("model_group", MODEL_NAME_MAX),
      raw_xml: boundedString("raw_xml", limits.maxModelRawLength),
    }),
    script: z.object({
      type: z.literal("script"),
      author,
      avatar,
      name: boundedString("name", SCRIPT_NAME_MAX),
      raw_pycode: boundedString("raw_pycode", limits.maxScriptRawLength),
    }),
  };
}

/** Messages only the server sends. */
export const serverSchemas = {
  nb_users: z.object({ type: z.literal("nb_users"), nb_users: z.number().int().nonnegative() }),
  uncompliant: z.object({ type: z.literal("uncompliant"), reason: z.string() }),
  /** A moderator deleted a stored message: clients that know the type hide it; the others ignore it. */
  message_deleted: z.object({ type: z.literal("message_deleted"), message_id: z.string() }),
};

export type ClientSchemas = ReturnType<typeof buildSchemas>;
export type ClientMessageType = keyof ClientSchemas;
export type ClientMessageOf<T extends ClientMessageType> = z.output<ClientSchemas[T]>;
export type ClientMessage = { [T in ClientMessageType]: ClientMessageOf<T> }[ClientMessageType];
export type ServerOnlyMessage = { [T in keyof typeof serverSchemas]: z.output<(typeof serverSchemas)[T]> }[keyof typeof serverSchemas];
/** Everything a socket can receive. */
export type WireMessage = ClientMessage | ServerOnlyMessage;

/** Control messages: they change who is in the room, and are never replayed. */
const UNSTORED_CLIENT_TYPES: ReadonlySet<ClientMessageType> = new Set(["newcomer", "exiter", "like"]);

/** Whether a message is kept in the room's history and replayed to newcomers. */
export function isStorable(message: WireMessage): boolean {
  if (message.type === "nb_users" || message.type === "uncompliant" || message.type === "message_deleted") return false;
  if (message.type === "text") return !CHEAT_CODES.has(message.text);
  return !UNSTORED_CLIENT_TYPES.has(message.type);
}

const schemasByLimits = new WeakMap<Limits, ClientSchemas>();

/** The schemas for these limits, built once per configuration. */
export function schemasFor(limits: Limits): ClientSchemas {
  let schemas = schemasByLimits.get(limits);
  if (!schemas) {
    schemas = buildSchemas(limits);
    schemasByLimits.set(limits, schemas);
  }
  return schemas;
}

// ---------------------------------------------------------------------------
// Reading a frame from a client.

/** A failure names the offending field when there is one (for the REST 422 body). */
export type Parsed<T> = { ok: true; message: T; threading: Threading } | Refusal;
export type Refusal = { ok: false; reason: string; field?: string };

function isClientType(type: string, schemas: ClientSchemas): type is ClientMessageType {
  return Object.hasOwn(schemas, type);
}

/** Parses one WebSocket frame into a valid client message, or the reason it is not one. */
export function parseFrame(frame: string | ArrayBuffer, limits: Limits): Parsed<ClientMessage> {
  const decoded = decodeFrame(frame, limits);
  return decoded.ok ? parseMessage(decoded.data, limits) : decoded;
}

/** A frame's JSON value, once its kind and size are checked (the message itself is not yet). */
export function decodeFrame(frame: string | ArrayBuffer, limits: Limits): { ok: true; data: unknown } | Refusal {
  if (typeof frame !== "string") {
    return { ok: false, reason: "Binary frames are not supported: send each message as a JSON text frame." };
  }
  if (frame.length > limits.maxFrameLength) {
    return {
      ok: false,
      reason: `Message too large: ${frame.length} characters, the limit is ${limits.maxFrameLength}.`,
    };
  }
  try {
    return { ok: true, data: JSON.parse(frame) as unknown };
  } catch {
    return { ok: false, reason: "Message is not valid JSON: send one JSON object with a 'type' field per frame." };
  }
}

/** Validates an already-decoded JSON value as a client message. */
export function parseMessage(data: unknown, limits: Limits): Parsed<ClientMessage> {
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    return { ok: false, reason: `Message must be a JSON object with a 'type' field, got ${describeJson(data)}.` };
  }
  const schemas = schemasFor(limits);
  const type: unknown = (data as Record<string, unknown>).type;
  if (typeof type === "string" && isClientType(type, schemas)) return parseAs(type, data, limits);
  const expected = `expected one of ${Object.keys(schemas).join(", ")}`;
  if (type === undefined) return { ok: false, reason: `Message has no 'type' field: ${expected}.` };
  if (typeof type !== "string") return { ok: false, reason: `Field 'type' must be a string: ${expected}.`, field: "type" };
  if (Object.hasOwn(serverSchemas, type)) return { ok: false, reason: `Message type '${type}' is sent by the server only.` };
  return { ok: false, reason: `Unknown message type '${truncate(type)}': ${expected}.` };
}

/** Validates a JSON object against the schema of one message type. */
export function parseAs<T extends ClientMessageType>(type: T, data: object, limits: Limits): Parsed<ClientMessageOf<T>> {
  // TypeScript cannot follow a generic key through the schema table; the cast is that lookup.
  const schema = schemasFor(limits)[type] as unknown as z.ZodType<ClientMessageOf<T>>;
  const result = schema.safeParse(data, { reportInput: true });
  if (!result.success) {
    return { ok: false, reason: reasonFor(result.error), field: result.error.issues[0]?.path.map(String).join(".") };
  }
  const threading = threadingOf(type, data);
  return threading.ok ? { ok: true, message: result.data, threading: threading.threading } : threading;
}

// ---------------------------------------------------------------------------
// Threads and client ids (QChat 1.7). A message's `id` and the `in_reply_to_id`
// of the message it answers are not part of its content: like the timestamp they
// travel in the envelope, so that the rooms family (and every client before QChat
// 1.7, whose dataclasses lack the key) receives exactly the content.

/** The types QChat 1.7 threads: its dataclasses for them have `in_reply_to_id`, those for `model` and `script` do not. */
export const THREADED_TYPES = ["text", "image", "geojson", "crs", "bbox", "position"] as const;
export type ThreadedType = (typeof THREADED_TYPES)[number];
const THREADED: ReadonlySet<string> = new Set(THREADED_TYPES);

export function isThreaded(type: string): type is ThreadedType {
  return THREADED.has(type);
}

/** What a client may say of a message beside its content. */
export interface Threading {
  /** The client's own id for the message, when it is a well-formed UUID (the room keeps it if it is new there). */
  clientId?: string;
  /** The id of the message this one answers. */
  inReplyTo?: string;
}

/** A UUID in its text form, any version (other servers and clients stamp their own). */
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function asUuid(value: unknown): string | undefined {
  return typeof value === "string" && UUID_PATTERN.test(value) ? value.toLowerCase() : undefined;
}

/** What the client sends on top of a message: the key a reply carries on the six threaded types. */
export type ReplyField = { in_reply_to_id?: string | null };

function threadingOf(type: ClientMessageType, data: object): { ok: true; threading: Threading } | Refusal {
  const { id, in_reply_to_id: inReplyTo } = data as { id?: unknown; in_reply_to_id?: unknown };
  // An id that is not a UUID is not an error: the server stamps its own, as it always did.
  const clientId = asUuid(id);
  const threading: Threading = clientId === undefined ? {} : { clientId };
  // `model` and `script` carry no thread in any client: the key is dropped like any unknown one.
  if (!isThreaded(type) || inReplyTo === undefined || inReplyTo === null) return { ok: true, threading };
  const answered = asUuid(inReplyTo);
  if (answered === undefined) {
    return {
      ok: false,
      field: "in_reply_to_id",
      reason: "Field 'in_reply_to_id' must be the id (a UUID string) of the message answered, or null.",
    };
  }
  if (answered === clientId) {
    return {
      ok: false,
      field: "in_reply_to_id",
      reason: "Field 'in_reply_to_id' is this message's own id: a reply names the id of another message.",
    };
  }
  return { ok: true, threading: { ...threading, inReplyTo: answered } };
}

/**
 * The first problem of a failed validation, as a sentence a person can act on.
 * Bounds and formats carry their own sentences (see the field helpers above).
 */
export function reasonFor(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "Invalid message.";
  const field = issue.path.map(String).join(".");
  switch (issue.code) {
    case "invalid_type":
      if (issue.input === undefined) return `Missing field '${field}' (${describeExpected(issue.expected)}).`;
      return `Field '${field}' must be ${describeExpected(issue.expected)}, got ${describeJson(issue.input)}.`;
    case "invalid_value":
      return `Field '${field}' must be ${issue.values.map((value) => JSON.stringify(value)).join(" or ")}.`;
    default:
      return issue.message;
  }
}

function describeExpected(expected: string): string {
  if (expected === "number") return "a finite number";
  if (expected === "object") return "a JSON object";
  if (expected === "array") return "a JSON array";
  return `a ${expected}`;
}

function describeJson(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "number" && !Number.isFinite(value)) return "a number out of range";
  if (typeof value === "object") return "an object";
  return `a ${typeof value}`;
}

function truncate(text: string, max = 40): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
