// Per-socket rate limiting: a token bucket that lives in the socket's attachment.
// No timer refills it (a timer would keep the room awake): the tokens a socket has
// earned are computed from the time elapsed when its next message arrives. Kept in
// the attachment, the bucket survives hibernation, so a flooder cannot get a fresh
// budget by waiting for the room to fall asleep.

export interface RatePolicy {
  /** Messages a socket may send at once, after a quiet moment. */
  burst: number;
  /** Messages per second a socket may keep sending. */
  perSecond: number;
  /** Refusals, net of those forgiven over time, after which the socket is closed. */
  maxStrikes: number;
}

export interface Bucket {
  tokens: number;
  /** Strikes: refused messages, one forgiven every STRIKE_FORGIVEN_AFTER_MS. */
  strikes: number;
  /** Date.now() of the last update. */
  at: number;
}

export type RateVerdict =
  | { kind: "allowed"; bucket: Bucket }
  | { kind: "refused"; bucket: Bucket; retryAfterSeconds: number }
  | { kind: "flooding"; bucket: Bucket };

const STRIKE_FORGIVEN_AFTER_MS = 2_000;

/** What a message costs: pictures and layers weigh on every receiver and on storage. */
export const MESSAGE_COST: Readonly<Record<string, number>> = { image: 5, geojson: 5, model: 3, script: 3 };

export function costOf(type: string | undefined): number {
  return (type !== undefined && Object.hasOwn(MESSAGE_COST, type) ? MESSAGE_COST[type] : undefined) ?? 1;
}

export function fullBucket(policy: RatePolicy, now: number): Bucket {
  return { tokens: policy.burst, strikes: 0, at: now };
}

/** Charges `cost` tokens to the bucket, or says how long to wait, or that the socket floods. */
export function charge(previous: Bucket, cost: number, policy: RatePolicy, now: number): RateVerdict {
  const elapsed = Math.max(0, now - previous.at);
  const tokens = Math.min(policy.burst, previous.tokens + (elapsed / 1000) * policy.perSecond);
  const strikes = Math.max(0, previous.strikes - elapsed / STRIKE_FORGIVEN_AFTER_MS);
  // A message dearer than the whole burst could never pass: it takes the full bucket instead.
  const price = Math.min(cost, policy.burst);
  if (tokens >= price) return { kind: "allowed", bucket: { tokens: tokens - price, strikes, at: now } };
  const bucket = { tokens, strikes: strikes + 1, at: now };
  if (bucket.strikes > policy.maxStrikes) return { kind: "flooding", bucket };
  return { kind: "refused", bucket, retryAfterSeconds: Math.ceil((price - tokens) / policy.perSecond) };
}
