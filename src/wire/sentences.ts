// Every sentence the room and the Worker send a client (in `uncompliant`, a close
// reason or a REST `detail`), besides the validation reasons each schema carries
// (messages.ts, text.ts) and 1.x's notices (gischat1.ts): one definition each, used
// by the code, the OpenAPI document's examples and the tests.
import { FAMILIES, type Family } from "./families";

const alreadyRegisteredPrefix = (nickname: string) => `User '${nickname}' already registered`;

/** The longest ban a moderator can give, in seconds: a year. */
export const MAX_BAN_SECONDS = 365 * 24 * 3600;
/** What `seconds` of DELETE …/users/{nickname} must be. */
export const BAN_DURATION = `a whole number of seconds from 1 to ${MAX_BAN_SECONDS} (a year)`;

/** The most messages one page of GET …/messages holds, and how many without `limit`. */
export const MAX_PAGE_LIMIT = 100;
export const DEFAULT_PAGE_LIMIT = 50;
const PAGE_LIMIT_RULE = `a whole number from 1 to ${MAX_PAGE_LIMIT} (default ${DEFAULT_PAGE_LIMIT})`;

export const sentences = {
  alreadyRegistered: (family: Family, room: string, nickname: string) =>
    `${alreadyRegisteredPrefix(nickname)} in ${FAMILIES[family].noun} ${room}`,
  alreadyRegisteredPrefix,
  notYourExit: (held: string | null, exiter: string) =>
    `You can only announce your own exit: ${held === null ? "this connection has no registered nickname" : `this connection is registered as '${held}'`}, not '${exiter}'.`,
  heldByAnother: (nickname: string) =>
    `The nickname '${nickname}' is registered by another user in this room: post under your own nickname.`,
  heldByConnectedUser: (nickname: string) => `The nickname '${nickname}' is registered by a connected user: post under another nickname.`,
  banned: (nickname: string, until: number) =>
    `The nickname '${nickname}' is banned from this room by a moderator until ${new Date(until).toISOString()}.`,
  tooFast: (seconds: number) =>
    `You are sending messages too fast: wait ${seconds} s before sending again (pictures and layers count more).`,
  processingFailed: "The server could not process this message; nothing was sent. Please try again.",
  /** Close reasons: at most 123 bytes. */
  closedForFlooding: "Closed for flooding: too many messages after warnings to slow down.",
  closedByBan: (minutes: number) => `Banned from this room by a moderator for ${minutes} min.`,
  roomFull: (family: Family, room: string, maxUsers: number) =>
    `${FAMILIES[family].Noun} '${room}' is full (${maxUsers} connected): try again later.`,
  floodRefusal: (noun: string, room: string, seconds: number) =>
    `${noun} '${room}' closed a connection from your address for flooding: new connections from it are refused for ${seconds} s more.`,
  notAnUpgradeToRoom: "Expected a WebSocket upgrade on /room/{name}/ws or /channel/{name}/ws",
  roomExists: (room: string) => `There is already a room named '${room}' here: choose another name.`,
  noSuchRoom: (room: string) => `There is no room named '${room}' here.`,
  tooManyRooms: (max: number) => `A space holds at most ${max} rooms: remove one before adding another.`,
  noSuchSpace: "No such space: it may have been revoked.",
  noPosition: (nickname: string) =>
    `'${nickname}' has no current position in this room (not connected, or no position shared within position_max_age_seconds): give lon and lat instead.`,
  /** Close reasons of the sockets of a room that goes away (at most 123 bytes). */
  roomRemoved: "This room was removed by its moderator.",
  spaceRevoked: "This space was closed by the instance's moderator.",
  keyRotated: "This space has a new key: ask its owner for the new address.",
  spaceOwnerRequired: "A valid 'Authorization: Bearer <owner token>' header is required (or the instance's ADMIN_TOKEN).",
  notAWebSocketUpgrade: "Expected a WebSocket upgrade (Upgrade: websocket)",
  moderationDisabled: "Moderation is disabled on this server: no ADMIN_TOKEN secret is configured.",
  adminTokenRequired: "A valid 'Authorization: Bearer <ADMIN_TOKEN>' header is required.",
  unknownCursor: (family: Family, room: string, id: string) =>
    `No message with id '${id}' in the history of ${FAMILIES[family].noun} ${room}: it was deleted, or is past the retention, or never was. Ask again without 'before' for the newest page.`,
  unknownMessage: (family: Family, room: string, id: string) =>
    `No message with id '${id}' in the history of ${FAMILIES[family].noun} ${room}: it was already deleted, or is past the retention.`,
  pageLimitInvalid: `Query parameter 'limit' must be ${PAGE_LIMIT_RULE}: how many messages the page holds.`,
  pageBeforeInvalid: "Query parameter 'before' must be a message id (1 to 100 characters): the page holds the messages older than it.",
  banSecondsInvalid: `Query parameter 'seconds' must be ${BAN_DURATION}: how long the ban lasts.`,
} as const;
