// Where a request is: among the public rooms, or in a private space reached as
// /s/{key}/… (an instance URL with a path, which every client keeps on every
// request). The Worker answers both with the same routes; the realm says which
// rooms exist there, their rules and limits, and which Durable Object holds each.
//
// What the Directory says is cached here for a few seconds per isolate: a join
// costs no round trip to it while the cache is warm, and a change made through this
// isolate is seen at once (the others see it within REALM_TTL_MS).
import type { Directory, SpaceRecord } from "../directory/directory";
import { type Config, type Limits, limitsForSpace, limitsOf } from "../server/config";
import { roomObjectName } from "../server/room-names";
import { importSecret, verifySpaceKey } from "../server/space-keys";

export interface Realm {
  /** The space's id; undefined among the public rooms. */
  spaceId?: string;
  /** The space's record (name, owner token's hash…). */
  space?: SpaceRecord;
  /** Its rooms, in a stable order: the seed list, then the rooms added at run time. */
  rooms: readonly string[];
  rules: string;
  /** Its defaults, as /rules shows them. */
  limits: Limits;
  limitsOf(room: string): Limits;
  /** The Durable Object name of one of its rooms. */
  objectName(room: string): string;
}

/** How long an isolate trusts what the Directory said of a realm. */
export const REALM_TTL_MS = 5_000;

/** A realm's answer (or the load still under way: until is then +∞) by realm. */
const cache = new Map<string, { value: Promise<unknown>; until: number }>();
let signingKey: Promise<CryptoKey> | undefined;

export function directoryOf(env: Env): DurableObjectStub<Directory> {
  return env.DIRECTORY.get(env.DIRECTORY.idFromName("directory"));
}

export async function publicRealm(env: Env, config: Config): Promise<Realm> {
  const rooms = await cached("public", () => directoryOf(env).publicRooms(config.rooms));
  return {
    rooms,
    rules: config.rules,
    limits: config.limits,
    limitsOf: (room) => limitsOf(config, room),
    objectName: (room) => roomObjectName(room),
  };
}

/** The space a key opens, or undefined for a key that is wrong, old or revoked: answered like a missing path. */
export async function spaceRealm(env: Env, config: Config, key: string): Promise<Realm | undefined> {
  signingKey ??= directoryOf(env)
    .secret()
    .then((raw) => importSecret(new Uint8Array(raw)))
    .catch((error: unknown) => {
      // Not kept: one failed call must not refuse every space until the isolate goes.
      signingKey = undefined;
      throw error;
    });
  const named = await verifySpaceKey(await signingKey, key);
  if (named === undefined) return undefined;
  const space = await cached(`space ${named.spaceId}`, () => directoryOf(env).space(named.spaceId));
  if (space === undefined || space.version !== named.version) return undefined;
  const limits = limitsForSpace(config, space.limits);
  return {
    spaceId: space.id,
    space,
    rooms: space.rooms,
    rules: space.rules,
    limits,
    limitsOf: () => limits,
    objectName: (room) => roomObjectName(room, space.id),
  };
}

/** After a change made through this isolate: the next request asks the Directory again. */
export function forgetRealm(spaceId?: string): void {
  cache.delete(spaceId === undefined ? "public" : `space ${spaceId}`);
}

/**
 * Single-flight: the requests that miss together share one load. After a deploy every
 * isolate starts cold while thousands of sockets reconnect at once, and each would
 * otherwise ask the one Directory object the same question.
 */
export function cached<T>(key: string, load: () => Promise<T>): Promise<T> {
  const hit = cache.get(key);
  if (hit !== undefined && hit.until > Date.now()) return hit.value as Promise<T>;
  const value = load().then(
    (loaded) => {
      // Trusted for REALM_TTL_MS from the answer, as before, not from the question.
      if (cache.get(key)?.value === value) cache.set(key, { value, until: Date.now() + REALM_TTL_MS });
      return loaded;
    },
    (error: unknown) => {
      // A failed load is not cached: the next request asks again.
      if (cache.get(key)?.value === value) cache.delete(key);
      throw error;
    },
  );
  cache.set(key, { value, until: Number.POSITIVE_INFINITY });
  return value;
}
