// The room's one alarm, shared by everything in it that is due at a time: bans
// (bans.ts) and stored messages past their age (history.ts) expire, deliveries in
// the outbox (outbox.ts) fall due. It is set to the earliest time of all of them,
// exists only while something is due, and when it rings lets each do what is due
// now, then is set again for what is left.
export interface Expiring {
  /** When the next thing is due (Date.now() milliseconds), if anything is. */
  nextExpiry(): number | undefined;
  /**
   * Does what is due now: deletes what has expired, or (the outbox) sends what is due.
   * A promise is awaited before the alarm is set again; while it waits on I/O (a
   * fetch), the room goes on taking its other events.
   */
  removeExpired(): void | Promise<void>;
}

export class RoomAlarm {
  /**
   * What this instance last set (null: deleted); undefined after a wake-up, when
   * the alarm in storage is not known without reading it.
   */
  private scheduled: number | null | undefined;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly sources: readonly Expiring[],
  ) {}

  /** The alarm at exactly the earliest expiry, or none when nothing can expire. */
  schedule(): Promise<void> {
    const next = this.earliest();
    if (next === this.scheduled || (next === undefined && this.scheduled === null)) return Promise.resolve();
    this.scheduled = next ?? null;
    return next === undefined ? this.storage.deleteAlarm() : this.storage.setAlarm(next);
  }

  /**
   * After something was added: the alarm is brought earlier if it must be, and left
   * where it is otherwise (a message appended to a full history moves the earliest
   * expiry later; an early alarm only finds less to do, then sets itself again).
   * This keeps a busy room from writing its alarm on every message.
   */
  expect(): Promise<void> {
    const next = this.earliest();
    if (next !== undefined && typeof this.scheduled === "number" && this.scheduled <= next) return Promise.resolve();
    return this.schedule();
  }

  /**
   * expect() for one thing added, due at `dueAt` or later: an alarm this instance set at or
   * before that covers it already, and every source's next expiry need not be read (a room
   * stores every message, and the history's is the earliest of them all).
   */
  expectBy(dueAt: number): Promise<void> {
    if (typeof this.scheduled === "number" && this.scheduled <= dueAt) return Promise.resolve();
    return this.expect();
  }

  /** The alarm rang: everything expired goes, and the alarm is set for what is left. */
  async ring(): Promise<void> {
    // The runtime has just cleared the alarm that rang.
    this.scheduled = undefined;
    // One source's failure must not keep the others from their work, nor the alarm from being set again.
    const failures: unknown[] = [];
    for (const source of this.sources) {
      try {
        await source.removeExpired();
      } catch (error) {
        failures.push(error);
      }
    }
    await this.schedule();
    if (failures.length > 0) throw failures[0];
  }

  private earliest(): number | undefined {
    let earliest: number | undefined;
    for (const source of this.sources) {
      const next = source.nextExpiry();
      if (next !== undefined && (earliest === undefined || next < earliest)) earliest = next;
    }
    return earliest;
  }
}
