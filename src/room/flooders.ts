// Client networks whose socket the room closed for flooding, in its SQLite
// (schema.ts): for a short while a connection from such a network is refused
// before it is upgraded, so that a flooder reconnecting at once costs the room one
// small answer, instead of a socket, two broadcasts and all the frames it pushes
// before it is closed again; for longer, a socket from there starts with an empty
// rate-limit budget, so that reconnecting buys no fresh burst.

/** How an address stands at the moment of a connection. */
export type Standing = { kind: "welcome" } | { kind: "refused"; until: number } | { kind: "empty budget" };

export interface Sentence {
  /** Date.now() until which its connections are refused. */
  refusedUntil: number;
  /** Date.now() until which its sockets start with an empty budget. */
  emptyBudgetUntil: number;
}

/** The room's memory of flooders; expired rows are deleted whenever one is added. */
export class Flooders {
  private readonly sql: SqlStorage;

  constructor(storage: DurableObjectStorage) {
    this.sql = storage.sql;
  }

  remember(address: string, { refusedUntil, emptyBudgetUntil }: Sentence, now: number): void {
    this.sql.exec("DELETE FROM flooders WHERE until <= ? AND refused_until <= ?", now, now);
    this.sql.exec(
      `INSERT INTO flooders (address, until, refused_until) VALUES (?, ?, ?)
       ON CONFLICT (address) DO UPDATE SET until = MAX(until, excluded.until), refused_until = MAX(refused_until, excluded.refused_until)`,
      address,
      emptyBudgetUntil,
      refusedUntil,
    );
  }

  standing(address: string, now: number): Standing {
    const row = this.sql
      .exec<{ until: number; refused_until: number }>("SELECT until, refused_until FROM flooders WHERE address = ?", address)
      .toArray()[0];
    if (row === undefined) return { kind: "welcome" };
    if (row.refused_until > now) return { kind: "refused", until: row.refused_until };
    return row.until > now ? { kind: "empty budget" } : { kind: "welcome" };
  }
}
