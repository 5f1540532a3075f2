// The rooms the tests use, declared once: vitest.config.ts configures them
// (CHANNELS and ROOM_LIMITS), and each pool hands a test a room no other test of
// its file has used (storage is isolated per test file, not per test).

/** Plain rooms, with the default limits. */
const PLAIN = pool("room", 120);
/** A socket may send 5 messages at once, then one every 5 s. */
const SLOW = pool("slow", 16, { rate_limit_burst: 5, rate_limit_per_second: 0.2 });
/** A user's position counts for one second (test/positions.test.ts). */
const BRIEF = pool("brief", 4, { position_max_age_seconds: 1 });
/** test/hostile.test.ts sends thousands of frames from one socket. */
const HOSTILE = pool("hostile", 16, { rate_limit_burst: 1_000_000, rate_limit_per_second: 1_000_000 });
/** test/retention.test.ts: a history of at most 6 messages, and one of at most 2,000 bytes. */
const FEW = pool("few", 8, { retention_max_messages: 6 });
const SMALL = pool("small", 8, { retention_max_bytes: 2_000 });

/** Rooms some tests name: the default ones, a name with spaces, and a room of three. */
const NAMED = ["QGIS", "Geotribu", "Field and mobile"];
const SMALL_ROOM = "small room";

export const TEST_ROOMS = {
  names: [...NAMED, ...PLAIN.names, SMALL_ROOM, ...SLOW.names, ...HOSTILE.names, ...FEW.names, ...SMALL.names, ...BRIEF.names],
  limits: {
    [SMALL_ROOM]: { max_users: 3 },
    ...SLOW.limits,
    ...HOSTILE.limits,
    ...FEW.limits,
    ...SMALL.limits,
    ...BRIEF.limits,
  } as Record<string, Record<string, number>>,
};

export const freshRoom = PLAIN.next;
export const freshSlowRoom = SLOW.next;
export const freshHostileRoom = HOSTILE.next;
export const freshBriefRoom = BRIEF.next;
export const freshFewRoom = FEW.next;
export const freshSmallRoom = SMALL.next;
export { SMALL_ROOM };

function pool(prefix: string, size: number, limits?: Record<string, number>) {
  const names = Array.from({ length: size }, (_, i) => `${prefix}-${i}`);
  let used = 0;
  return {
    names,
    limits: limits === undefined ? {} : Object.fromEntries(names.map((name) => [name, limits])),
    next(): string {
      const name = names[used++];
      if (name === undefined) throw new Error(`Only ${size} '${prefix}' rooms are configured: raise the number in test/rooms.ts`);
      return name;
    },
  };
}
