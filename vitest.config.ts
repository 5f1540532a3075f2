import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { TEST_ROOMS } from "./test/rooms";

const TEST_ADMIN_TOKEN = "test-admin-token";

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          CHANNELS: TEST_ROOMS.names.join(","),
          ROOM_LIMITS: JSON.stringify(TEST_ROOMS.limits),
          ADMIN_TOKEN: TEST_ADMIN_TOKEN,
        },
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
