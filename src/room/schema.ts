// The room's SQLite schema, as numbered migrations applied once per object, in
// order, each in its own transaction.
//
// Append-only: a deployed migration is never edited, a new one is added.
const MIGRATIONS: readonly string[] = [
  // 1: recent messages, stored as chunks (a row holds at most 2 MB).
  `CREATE TABLE messages (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL);
   CREATE TABLE message_parts (
     seq INTEGER NOT NULL,
     part INTEGER NOT NULL,
     data BLOB NOT NULL,
     PRIMARY KEY (seq, part)
   );`,
  // 2: nicknames banned by a moderator, until a time (Date.now() milliseconds).
  `CREATE TABLE bans (nickname TEXT PRIMARY KEY, until INTEGER NOT NULL);`,
  // 3: addresses whose socket was closed for flooding, until a time: a reconnection
  //    from there starts with an empty budget instead of a full one.
  `CREATE TABLE flooders (address TEXT PRIMARY KEY, until INTEGER NOT NULL);`,
  // 4: ...and until when a connection from there is refused outright (0: never was).
  `ALTER TABLE flooders ADD COLUMN refused_until INTEGER NOT NULL DEFAULT 0;`,
  // 5: messages found by id: a client's own id is kept only if no stored message has it.
  `CREATE INDEX messages_by_id ON messages (id);`,
];

export function migrate(storage: DurableObjectStorage): void {
  const { sql } = storage;
  sql.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)");
  const applied = sql.exec<{ version: number | null }>("SELECT MAX(version) AS version FROM schema_migrations").one().version ?? 0;
  for (let version = applied + 1; version <= MIGRATIONS.length; version++) {
    storage.transactionSync(() => {
      sql.exec(MIGRATIONS[version - 1]!);
      sql.exec("INSERT INTO schema_migrations (version) VALUES (?)", version);
    });
  }
}
