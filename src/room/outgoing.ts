// A message on its way out: serialized at most once per dialect, however many
// sockets receive it.

import { type Dialect, type Envelope, shape } from "../wire/envelope";
import { gischat1Frame } from "../wire/gischat1";

/** The frame a socket of that dialect receives, or undefined when the dialect has nothing to show for it. */
export function serialize(envelope: Envelope, dialect: Dialect): string | undefined {
  if (dialect !== "gischat1") return JSON.stringify(shape(envelope, dialect));
  const frame = gischat1Frame(envelope.message);
  return frame === undefined ? undefined : JSON.stringify(frame);
}

export class Outgoing {
  private readonly frames: Partial<Record<Dialect, string | null>> = {};
  constructor(readonly envelope: Envelope) {}

  for(dialect: Dialect): string | undefined {
    let frame = this.frames[dialect];
    if (frame === undefined) frame = this.frames[dialect] = serialize(this.envelope, dialect) ?? null;
    return frame ?? undefined;
  }
}
