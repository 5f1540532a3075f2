// Path families: the same room is reachable as /room/{name} and /channel/{name};
// they differ only in how messages are serialized and in the words of reasons.
// they differ only in how messages are serialized and in the words of reasons.

export type Family = "rooms" | "channels";

export const FAMILIES = {
  rooms: { segment: "room", noun: "room", Noun: "Room" },
  channels: { segment: "channel", noun: "channel", Noun: "Channel" },
} as const satisfies Record<Family, { segment: string; noun: string; Noun: string }>;

export function familyOfSegment(segment: string): Family | undefined {
  if (segment === FAMILIES.rooms.segment) return "rooms";
  if (segment === FAMILIES.channels.segment) return "channels";
  return undefined;
}

/** `/room/{name}/ws` or `/channel/{name}/ws`, with the name URL-decoded. */
export function parseSocketPath(pathname: string): { family: Family; room: string } | undefined {
  const match = /^\/(room|channel)\/([^/]+)\/ws\/?$/.exec(pathname);
  if (!match?.[1] || !match[2]) return undefined;
  const family = familyOfSegment(match[1]);
  if (!family) return undefined;
  try {
    return { family, room: decodeURIComponent(match[2]) };
  } catch {
    return undefined;
  }
}

export function unknownRoomDetail(family: Family, room: string): string {
  return `${FAMILIES[family].Noun} '${room}' not registered`;
}
