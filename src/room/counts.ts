// The room's nb_users, coalesced. A newcomer is told its own count at once (its first
// frame, before the replay: clients and tests rely on it); everybody else has the final
// count within FLUSH_INTERVAL_MS of the last arrival or departure. A burst of N joins (a
// reconnect storm after a deploy) costs O(N) frames plus one room-wide count per
// STORM_FLUSH_MS, not N²/2.
//
// Leading edge: a change in a quiet room (no count sent in the last interval) is
// flushed at once, so one arrival in a calm room is announced as promptly as ever.
// Trailing edge: changes that follow within the interval wait until the room has been
// quiet for QUIET_MS (each change pushes the flush back), but never longer than
// STORM_FLUSH_MS after the first of them, and never sooner than FLUSH_INTERVAL_MS after the
// flush before. QUIET_MS is shorter than FLUSH_INTERVAL_MS by what the flush itself takes in
// a big room (5,000 sends: 50–100 ms here), so that the last socket has the count within
// FLUSH_INTERVAL_MS of the last change, as promised, not that long plus the sends. During a storm every room-wide count costs N
// sends: one per 250 ms made counts most of a 5,000-socket storm's work (154k frames
// against 15k at one per 2 s, 16 s against 7 s: docs/benchmarks.md), while nobody reads
// the intermediate counts of a room that is filling up.
//
// The trailing flush is a setTimeout, not the alarm: it is at most STORM_FLUSH_MS away, so
// it delays hibernation by at most that much, and it costs nothing to set, whereas
// setAlarm is a storage write per window whose firing locally and on Cloudflare can lag
// by more than the interval itself. What the timer cannot survive is an eviction while it
// is pending (sockets stay open, the instance goes): a marker in the room's key-value
// storage, written once per window (not per join) and deleted by the flush, says a count
// is owed, and the next instance flushes it to every socket within the interval of the
// event that wakes it.

import { envelope } from "../wire/envelope";
import { Outgoing } from "./outgoing";
import type { Sockets } from "./sockets";

/** The longest any socket waits for the room's current count once arrivals and departures pause; the least between two room-wide counts. */
export const FLUSH_INTERVAL_MS = 250;
/** The pause in arrivals and departures the trailing flush waits for. */
export const QUIET_MS = 150;
/** While they do not pause (a storm), the longest between two room-wide counts. */
export const STORM_FLUSH_MS = 2_000;
/** Key of the "a count is owed" marker in the room's key-value storage. */
const COUNT_OWED = "count_owed";

export class Counts {
  /** The count each socket was last sent, in this instance (empty after a wake-up: everyone is owed one). */
  private readonly seen = new WeakMap<WebSocket, number>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Date.now() of the last flush that sent anything. */
  private lastFlushAt = Number.NEGATIVE_INFINITY;
  /** Date.now() of the first change the pending flush is for: it waits at most STORM_FLUSH_MS from there. */
  private pendingSince = Number.NaN;
  /** Date.now() of the latest change: the pending flush waits until FLUSH_INTERVAL_MS after it. */
  private lastChangeAt = Number.NaN;
  private owedMarked = false;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly sockets: Sockets,
    private readonly onError: (error: unknown) => void,
  ) {
    // A flush pending when the previous instance was evicted: owed to everyone.
    if (storage.kv.get(COUNT_OWED) !== undefined) {
      this.owedMarked = true;
      this.pendingSince = this.lastChangeAt = Date.now();
      this.schedule();
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
    const now = Date.now();
    this.lastChangeAt = now;
    // A flush is pending: it finds this change when its timer fires (a storm sets no timer per arrival).
    if (this.timer !== undefined) return;
    if (now - this.lastFlushAt >= FLUSH_INTERVAL_MS) return this.flush();
    this.pendingSince = now;
    this.schedule();
  }

  /**
   * When the pending flush is due: a pause of QUIET_MS after the latest change (but not within
   * FLUSH_INTERVAL_MS of the flush before), at most STORM_FLUSH_MS after the first change.
   */
  private dueAt(): number {
    const quiet = Math.max(this.lastChangeAt + QUIET_MS, this.lastFlushAt + FLUSH_INTERVAL_MS);
    return Math.min(quiet, this.pendingSince + STORM_FLUSH_MS);
  }

  /**
   * Sets the trailing flush for when it is due. When it fires, changes that came meanwhile have
   * put it off: it waits again for the new time. (Compared with the time it was set for, not with
   * the clock, which in a Worker moves only between I/O events: a timer may see it not there yet.)
   */
  private schedule(): void {
    if (!this.owedMarked) {
      this.storage.kv.put(COUNT_OWED, true);
      this.owedMarked = true;
    }
    const due = this.dueAt();
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        try {
          if (this.dueAt() > due) return this.schedule();
          this.flush();
        } catch (error) {
          this.onError(error);
        }
      },
      Math.max(0, due - Date.now()),
    );
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
