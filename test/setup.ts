import { exports } from "cloudflare:workers";
import { afterEach, beforeAll } from "vitest";
import { closeAllClients } from "./helpers";

// A first request compiles the Worker and the room class: pay for it once, here,
// rather than in whichever test happens to run first.
beforeAll(async () => {
  await exports.default.fetch("http://gischat.test/version");
});

afterEach(async () => {
  await closeAllClients();
});
