import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { TEST_ROOMS } from "./test/rooms";

const TEST_ADMIN_TOKEN = "test-admin-token";
/** The Matrix ping of the tests: sent to the receiver below (test/matrix.test.ts). */
const TEST_MATRIX = { homeserver: "https://matrix.hooks.test", roomId: "!gischat:matrix.test", token: "test-matrix-token" };

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          CHANNELS: TEST_ROOMS.names.join(","),
          ROOM_LIMITS: JSON.stringify(TEST_ROOMS.limits),
          ADMIN_TOKEN: TEST_ADMIN_TOKEN,
          // Webhooks to http://127.0.0.1 and localhost are allowed here, as under wrangler dev;
          // a small outbox, so that test/webhooks.test.ts fills one with a few messages.
          WEBHOOK_ALLOW_HTTP_LOCAL: "true",
          WEBHOOK_OUTBOX_MAX: "20",
          MATRIX_PING_HOMESERVER: TEST_MATRIX.homeserver,
          MATRIX_PING_ROOMID: TEST_MATRIX.roomId,
          MATRIX_PING_TOKEN: TEST_MATRIX.token,
        },
        // Every fetch the Worker and its rooms make goes to this receiver, a Worker of its own
        // that records each request and fails when a test tells it to (test/webhook-receiver.js):
        // a real HTTP exchange, not a stub of fetch inside the room's isolate.
        outboundService: "webhook-receiver",
        workers: [{ name: "webhook-receiver", modules: true, scriptPath: "./test/webhook-receiver.js", compatibilityDate: "2026-08-20" }],
      },
    }),
  ],
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/setup.ts"],
    testTimeout: 20_000,
    reporters: ["default", "./test/summary-reporter.ts"],
  },
});
