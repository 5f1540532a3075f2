// The room's recent messages, in the Durable Object's SQLite. They survive
// eviction, restarts and deploys. A row holds at most 2 MB, and a 500-feature
// GeoJSON layer can be larger, so each message is stored as UTF-8 chunks
// (tables in storage-schema.ts).
import type { Envelope } from "../wire/envelope";

/** Well under the 2 MB limit of one SQLite row. */
const CHUNK_BYTES = 1_000_000;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class History {
  private readonly sql: SqlStorage;

  constructor(private readonly storage: DurableObjectStorage) {
    this.sql = storage.sql;
  }

  /** Stores a message and keeps only the newest `keep`. */
  append(envelope: Envelope, keep: number): void {
    const bytes = encoder.encode(JSON.stringify(envelope));
    this.storage.transactionSync(() => {
      const { seq } = this.sql.exec<{ seq: number }>("INSERT INTO messages (id) VALUES (?) RETURNING seq", envelope.id).one();
      for (let offset = 0, part = 0; offset < bytes.length || part === 0; offset += CHUNK_BYTES, part++) {
        this.sql.exec(
          "INSERT INTO message_parts (seq, part, data) VALUES (?, ?, ?)",
          seq,
          part,
          bytes.subarray(offset, offset + CHUNK_BYTES).slice().buffer,
        );
      }
      this.trim(keep);
    });
  }

  /** Whether a stored message has this id. */
  has(id: string): boolean {
    return this.sql.exec("SELECT 1 FROM messages WHERE id = ? LIMIT 1", id).toArray().length > 0;
  }

  /** The newest `limit` messages, oldest first. */
  recent(limit: number): Envelope[] {
    if (limit <= 0) return [];
    const rows = this.sql
      .exec<{ seq: number; data: ArrayBuffer }>(
        `SELECT p.seq AS seq, p.data AS data FROM message_parts p
         WHERE p.seq IN (SELECT seq FROM messages ORDER BY seq DESC LIMIT ?)
         ORDER BY p.seq, p.part`,
        limit,
      )
      .toArray();
    return groupBySeq(rows).map((chunks) => JSON.parse(decoder.decode(concat(chunks))) as Envelope);
  }

  clear(): void {
    this.storage.transactionSync(() => {
      this.sql.exec("DELETE FROM message_parts");
      this.sql.exec("DELETE FROM messages");
    });
  }

  private trim(keep: number): void {
    const cutoff = this.sql.exec<{ seq: number }>("SELECT seq FROM messages ORDER BY seq DESC LIMIT 1 OFFSET ?", keep).toArray()[0]?.seq;
    if (cutoff === undefined) return;
    this.sql.exec("DELETE FROM message_parts WHERE seq <= ?", cutoff);
    this.sql.exec("DELETE FROM messages WHERE seq <= ?", cutoff);
  }
}

function groupBySeq(rows: { seq: number; data: ArrayBuffer }[]): ArrayBuffer[][] {
  const groups: ArrayBuffer[][] = [];
  let current: number | undefined;
  for (const row of rows) {
    if (row.seq !== current) {
      groups.push([]);
      current = row.seq;
    }
    groups[groups.length - 1]!.push(row.data);
  }
  return groups;
}

function concat(chunks: ArrayBuffer[]): Uint8Array {
  if (chunks.length === 1) return new Uint8Array(chunks[0]!);
  const total = chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0);
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(new Uint8Array(chunk), offset);
    offset += chunk.byteLength;
  }
  return bytes;
}
