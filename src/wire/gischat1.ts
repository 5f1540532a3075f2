// gischat 1.x, as QTribu 1.0.0 and its betas speak it on /room/{name}/ws: untyped
// frames {"message", "author", "avatar"} both ways, and the count as
// {"author": "internal", "nb_users": N}. That plugin reads `author` and `message`
// from every frame it receives and raises on a frame without them, so it receives
// nothing else: what it cannot show becomes a one-line notice from NOTICE_AUTHOR.
//
// Its upgrade request is identical to a newer QTribu's: a socket is known to speak
// 1.x only from its first frame (the room then marks its attachment).
import { z } from "zod";
import type { Limits } from "./limits";
import {
  AVATAR_MAX,
  boundedString,
  type ClientMessageOf,
  nickname,
  optionalString,
  type Parsed,
  reasonFor,
  type WireMessage,
} from "./messages";

/** A frame as gischat 1.x sends and shows it. */
export interface Gischat1Text {
  message: string;
  author: string;
  avatar: string | null;
}
/** The count, as gischat 1.x sent it: QTribu 1.0 recognises it by its author. */
export interface Gischat1Count {
  author: typeof INTERNAL_AUTHOR;
  nb_users: number;
}
export type Gischat1Frame = Gischat1Text | Gischat1Count;

const INTERNAL_AUTHOR = "internal";
/** Who the server's notices come from. Not a valid nickname (it has parentheses), so nobody can pose as it. */
export const NOTICE_AUTHOR = "(server)";
/** QGIS theme icons: the one QTribu 1.0 puts on its own warnings, and the information icon. */
const REFUSAL_AVATAR = "mIconWarning.svg";
const NOTICE_AVATAR = "mIconInfo.svg";

/** A frame in the 1.x shape: an object with no `type`, and the two fields every 1.x message has. */
export function isGischat1Frame(data: unknown): data is object {
  return (
    typeof data === "object" &&
    data !== null &&
    !Array.isArray(data) &&
    !Object.hasOwn(data, "type") &&
    Object.hasOwn(data, "message") &&
    Object.hasOwn(data, "author")
  );
}

function buildSchema(limits: Limits) {
  return z.object({
    message: boundedString("message", limits.maxMessageLength),
    author: nickname("author", limits),
    avatar: optionalString("avatar", AVATAR_MAX),
  });
}

const schemas = new WeakMap<Limits, ReturnType<typeof buildSchema>>();

/** The 1.x message's schema for these limits, built once per configuration. */
export function gischat1Schema(limits: Limits): ReturnType<typeof buildSchema> {
  let schema = schemas.get(limits);
  if (!schema) {
    schema = buildSchema(limits);
    schemas.set(limits, schema);
  }
  return schema;
}

/**
 * A 1.x message (a WebSocket frame or the body of `PUT /room/{name}/message`) as the
 * `text` it is to everyone else; bounds and reasons are those of `text`, by 1.x's field names.
 */
export function parseGischat1(data: object, limits: Limits): Parsed<ClientMessageOf<"text">> {
  const result = gischat1Schema(limits).safeParse(data, { reportInput: true });
  if (!result.success) {
    return { ok: false, reason: reasonFor(result.error), field: result.error.issues[0]?.path.map(String).join(".") };
  }
  const { message, author, avatar } = result.data;
  return { ok: true, message: { type: "text", author, avatar, text: message }, threading: {} };
}

/** A text as 1.x shows it (also the answer of `PUT /room/{name}/message`). */
export function gischat1Text({ author, avatar, text }: ClientMessageOf<"text">): Gischat1Text {
  return { message: text, author, avatar };
}

/** What a 1.x socket receives for a message, or undefined when it has nothing to show for it. */
export function gischat1Frame(message: WireMessage): Gischat1Frame | undefined {
  switch (message.type) {
    case "text":
      return gischat1Text(message);
    case "nb_users":
      return { author: INTERNAL_AUTHOR, nb_users: message.nb_users };
    case "uncompliant":
      return { message: message.reason, author: NOTICE_AUTHOR, avatar: REFUSAL_AVATAR };
    case "newcomer":
    case "exiter":
      // 1.x had no such frames: the count that follows says enough.
      return undefined;
    case "message_deleted":
      // QTribu 1.0 raises on a frame without author and message, and cannot hide a message anyway.
      return undefined;
    default:
      return { message: summaryOf(message), author: NOTICE_AUTHOR, avatar: NOTICE_AVATAR };
  }
}

type Summarized = Exclude<WireMessage, { type: "text" | "nb_users" | "uncompliant" | "newcomer" | "exiter" | "message_deleted" }>;

/** One line saying what was shared, and which plugin shows it. */
export function summaryOf(message: Summarized): string {
  const newerQTribu = "update QTribu to see it";
  const qchat = "the QChat plugin shows it";
  switch (message.type) {
    case "image":
      return `${message.author} shared an image: ${newerQTribu}.`;
    case "geojson": {
      const count = message.geojson.features.length;
      return `${message.author} shared the layer '${message.layer_name}' (${count} feature${count === 1 ? "" : "s"}): ${newerQTribu}.`;
    }
    case "crs":
      return `${message.author} shared the CRS ${message.crs_authid}: ${newerQTribu}.`;
    case "bbox":
      return `${message.author} shared an extent in ${message.crs_authid}: ${newerQTribu}.`;
    case "position":
      return `${message.author} shared a position (${message.x}, ${message.y} in ${message.crs_authid}): ${qchat}.`;
    case "model":
      return `${message.author} shared the processing model '${message.model_name}': ${qchat}.`;
    case "script":
      return `${message.author} shared the processing script '${message.name}': ${qchat}.`;
    case "like":
      return `${message.liker_author} liked your message: '${message.message}'`;
  }
}
