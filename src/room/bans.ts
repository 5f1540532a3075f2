// Nicknames a moderator has banned from the room, each until a time, in the
// room's SQLite (storage-schema.ts). An expired ban no longer counts even before
// the room's alarm deletes it.
export class Bans {
  private readonly sql: SqlStorage;

  constructor(storage: DurableObjectStorage) {
    this.sql = storage.sql;
  }

  /** Bans a nickname until `until`; a longer ban already in place is kept. */
  add(nickname: string, until: number): number {
    return this.sql
      .exec<{ until: number }>(
        `INSERT INTO bans (nickname, until) VALUES (?, ?)
         ON CONFLICT (nickname) DO UPDATE SET until = MAX(until, excluded.until)
         RETURNING until`,
        nickname,
        until,
      )
      .one().until;
  }

  /** When the nickname's ban ends, if it is banned at `now`. */
  bannedUntil(nickname: string, now: number): number | undefined {
    return this.sql.exec<{ until: number }>("SELECT until FROM bans WHERE nickname = ? AND until > ?", nickname, now).toArray()[0]?.until;
  }

  removeExpired(now: number): void {
    this.sql.exec("DELETE FROM bans WHERE until <= ?", now);
  }

  /** The end of the next ban to expire, if any ban is left. */
  nextExpiry(): number | undefined {
    return this.sql.exec<{ until: number | null }>("SELECT MIN(until) AS until FROM bans").one().until ?? undefined;
  }
}
