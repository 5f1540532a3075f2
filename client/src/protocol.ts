// The messages this client sends and receives. The types come from the server's
// own zod schemas (type-only import: nothing of the server is bundled), so a
// message built here has exactly the contract's fields or does not compile.
// Values come only from the zod-free modules of src/wire (text.ts, sentences.ts):
// client/test/bundle.test.ts checks that nothing else of the server is bundled.
import type { ChannelStamp } from "../../src/wire/envelope";
import type { LimitsByKey } from "../../src/wire/limits";
import type { ClientMessageOf, ClientMessageType, ReplyField, ThreadedType, WireMessage } from "../../src/wire/messages";
import { sentences } from "../../src/wire/sentences";
import { codePointsUpTo, nicknameProblem as problemOfNickname } from "../../src/wire/text";

/**
 * Threads, as QChat 1.7 speaks them: the types that may answer another message
 * (text, image, geojson, crs, bbox, position), what the channels family adds to
 * every message (`id`, `timestamp`, and `in_reply_to_id` on a reply only, never
 * null), and what a client may add to a threaded message it sends.
 */
export type { ChannelStamp, ReplyField, ThreadedType };

/** A message this client sends, with the reply field on the threaded types only (whatever the server's output type says of it). */
type Sent<T extends ClientMessageType> = T extends ThreadedType
  ? Omit<ClientMessageOf<T>, "in_reply_to_id"> & ReplyField
  : ClientMessageOf<T>;

export type TextMessage = Sent<"text">;
export type ImageMessage = Sent<"image">;
export type GeojsonMessage = Sent<"geojson">;
export type BboxMessage = Sent<"bbox">;
export type PositionMessage = Sent<"position">;
export type LikeMessage = Sent<"like">;
export type NewcomerMessage = Sent<"newcomer">;
export type ExiterMessage = Sent<"exiter">;
export type OutgoingMessage =
  | TextMessage
  | ImageMessage
  | GeojsonMessage
  | BboxMessage
  | PositionMessage
  | LikeMessage
  | NewcomerMessage
  | ExiterMessage;

/**
 * What a channels-family socket receives: every message carries an id and a
 * timestamp, and a threaded one the id of the message it answers when it is a reply.
 */
type Stamped<M> = M extends { type: ThreadedType } ? Omit<M, "in_reply_to_id"> & ChannelStamp : M & Omit<ChannelStamp, "in_reply_to_id">;
export type Received = Stamped<WireMessage>;
export type ReceivedOf<T extends Received["type"]> = Extract<Received, { type: T }>;
/** Messages that have a place on the map. */
export type Located = ReceivedOf<"geojson"> | ReceivedOf<"bbox"> | ReceivedOf<"position">;

/** The subset of GET /rules the client uses to check input before sending. */
export type Rules = Pick<
  LimitsByKey,
  | "min_author_length"
  | "max_author_length"
  | "max_message_length"
  | "max_image_raw_length"
  | "max_geojson_features"
  | "position_max_age_seconds"
>;

/** WGS 84 as OGC WKT, sent with the extents and points this client shares (it works in EPSG:4326). */
export const WGS84 = {
  crs_authid: "EPSG:4326",
  crs_wkt:
    'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],' +
    'PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AUTHORITY["EPSG","4326"]]',
} as const;

/** Why a nickname is refused, in the server's words, or undefined when it is fine. */
export function nicknameProblem(nickname: string, rules: Rules): string | undefined {
  return problemOfNickname("A nickname", nickname, rules.min_author_length, rules.max_author_length);
}

/** Whether a refusal is the server's "already registered" for this nickname (the other page holds it). */
export function isNicknameTaken(reason: string, nickname: string): boolean {
  return reason.startsWith(sentences.alreadyRegisteredPrefix(nickname));
}

/** Parses a frame from the server; the keepalive answer `pong` and anything else that is not a message give undefined. */
export function parseReceived(frame: unknown): Received | undefined {
  if (typeof frame !== "string") return undefined;
  try {
    const message: unknown = JSON.parse(frame);
    if (typeof message === "object" && message !== null && typeof (message as { type?: unknown }).type === "string") {
      return message as Received;
    }
  } catch {
    // Not JSON: the "pong" keepalive answer.
  }
  return undefined;
}

/** Code points, as the server counts a text's length. */
export const codePoints = (text: string): number => codePointsUpTo(text);
