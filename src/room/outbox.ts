// The room's outbox: what the room owes the endpoints that hear it (webhooks, and
// the Matrix ping), in its SQLite (tables in schema.ts), delivered by the room's one
// alarm (alarm.ts), at least once and in order per endpoint.
//
// Nothing here holds the room up. Queueing is a few synchronous SQLite writes where
// a message is published; sending is fetches awaited in the alarm, during which the
// room goes on taking its sockets' frames (a fetch is I/O, not work on the thread).
// A failing endpoint waits longer each time (exponential backoff, its own: the
// others are not delayed), keeps at most `outboxMax` deliveries (the oldest dropped
// first, counted), and a webhook that has failed for a day is disabled.
import { logEvent } from "../server/log";
import type { Expiring } from "./alarm";

export type EndpointKind = "webhook" | "matrix";

/** An endpoint's row in hook_endpoints. */
export type EndpointRow = {
  id: string;
  kind: EndpointKind;
  url: string;
  secret: string;
  presence: number;
  created_at: number;
  disabled_at: number | null;
  disabled_reason: string | null;
  /** Consecutive failed attempts (0 once one succeeds). */
  failures: number;
  /** When the current run of failures began. */
  failing_since: number | null;
  next_attempt_at: number;
  last_attempt_at: number | null;
  last_status: string | null;
  last_success_at: number | null;
  delivered: number;
  dropped: number;
  pending: number;
};

/** One delivery as the endpoint's sender sees it. */
export interface Delivery {
  /** The same on every attempt: what the receiver de-duplicates on (and Matrix's txnId). */
  id: string;
  body: string;
  /** 1 on the first attempt. */
  attempt: number;
}

/** What an attempt came to: ok (2xx), or not, with a short status for the API ("503", "timeout"). */
export interface Outcome {
  ok: boolean;
  status: string;
}

export type Send = (endpoint: EndpointRow, delivery: Delivery) => Promise<Outcome>;

export interface OutboxPolicy {
  /** Deliveries kept waiting per endpoint; past it, the oldest is dropped. */
  outboxMax: number;
}

/** Retry delays: 10 s, doubling, at most an hour, plus up to a tenth more so that rooms do not retry in step. */
export const RETRY_BASE_MS = 10_000;
export const RETRY_MAX_MS = 3_600_000;
/** A webhook that has failed at least this many times in a row, for at least this long, is disabled. */
export const DISABLE_AFTER_FAILURES = 10;
export const DISABLE_AFTER_MS = 24 * 3_600_000;
/** All the bodies a room keeps waiting, whatever the endpoints: the oldest deliveries go first past it. */
export const OUTBOX_MAX_BYTES = 64_000_000;
/** What one ring of the alarm sends to one endpoint at most, and for how long: then the alarm rings again. */
const BATCH = 100;
const BATCH_MS = 30_000;
/** Deliveries sent before what was delivered is written (see drainEndpoint). */
const FLUSH_EVERY = 20;
/** Well under the 2 MB limit of one SQLite row (as history.ts). */
const CHUNK_BYTES = 1_000_000;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The delay before the next attempt after `failures` failures in a row. */
export function retryDelay(failures: number, random = Math.random()): number {
  const base = Math.min(RETRY_BASE_MS * 2 ** Math.max(0, failures - 1), RETRY_MAX_MS);
  return Math.round(base * (1 + random / 10));
}

export class Outbox {
  private readonly sql: SqlStorage;
  /** The enabled endpoints, read once per wake-up: the hot path (every message) reads only this. */
  private enabledCache: EndpointRow[] | undefined;
  /** Endpoints being sent to now: a second ring of the alarm leaves them to the first. */
  private readonly inFlight = new Set<string>();

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly room: () => string,
  ) {
    this.sql = storage.sql;
  }

  // -------------------------------------------------------------------------
  // Endpoints

  endpoint(id: string): EndpointRow | undefined {
    return this.sql.exec<EndpointRow>("SELECT * FROM hook_endpoints WHERE id = ?", id).toArray()[0];
  }

  endpoints(kind: EndpointKind): EndpointRow[] {
    return this.sql.exec<EndpointRow>("SELECT * FROM hook_endpoints WHERE kind = ? ORDER BY created_at, id", kind).toArray();
  }

  /** The enabled endpoints (cached). */
  enabled(): readonly EndpointRow[] {
    this.enabledCache ??= this.sql.exec<EndpointRow>("SELECT * FROM hook_endpoints WHERE disabled_at IS NULL").toArray();
    return this.enabledCache;
  }

  /** Creates or replaces an endpoint's settings; a replaced one is enabled again, its backoff forgotten, its deliveries kept. */
  putEndpoint(endpoint: { id: string; kind: EndpointKind; url: string; secret: string; presence: boolean }): void {
    this.sql.exec(
      `INSERT INTO hook_endpoints (id, kind, url, secret, presence, created_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET url = excluded.url, secret = excluded.secret, presence = excluded.presence,
         disabled_at = NULL, disabled_reason = NULL, failures = 0, failing_since = NULL, next_attempt_at = 0`,
      endpoint.id,
      endpoint.kind,
      endpoint.url,
      endpoint.secret,
      endpoint.presence ? 1 : 0,
      Date.now(),
    );
    this.enabledCache = undefined;
  }

  /** Enabled again, due at once: whether it exists. */
  enable(id: string): boolean {
    const changed = this.sql.exec(
      "UPDATE hook_endpoints SET disabled_at = NULL, disabled_reason = NULL, failures = 0, failing_since = NULL, next_attempt_at = 0 WHERE id = ?",
      id,
    ).rowsWritten;
    this.enabledCache = undefined;
    return changed > 0;
  }

  /** Deletes the endpoint and what it was owed: whether it existed. */
  removeEndpoint(id: string): boolean {
    let existed = false;
    this.storage.transactionSync(() => {
      this.sql.exec("DELETE FROM outbox WHERE endpoint = ?", id);
      existed = this.sql.exec("DELETE FROM hook_endpoints WHERE id = ?", id).rowsWritten > 0;
    });
    this.enabledCache = undefined;
    return existed;
  }

  // -------------------------------------------------------------------------
  // Queueing: on the room's thread, synchronous, cheap

  /**
   * Owes `body` to each of these endpoints: one body row (in chunks), one delivery row
   * each. An endpoint past `outboxMax` loses its oldest delivery, and the room's
   * outbox past OUTBOX_MAX_BYTES its oldest ones, each counted as dropped.
   */
  enqueue(body: string, endpointIds: readonly string[], policy: OutboxPolicy): void {
    if (endpointIds.length === 0) return;
    const bytes = encoder.encode(body);
    if (bytes.length > OUTBOX_MAX_BYTES) {
      for (const id of endpointIds) this.sql.exec("UPDATE hook_endpoints SET dropped = dropped + 1 WHERE id = ?", id);
      return;
    }
    const now = Date.now();
    this.storage.transactionSync(() => {
      const { id: bodyId } = this.sql.exec<{ id: number }>("INSERT INTO outbox_bodies (bytes) VALUES (?) RETURNING id", bytes.length).one();
      for (let offset = 0, part = 0; offset < bytes.length || part === 0; offset += CHUNK_BYTES, part++) {
        this.sql.exec(
          "INSERT INTO outbox_body_parts (body, part, data) VALUES (?, ?, ?)",
          bodyId,
          part,
          bytes.subarray(offset, offset + CHUNK_BYTES).slice().buffer,
        );
      }
      let queued = 0;
      for (const endpoint of endpointIds) {
        // Gone since the cache was read (the room's storage deleted when it was removed): forget the cache.
        if (this.sql.exec("SELECT 1 FROM hook_endpoints WHERE id = ?", endpoint).toArray().length === 0) {
          this.enabledCache = undefined;
          continue;
        }
        this.sql.exec(
          "INSERT INTO outbox (endpoint, body, delivery, created_at) VALUES (?, ?, ?, ?)",
          endpoint,
          bodyId,
          crypto.randomUUID(),
          now,
        );
        queued++;
        const { pending } = this.sql.exec<{ pending: number }>("SELECT pending FROM hook_endpoints WHERE id = ?", endpoint).one();
        if (pending > policy.outboxMax) {
          this.dropOldest("WHERE endpoint = ?", pending - policy.outboxMax, endpoint);
        }
      }
      if (queued === 0) this.sql.exec("DELETE FROM outbox_bodies WHERE id = ?", bodyId);
      while (this.totalBytes() > OUTBOX_MAX_BYTES && this.dropOldest("", 1) > 0) {
        // Each pass drops the room's oldest delivery.
      }
    });
  }

  /** Drops the `count` oldest deliveries matching `where`, counting them to their endpoints: how many went. */
  private dropOldest(where: string, count: number, ...bindings: string[]): number {
    const doomed = this.sql
      .exec<{ seq: number; endpoint: string }>(`SELECT seq, endpoint FROM outbox ${where} ORDER BY seq LIMIT ?`, ...bindings, count)
      .toArray();
    for (const { seq, endpoint } of doomed) {
      this.sql.exec("DELETE FROM outbox WHERE seq = ?", seq);
      this.sql.exec("UPDATE hook_endpoints SET dropped = dropped + 1 WHERE id = ?", endpoint);
    }
    return doomed.length;
  }

  private totalBytes(): number {
    return this.sql.exec<{ bytes: number }>("SELECT bytes FROM outbox_totals").one().bytes;
  }

  // -------------------------------------------------------------------------
  // Sending: in the alarm, awaiting I/O

  /** The outbox as one of the things the room's alarm does when due. */
  expiring(send: () => Send): Expiring {
    return { nextExpiry: () => this.nextDue(), removeExpired: () => this.drain(send()) };
  }

  /** When the next delivery is due: the earliest retry time of an enabled endpoint with deliveries waiting (not now being sent to). */
  nextDue(): number | undefined {
    let earliest: number | undefined;
    for (const row of this.sql.exec<{ id: string; next_attempt_at: number }>(
      "SELECT id, next_attempt_at FROM hook_endpoints WHERE disabled_at IS NULL AND pending > 0",
    )) {
      if (this.inFlight.has(row.id)) continue;
      if (earliest === undefined || row.next_attempt_at < earliest) earliest = row.next_attempt_at;
    }
    return earliest === undefined ? undefined : Math.max(earliest, Date.now());
  }

  /** Sends what is due, to every due endpoint at once, each in its own order. */
  async drain(send: Send): Promise<void> {
    const now = Date.now();
    const due = this.sql
      .exec<{ id: string }>("SELECT id FROM hook_endpoints WHERE disabled_at IS NULL AND pending > 0 AND next_attempt_at <= ?", now)
      .toArray()
      .filter(({ id }) => !this.inFlight.has(id));
    await Promise.all(due.map(({ id }) => this.drainEndpoint(id, send)));
  }

  /**
   * Sends an endpoint's deliveries in order until one fails or the batch is done. What
   * was delivered is written (deleted, counted) every FLUSH_EVERY deliveries rather than
   * after each: a storage write holds the room's next outgoing request until it is
   * confirmed (the output gate), so writing between two fetches would make each
   * delivery wait for a commit. A room evicted meanwhile sends those again, with their
   * delivery ids: at least once.
   */
  private async drainEndpoint(id: string, send: Send): Promise<void> {
    this.inFlight.add(id);
    let deliveredUpTo = 0;
    let unwritten = 0;
    let lastStatus = "";
    const flush = () => {
      if (unwritten === 0) return;
      this.writeDelivered(id, deliveredUpTo, unwritten, lastStatus);
      unwritten = 0;
    };
    try {
      const started = Date.now();
      for (let sent = 0; sent < BATCH && Date.now() - started < BATCH_MS; sent++) {
        // Read again each time: it may have been removed, disabled or re-registered meanwhile.
        const endpoint = this.endpoint(id);
        if (endpoint === undefined || endpoint.disabled_at !== null) return;
        const head = this.sql
          .exec<{ seq: number; body: number; delivery: string; attempts: number }>(
            "SELECT seq, body, delivery, attempts FROM outbox WHERE endpoint = ? AND seq > ? ORDER BY seq LIMIT 1",
            id,
            deliveredUpTo,
          )
          .toArray()[0];
        if (head === undefined) return;
        const outcome = await send(endpoint, { id: head.delivery, body: this.readBody(head.body), attempt: head.attempts + 1 });
        if (!outcome.ok) {
          flush();
          this.recordFailure(id, head.seq, outcome);
          return;
        }
        deliveredUpTo = head.seq;
        lastStatus = outcome.status;
        if (++unwritten >= FLUSH_EVERY) flush();
      }
    } finally {
      flush();
      this.inFlight.delete(id);
    }
  }

  /** `count` deliveries up to `upTo` went through: deleted, counted, the endpoint's failures forgotten. */
  private writeDelivered(id: string, upTo: number, count: number, status: string): void {
    const now = Date.now();
    this.storage.transactionSync(() => {
      this.sql.exec("DELETE FROM outbox WHERE endpoint = ? AND seq <= ?", id, upTo);
      this.sql.exec(
        `UPDATE hook_endpoints SET delivered = delivered + ?, failures = 0, failing_since = NULL, next_attempt_at = 0,
           last_attempt_at = ?, last_status = ?, last_success_at = ? WHERE id = ?`,
        count,
        now,
        status,
        now,
        id,
      );
    });
  }

  private readBody(id: number): string {
    const parts = this.sql
      .exec<{ data: ArrayBuffer }>("SELECT data FROM outbox_body_parts WHERE body = ? ORDER BY part", id)
      .toArray()
      .map((row) => new Uint8Array(row.data));
    if (parts.length === 1) return decoder.decode(parts[0]);
    const joined = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
    let offset = 0;
    for (const part of parts) {
      joined.set(part, offset);
      offset += part.length;
    }
    return decoder.decode(joined);
  }

  /** A failed attempt: the endpoint waits longer for its next one, and is disabled after a day of them. */
  private recordFailure(id: string, seq: number, outcome: Outcome): void {
    const endpoint = this.endpoint(id);
    if (endpoint === undefined) return;
    const now = Date.now();
    const failures = endpoint.failures + 1;
    const failingSince = endpoint.failing_since ?? now;
    const disable = endpoint.kind === "webhook" && failures >= DISABLE_AFTER_FAILURES && now - failingSince >= DISABLE_AFTER_MS;
    const reason = disable
      ? `${failures} failed deliveries in a row over ${Math.floor((now - failingSince) / 3_600_000)} h (last: ${outcome.status}): register it again, or enable it, once it answers.`
      : null;
    this.storage.transactionSync(() => {
      this.sql.exec("UPDATE outbox SET attempts = attempts + 1 WHERE seq = ?", seq);
      this.sql.exec(
        `UPDATE hook_endpoints SET failures = ?, failing_since = ?, next_attempt_at = ?, last_attempt_at = ?, last_status = ?,
           disabled_at = ?, disabled_reason = ? WHERE id = ?`,
        failures,
        failingSince,
        now + retryDelay(failures),
        now,
        outcome.status,
        disable ? now : null,
        reason,
        id,
      );
    });
    if (disable) {
      this.enabledCache = undefined;
      // Once: a disabled endpoint is not sent to again until a moderator enables it.
      logEvent("webhook_disabled", {
        room: this.room(),
        webhook: id,
        origin: originOf(endpoint.url),
        failures,
        last_status: outcome.status,
      });
    } else if (failures === 1) {
      logEvent(`${endpoint.kind}_failing`, { room: this.room(), endpoint: id, origin: originOf(endpoint.url), status: outcome.status });
    }
  }
}

/** Only the scheme and host of a URL in a log line: its path may hold a token (Slack-style hooks do). */
export function originOf(url: string): string {
  return URL.canParse(url) ? new URL(url).origin : "";
}
