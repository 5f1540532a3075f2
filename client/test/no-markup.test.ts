// The client builds DOM with text nodes only (src/dom.ts). A future edit that
// parses strings as HTML anywhere in the client fails here, before review.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const SOURCE_DIR = path.resolve(import.meta.dirname, "..", "src");
const HTML_SINKS =
  /\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write|createContextualFragment|DOMParser|\.bindPopup\(\s*["'`]|\.bindTooltip\(\s*["'`]|\.setContent\(\s*["'`]/;

describe("the client's sources", () => {
  const files = fs.readdirSync(SOURCE_DIR).filter((name) => name.endsWith(".ts"));

  it("are all looked at", () => {
    expect(files).toEqual(expect.arrayContaining(["main.ts", "map.ts", "messages.ts", "dom.ts"]));
  });

  it.each(files)("%s parses no string as HTML", (file) => {
    const source = fs.readFileSync(path.join(SOURCE_DIR, file), "utf8");
    const offending = source.split("\n").filter((line) => HTML_SINKS.test(line));
    expect(offending).toEqual([]);
  });
});
