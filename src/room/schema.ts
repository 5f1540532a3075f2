// The room's SQLite schema (server/migrations.ts applies it). Append-only: a
// deployed migration is never edited, a new one is added.
import { applyMigrations } from "../server/migrations";

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
  // 6: the whole history up to the room's retention: when each message was stored
  //    (Date.now() milliseconds, for expiry by age) and its size (UTF-8 bytes of its
  //    JSON, for the byte cap), with the totals kept by triggers so that enforcing the
  //    caps on every append reads one row instead of the whole table. Messages stored
  //    before this migration (at most MAX_STORED_MESSAGES) get their own timestamp
  //    when their JSON is one chunk, else the migration's time.
  `ALTER TABLE messages ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE messages ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0;
   UPDATE messages SET
     bytes = (SELECT COALESCE(SUM(length(p.data)), 0) FROM message_parts p WHERE p.seq = messages.seq),
     created_at = COALESCE(
       (SELECT CASE WHEN json_valid(CAST(p.data AS TEXT)) THEN json_extract(CAST(p.data AS TEXT), '$.timestamp') * 1000 END
        FROM message_parts p WHERE p.seq = messages.seq AND p.part = 0
          AND NOT EXISTS (SELECT 1 FROM message_parts q WHERE q.seq = messages.seq AND q.part = 1)),
       CAST(strftime('%s', 'now') AS INTEGER) * 1000);
   CREATE INDEX messages_by_created_at ON messages (created_at);
   CREATE TABLE history_totals (messages INTEGER NOT NULL, bytes INTEGER NOT NULL);
   INSERT INTO history_totals SELECT COUNT(*), COALESCE(SUM(bytes), 0) FROM messages;
   CREATE TRIGGER history_totals_insert AFTER INSERT ON messages BEGIN
     UPDATE history_totals SET messages = messages + 1, bytes = bytes + NEW.bytes;
   END;
   CREATE TRIGGER history_totals_delete AFTER DELETE ON messages BEGIN
     UPDATE history_totals SET messages = messages - 1, bytes = bytes - OLD.bytes;
   END;`,
  // 7: the endpoints that hear the room (webhooks, and the Matrix ping as the endpoint
  //    'matrix') with their delivery state, and the outbox: one row per delivery due to
  //    an endpoint, its body stored once however many endpoints share it (as chunks: a
  //    row holds at most 2 MB). Triggers keep each endpoint's pending count and the
  //    bodies' total bytes, and delete a body when its last delivery goes.
  `CREATE TABLE hook_endpoints (
     id TEXT PRIMARY KEY,
     kind TEXT NOT NULL,
     url TEXT NOT NULL,
     secret TEXT NOT NULL,
     presence INTEGER NOT NULL DEFAULT 0,
     created_at INTEGER NOT NULL,
     disabled_at INTEGER,
     disabled_reason TEXT,
     failures INTEGER NOT NULL DEFAULT 0,
     failing_since INTEGER,
     next_attempt_at INTEGER NOT NULL DEFAULT 0,
     last_attempt_at INTEGER,
     last_status TEXT,
     last_success_at INTEGER,
     delivered INTEGER NOT NULL DEFAULT 0,
     dropped INTEGER NOT NULL DEFAULT 0,
     pending INTEGER NOT NULL DEFAULT 0
   );
   CREATE TABLE outbox_bodies (id INTEGER PRIMARY KEY AUTOINCREMENT, bytes INTEGER NOT NULL);
   CREATE TABLE outbox_body_parts (body INTEGER NOT NULL, part INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (body, part));
   CREATE TABLE outbox (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     endpoint TEXT NOT NULL,
     body INTEGER NOT NULL,
     delivery TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0
   );
   CREATE INDEX outbox_by_endpoint ON outbox (endpoint, seq);
   CREATE INDEX outbox_by_body ON outbox (body);
   CREATE TABLE outbox_totals (bytes INTEGER NOT NULL);
   INSERT INTO outbox_totals VALUES (0);
   CREATE TRIGGER outbox_insert AFTER INSERT ON outbox BEGIN
     UPDATE hook_endpoints SET pending = pending + 1 WHERE id = NEW.endpoint;
   END;
   CREATE TRIGGER outbox_delete AFTER DELETE ON outbox BEGIN
     UPDATE hook_endpoints SET pending = pending - 1 WHERE id = OLD.endpoint;
     DELETE FROM outbox_bodies WHERE id = OLD.body AND NOT EXISTS (SELECT 1 FROM outbox WHERE body = OLD.body);
   END;
   CREATE TRIGGER outbox_bodies_insert AFTER INSERT ON outbox_bodies BEGIN
     UPDATE outbox_totals SET bytes = bytes + NEW.bytes;
   END;
   CREATE TRIGGER outbox_bodies_delete AFTER DELETE ON outbox_bodies BEGIN
     UPDATE outbox_totals SET bytes = bytes - OLD.bytes;
     DELETE FROM outbox_body_parts WHERE body = OLD.id;
   END;`,
];

export function migrate(storage: DurableObjectStorage): void {
  applyMigrations(storage, MIGRATIONS);
}
