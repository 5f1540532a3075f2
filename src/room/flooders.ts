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

/**
 * The room's memory of flooders; expired rows are deleted whenever one is added. Every
 * upgrade asks for its address's standing, so the table (a few rows: each is gone ten
 * minutes after its flooder) is read into memory once per wake-up, and read again
 * after each change; SQLite stays the truth.
 */
export class Flooders {
  private readonly sql: SqlStorage;
  private byAddress: Map<string, Sentence> | undefined;

  constructor(storage: DurableObjectStorage) {
    this.sql = storage.sql;
  }

  remember(address: string, { refusedUntil, emptyBudgetUntil }: Sentence, now: number): void {
    this.byAddress = undefined;
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
    const sentence = this.sentences().get(address);
    if (sentence === undefined) return { kind: "welcome" };
    if (sentence.refusedUntil > now) return { kind: "refused", until: sentence.refusedUntil };
    return sentence.emptyBudgetUntil > now ? { kind: "empty budget" } : { kind: "welcome" };
  }

  /** Drops what is kept in memory: the room's storage was wiped behind this class (a room dissolved). */
  forget(): void {
    this.byAddress = undefined;
  }

  private sentences(): Map<string, Sentence> {
    if (this.byAddress === undefined) {
      const rows = this.sql.exec<{ address: string; until: number; refused_until: number }>(
        "SELECT address, until, refused_until FROM flooders",
      );
      this.byAddress = new Map();
      for (const row of rows) this.byAddress.set(row.address, { refusedUntil: row.refused_until, emptyBudgetUntil: row.until });
    }
    return this.byAddress;
  }
}
