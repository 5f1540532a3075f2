import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

// Storage is isolated per test file, not per test: each test takes a fresh room
// from this list (test/helpers.ts), so tests never see each other's history.
const TEST_ROOMS = ["QGIS", "Geotribu", "Field and mobile", ...Array.from({ length: 120 }, (_, i) => `room-${i}`)];

const TEST_ADMIN_TOKEN = "test-admin-token";

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: { CHANNELS: TEST_ROOMS.join(","), ADMIN_TOKEN: TEST_ADMIN_TOKEN },
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
