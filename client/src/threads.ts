// Threads, as QChat 1.7 speaks them: a text, image, layer, extent, position or
// CRS may answer another message by carrying its id in `in_reply_to_id`. These
// are the pure parts: which messages can be replies, what a quote of a message
// says, and the reply field on what the composer sends.
import type { OutgoingMessage, Received, ReceivedOf, ThreadedType } from "./protocol";

/** The threaded types, each once (a missing or extra one is a type error). */
const THREADED: Readonly<Record<ThreadedType, true>> = { text: true, image: true, geojson: true, crs: true, bbox: true, position: true };

/** How long a quote is, in characters (grapheme clusters), ellipsis included. */
export const QUOTE_LENGTH = 80;

export function isThreadedType(type: string): type is ThreadedType {
  return Object.hasOwn(THREADED, type);
}

export function isThreaded(message: Received): message is ReceivedOf<ThreadedType> {
  return isThreadedType(message.type);
}

/** The id of the message this one answers, or undefined when it is not a reply. */
export function replyTargetOf(message: Received): string | undefined {
  if (!isThreaded(message)) return undefined;
  const target: unknown = message.in_reply_to_id;
  return typeof target === "string" && target !== "" ? target : undefined;
}

/**
 * The message as sent in reply to `inReplyTo`: the threaded types carry
 * `in_reply_to_id`, every other type (like, newcomer, exiter…) is sent as is.
 * Without a target nothing is added.
 */
export function withReply<M extends OutgoingMessage>(message: M, inReplyTo: string | undefined): M {
  if (inReplyTo === undefined || !isThreadedType(message.type)) return message;
  return { ...message, in_reply_to_id: inReplyTo };
}

/**
 * The one line the conversation shows for a message that is not a text or an
 * image (a layer, an extent…), and the text of a quote of any authored message.
 * Undefined for what no one authored (arrivals, counts…).
 */
export function summaryOf(message: Received): string | undefined {
  switch (message.type) {
    case "text":
      return message.text;
    case "image":
      return "shared an image";
    case "geojson": {
      const count = Array.isArray(message.geojson.features) ? message.geojson.features.length : 0;
      return `shared the layer “${message.layer_name}” (${count} feature${count === 1 ? "" : "s"}, ${message.crs_authid})`;
    }
    case "bbox":
      return `shared an extent (${message.crs_authid}): ${round(message.xmin)}, ${round(message.ymin)} – ${round(message.xmax)}, ${round(message.ymax)}`;
    case "position":
      return `shared a position (${message.crs_authid}): ${round(message.x)}, ${round(message.y)}`;
    case "crs":
      return `shared a CRS: ${message.crs_authid}`;
    case "model":
      return `shared the processing model “${message.model_name}”${message.model_group ? ` (${message.model_group})` : ""}`;
    case "script":
      return `shared the processing script “${message.name}”`;
    default:
      return undefined;
  }
}

export interface Quote {
  author: string;
  /** One line, at most QUOTE_LENGTH characters. */
  text: string;
}

/** Who wrote a message and the start of what it says, as a reply to it shows; undefined for what no one authored. */
export function quoteOf(message: Received): Quote | undefined {
  if (!("author" in message)) return undefined;
  const summary = summaryOf(message);
  if (summary === undefined) return undefined;
  return { author: message.author, text: shorten(summary, QUOTE_LENGTH) };
}

/** One line (runs of white space become one space), cut to `max` characters with an ellipsis, never inside a character. */
export function shorten(text: string, max: number): string {
  const line = text.replace(/\s+/g, " ").trim();
  const characters = graphemes(line);
  if (characters.length <= max) return line;
  return `${characters
    .slice(0, max - 1)
    .join("")
    .trimEnd()}…`;
}

function graphemes(text: string): string[] {
  // An emoji made of several code points (a flag, a family) stays whole.
  if (typeof Intl.Segmenter === "function")
    return Array.from(new Intl.Segmenter(undefined, { granularity: "grapheme" }).segment(text), (part) => part.segment);
  return [...text];
}

function round(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(Math.abs(value) >= 1000 ? 1 : 5);
}
