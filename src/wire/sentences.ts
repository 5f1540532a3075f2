// The sentences a client can read in a REST answer's `detail`, written once: the
// routes answer them and the OpenAPI document shows them as examples.
// (The room's own refusals, the 403 and 409 of PUT …/text, are written in
// src/room/room.ts and the 429 in src/server/client-network.ts; the functions
// below give the same sentences for the document, and test/openapi.test.ts
// checks that the server answers them.)

export const MODERATION_DISABLED = "Moderation is disabled on this server: no ADMIN_TOKEN secret is configured.";

export const ADMIN_TOKEN_REQUIRED = "A valid 'Authorization: Bearer <ADMIN_TOKEN>' header is required.";

export const NOT_A_WEBSOCKET_UPGRADE = "Expected a WebSocket upgrade (Upgrade: websocket)";

/** The longest ban a moderator can give, in seconds: a year. */
export const MAX_BAN_SECONDS = 365 * 24 * 3600;

/** What `seconds` of DELETE …/users/{nickname} must be. */
export const BAN_DURATION = `a whole number of seconds from 1 to ${MAX_BAN_SECONDS} (a year)`;

export const BAN_SECONDS_INVALID = `Query parameter 'seconds' must be ${BAN_DURATION}: how long the ban lasts.`;

/** 403 of PUT …/text: a moderator banned the author's nickname from the room. */
export function nicknameBannedDetail(nickname: string, until: Date): string {
  return `The nickname '${nickname}' is banned from this room by a moderator until ${until.toISOString()}.`;
}

/** 409 of PUT …/text: a connected socket of the room holds the author's nickname. */
export function nicknameRegisteredDetail(nickname: string): string {
  return `The nickname '${nickname}' is registered by a connected user: post under another nickname.`;
}

/** 429 before a WebSocket upgrade, from an address whose socket was closed for flooding. */
export function floodRefusalDetail(noun: string, room: string, seconds: number): string {
  return `${noun} '${room}' closed a connection from your address for flooding: new connections from it are refused for ${seconds} s more.`;
}
