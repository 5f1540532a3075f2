// The self-hosted server's settings (from the environment, with gischat's names and defaults) and
// the workerd configuration (Cap'n Proto text, workerd.capnp's schema) that serves the build with them.
//
// Services: "app" listens on HOST:PORT: the Worker as `wrangler deploy` ships it, with the front
// (src/selfhost/front.ts) as its main module, which answers the client's files from "files"
// (build/client on disk) and hands the rest to the Worker in-process; its rooms and directory
// keep their SQLite in "data" (DATA_DIR). The Worker's variables are
// taken from the environment by workerd itself (fromEnvironment): a secret is never written here.
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import ipaddr from "ipaddr.js";
import { BUILD_DIR, type Manifest } from "./manifest.ts";

export interface Settings {
  host: string;
  port: number;
  dataDir: string;
  /** FORWARDED_ALLOW_IPS: the proxies whose X-Forwarded-For names the client (uvicorn's, default 127.0.0.1 and ::1). */
  forwardedAllowIps: string[];
}

/** A setting of the launcher that is wrong: the message names the variable. */
export class SettingsError extends Error {
  override readonly name = "SettingsError";
}

type Environment = Readonly<Record<string, string | undefined>>;

const DEFAULTS = { HOST: "0.0.0.0", PORT: "8000", DATA_DIR: "./data", FORWARDED_ALLOW_IPS: "127.0.0.1,::1" };

function proxyEntryProblem(entry: string): boolean {
  if (entry === "*") return false;
  if (entry.includes("/")) return !ipaddr.isValidCIDR(entry);
  return !ipaddr.isValid(entry);
}

export function settingsFrom(env: Environment, cwd = process.cwd()): Settings {
  const value = (name: keyof typeof DEFAULTS): string => {
    const raw = env[name]?.trim();
    return raw === undefined || raw === "" ? DEFAULTS[name] : raw;
  };
  const host = value("HOST");
  if (net.isIP(host) === 0 && host !== "localhost") {
    throw new SettingsError(`HOST must be an IP address to listen on (0.0.0.0, 127.0.0.1, ::), got ${JSON.stringify(host)}`);
  }
  const portText = value("PORT");
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65_535) {
    throw new SettingsError(`PORT must be a whole number from 1 to 65535, got ${JSON.stringify(portText)}`);
  }
  const forwardedAllowIps = value("FORWARDED_ALLOW_IPS")
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
  const wrong = forwardedAllowIps.filter(proxyEntryProblem);
  if (wrong.length > 0) {
    throw new SettingsError(
      `FORWARDED_ALLOW_IPS must list IP addresses or CIDR ranges separated by commas (or "*"), got ${JSON.stringify(wrong.join(","))}`,
    );
  }
  return { host, port, dataDir: path.resolve(cwd, value("DATA_DIR")), forwardedAllowIps };
}

/** A Cap'n Proto text literal: JSON's escapes, except that capnp has no \u (non-ASCII goes as UTF-8). */
function text(value: string): string {
  const escapeOf = (char: string): string => {
    if (char === "\\" || char === '"') return `\\${char}`;
    if (char === "\n") return "\\n";
    if (char === "\t") return "\\t";
    if (char === "\r") return "\\r";
    const code = char.charCodeAt(0);
    return code < 0x20 || code === 0x7f ? `\\x${code.toString(16).padStart(2, "0")}` : char;
  };
  return `"${[...value].map(escapeOf).join("")}"`;
}

/**
 * The Worker's variables: each one the environment sets, read by workerd from it; the others
 * wrangler.toml's default, if it has one. CHANNELS' default gives way to ROOMS when only ROOMS is
 * set (on Cloudflare, ROOMS beside the [vars] CHANNELS is "both set and differ").
 */
export function variableBindings(manifest: Manifest, env: Environment): string[] {
  const names = [...new Set([...manifest.variables, ...Object.keys(manifest.vars)])];
  return names.flatMap((name) => {
    if (env[name] !== undefined) return [`(name = ${text(name)}, fromEnvironment = ${text(name)})`];
    const fallback = manifest.vars[name];
    if (fallback === undefined) return [];
    if (name === "CHANNELS" && env.ROOMS !== undefined) return [];
    return [`(name = ${text(name)}, text = ${text(fallback)})`];
  });
}

/** The built client's files that the front serves itself: all but the pages the Worker serves (run_worker_first, the HTML). */
export function staticFiles(directory: string): string[] {
  const files = fs.readdirSync(directory, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile());
  return files
    .map((entry) => `/${path.relative(directory, path.join(entry.parentPath, entry.name)).split(path.sep).join("/")}`)
    .filter((file) => !file.endsWith(".html"))
    .sort();
}

function socketAddress({ host, port }: Settings): string {
  return net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Whether the Worker may post to http:// on this machine (tests): then workerd lets it reach local addresses. */
function allowsLocalNetwork(env: Environment): boolean {
  return env.WEBHOOK_ALLOW_HTTP_LOCAL?.trim().toLowerCase() === "true";
}

export function workerdConfig(manifest: Manifest, settings: Settings, env: Environment): string {
  const workerDir = path.join(BUILD_DIR, "worker");
  const modules = manifest.modules.map(
    ({ name, kind }) => `(name = ${text(name)}, ${kind} = embed ${text(path.relative(BUILD_DIR, path.join(workerDir, name)))})`,
  );
  const flags = manifest.compatibilityFlags.map(text).join(", ");
  const objects = manifest.durableObjects;
  const appBindings = [
    ...variableBindings(manifest, env),
    ...objects.map(({ binding, className }) => `(name = ${text(binding)}, durableObjectNamespace = ${text(className)})`),
    `(name = ${text(manifest.assets.binding)}, service = (name = "app", entrypoint = "Assets"))`,
    `(name = "FILES", service = "files")`,
    `(name = "STATIC_FILES", json = ${text(JSON.stringify(staticFiles(manifest.assets.directory)))})`,
    `(name = "FORWARDED_ALLOW_IPS", json = ${text(JSON.stringify(settings.forwardedAllowIps))})`,
  ];
  const namespaces = objects.map(
    ({ className, sqlite }) =>
      `(className = ${text(className)}, uniqueKey = ${text(`${manifest.name}-${className}`)}, enableSql = ${sqlite})`,
  );
  const network = allowsLocalNetwork(env) ? `["public", "local"]` : `["public"]`;
  return `# Generated by selfhost/start.ts from build/selfhost/manifest.json and the environment: do not edit.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "app", worker = .app),
    (name = "files", disk = (path = ${text(manifest.assets.directory)}, writable = false)),
    (name = "data", disk = (path = ${text(settings.dataDir)}, writable = true)),
    (name = "internet", network = (allow = ${network}, tlsOptions = (trustBrowserCas = true))),
  ],
  sockets = [(name = "http", address = ${text(socketAddress(settings))}, http = (), service = "app")],
);

const app :Workerd.Worker = (
  modules = [
    (name = "front.js", esModule = embed "front.js"),
    ${modules.join(",\n    ")},
  ],
  compatibilityDate = ${text(manifest.compatibilityDate)},
  compatibilityFlags = [${flags}],
  bindings = [
    ${appBindings.join(",\n    ")},
  ],
  durableObjectNamespaces = [
    ${namespaces.join(",\n    ")},
  ],
  durableObjectStorage = (localDisk = "data"),
);
`;
}
