// Client addresses whose socket the room closed for flooding, remembered for a
// while in the room's SQLite (storage-schema.ts). A socket from such an address
// starts with an empty rate-limit budget: reconnecting must not buy a flooder a
// fresh burst. Expired rows are deleted whenever one is added.
export class Flooders {
  private readonly sql: SqlStorage;

  constructor(storage: DurableObjectStorage) {
    this.sql = storage.sql;
  }

  remember(address: string, until: number, now: number): void {
    this.sql.exec("DELETE FROM flooders WHERE until <= ?", now);
    this.sql.exec(
      "INSERT INTO flooders (address, until) VALUES (?, ?) ON CONFLICT (address) DO UPDATE SET until = MAX(until, excluded.until)",
      address,
      until,
    );
  }

  isCoolingDown(address: string, now: number): boolean {
    return this.sql.exec("SELECT 1 FROM flooders WHERE address = ? AND until > ?", address, now).toArray().length > 0;
  }
}
