// The server's limits as the benches see them: the defaults and the var names come from the
// limits table the server parses its configuration with (src/wire/limits.ts), never copied here.
import { LIMITS, type Limits } from "../src/wire/limits.ts";

/** Each limit's default, as the server has it when no var sets it. */
export const DEFAULT_LIMITS: Readonly<Limits> = Object.fromEntries(
  Object.entries(LIMITS).map(([name, spec]) => [name, spec.fallback]),
) as unknown as Limits;

/** `wrangler dev --var`s setting these limits, by the names the server reads ({ MAX_USERS: "1000000" }). */
export function limitVars(limits: Partial<Limits>): Record<string, string> {
  return Object.fromEntries(
    (Object.entries(limits) as [keyof Limits, number][]).map(([name, value]) => [LIMITS[name].variable, String(value)]),
  );
}

/** Messages a second and at once that no bench's sender reaches. */
export const UNLIMITED = 1_000_000;

/**
 * Vars that lift the per-socket rate limit (by default a burst of RATE_LIMIT_BURST, then
 * RATE_LIMIT_PER_SECOND), for benches whose own senders go faster than a person: they measure
 * delivery, not the limit.
 */
export const NO_RATE_LIMIT = limitVars({ rateLimitBurst: UNLIMITED, rateLimitPerSecond: UNLIMITED });

/** The vars as "NAME=value, ...", for a bench's header. */
export function describeVars(vars: Readonly<Record<string, string>>): string {
  return Object.entries(vars)
    .map(([key, value]) => `${key}=${value}`)
    .join(", ");
}
