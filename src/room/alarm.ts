// The room's one alarm, shared by everything in it that expires: bans (bans.ts)
// and stored messages past their age (history.ts). It is set to the earliest
// expiry of all of them, exists only while something can expire, and when it
// rings deletes what has expired in each, then is set again for what is left.
export interface Expiring {
  /** When the next thing expires (Date.now() milliseconds), if anything can. */
  nextExpiry(): number | undefined;
  /** Deletes what has expired now. */
  removeExpired(): void;
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

  /** The alarm rang: everything expired goes, and the alarm is set for what is left. */
  async ring(): Promise<void> {
    // The runtime has just cleared the alarm that rang.
    this.scheduled = undefined;
    for (const source of this.sources) source.removeExpired();
    await this.schedule();
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
