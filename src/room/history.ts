// The room's history, in the Durable Object's SQLite: every storable message up
// to the room's retention (an age, a number of messages, a number of bytes). It
// survives eviction, restarts and deploys. A row holds at most 2 MB, and a
// 500-feature GeoJSON layer can be larger, so each message is stored as UTF-8
// chunks (tables in schema.ts). Messages are ordered by `seq`, which only grows:
// a page's cursor is a message, and what arrives later never moves it.
//
// Every read filters by age, so an expired message is never shown even before the
// room's alarm has deleted it; the caps on number and bytes are enforced on append.
//
// The newest messages, which every socket that joins is sent, are kept in memory
// between two changes: a reconnect storm of N sockets reads them once, not N times.
// Only a cache: every change of the history through this class drops it, and so does
// the first of its messages to expire (SQLite stays the truth).
import type { Envelope } from "../wire/envelope";

/** Well under the 2 MB limit of one SQLite row. */
const CHUNK_BYTES = 1_000_000;
/** Messages read per query when a page or an export walks the history. */
const BATCH = 100;

const DAY_MS = 24 * 3600 * 1000;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export interface Retention {
  days: number;
  maxMessages: number;
  maxBytes: number;
}

/** A stored message's place: its order, its id, its size. */
type Slot = {
  seq: number;
  id: string;
  bytes: number;
};

/** What `recent` answered, kept until the history changes or its oldest message expires. */
interface Recent {
  limit: number;
  days: number;
  envelopes: readonly Envelope[];
  /** Date.now() from which the oldest of them is expired (+∞ when there is none). */
  validUntil: number;
}

/** A page: the messages oldest first, and whether older ones remain. */
export interface StoredPage {
  messages: Envelope[];
  /** The id to ask `before` for the next (older) page; undefined when there is none. */
  nextBefore: string | undefined;
}

export class History {
  private readonly sql: SqlStorage;
  private recentCache: Recent | undefined;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly now: () => number = Date.now,
  ) {
    this.sql = storage.sql;
  }

  /** Drops what is kept in memory: the room's storage was wiped behind this class (a room dissolved). */
  forget(): void {
    this.recentCache = undefined;
  }

  /**
   * Stores a message (`json` is JSON.stringify(envelope), when the caller has it already),
   * then deletes the oldest until the history is within its caps
   * on number and bytes. A message larger than the byte cap on its own is not kept
   * (false): storing it would mean deleting everything else and still being over.
   */
  append(envelope: Envelope, retention: Retention, json = JSON.stringify(envelope)): boolean {
    const bytes = encoder.encode(json);
    if (bytes.length > retention.maxBytes) return false;
    this.recentCache = undefined;
    this.storage.transactionSync(() => {
      const { seq } = this.sql
        .exec<{ seq: number }>(
          "INSERT INTO messages (id, created_at, bytes) VALUES (?, ?, ?) RETURNING seq",
          envelope.id,
          this.now(),
          bytes.length,
        )
        .one();
      for (let offset = 0, part = 0; offset < bytes.length || part === 0; offset += CHUNK_BYTES, part++) {
        this.sql.exec(
          "INSERT INTO message_parts (seq, part, data) VALUES (?, ?, ?)",
          seq,
          part,
          bytes.subarray(offset, offset + CHUNK_BYTES).slice().buffer,
        );
      }
      this.trim(retention);
    });
    return true;
  }

  /** Whether a stored message has this id. */
  has(id: string): boolean {
    return this.sql.exec("SELECT 1 FROM messages WHERE id = ? LIMIT 1", id).toArray().length > 0;
  }

  /**
   * The newest `limit` messages within the retention, oldest first: the same objects
   * until the history changes (callers must not modify them).
   */
  recent(limit: number, retention: Retention): readonly Envelope[] {
    if (limit <= 0) return [];
    const now = this.now();
    const kept = this.recentCache;
    if (kept !== undefined && kept.limit === limit && kept.days === retention.days && now < kept.validUntil) return kept.envelopes;
    const maxAge = retention.days * DAY_MS;
    const slots = this.sql
      .exec<Slot & { created_at: number }>(
        "SELECT seq, id, bytes, created_at FROM messages WHERE created_at > ? ORDER BY seq DESC LIMIT ?",
        now - maxAge,
        limit,
      )
      .toArray();
    const envelopes = Object.freeze(this.read(slots.reverse()));
    // Every message younger than the oldest of them is as far from expiring: it is the first to go.
    const oldest = slots.reduce((min, slot) => Math.min(min, slot.created_at), Number.POSITIVE_INFINITY);
    this.recentCache = { limit, days: retention.days, envelopes, validUntil: oldest + maxAge };
    return envelopes;
  }

  /**
   * Up to `limit` messages older than the message `before` (or the newest, without it),
   * within the retention, oldest first. A page stops early, never empty, once it holds
   * `maxBytes`: a page of big layers stays a size an answer can carry. Undefined when
   * `before` names no message of the retained history.
   */
  page(before: string | undefined, limit: number, maxBytes: number, retention: Retention): StoredPage | undefined {
    const cutoff = this.expiredUpTo(retention);
    let below = Number.MAX_SAFE_INTEGER;
    if (before !== undefined) {
      const cursor = this.sql
        .exec<{ seq: number }>("SELECT seq FROM messages WHERE id = ? AND created_at > ? ORDER BY seq DESC LIMIT 1", before, cutoff)
        .toArray()[0];
      if (cursor === undefined) return undefined;
      below = cursor.seq;
    }
    // One more than asked: whether there is an older page.
    const candidates = this.sql
      .exec<Slot>(
        "SELECT seq, id, bytes FROM messages WHERE seq < ? AND created_at > ? ORDER BY seq DESC LIMIT ?",
        below,
        cutoff,
        limit + 1,
      )
      .toArray();
    const taken: Slot[] = [];
    let total = 0;
    for (const slot of candidates.slice(0, limit)) {
      if (taken.length > 0 && total + slot.bytes > maxBytes) break;
      taken.push(slot);
      total += slot.bytes;
    }
    const more = candidates.length > taken.length;
    return { messages: this.read(taken.reverse()), nextBefore: more ? taken[0]?.id : undefined };
  }

  /**
   * The retained messages after `afterSeq`, oldest first, a batch at a time (at most
   * BATCH messages or about `maxBytes`), for a walk through the whole history that
   * never holds all of it: the last message's seq is where the next batch starts.
   */
  batchAfter(afterSeq: number, upToSeq: number, maxBytes: number, retention: Retention): { envelopes: Envelope[]; lastSeq: number } {
    const candidates = this.sql
      .exec<Slot>(
        "SELECT seq, id, bytes FROM messages WHERE seq > ? AND seq <= ? AND created_at > ? ORDER BY seq LIMIT ?",
        afterSeq,
        upToSeq,
        this.expiredUpTo(retention),
        BATCH,
      )
      .toArray();
    const taken: Slot[] = [];
    let total = 0;
    for (const slot of candidates) {
      if (taken.length > 0 && total + slot.bytes > maxBytes) break;
      taken.push(slot);
      total += slot.bytes;
    }
    return { envelopes: this.read(taken), lastSeq: taken[taken.length - 1]?.seq ?? upToSeq };
  }

  /** The seq of the newest message stored now (0 when empty): where a walk that ignores later arrivals stops. */
  lastSeq(): number {
    return this.sql.exec<{ seq: number | null }>("SELECT MAX(seq) AS seq FROM messages").one().seq ?? 0;
  }

  /** Deletes the message with this id, whatever its age: whether there was one. */
  delete(id: string): boolean {
    this.recentCache = undefined;
    let deleted = false;
    this.storage.transactionSync(() => {
      const seqs = this.sql
        .exec<{ seq: number }>("DELETE FROM messages WHERE id = ? RETURNING seq", id)
        .toArray()
        .map((row) => row.seq);
      for (const seq of seqs) this.sql.exec("DELETE FROM message_parts WHERE seq = ?", seq);
      deleted = seqs.length > 0;
    });
    return deleted;
  }

  clear(): void {
    this.recentCache = undefined;
    this.storage.transactionSync(() => {
      this.sql.exec("DELETE FROM message_parts");
      this.sql.exec("DELETE FROM messages");
    });
  }

  /** Deletes the messages past the retention's age (the room's alarm calls it). */
  removeExpired(retention: Retention): void {
    this.recentCache = undefined;
    const cutoff = this.expiredUpTo(retention);
    this.storage.transactionSync(() => {
      this.sql.exec("DELETE FROM message_parts WHERE seq IN (SELECT seq FROM messages WHERE created_at <= ?)", cutoff);
      this.sql.exec("DELETE FROM messages WHERE created_at <= ?", cutoff);
    });
  }

  /** When the oldest stored message expires (Date.now() milliseconds), if any is stored. */
  nextExpiry(retention: Retention): number | undefined {
    const oldest = this.sql.exec<{ at: number | null }>("SELECT MIN(created_at) AS at FROM messages").one().at;
    return oldest === null ? undefined : oldest + retention.days * DAY_MS;
  }

  /** When a message stored at `storedAt` (Date.now() milliseconds) or later expires, at the earliest. */
  expiryFrom(storedAt: number, retention: Retention): number {
    return storedAt + retention.days * DAY_MS;
  }

  /** The history's size as the caps count it. */
  totals(): { messages: number; bytes: number } {
    return this.sql.exec<{ messages: number; bytes: number }>("SELECT messages, bytes FROM history_totals").one();
  }

  /** Messages stored at or before this time are expired. */
  private expiredUpTo(retention: Retention): number {
    return this.now() - retention.days * DAY_MS;
  }

  /** The oldest go first until both caps hold. */
  private trim({ maxMessages, maxBytes }: Retention): void {
    let { messages, bytes } = this.totals();
    if (messages <= maxMessages && bytes <= maxBytes) return;
    let cutoff: number | undefined;
    let afterSeq = 0;
    while (messages > maxMessages || bytes > maxBytes) {
      const oldest = this.sql
        .exec<{ seq: number; bytes: number }>("SELECT seq, bytes FROM messages WHERE seq > ? ORDER BY seq LIMIT ?", afterSeq, BATCH)
        .toArray();
      if (oldest.length === 0) break;
      for (const slot of oldest) {
        if (messages <= maxMessages && bytes <= maxBytes) break;
        cutoff = slot.seq;
        messages--;
        bytes -= slot.bytes;
      }
      afterSeq = oldest[oldest.length - 1]!.seq;
    }
    if (cutoff === undefined) return;
    this.sql.exec("DELETE FROM message_parts WHERE seq <= ?", cutoff);
    this.sql.exec("DELETE FROM messages WHERE seq <= ?", cutoff);
  }

  /** The messages of these slots, in their order. */
  private read(slots: Slot[]): Envelope[] {
    if (slots.length === 0) return [];
    const seqs = slots.map((slot) => slot.seq);
    // Bound parameters: at most 100 per statement, and BATCH is 100.
    const found = new Map<number, ArrayBuffer[]>();
    for (let start = 0; start < seqs.length; start += BATCH) {
      const chunk = seqs.slice(start, start + BATCH);
      const rows = this.sql
        .exec<{ seq: number; data: ArrayBuffer }>(
          `SELECT seq, data FROM message_parts WHERE seq IN (${chunk.map(() => "?").join(",")}) ORDER BY seq, part`,
          ...chunk,
        )
        .toArray();
      for (const row of rows) {
        const parts = found.get(row.seq);
        if (parts) parts.push(row.data);
        else found.set(row.seq, [row.data]);
      }
    }
    return seqs.flatMap((seq) => {
      const parts = found.get(seq);
      return parts === undefined ? [] : [JSON.parse(decoder.decode(concat(parts))) as Envelope];
    });
  }
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
