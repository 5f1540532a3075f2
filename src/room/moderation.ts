// What a moderator does to a room, as the coordinator of a big room would: bans
// in SQLite (bans.ts), refused everywhere a nickname is claimed or used. Expired
// bans are deleted by the room's one alarm (alarm.ts), for which the bans are one
// of the things that expire.
import { logEvent } from "../server/log";
import { sentences } from "../wire/sentences";
import type { Expiring } from "./alarm";
import { Bans } from "./bans";

export class Moderation {
  private readonly bans: Bans;

  constructor(
    storage: DurableObjectStorage,
    private readonly room: string,
  ) {
    this.bans = new Bans(storage);
  }

  /** Why the nickname may not be used here now, or undefined. */
  banReason(nickname: string): string | undefined {
    const until = this.bans.bannedUntil(nickname, Date.now());
    return until === undefined ? undefined : sentences.banned(nickname, until);
  }

  /** Bans the nickname for `seconds` (a longer ban in place is kept): when it ends. The caller sets the alarm. */
  ban(nickname: string, seconds: number): number {
    return this.bans.add(nickname, Date.now() + seconds * 1000);
  }

  /** The bans, as one of the things the room's alarm expires. */
  readonly expiringBans: Expiring = {
    nextExpiry: () => this.bans.nextExpiry(),
    removeExpired: () => this.bans.removeExpired(Date.now()),
  };

  /** One JSON line per moderation action; never the token. */
  log(action: string, details: Record<string, unknown> = {}): void {
    logEvent("moderation", { room: this.room, action, ...details });
  }
}
