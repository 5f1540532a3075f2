// Every REST route of the Worker, each written once (rest-route.ts): app.ts
// registers them, openapi.ts describes them. The HTML pages are not here.
import packageJson from "../../package.json";
import { familyRoutes } from "./family-routes";
import { INSTANCE_ROUTES } from "./instance-routes";
import { openApiDocument } from "./openapi";
import { positionRoutes } from "./position-routes";
import { json, type RestRoute, SERVER_ERROR } from "./rest-route";
import { SPACE_ROUTES } from "./space-routes";
import { webhookRoutes } from "./webhook-routes";

const openApi: RestRoute = {
  method: "get",
  path: "/openapi.json",
  handler: (c) => c.json(openApiDocument(c.var.config, packageJson.version, REST_ROUTES)),
  describe: () => ({
    tags: ["instance"],
    summary: "This document",
    operationId: "openapi",
    responses: { 200: json({ type: "object" }, "OpenAPI 3.1, with this instance's limits."), 500: SERVER_ERROR },
  }),
};

export const REST_ROUTES: readonly RestRoute[] = [
  openApi,
  ...INSTANCE_ROUTES,
  ...familyRoutes("rooms"),
  ...familyRoutes("channels"),
  ...positionRoutes("rooms"),
  ...positionRoutes("channels"),
  ...SPACE_ROUTES,
  ...webhookRoutes("rooms"),
  ...webhookRoutes("channels"),
];
