// Which Durable Object holds a room, and what a room may be called.
//
// A public room keeps the object it always had, named by the room (its history is
// there). A space's room is named by the space id and the room name after a
// character no room name may hold, so that no public room can reach a space's object,
// nor one space another's.

const SEPARATOR = "\u0000";
/** Longest room name, in code points: a name is shown in every client's room list. */
export const MAX_ROOM_NAME = 64;

export function roomObjectName(room: string, spaceId?: string): string {
  return spaceId === undefined ? room : `${SEPARATOR}${spaceId}${SEPARATOR}${room}`;
}

export function parseRoomObjectName(name: string): { room: string; spaceId?: string } {
  if (!name.startsWith(SEPARATOR)) return { room: name };
  const [, spaceId = "", room = ""] = name.split(SEPARATOR);
  return { room, spaceId };
}

/** Why a name given at run time cannot be a room's, or undefined when it can. */
export function roomNameProblem(name: unknown): string | undefined {
  if (typeof name !== "string") return "Field 'name' must be a string: the room's name.";
  const trimmed = name.trim();
  if (trimmed === "") return "Field 'name' must not be empty.";
  if (trimmed !== name) return "Field 'name' must not start or end with spaces.";
  if ([...name].length > MAX_ROOM_NAME) return `Field 'name' must be at most ${MAX_ROOM_NAME} characters long.`;
  // A comma would split it in CHANNELS, a slash in a path; control characters are invisible.
  if (/[,/\p{Cc}]/u.test(name)) return "Field 'name' may not contain a comma, a slash or a control character.";
  return undefined;
}
