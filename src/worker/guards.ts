// Who may administer what. The instance's moderator holds ADMIN_TOKEN and may do
// everything; a space's owner holds its owner token and may administer that space
// alone (its rooms, rules, key and moderation). Tokens are compared in constant time.
import type { MiddlewareHandler } from "hono";
import { timingSafeEqual } from "hono/utils/buffer";
import { tokenMatches } from "../server/space-keys";
import { sentences } from "../wire/sentences";
import type { App } from "./rest-route";

function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer +([^\s]+) *$/.exec(header ?? "");
  return match?.[1];
}

/** The instance's moderator: moderation needs an ADMIN_TOKEN secret, then that token. */
export const instanceModerator: MiddlewareHandler<App> = async (c, next) => {
  const { adminToken } = c.var.config;
  if (adminToken === undefined) return c.json({ detail: sentences.moderationDisabled }, 403);
  const token = bearerToken(c.req.header("Authorization"));
  if (token === undefined || !(await timingSafeEqual(adminToken, token))) return c.json({ detail: sentences.adminTokenRequired }, 401);
  await next();
};

/** Among the public rooms, the instance's moderator; in a space, its owner too. */
export const realmModerator: MiddlewareHandler<App> = async (c, next) => {
  const { space } = c.var.realm;
  if (space === undefined) return instanceModerator(c, next);
  const token = bearerToken(c.req.header("Authorization"));
  const { adminToken } = c.var.config;
  const isOwner = token !== undefined && (await tokenMatches(token, space.ownerHash));
  const isModerator = token !== undefined && adminToken !== undefined && (await timingSafeEqual(adminToken, token));
  if (!isOwner && !isModerator) return c.json({ detail: sentences.spaceOwnerRequired }, 401);
  await next();
};
