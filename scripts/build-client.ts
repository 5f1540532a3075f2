// Builds the browser client (GET /) and the API docs page (GET /docs) into
// build/client, the directory wrangler serves as static assets. wrangler.toml's
// [build] runs it before `wrangler dev` and `wrangler deploy`; `npm test` runs it
// first too. Everything the pages load comes from here: no CDN, so a local
// `wrangler dev` works without internet.

import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { build } from "esbuild";

const root = path.resolve(import.meta.dirname, "..");
const outDir = path.join(root, "build", "client");
const fromRoot = (...parts: string[]) => path.join(root, ...parts);

rmSync(outDir, { recursive: true, force: true });
mkdirSync(path.join(outDir, "swagger-ui"), { recursive: true });

await build({
  entryPoints: [
    { in: fromRoot("client", "src", "main.ts"), out: "app" },
    { in: fromRoot("client", "app.css"), out: "app" },
    { in: fromRoot("client", "src", "docs.ts"), out: "docs" },
  ],
  outdir: outDir,
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: true,
  sourcemap: "linked",
  // Leaflet's stylesheet refers to a few images of its own.
  loader: { ".png": "file", ".svg": "file" },
  assetNames: "images/[name]-[hash]",
  logLevel: "warning",
});

for (const page of ["index.html", "docs.html", "favicon.svg"]) {
  copyFileSync(fromRoot("client", page), path.join(outDir, page));
}
// Swagger UI ships prebuilt; /docs loads it next to our own initializer (docs.ts).
for (const file of ["swagger-ui-bundle.js", "swagger-ui.css"]) {
  copyFileSync(fromRoot("node_modules", "swagger-ui-dist", file), path.join(outDir, "swagger-ui", file));
}
