// The self-hosted server's front (runs in workerd, generated config in selfhost/): what
// Cloudflare does before the Worker. It serves the built client's files from disk (the
// `[assets]` of wrangler.toml: every file but the HTML pages, which the Worker serves with
// their Content-Security-Policy), and tells the Worker who the client is, in the header it
// reads on Cloudflare (CF-Connecting-IP), from the socket's peer address or, when that peer
// is a trusted reverse proxy, from the X-Forwarded-For it sets (uvicorn's --proxy-headers
// with --forwarded-allow-ips, which gischat's own image uses). A client can never set it.
//
// It is the main module of the same workerd Worker as the bundle `wrangler deploy` ships
// (selfhost/build.ts keeps that bundle's main module, "../index" here, outside this one), and
// calls it in-process: a second Worker in front cost a fifth of the server's CPU per join in
// a reconnect storm (docs/benchmarks.md).
import { WorkerEntrypoint } from "cloudflare:workers";
import ipaddr from "ipaddr.js";
import worker from "../index";

// Whatever the bundle's main module exports (its Durable Object classes): workerd looks for
// them on this one. Its default export is the Worker the front calls.
export * from "../index";

/** What the front adds to the Worker's bindings. */
export interface FrontEnv {
  /** workerd's disk service on the built client (build/client): bare bytes, no Content-Type. */
  FILES: Fetcher;
  /** The files the front answers itself, by URL path ("/app.js"): the HTML pages are not among them. */
  STATIC_FILES: readonly string[];
  /** FORWARDED_ALLOW_IPS, parsed: the proxies whose X-Forwarded-For is believed (addresses, CIDRs, or "*"). */
  FORWARDED_ALLOW_IPS: readonly string[];
}

/** The header the Worker takes the client's address from, as on Cloudflare. */
const CLIENT_ADDRESS_HEADER = "CF-Connecting-IP";
const FORWARDED_FOR = "X-Forwarded-For";

/** Cloudflare's assets revalidate every time: a new build is seen at once. */
const CACHE_CONTROL = "public, max-age=0, must-revalidate";

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  map: "application/json; charset=utf-8",
  json: "application/json; charset=utf-8",
  svg: "image/svg+xml",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  ico: "image/x-icon",
  woff2: "font/woff2",
  woff: "font/woff",
  txt: "text/plain; charset=utf-8",
};

export function contentTypeOf(path: string): string {
  const extension = /\.([A-Za-z0-9]+)$/.exec(path)?.[1]?.toLowerCase() ?? "";
  return CONTENT_TYPES[extension] ?? "application/octet-stream";
}

/**
 * The file behind a page's path, as Cloudflare's html_handling "auto-trailing-slash" finds it:
 * "/" is /index.html, "/docs" is /docs.html, a path ending in "/" is its index.html.
 */
export function fileOfPath(path: string): string {
  if (path.endsWith("/")) return `${path}index.html`;
  return /\.[A-Za-z0-9]+$/.test(path) ? path : `${path}.html`;
}

/** The address part of workerd's peer ("203.0.113.7:51234", "[2001:db8::1]:51234"). */
export function peerAddress(peer: unknown): string | undefined {
  if (typeof peer !== "string" || peer === "") return undefined;
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(peer);
  if (bracketed) return bracketed[1];
  const withPort = /^([^:]+):\d+$/.exec(peer);
  return withPort ? withPort[1] : peer;
}

/** FORWARDED_ALLOW_IPS parsed: "*", or the ranges it names (an address is a range of one). */
interface Trust {
  anyone: boolean;
  ranges: [ipaddr.IPv4 | ipaddr.IPv6, number][];
}

/** By list: the front is handed the same list (a binding) on every request, and parses it once. */
const trustOf = new WeakMap<readonly string[], Trust>();

function parseTrust(trusted: readonly string[]): Trust {
  const trust: Trust = { anyone: trusted.includes("*"), ranges: [] };
  for (const entry of trusted) {
    try {
      if (entry.includes("/")) trust.ranges.push(ipaddr.parseCIDR(entry));
      else if (entry !== "*") {
        const one = ipaddr.process(entry);
        trust.ranges.push([one, one.kind() === "ipv4" ? 32 : 128]);
      }
    } catch {
      // Refused by the launcher's settings (selfhost/workerd-config.ts): never matches here.
    }
  }
  return trust;
}

/** Whether `address` is one of the trusted proxies (an address, a CIDR, or "*" for any). */
export function isTrustedProxy(address: string, trusted: readonly string[]): boolean {
  let ip: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    ip = ipaddr.process(address);
  } catch {
    return false;
  }
  let trust = trustOf.get(trusted);
  if (trust === undefined) {
    trust = parseTrust(trusted);
    trustOf.set(trusted, trust);
  }
  return trust.anyone || trust.ranges.some(([range, bits]) => ip.kind() === range.kind() && ip.match(range, bits));
}

/**
 * Who the client is: the peer itself, or, when the peer is a trusted proxy, the nearest address
 * of X-Forwarded-For that is not a trusted proxy (read from the right, as uvicorn does: a client
 * may put anything on the left, the proxy appends the address it saw). Undefined when a trusted
 * proxy says nothing: the proxy's own address would make every user one network to the flood guard.
 */
export function clientAddress(peer: string | undefined, forwardedFor: string | null, trusted: readonly string[]): string | undefined {
  if (peer === undefined || !isTrustedProxy(peer, trusted)) return peer;
  const hops = (forwardedFor ?? "")
    .split(",")
    .map((hop) => hop.trim())
    .filter((hop) => hop !== "");
  const nearest = hops.findLast((hop) => !isTrustedProxy(hop, trusted)) ?? hops[0];
  return nearest !== undefined && ipaddr.isValid(nearest) ? nearest : undefined;
}

/**
 * The request with the client's address in CF-Connecting-IP, whatever the client sent there.
 * Made from its parts, not with `new Request(request, …)`, which also deep-copies request.cf
 * (workerd's peer address): nothing after the front reads it, and the Worker's call to the
 * room would copy it again, on every join of a reconnect storm (docs/benchmarks.md).
 */
function withClientAddress(request: Request, trusted: readonly string[]): Request {
  const peer = peerAddress((request.cf as { clientIp?: unknown } | undefined)?.clientIp);
  const address = clientAddress(peer, request.headers.get(FORWARDED_FOR), trusted);
  const headers = new Headers(request.headers);
  headers.delete(CLIENT_ADDRESS_HEADER);
  if (address !== undefined) headers.set(CLIENT_ADDRESS_HEADER, address);
  const { method, url, redirect } = request;
  const body = method === "GET" || method === "HEAD" ? null : request.body;
  return new Request(url, { method, headers, body, redirect });
}

/** A file of the built client, with the headers Cloudflare's assets would send; 404 JSON when absent. */
async function serveFile(files: Fetcher, request: Request, path: string): Promise<Response> {
  const url = new URL(request.url);
  url.pathname = path;
  url.search = "";
  const file = await files.fetch(url, { method: request.method === "HEAD" ? "HEAD" : "GET" });
  if (!file.ok) {
    await file.body?.cancel();
    return Response.json({ detail: "Not Found" }, { status: 404 });
  }
  const headers = new Headers({ "Content-Type": contentTypeOf(path), "Cache-Control": CACHE_CONTROL });
  const length = file.headers.get("Content-Length");
  if (length !== null) headers.set("Content-Length", length);
  return new Response(file.body, { status: 200, headers });
}

/** The Worker's ASSETS binding: a page's file by its path, as Workers static assets answers it. */
export class Assets extends WorkerEntrypoint<FrontEnv> {
  override fetch(request: Request): Promise<Response> {
    return serveFile(this.env.FILES, request, fileOfPath(new URL(request.url).pathname));
  }
}

export default {
  async fetch(request, env, ctx): Promise<Response> {
    const { pathname } = new URL(request.url);
    const isRead = request.method === "GET" || request.method === "HEAD";
    if (isRead && env.STATIC_FILES.includes(pathname)) return serveFile(env.FILES, request, pathname);
    return worker.fetch(withClientAddress(request, env.FORWARDED_ALLOW_IPS), env, ctx);
  },
} satisfies ExportedHandler<Env & FrontEnv>;
