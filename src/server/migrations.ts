// A Durable Object's SQLite schema as numbered migrations, applied once per object,
// in order, each in its own transaction (the room's in room/schema.ts, the
// Directory's in directory/directory.ts). Append-only: a deployed migration is never
// edited, a new one is added.

export function applyMigrations(storage: DurableObjectStorage, migrations: readonly string[]): void {
  const { sql } = storage;
  sql.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)");
  const applied = sql.exec<{ version: number | null }>("SELECT MAX(version) AS version FROM schema_migrations").one().version ?? 0;
  for (let version = applied + 1; version <= migrations.length; version++) {
    storage.transactionSync(() => {
      sql.exec(migrations[version - 1]!);
      sql.exec("INSERT INTO schema_migrations (version) VALUES (?)", version);
    });
  }
}
