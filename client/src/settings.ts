// Which room, nickname and avatar: from a deep link (/?room=QGIS&nickname=jane_doe,
// handy to paste in a chat) or else from the last visit, kept in localStorage.

export interface Choice {
  room: string;
  nickname: string;
  avatar: string | null;
}

const STORAGE_KEY = "gischat.choice";
const BASEMAP_KEY = "gischat.basemap";

export function rememberedChoice(storage: Storage): Partial<Choice> {
  try {
    const stored: unknown = JSON.parse(storage.getItem(STORAGE_KEY) ?? "null");
    if (typeof stored !== "object" || stored === null) return {};
    const { room, nickname, avatar } = stored as Record<string, unknown>;
    return {
      ...(typeof room === "string" ? { room } : {}),
      ...(typeof nickname === "string" ? { nickname } : {}),
      ...(typeof avatar === "string" || avatar === null ? { avatar } : {}),
    };
  } catch {
    return {}; // Unreadable or blocked storage: start afresh.
  }
}

export function rememberChoice(storage: Storage, choice: Choice): void {
  try {
    storage.setItem(STORAGE_KEY, JSON.stringify(choice));
  } catch {
    // Storage full or disabled (private mode): the choice is simply not remembered.
  }
}

/** `room` and `nickname` from the page's query string, when both are there. */
export function deepLink(search: string): { room: string; nickname: string } | undefined {
  const params = new URLSearchParams(search);
  const room = params.get("room");
  const nickname = params.get("nickname");
  return room && nickname ? { room, nickname } : undefined;
}

export function rememberedBasemap(storage: Storage): string | null {
  try {
    return storage.getItem(BASEMAP_KEY);
  } catch {
    return null;
  }
}

export function rememberBasemap(storage: Storage, name: string): void {
  try {
    storage.setItem(BASEMAP_KEY, name);
  } catch {
    // Not remembered; nothing else depends on it.
  }
}
