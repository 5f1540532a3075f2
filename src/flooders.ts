// Client networks whose socket the room closed for flooding. The room remembers
// them in its SQLite (storage-schema.ts): for a short while a connection from such
// a network is refused before it is upgraded, so that a flooder reconnecting at
// once costs the room one small answer, instead of a socket, two broadcasts and all
// the frames it pushes before it is closed again; for longer, a socket from there
// starts with an empty rate-limit budget, so that reconnecting buys no fresh burst.
// The Worker keeps the refusals it has passed on in memory and answers the next
// attempts itself, without waking the room.
import ipaddr from "ipaddr.js";

/**
 * What a flooder is remembered by: its IPv4 address, or the /64 of its IPv6 one,
 * because a host picks freely among the addresses of its /64.
 */
export function networkOf(address: string): string {
  if (!ipaddr.isValid(address)) return address;
  // An IPv4-mapped IPv6 address counts as the IPv4 one.
  const ip = ipaddr.process(address);
  if (ip.kind() === "ipv4") return ip.toString();
  return `${ipaddr.IPv6.networkAddressFromCIDR(`${ip.toString()}/64`).toString()}/64`;
}

/** The network of the client (Cloudflare's CF-Connecting-IP), if the request says. */
export function clientNetwork(request: Request): string | null {
  const address = request.headers.get("CF-Connecting-IP");
  return address === null ? null : networkOf(address);
}

/** 429 before the upgrade: the client sees a failed handshake, and sends nothing. */
export function floodRefusal(noun: string, room: string, until: number, now: number): Response {
  const seconds = Math.max(1, Math.ceil((until - now) / 1000));
  const detail = `${noun} '${room}' closed a connection from your address for flooding: new connections from it are refused for ${seconds} s more.`;
  return Response.json({ detail }, { status: 429, headers: { "Retry-After": String(seconds) } });
}

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

/**
 * The Worker's memory of the refusals the rooms answered, per isolate: a cache of
 * the rooms' SQLite, which stays the truth. A flooder retrying in a loop is then
 * refused here until its Retry-After ends, and the room can sleep meanwhile.
 */
export class RefusalCache {
  private readonly refusedUntil = new Map<string, number>();

  constructor(private readonly maxEntries = 10_000) {}

  until(room: string, network: string, now: number): number | undefined {
    const key = cacheKey(room, network);
    const until = this.refusedUntil.get(key);
    if (until === undefined || until > now) return until;
    this.refusedUntil.delete(key);
    return undefined;
  }

  /** Remembers a room's 429 (floodRefusal) for as long as its Retry-After says. */
  note(room: string, network: string, refusal: Response, now: number): void {
    const seconds = Number(refusal.headers.get("Retry-After"));
    if (!(seconds > 0)) return;
    if (this.refusedUntil.size >= this.maxEntries) this.forgetExpired(now);
    // Still full of live refusals: the oldest go first (a Map iterates in insertion order).
    for (const key of this.refusedUntil.keys()) {
      if (this.refusedUntil.size < this.maxEntries) break;
      this.refusedUntil.delete(key);
    }
    this.refusedUntil.set(cacheKey(room, network), now + seconds * 1000);
  }

  private forgetExpired(now: number): void {
    for (const [key, until] of this.refusedUntil) if (until <= now) this.refusedUntil.delete(key);
  }
}

function cacheKey(room: string, network: string): string {
  return `${network} ${room}`;
}
