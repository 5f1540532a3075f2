// The Worker keeps the flood refusals the rooms answered in memory and answers the
// next attempts itself, without waking the room.
/**
 * The Worker's memory of the refusals the rooms answered, per isolate: a cache of
 * the rooms' SQLite, which stays the truth. A flooder retrying in a loop is then
 * refused here until its Retry-After ends, and the room can sleep meanwhile.
 */
export class RefusalCache {
  private readonly refusedUntil = new Map<string, number>();

  constructor(private readonly maxEntries = 10_000) {}

  until(room: string, network: string, now: number): number | undefined {
    const key = cacheKey(room, network);
    const until = this.refusedUntil.get(key);
    if (until === undefined || until > now) return until;
    this.refusedUntil.delete(key);
    return undefined;
  }

  /** Remembers a room's 429 (floodRefusal) for as long as its Retry-After says. */
  note(room: string, network: string, refusal: Response, now: number): void {
    const seconds = Number(refusal.headers.get("Retry-After"));
    if (!(seconds > 0)) return;
    if (this.refusedUntil.size >= this.maxEntries) this.forgetExpired(now);
    // Still full of live refusals: the oldest go first (a Map iterates in insertion order).
    for (const key of this.refusedUntil.keys()) {
      if (this.refusedUntil.size < this.maxEntries) break;
      this.refusedUntil.delete(key);
    }
    this.refusedUntil.set(cacheKey(room, network), now + seconds * 1000);
  }

  private forgetExpired(now: number): void {
    for (const [key, until] of this.refusedUntil) if (until <= now) this.refusedUntil.delete(key);
  }
}

function cacheKey(room: string, network: string): string {
  return `${network} ${room}`;
}
