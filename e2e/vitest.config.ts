// The browser tests run in Node (not in workerd like test/): they start their own
// `wrangler dev`, drive Debian's Chromium, and stop the server when done.
import path from "node:path";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    root: path.resolve(import.meta.dirname, ".."),
    include: ["e2e/**/*.e2e.ts"],
    environment: "node",
    // One wrangler dev and one browser for the whole file, tests one after the other.
    fileParallelism: false,
    testTimeout: 90_000,
    // Starting wrangler dev builds the client first.
    hookTimeout: 120_000,
    reporters: ["default", "./test/summary-reporter.ts"],
  },
});
