// The browser client imports the server's types freely, but values only from the
// zod-free modules of src/wire: the contract's constants and sentences, defined
// once. This builds the client's bundle and reads which files went into it.

import path from "node:path";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "..", "..");

async function bundledInputs(): Promise<string[]> {
  const result = await build({
    entryPoints: [path.join(root, "client", "src", "main.ts")],
    bundle: true,
    write: false,
    metafile: true,
    format: "esm",
    loader: { ".png": "file", ".svg": "file" },
    outdir: path.join(root, "build", "bundle-check"),
    logLevel: "silent",
    absWorkingDir: root,
  });
  return Object.keys(result.metafile.inputs);
}

describe("the browser client's bundle", () => {
  it("takes nothing of the server but the zod-free wire modules", async () => {
    const inputs = await bundledInputs();
    const fromServer = inputs.filter((input) => input.startsWith("src/"));
    expect(fromServer.sort()).toEqual(["src/wire/crs.ts", "src/wire/families.ts", "src/wire/sentences.ts", "src/wire/text.ts"]);
    expect(inputs.filter((input) => /node_modules\/(zod|hono|@hono|ipaddr\.js|@jsquash)\//.test(input))).toEqual([]);
  });
});
