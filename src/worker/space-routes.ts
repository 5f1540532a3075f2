// Rooms made at run time and private spaces. The instance's moderator (ADMIN_TOKEN)
// creates, lists and revokes spaces and adds or removes public rooms; a space's owner
// (its owner token) does the same for its own rooms, sets its rules, and rotates its
// key. Each route is written once with its OpenAPI operation (rest-route.ts).
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { RoomChange, SpaceCredentials, SpaceRecord } from "../directory/directory";
import { limitsWithOverrides } from "../server/config";
import { MAX_ROOM_NAME, roomNameProblem } from "../server/room-names";
import { sentences } from "../wire/sentences";
import { instanceModerator, realmModerator } from "./guards";
import { directoryOf, forgetRealm } from "./realms";
import { type App, detail, json, jsonObjectBody, type RestRoute, SERVER_ERROR, unprocessable, validationError } from "./rest-route";

/** Rooms a space may hold: every room is listed by every client, and each is an object. */
export const MAX_SPACE_ROOMS = 50;
const MAX_SPACE_NAME = 64;
const MAX_RULES = 4_000;

const spaceTags = ["spaces"];
/** The instance's moderator among the public rooms, a space's owner in it. */
const EITHER_TOKEN: Record<string, string[]>[] = [{ adminToken: [] }, { ownerToken: [] }];
const adminTags = ["administration"];

const spaceBody = z
  .object({
    name: z.string().openapi({ example: "Les Cartographes du Jura" }),
    rules: z.string().optional().openapi({ example: "Be kind. French or English." }),
    rooms: z.array(z.string()).openapi({ example: ["Général", "Terrain"] }),
    limits: z
      .record(z.string(), z.number())
      .optional()
      .openapi({ example: { max_users: 50, max_image_size: 600 } }),
  })
  .openapi("NewSpace");

const spaceSummary = z
  .object({
    id: z.string(),
    name: z.string(),
    rooms: z.array(z.string()),
    rules: z.string(),
    limits: z.record(z.string(), z.number()),
    created_at: z.string().openapi({ description: "ISO 8601, UTC." }),
  })
  .openapi("Space");

const credentials = spaceSummary
  .extend({
    key: z.string().openapi({ description: "Shown once: the space's instance URL is https://<host>/s/<key>." }),
    path: z.string().openapi({ example: "/s/AbC…" }),
    owner_token: z.string().optional().openapi({ description: "Shown once, at creation: the owner's bearer token." }),
  })
  .openapi("SpaceCredentials");

const roomNames = z.object({ rooms: z.array(z.string()) }).openapi("RoomList");
const roomBody = z.object({ name: z.string().openapi({ example: "Terrain" }) }).openapi("NewRoom");
const rulesBody = z.object({ rules: z.string() }).openapi("SpaceRules");

const unauthorized = {
  401: detail("Missing or wrong token.", sentences.adminTokenRequired),
  403: detail("Moderation is off: no ADMIN_TOKEN secret.", sentences.moderationDisabled),
};
const ownerUnauthorized = { 401: detail("Missing or wrong token.", sentences.spaceOwnerRequired) };

function summaryOf(record: SpaceRecord) {
  return {
    id: record.id,
    name: record.name,
    rooms: record.rooms,
    rules: record.rules,
    limits: record.limits,
    created_at: new Date(record.createdAt).toISOString(),
  };
}

function credentialsOf({ record, key, ownerToken }: SpaceCredentials) {
  return { ...summaryOf(record), key, path: `/s/${key}`, ...(ownerToken === undefined ? {} : { owner_token: ownerToken }) };
}

/** A new space's fields, checked one by one so that the 422 names the field and says what to do. */
function checkSpace(body: Record<string, unknown>, c: Context<App>) {
  const { name, rules = c.var.config.rules, rooms, limits = {} } = body;
  if (typeof name !== "string" || name.trim() === "" || [...name].length > MAX_SPACE_NAME) {
    return { field: "name", reason: `Field 'name' must be the space's name, 1 to ${MAX_SPACE_NAME} characters.` };
  }
  if (typeof rules !== "string" || rules.length > MAX_RULES) {
    return { field: "rules", reason: `Field 'rules' must be a text of at most ${MAX_RULES} characters.` };
  }
  if (!Array.isArray(rooms) || rooms.length === 0 || rooms.length > MAX_SPACE_ROOMS) {
    return { field: "rooms", reason: `Field 'rooms' must list 1 to ${MAX_SPACE_ROOMS} room names.` };
  }
  for (const [index, room] of rooms.entries()) {
    const problem = roomNameProblem(room);
    if (problem !== undefined) return { field: `rooms.${index}`, reason: problem.replace("Field 'name'", `Room ${index + 1}'s name`) };
    if (rooms.indexOf(room) !== index) return { field: `rooms.${index}`, reason: `Field 'rooms' lists '${room}' twice.` };
  }
  if (typeof limits !== "object" || limits === null || Array.isArray(limits)) {
    return { field: "limits", reason: "Field 'limits' must be an object of limits by their /rules names, e.g. {\"max_users\": 50}." };
  }
  const checked = limitsWithOverrides(c.var.config.limits, limits as Record<string, unknown>, "limits");
  if (!checked.ok) return { field: "limits", reason: `${checked.problems.join("; ")}.` };
  return { space: { name: name.trim(), rules, rooms: rooms as string[], limits: limits as Record<string, number> } };
}

function answerChange(c: Context<App>, change: RoomChange, status: 200 | 201) {
  if (!change.ok) return change.status === 422 ? unprocessable(c, "name", change.detail) : c.json({ detail: change.detail }, change.status);
  forgetRealm(c.var.realm.spaceId);
  return c.json({ rooms: change.rooms }, status);
}

// ---------------------------------------------------------------------------
// The instance's moderator: spaces

const createSpace: RestRoute = {
  method: "post",
  path: "/spaces",
  scope: "instance",
  guards: [instanceModerator],
  handler: async (c) => {
    const body = await jsonObjectBody(c);
    if (body === undefined) return unprocessable(c, "", 'The body must be a JSON object: {"name", "rooms", "rules"?, "limits"?}.');
    const checked = checkSpace(body, c);
    if (checked.space === undefined) return unprocessable(c, checked.field, checked.reason);
    return c.json(credentialsOf(await directoryOf(c.env).createSpace(checked.space)), 201);
  },
  describe: () => ({
    tags: adminTags,
    summary: "Create a private space",
    description:
      "A space is a community's own instance: typed as the instance URL `https://<host>/s/<key>`, it has its own rooms, rules, limits, " +
      "users and history, and unmodified QGIS and QField clients use it like any instance. The key and the owner token are shown once.",
    operationId: "create_space",
    security: [{ adminToken: [] }],
    request: { body: { required: true, content: { "application/json": { schema: spaceBody } } } },
    responses: {
      201: json(credentials, "Created. Keep the key and the owner token: they are never shown again."),
      ...unauthorized,
      422: validationError("Invalid body, naming the field.", "rooms", `Field 'rooms' must list 1 to ${MAX_SPACE_ROOMS} room names.`),
      500: SERVER_ERROR,
    },
  }),
};

const listSpaces: RestRoute = {
  method: "get",
  path: "/spaces",
  scope: "instance",
  guards: [instanceModerator],
  handler: async (c) => c.json((await directoryOf(c.env).spaces()).map(summaryOf)),
  describe: () => ({
    tags: adminTags,
    summary: "List the spaces (never their keys)",
    operationId: "list_spaces",
    security: [{ adminToken: [] }],
    responses: { 200: json(z.array(spaceSummary), "The spaces, oldest first."), ...unauthorized, 500: SERVER_ERROR },
  }),
};

const revokeSpace: RestRoute = {
  method: "delete",
  path: "/spaces/{id}",
  scope: "instance",
  guards: [instanceModerator],
  handler: async (c) => {
    const id = c.req.param("id") ?? "";
    if (!(await directoryOf(c.env).revokeSpace(id))) return c.json({ detail: sentences.noSuchSpace }, 404);
    forgetRealm(id);
    return c.body(null, 204);
  },
  describe: () => ({
    tags: adminTags,
    summary: "Revoke a space",
    description: `Closes every socket of its rooms (code 1001, "${sentences.spaceRevoked}"), deletes their storage, and forgets the space: its key answers 404.`,
    operationId: "revoke_space",
    security: [{ adminToken: [] }],
    request: { params: z.object({ id: z.string() }) },
    responses: {
      204: { description: "Revoked." },
      ...unauthorized,
      404: detail("No such space.", sentences.noSuchSpace),
      500: SERVER_ERROR,
    },
  }),
};

// ---------------------------------------------------------------------------
// A realm's moderator: the public rooms (ADMIN_TOKEN), or a space's (its owner token)

const addRoom: RestRoute = {
  method: "post",
  path: "/rooms",
  guards: [realmModerator],
  handler: async (c) => {
    const body = await jsonObjectBody(c);
    const problem = roomNameProblem(body?.name);
    if (problem !== undefined) return unprocessable(c, "name", problem);
    const name = body?.name as string;
    const directory = directoryOf(c.env);
    const { spaceId } = c.var.realm;
    const change =
      spaceId === undefined
        ? await directory.addPublicRoom(name, c.var.config.rooms)
        : await directory.addSpaceRoom(spaceId, name, MAX_SPACE_ROOMS);
    return answerChange(c, change, 201);
  },
  describe: () => ({
    tags: spaceTags,
    summary: "Add a room, without a deploy",
    description:
      "Among the public rooms, by the instance's moderator (CHANNELS stays their seed list); in a space (/s/{key}/rooms), by its owner. " +
      `Names: 1 to ${MAX_ROOM_NAME} characters, no comma, slash or control character; a space holds at most ${MAX_SPACE_ROOMS} rooms.`,
    operationId: "add_room",
    security: EITHER_TOKEN,
    request: { body: { required: true, content: { "application/json": { schema: roomBody } } } },
    responses: {
      201: json(roomNames, "Added: the rooms, in their order."),
      ...unauthorized,
      ...ownerUnauthorized,
      409: detail("A room of that name exists.", sentences.roomExists("Terrain")),
      422: validationError("No valid name, or the space is full.", "name", "Field 'name' must not be empty."),
      500: SERVER_ERROR,
    },
  }),
};

const removeRoom: RestRoute = {
  method: "delete",
  path: "/rooms/{name}",
  guards: [realmModerator],
  handler: async (c) => {
    const name = c.req.param("name") ?? "";
    const directory = directoryOf(c.env);
    const { spaceId } = c.var.realm;
    const change =
      spaceId === undefined ? await directory.removePublicRoom(name, c.var.config.rooms) : await directory.removeSpaceRoom(spaceId, name);
    return answerChange(c, change, 200);
  },
  describe: () => ({
    tags: spaceTags,
    summary: "Remove a room and its history",
    description: `Its sockets are closed (code 1001, "${sentences.roomRemoved}") and everything it stored is deleted.`,
    operationId: "remove_room",
    security: EITHER_TOKEN,
    request: { params: z.object({ name: z.string() }) },
    responses: {
      200: json(roomNames, "Removed: the rooms left."),
      ...unauthorized,
      ...ownerUnauthorized,
      404: detail("No such room.", sentences.noSuchRoom("Nowhere")),
      500: SERVER_ERROR,
    },
  }),
};

// ---------------------------------------------------------------------------
// A space's owner only

const setRules: RestRoute = {
  method: "put",
  path: "/rules",
  scope: "space",
  guards: [realmModerator],
  handler: async (c) => {
    const body = await jsonObjectBody(c);
    const rules = body?.rules;
    if (typeof rules !== "string" || rules.length > MAX_RULES) {
      return unprocessable(c, "rules", `Field 'rules' must be a text of at most ${MAX_RULES} characters.`);
    }
    const spaceId = c.var.realm.spaceId ?? "";
    const record = await directoryOf(c.env).setRules(spaceId, rules);
    if (record === undefined) return c.json({ detail: sentences.noSuchSpace }, 404);
    forgetRealm(spaceId);
    return c.json(summaryOf(record));
  },
  describe: () => ({
    tags: spaceTags,
    summary: "Set the space's rules text (/s/{key}/rules)",
    operationId: "set_space_rules",
    security: [{ ownerToken: [] }],
    request: { body: { required: true, content: { "application/json": { schema: rulesBody } } } },
    responses: {
      200: json(spaceSummary, "The space, with its new rules."),
      ...ownerUnauthorized,
      422: validationError("No valid rules.", "rules", `Field 'rules' must be a text of at most ${MAX_RULES} characters.`),
      500: SERVER_ERROR,
    },
  }),
};

const rotateKey: RestRoute = {
  method: "post",
  path: "/key",
  scope: "space",
  guards: [realmModerator],
  handler: async (c) => {
    const spaceId = c.var.realm.spaceId ?? "";
    const rotated = await directoryOf(c.env).rotateKey(spaceId);
    if (rotated === undefined) return c.json({ detail: sentences.noSuchSpace }, 404);
    forgetRealm(spaceId);
    return c.json(credentialsOf(rotated));
  },
  describe: () => ({
    tags: spaceTags,
    summary: "Rotate the space's key (/s/{key}/key)",
    description: `The old key stops working at once here (within a few seconds everywhere), its sockets are closed (code 1001, "${sentences.keyRotated}"); the history stays. The new key is shown once.`,
    operationId: "rotate_space_key",
    security: [{ ownerToken: [] }],
    responses: { 200: json(credentials, "The new key."), ...ownerUnauthorized, 500: SERVER_ERROR },
  }),
};

export const SPACE_ROUTES: readonly RestRoute[] = [createSpace, listSpaces, revokeSpace, addRoom, removeRoom, setRules, rotateKey];
