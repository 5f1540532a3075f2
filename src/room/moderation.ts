// What a moderator does to a room, as the coordinator of a big room would: bans
// in SQLite (bans.ts), refused everywhere a nickname is claimed or used, and the
// room's alarm, which exists only while a ban does and deletes expired ones.
import { logEvent } from "../server/log";
import { sentences } from "../wire/sentences";
import { Bans } from "./bans";

export class Moderation {
  private readonly bans: Bans;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly room: string,
  ) {
    this.bans = new Bans(storage);
  }

  /** Why the nickname may not be used here now, or undefined. */
  banReason(nickname: string): string | undefined {
    const until = this.bans.bannedUntil(nickname, Date.now());
    return until === undefined ? undefined : sentences.banned(nickname, until);
  }

  /** Bans the nickname for `seconds` (a longer ban in place is kept): when it ends. */
  async ban(nickname: string, seconds: number): Promise<number> {
    const until = this.bans.add(nickname, Date.now() + seconds * 1000);
    await this.scheduleCleanup();
    return until;
  }

  async onAlarm(): Promise<void> {
    this.bans.removeExpired(Date.now());
    await this.scheduleCleanup();
  }

  /** One JSON line per moderation action; never the token. */
  log(action: string, details: Record<string, unknown> = {}): void {
    logEvent("moderation", { room: this.room, action, ...details });
  }

  private async scheduleCleanup(): Promise<void> {
    const next = this.bans.nextExpiry();
    if (next === undefined) return this.storage.deleteAlarm();
    const current = await this.storage.getAlarm();
    if (current === null || current > next) await this.storage.setAlarm(next);
  }
}
