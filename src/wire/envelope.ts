// A message on the wire: the envelope the server stamps it with (one id and
// timestamp per message, and the message it answers), and its shape per family.
import type { Family } from "./families";
import { isThreaded, type WireMessage } from "./messages";

// Every message the server sends gets one id and timestamp, kept in
// storage too; the rooms family never sees them (QTribu builds a dataclass from
// the exact keys), the channels family always does, and a reply's
// `in_reply_to_id` as well.

export interface Envelope<M extends WireMessage = WireMessage> {
  id: string;
  timestamp: number;
  /** Only on replies: the id of the message answered. */
  inReplyTo?: string;
  message: M;
}

/** What the channels family adds to every message. */
export type ChannelStamp = { id: string; timestamp: number; in_reply_to_id?: string };

/**
 * Stamps a message. The timestamp is always the server's: its clock orders the
 * history, and one message shows one time to everyone, whatever a phone's clock says.
 */
export function envelope<M extends WireMessage>(message: M, stamp: { id?: string; inReplyTo?: string } = {}): Envelope<M> {
  const stamped: Envelope<M> = { id: stamp.id ?? crypto.randomUUID(), timestamp: Math.floor(Date.now() / 1000), message };
  if (stamp.inReplyTo !== undefined) stamped.inReplyTo = stamp.inReplyTo;
  return stamped;
}

/** A message as one path family receives it. */
export function shape(envelope: Envelope, family: Family): WireMessage | (WireMessage & ChannelStamp) {
  if (family === "rooms") return envelope.message;
  const stamped: WireMessage & ChannelStamp = { ...envelope.message, id: envelope.id, timestamp: envelope.timestamp };
  // Only when it is a reply: QChat before 1.7 has no such field, and breaks on a key it lacks.
  if (envelope.inReplyTo !== undefined && isThreaded(envelope.message.type)) stamped.in_reply_to_id = envelope.inReplyTo;
  return stamped;
}

/**
 * How a socket reads what it receives: its path family, or gischat 1.x (QTribu 1.0),
 * which speaks untyped frames on the rooms path (see gischat1.ts).
 */
export type Dialect = Family | "gischat1";
