// The routes about the instance as a whole. The lists of rooms (/rooms,
// /channels) are with their family, in family-routes.ts.
import packageJson from "../../package.json";
import { json, type RestRoute, ref, roomStub, SERVER_ERROR } from "./rest-route";
import { rulesBody, type StatusBody, type VersionBody } from "./rest-schemas";

const tags = ["instance"];

// The instance's defaults; a room's own limits are at …/{name}/rules.
const rules: RestRoute = {
  method: "get",
  path: "/rules",
  handler: (c) => c.json(rulesBody(c.var.config, c.var.realm.limits, c.var.realm.rules)),
  describe: (config) => ({
    tags,
    summary: "Rules and limits",
    operationId: "rules",
    responses: {
      200: json(ref("Rules"), "The instance's rules and default limits.", rulesBody(config, config.limits)),
      500: SERVER_ERROR,
    },
  }),
};

const status: RestRoute = {
  method: "get",
  path: "/status",
  handler: async (c) => {
    const { rooms } = c.var.realm;
    const counts = await Promise.all(rooms.map((room) => roomStub(c, room).connectedCount()));
    const list = rooms.map((name, index) => ({ name, nb_connected_users: counts[index] ?? 0 }));
    return c.json({ status: "ok", healthy: true, rooms: list, channels: list } satisfies StatusBody);
  },
  describe: (config) => {
    const list = config.rooms.map((name) => ({ name, nb_connected_users: 0 }));
    return {
      tags,
      summary: "Health and connected sockets per room",
      operationId: "status",
      responses: {
        200: json(ref("Status"), "Live counts.", { status: "ok", healthy: true, rooms: list, channels: list } satisfies StatusBody),
        500: SERVER_ERROR,
      },
    };
  },
};

const version: RestRoute = {
  method: "get",
  path: "/version",
  handler: (c) => c.json({ version: packageJson.version } satisfies VersionBody),
  describe: () => ({
    tags,
    summary: "Server version",
    operationId: "version",
    responses: { 200: json(ref("Version"), "The package version.", { version: packageJson.version }), 500: SERVER_ERROR },
  }),
};

// The QChat QField plugin's latest release: the original server streams the zip,
// we send the client to where it is published (QField follows redirects).
const qfield: RestRoute = {
  method: "get",
  path: "/qfield",
  handler: (c) => c.redirect(c.var.config.qfieldPluginUrl, 302),
  describe: (config) => ({
    tags,
    summary: "The QChat QField plugin",
    description:
      "Redirects to the latest release of the QChat QField plugin (a zip), as the original server serves it (QFIELD_PLUGIN_URL).",
    operationId: "qfield_plugin",
    responses: {
      302: {
        description: "Found: the Location header is the download.",
        headers: { Location: { schema: { type: "string", format: "uri" }, example: config.qfieldPluginUrl } },
      },
      500: SERVER_ERROR,
    },
  }),
};

export const INSTANCE_ROUTES: readonly RestRoute[] = [rules, status, version, qfield];
