// The browser client (/) and the docs page (/docs): HTML from the static assets,
// with a Content-Security-Policy that forbids inline scripts and eval; the JSON
// API is unchanged beside them.
import { describe, expect, it } from "vitest";
import { STATIC_PAGES } from "../src/worker/app";
import wranglerToml from "../wrangler.toml?raw";
import { request } from "./helpers";

function directives(policy: string | null): Map<string, string> {
  expect(policy, "a Content-Security-Policy header").toBeTruthy();
  return new Map(
    policy!.split(";").map((directive) => {
      const [name = "", ...values] = directive.trim().split(/\s+/);
      return [name, values.join(" ")];
    }),
  );
}

describe("GET /", () => {
  it("serves the client's HTML, which loads its script from our own origin", async () => {
    const response = await request("/");
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toMatch(/^text\/html/);
    const html = await response.text();
    expect(html).toContain('<script type="module" src="/app.js"></script>');
    expect(html).toContain('id="map"');
    // No inline script at all: every <script> has a src.
    expect(html.match(/<script(?![^>]*\ssrc=)[^>]*>/g)).toBeNull();
  });

  it("carries a strict Content-Security-Policy", async () => {
    const response = await request("/");
    const policy = directives(response.headers.get("Content-Security-Policy"));
    expect(policy.get("default-src")).toBe("'none'");
    expect(policy.get("script-src")).toBe("'self'");
    expect(policy.get("style-src")).toBe("'self'");
    expect(policy.get("img-src")).toContain("data:");
    expect(policy.get("connect-src")).toBe("'self' ws://gischat.test");
    expect(policy.get("frame-ancestors")).toBe("'none'");
    expect(policy.get("base-uri")).toBe("'none'");
    for (const value of policy.values()) {
      expect(value).not.toContain("unsafe-inline");
      expect(value).not.toContain("unsafe-eval");
    }
    expect(response.headers.get("X-Content-Type-Options")).toBe("nosniff");
  });

  it("allows the secure WebSocket origin when the page is served over HTTPS", async () => {
    const response = await request("https://chat.example.org/");
    expect(directives(response.headers.get("Content-Security-Policy")).get("connect-src")).toBe("'self' wss://chat.example.org");
  });

  it("leaves out a WebSocket origin CSP cannot spell, as a reverse proxy's upstream name (gischat_upstream)", async () => {
    const response = await request("http://gischat_upstream/");
    expect(directives(response.headers.get("Content-Security-Policy")).get("connect-src")).toBe("'self'");
  });
});

describe("GET /docs", () => {
  it("serves the docs page, which loads Swagger UI from our own origin, with a policy", async () => {
    const response = await request("/docs");
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toMatch(/^text\/html/);
    const html = await response.text();
    expect(html).toContain('src="/swagger-ui/swagger-ui-bundle.js"');
    expect(html).not.toMatch(/https?:\/\//);
    const policy = directives(response.headers.get("Content-Security-Policy"));
    expect(policy.get("script-src")).toBe("'self'");
    expect(policy.get("connect-src")).toBe("'self'");
  });
});

describe("the JSON API beside the pages", () => {
  it("still answers /rooms with Content-Type: application/json exactly", async () => {
    const response = await request("/rooms");
    expect(response.headers.get("Content-Type")).toBe("application/json");
  });
});

describe("wrangler.toml", () => {
  it("runs the Worker first for exactly the HTML pages, so that they get their policy", () => {
    const line = /^run_worker_first\s*=\s*(\[.*\])\s*$/m.exec(wranglerToml);
    expect(line, "run_worker_first in [assets]").not.toBeNull();
    expect(JSON.parse(line![1]!)).toEqual([...STATIC_PAGES]);
  });
});
