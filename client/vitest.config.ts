// Unit tests of the browser client's pure parts (coordinates, message checks),
// in Node: they need neither workerd nor a browser.
import path from "node:path";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    root: path.resolve(import.meta.dirname, ".."),
    include: ["client/test/**/*.test.ts"],
    environment: "node",
    reporters: ["default", "./test/summary-reporter.ts"],
  },
});
