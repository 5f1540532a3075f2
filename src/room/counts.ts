// The room's nb_users, coalesced. A newcomer is told its own count at once (its first
// frame, before the replay: clients and tests rely on it); everybody else hears at most
// one count per FLUSH_INTERVAL_MS, and every socket has the final count within that
// time of the last arrival or departure. A burst of N joins (a reconnect storm after a
// deploy) costs O(N) frames plus one room-wide count per interval, not N²/2.
//
// Throttled on both edges: a change in a quiet room is flushed at once (one arrival in
// a calm room is announced as promptly as before); changes within FLUSH_INTERVAL_MS of
// the last flush wait for one trailing flush at the end of the interval.
//
// The trailing flush is a setTimeout, not the alarm: it is at most 250 ms away, so it
// delays hibernation by at most that much, and it costs nothing to set, whereas setAlarm
// is a storage write per window whose firing locally and on Cloudflare can lag by more
// than the interval itself. What the timer cannot survive is an eviction while it is
// pending (sockets stay open, the instance goes): a marker in the room's key-value
// storage, written once per window (not per join) and deleted by the flush, says a count
// is owed, and the next instance flushes it to every socket within the interval of the
// event that wakes it.

import { envelope } from "../wire/envelope";
import { Outgoing } from "./outgoing";
import type { Sockets } from "./sockets";

/** The longest any socket waits for the room's current count. */
export const FLUSH_INTERVAL_MS = 250;
/** Key of the "a count is owed" marker in the room's key-value storage. */
const COUNT_OWED = "count_owed";

export class Counts {
  /** The count each socket was last sent, in this instance (empty after a wake-up: everyone is owed one). */
  private readonly seen = new WeakMap<WebSocket, number>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Date.now() of the last flush that sent anything. */
  private lastFlushAt = Number.NEGATIVE_INFINITY;
  private owedMarked = false;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly sockets: Sockets,
    private readonly onError: (error: unknown) => void,
  ) {
    // A flush pending when the previous instance was evicted: owed to everyone.
    if (storage.kv.get(COUNT_OWED) !== undefined) {
      this.owedMarked = true;
      this.schedule(FLUSH_INTERVAL_MS);
    }
  }

  /** A socket has joined: it alone is told the count now; the others in the next flush. */
  arrived(ws: WebSocket): void {
    this.tell(ws);
    this.changed();
  }

  /** A socket has left: the others are told in the next flush. */
  departed(): void {
    this.changed();
  }

  /** Tells one socket the count now (a newcomer, or a socket that has just shown it speaks gischat 1.x). */
  tell(ws: WebSocket): void {
    const count = this.current();
    this.sockets.send([ws], new Outgoing(envelope({ type: "nb_users", nb_users: count })));
    this.seen.set(ws, count);
  }

  private current(): number {
    return this.sockets.count();
  }

  private changed(): void {
    if (this.timer !== undefined) return;
    const wait = this.lastFlushAt + FLUSH_INTERVAL_MS - Date.now();
    if (wait <= 0) this.flush();
    else this.schedule(wait);
  }

  private schedule(wait: number): void {
    if (this.timer !== undefined) return;
    if (!this.owedMarked) {
      this.storage.kv.put(COUNT_OWED, true);
      this.owedMarked = true;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      try {
        this.flush();
      } catch (error) {
        this.onError(error);
      }
    }, wait);
  }

  /** Sends the count to exactly the live sockets that have not been sent it. */
  private flush(): void {
    const count = this.current();
    const owed = this.sockets.live().filter((ws) => this.seen.get(ws) !== count);
    if (owed.length > 0) {
      this.sockets.send(owed, new Outgoing(envelope({ type: "nb_users", nb_users: count })));
      for (const ws of owed) this.seen.set(ws, count);
      this.lastFlushAt = Date.now();
    }
    if (this.owedMarked) {
      this.storage.kv.delete(COUNT_OWED);
      this.owedMarked = false;
    }
  }
}
