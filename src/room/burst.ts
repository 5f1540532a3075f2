// A burst of messages, stored in one commit. A room stores a message before anyone sees it
// (what was seen is what a newcomer replays), and a Durable Object commits the writes of each
// turn of its event loop on their own: a burst of 1,000 texts was 1,000 commits (each an
// fsync in workerd, a replicated write on Cloudflare), and 1,000 rounds of sends with the
// sockets' output drained between them, which cost the platform more per send than the same
// sends made back to back (docs/benchmarks.md, Per message).
//
// So a storable message is stamped and validated at once, and its broadcast is made at once
// but held (sockets.hold): from then on every send and close of the room waits behind it, in
// order. The burst is stored when the room's queue of events runs dry (a setTimeout(0) fires
// after the frames that have already arrived), or once it holds MAX_MESSAGES or MAX_CHARS,
// all in the same turn (one commit), and then the held sends go out; the output gate still
// keeps them until the commit is confirmed. A message that fails to store is sent to nobody
// and its sender is told. Whatever reads the history or answers a request settles the burst
// first (room.ts), so a page, a replay or an export never misses a message someone will see.
//
// Nothing here must survive hibernation: a room cannot hibernate while the timer is set, and
// an instance that dies before it fires has stored nothing its sockets were shown.
import type { Envelope } from "../wire/envelope";
import type { Outgoing } from "./outgoing";
import type { Sockets } from "./sockets";

/** A burst is stored once it holds this many messages, even if more are waiting... */
const MAX_MESSAGES = 100;
/** ...or this many characters of stored JSON (a few layers or pictures). */
const MAX_CHARS = 4_000_000;

export interface Staged {
  stamped: Envelope;
  outgoing: Outgoing;
  /** Told when the message could not be stored, after the burst's sends: it was sent to nobody. */
  failed(error: unknown): void;
}

export class Burst {
  private staged: Staged[] = [];
  private readonly ids = new Set<string>();
  private chars = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly sockets: Sockets,
    /** Stores one message of the burst (throws if it cannot). */
    private readonly store: (staged: Staged) => void,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Whether a message waiting in the burst has this id. */
  has(id: string): boolean {
    return this.ids.has(id);
  }

  /** Broadcasts the message, held until it is stored with the rest of the burst. */
  add(staged: Staged): void {
    if (this.staged.length === 0) {
      this.sockets.hold();
      this.timer = setTimeout(() => this.settleOrLog(), 0);
    }
    this.sockets.sendToAll(staged.outgoing);
    this.staged.push(staged);
    this.ids.add(staged.stamped.id);
    this.chars += staged.outgoing.stored().length;
    if (this.staged.length >= MAX_MESSAGES || this.chars >= MAX_CHARS) this.settle();
  }

  /** Stores the burst, then lets its sends (and everything held behind them) go out. */
  settle(): void {
    if (this.staged.length === 0) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const staged = this.staged;
    this.staged = [];
    this.ids.clear();
    this.chars = 0;
    const failures: [Staged, unknown][] = [];
    for (const entry of staged) {
      try {
        this.store(entry);
      } catch (error) {
        failures.push([entry, error]);
      }
    }
    this.sockets.release(new Set(failures.map(([entry]) => entry.outgoing)));
    for (const [entry, error] of failures) entry.failed(error);
  }

  private settleOrLog(): void {
    try {
      this.settle();
    } catch (error) {
      this.onError(error);
    }
  }
}
