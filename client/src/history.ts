// Where the page is and what it has shown of the room's history: the pure parts.
//
// A space link (https://host/s/{key}/) is the same client inside a private space:
// every path it asks for (REST and WebSocket) starts with that page's /s/{key}, as
// QGIS and QField keep the path of the instance URL they are given. And "load
// earlier messages" pages the room's history backwards (GET …/messages?before=)
// from the oldest message shown, inserting above what is shown without showing any
// message twice.

/** How many messages one "load earlier" asks for (the server allows 1 to 100). */
export const PAGE_LIMIT = 50;

/** `/s/{key}` then the end of the path or a slash: a space's key is URL-safe base64. */
const SPACE_PATH = /^\/s\/([A-Za-z0-9_-]+)(?:\/|$)/;

/** The prefix of every path the page asks for: "/s/{key}" on a space link, "" among the public rooms. */
export function spacePrefix(pathname: string): string {
  const match = SPACE_PATH.exec(pathname);
  return match ? `/s/${match[1]}` : "";
}

/** A path of one room (channels family), in the page's realm: `{prefix}/channel/{room}/{rest}`. */
export function roomPath(prefix: string, room: string, rest: string): string {
  return `${prefix}/channel/${encodeURIComponent(room)}/${rest}`;
}

/** GET …/messages for the page before `before` (the newest page without it). */
export function pagePath(prefix: string, room: string, before: string | undefined, limit = PAGE_LIMIT): string {
  const query = new URLSearchParams();
  if (before !== undefined) query.set("before", before);
  query.set("limit", String(limit));
  return `${roomPath(prefix, room, "messages")}?${query}`;
}

export interface Page<M> {
  /** Oldest first within the page. */
  messages: M[];
  /** The `before` of the next (older) page; null when nothing is older. */
  next_before: string | null;
}

/** The body of GET …/messages, if it has the documented shape: messages with an id and a type, and next_before. */
export function parsePage<M extends { id: string; type: string }>(body: unknown): Page<M> | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const { messages, next_before: nextBefore } = body as Record<string, unknown>;
  if (!Array.isArray(messages) || !(nextBefore === null || typeof nextBefore === "string")) return undefined;
  const wellFormed = messages.every(
    (message: unknown) =>
      typeof message === "object" &&
      message !== null &&
      typeof (message as { id?: unknown }).id === "string" &&
      typeof (message as { type?: unknown }).type === "string",
  );
  return wellFormed ? { messages: messages as M[], next_before: nextBefore } : undefined;
}

/**
 * The ids of the history's messages the conversation shows, in the order shown
 * (oldest first): the cursor of "load earlier", and what a page must not repeat.
 */
export class ShownHistory {
  private ids: string[] = [];
  /** Ids the server did not take as a cursor (a cheat code is shown but not stored; a message may have expired). */
  private readonly refused = new Set<string>();

  /** A message shown below the others (replayed or live). */
  append(id: string): void {
    this.ids.push(id);
  }

  /** A message no longer shown (a moderator deleted it). */
  remove(id: string): void {
    this.ids = this.ids.filter((shown) => shown !== id);
  }

  has(id: string): boolean {
    return this.ids.includes(id);
  }

  get size(): number {
    return this.ids.length;
  }

  /** Oldest first. */
  get shown(): readonly string[] {
    return this.ids;
  }

  /** The `before` of the next "load earlier": the oldest message shown that the server has not refused as a cursor. */
  cursor(): string | undefined {
    return this.ids.find((id) => !this.refused.has(id));
  }

  /** The server answered 404 for this cursor: the next one is the message after it. */
  refuseCursor(id: string): void {
    this.refused.add(id);
  }

  /**
   * Puts a page (oldest first) above what is shown, and returns the messages to
   * draw, oldest first: those not shown yet (`alsoKnown` says what else the page
   * already has, e.g. a message received but not in the list), each once.
   */
  prepend<M extends { id: string }>(page: readonly M[], alsoKnown: (id: string) => boolean = () => false): M[] {
    const seen = new Set(this.ids);
    const added: M[] = [];
    for (const message of page) {
      if (seen.has(message.id) || alsoKnown(message.id)) continue;
      seen.add(message.id);
      added.push(message);
    }
    this.ids = [...added.map((message) => message.id), ...this.ids];
    return added;
  }
}
