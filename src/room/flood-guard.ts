// The room's guard against flooders, as each shard would run it for its own
// sockets: every frame is charged to its socket's token bucket (kept in the
// attachment), and a socket that keeps flooding after warnings is closed, its
// network remembered in SQLite (flooders.ts) so that it cannot come straight back.
import { Flooders, type Standing } from "./flooders";
import { type Bucket, charge, fullBucket, type RatePolicy } from "./rate-limit";
import type { Sockets } from "./sockets";

/** Refusals for sending too fast, net of those forgiven over time, before a socket is closed. */
const FLOOD_STRIKES = 10;
/** How long connections from a flooder's address are refused before the upgrade... */
const FLOODER_REFUSAL_MS = 60_000;
/** ...and how long its sockets start with an empty budget. */
const FLOODER_COOLDOWN_MS = 10 * 60_000;
const WELCOME: Standing = { kind: "welcome" };

export type Charge = { kind: "allowed" } | { kind: "refused"; retryAfterSeconds: number } | { kind: "flooding" };

export class FloodGuard {
  private readonly flooders: Flooders;

  constructor(
    storage: DurableObjectStorage,
    private readonly sockets: Sockets,
    private readonly limits: () => { rateLimitBurst: number; rateLimitPerSecond: number },
  ) {
    this.flooders = new Flooders(storage);
  }

  /** How a connection from this network stands: welcome, refused for a while, or with an empty budget. */
  standing(address: string | null): Standing {
    return address === null ? WELCOME : this.flooders.standing(address, Date.now());
  }

  /** A socket from an address that flooded recently starts with nothing to spend. */
  startingBucket(standing: Standing): Bucket {
    const full = fullBucket(this.policy(), Date.now());
    return standing.kind === "empty budget" ? { ...full, tokens: 0 } : full;
  }

  /** Charges `cost` to the socket's budget. */
  charge(ws: WebSocket, cost: number): Charge {
    const verdict = charge(this.sockets.stateOf(ws).bucket, cost, this.policy(), Date.now());
    this.sockets.update(ws, { bucket: verdict.bucket });
    return verdict;
  }

  /** Drops what is kept in memory of the room's storage (a room dissolved). */
  forget(): void {
    this.flooders.forget();
  }

  /** Refuses the flooder's network for a minute, then gives its sockets an empty budget for ten. */
  remember(address: string | null): void {
    if (address === null) return;
    const now = Date.now();
    this.flooders.remember(address, { refusedUntil: now + FLOODER_REFUSAL_MS, emptyBudgetUntil: now + FLOODER_COOLDOWN_MS }, now);
  }

  private policy(): RatePolicy {
    const { rateLimitBurst: burst, rateLimitPerSecond: perSecond } = this.limits();
    return { burst, perSecond, maxStrikes: FLOOD_STRIKES };
  }
}
