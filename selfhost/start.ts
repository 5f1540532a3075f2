// `npm run selfhost:start`: serves the self-hosted build (build.ts) with workerd alone, no wrangler:
// writes workerd's configuration for this environment (workerd-config.ts), starts workerd, passes
// SIGTERM and SIGINT on to it, and ends as it ends.
import { spawn } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { BUILD_DIR, MANIFEST_PATH, type Manifest } from "./manifest.ts";
import { type Settings, SettingsError, settingsFrom, workerdConfig } from "./workerd-config.ts";

const CONFIG_PATH = path.join(BUILD_DIR, "workerd.capnp");
/** The workerd binary of the npm package wrangler depends on (its main module names the platform's binary). */
const WORKERD = (createRequire(import.meta.url)("workerd") as { default: string }).default;

function readManifest(): Manifest {
  if (!fs.existsSync(MANIFEST_PATH)) {
    throw new SettingsError(`No self-hosted build in ${BUILD_DIR}: run "npm run selfhost:build" first (or "npm run selfhost")`);
  }
  return JSON.parse(fs.readFileSync(MANIFEST_PATH, "utf8")) as Manifest;
}

function describe(settings: Settings): string {
  const shown = settings.host.includes(":") ? `[${settings.host}]` : settings.host;
  return [
    `gischat-edge (self-hosted, workerd) listening on http://${shown}:${settings.port}/`,
    `  rooms' data (SQLite): ${settings.dataDir}`,
    `  X-Forwarded-For believed from: ${settings.forwardedAllowIps.join(", ") || "no one"} (FORWARDED_ALLOW_IPS)`,
  ].join("\n");
}

/** Starts workerd on the build; resolves with its exit code once it ends. */
export function startSelfhost(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const manifest = readManifest();
  const settings = settingsFrom(env);
  fs.mkdirSync(settings.dataDir, { recursive: true });
  fs.writeFileSync(CONFIG_PATH, workerdConfig(manifest, settings, env));
  const workerd = spawn(WORKERD, ["serve", CONFIG_PATH], { cwd: BUILD_DIR, stdio: "inherit", env });
  console.log(describe(settings));
  const forward = (signal: NodeJS.Signals): void => {
    workerd.kill(signal);
  };
  process.on("SIGTERM", forward);
  process.on("SIGINT", forward);
  return new Promise((resolve, reject) => {
    workerd.once("error", reject);
    workerd.once("exit", (code, signal) => {
      process.off("SIGTERM", forward);
      process.off("SIGINT", forward);
      // Stopped by a signal we passed on: a clean stop.
      resolve(signal === "SIGTERM" || signal === "SIGINT" ? 0 : (code ?? 1));
    });
  });
}

/** Runs `body`; a SettingsError is printed as the one line it is, and ends the process with 2. */
export async function runCli(body: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await body();
  } catch (error) {
    if (!(error instanceof SettingsError)) throw error;
    console.error(`Error: ${error.message}`);
    process.exitCode = 2;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await runCli(() => startSelfhost());
