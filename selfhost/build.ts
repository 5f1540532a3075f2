// `npm run selfhost:build`: the self-hosted server's build (Node, with wrangler and esbuild: build
// time only). The Worker is bundled exactly as `wrangler deploy` ships it (its [build] also builds
// the browser client), the front (src/selfhost/front.ts) beside it, and what the start needs from
// wrangler.toml (vars as defaults, compatibility, Durable Objects, assets) is written to a manifest,
// so that `npm run selfhost:start` reads wrangler.toml's values without wrangler.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build, stop as stopEsbuild } from "esbuild";
import { unstable_readConfig } from "wrangler";
import { BUILD_DIR, MANIFEST_PATH, type Manifest, type ModuleKind, PROJECT_DIR } from "./manifest.ts";

const WORKER_DIR = path.join(BUILD_DIR, "worker");
const WRANGLER = path.join(PROJECT_DIR, "node_modules", "wrangler", "bin", "wrangler.js");

/** What each file of wrangler's bundle is to workerd; files workerd does not load (maps, README) are left out. */
function moduleKind(file: string): ModuleKind | undefined {
  if (file.endsWith(".js")) return "esModule";
  if (file.endsWith(".wasm")) return "wasm";
  if (file.endsWith(".map") || file === "README.md") return undefined;
  throw new Error(`wrangler's bundle has ${file}, a kind of module the self-hosted config does not know: add it to selfhost/build.ts`);
}

function bundleWorker(): void {
  fs.rmSync(WORKER_DIR, { recursive: true, force: true });
  const result = spawnSync(process.execPath, [WRANGLER, "deploy", "--dry-run", "--outdir", WORKER_DIR], {
    cwd: PROJECT_DIR,
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
  if (result.status !== 0) throw new Error(`wrangler deploy --dry-run failed (${result.status ?? result.signal})`);
}

/**
 * The front, as the main module of the Worker's own modules: its import of the Worker ("../index")
 * is the bundle's main module as wrangler wrote it, beside it in workerd, not a second copy.
 */
async function bundleFront(workerMain: string): Promise<void> {
  await build({
    entryPoints: [path.join(PROJECT_DIR, "src", "selfhost", "front.ts")],
    outfile: path.join(BUILD_DIR, "front.js"),
    bundle: true,
    format: "esm",
    platform: "browser",
    conditions: ["workerd", "worker", "browser"],
    target: "es2024",
    external: ["cloudflare:*"],
    plugins: [
      {
        name: "the-deployed-worker",
        setup(plugin) {
          plugin.onResolve({ filter: /^\.\.\/index$/ }, () => ({ path: `./${workerMain}`, external: true }));
        },
      },
    ],
    logLevel: "warning",
  });
}

/** The names the Worker's configuration reads (src/server/config.ts), from the source itself. */
async function configVariables(): Promise<string[]> {
  const bundled = await build({
    entryPoints: [path.join(PROJECT_DIR, "src", "server", "config.ts")],
    bundle: true,
    format: "esm",
    platform: "node",
    write: false,
    logLevel: "warning",
  });
  const source = bundled.outputFiles[0]?.text ?? "";
  const module = (await import(`data:text/javascript;base64,${Buffer.from(source).toString("base64")}`)) as { CONFIG_VARIABLES: string[] };
  return [...module.CONFIG_VARIABLES];
}

function manifestFromWrangler(variables: string[]): Manifest {
  const config = unstable_readConfig({ config: path.join(PROJECT_DIR, "wrangler.toml") });
  const sqliteClasses = new Set(
    config.migrations.flatMap((migration: { new_sqlite_classes?: string[] }) => migration.new_sqlite_classes ?? []),
  );
  const { assets } = config;
  if (!assets?.directory || !assets.binding) throw new Error("wrangler.toml has no [assets] directory and binding");
  const runWorkerFirst = assets.run_worker_first;
  const modules = fs
    .readdirSync(WORKER_DIR)
    .sort((a, b) => (a === "index.js" ? -1 : b === "index.js" ? 1 : a.localeCompare(b)))
    .flatMap((file) => {
      const kind = moduleKind(file);
      return kind === undefined ? [] : [{ name: file, kind }];
    });
  const vars = Object.fromEntries(Object.entries(config.vars).map(([name, value]) => [name, String(value)]));
  return {
    name: config.name ?? "gischat-edge",
    compatibilityDate: config.compatibility_date ?? "",
    compatibilityFlags: config.compatibility_flags,
    vars,
    variables,
    durableObjects: config.durable_objects.bindings.map(({ name, class_name }: { name: string; class_name: string }) => ({
      binding: name,
      className: class_name,
      sqlite: sqliteClasses.has(class_name),
    })),
    assets: {
      directory: path.resolve(PROJECT_DIR, assets.directory),
      binding: assets.binding,
      runWorkerFirst: Array.isArray(runWorkerFirst) ? runWorkerFirst : [],
    },
    modules,
  };
}

export async function buildSelfhost(): Promise<Manifest> {
  bundleWorker();
  const manifest = manifestFromWrangler(await configVariables());
  await bundleFront(manifest.modules[0]!.name);
  // esbuild's service process would otherwise stay beside workerd for as long as it serves.
  await stopEsbuild();
  fs.writeFileSync(MANIFEST_PATH, `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await buildSelfhost();
  console.log(`Self-hosted build ready in ${path.relative(PROJECT_DIR, BUILD_DIR)}/ (start it with npm run selfhost:start)`);
}
