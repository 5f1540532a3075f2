// A message on its way out: serialized at most once per dialect, however many
// sockets receive it, and the message itself only once: the channels frame and
// the stored envelope are the rooms frame with the stamp around it, not another
// JSON.stringify of the whole message (a 500-feature layer is megabytes).

import { type Dialect, type Envelope, shape } from "../wire/envelope";
import { gischat1Frame } from "../wire/gischat1";
import { isThreaded } from "../wire/messages";

/**
 * The frame a socket of that dialect receives, or undefined when the dialect has nothing to show for it:
 * what Outgoing sends, the slow way (one JSON.stringify per dialect), for the tests to compare with.
 */
export function serialize(envelope: Envelope, dialect: Dialect): string | undefined {
  if (dialect !== "gischat1") return JSON.stringify(shape(envelope, dialect));
  const frame = gischat1Frame(envelope.message);
  return frame === undefined ? undefined : JSON.stringify(frame);
}

export class Outgoing {
  private readonly frames: Partial<Record<Dialect, string | null>> = {};
  private storedFrame: string | undefined;
  constructor(readonly envelope: Envelope) {}

  for(dialect: Dialect): string | undefined {
    let frame = this.frames[dialect];
    if (frame === undefined) frame = this.frames[dialect] = this.build(dialect) ?? null;
    return frame ?? undefined;
  }

  /** JSON.stringify(envelope), as the history stores it: {id, timestamp, message, inReplyTo?}. */
  stored(): string {
    if (this.storedFrame === undefined) {
      const { id, timestamp, inReplyTo } = this.envelope;
      const reply = inReplyTo === undefined ? "" : `,"inReplyTo":${JSON.stringify(inReplyTo)}`;
      this.storedFrame = `{"id":${JSON.stringify(id)},"timestamp":${JSON.stringify(timestamp)},"message":${this.for("rooms")}${reply}}`;
    }
    return this.storedFrame;
  }

  private build(dialect: Dialect): string | undefined {
    if (dialect !== "channels") return serialize(this.envelope, dialect);
    // shape(): the message's own keys (none is named id, timestamp or in_reply_to_id), then the stamp.
    const { id, timestamp, inReplyTo, message } = this.envelope;
    const reply = inReplyTo !== undefined && isThreaded(message.type) ? `,"in_reply_to_id":${JSON.stringify(inReplyTo)}` : "";
    const rooms = this.for("rooms")!;
    return `${rooms.slice(0, -1)},"id":${JSON.stringify(id)},"timestamp":${JSON.stringify(timestamp)}${reply}}`;
  }
}
