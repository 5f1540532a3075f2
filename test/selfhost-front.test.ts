// The self-hosted front's decisions (src/selfhost/front.ts): who the client is, from workerd's
// peer address and a trusted proxy's X-Forwarded-For, and which file a page's path is. The
// server as a whole, with real sockets, is tested in e2e/selfhost.e2e.ts.
import { describe, expect, it } from "vitest";
import { clientAddress, contentTypeOf, fileOfPath, isTrustedProxy, peerAddress } from "../src/selfhost/front";

const LOCAL = ["127.0.0.1", "::1"];

describe("the peer address workerd reports (request.cf.clientIp)", () => {
  it.each([
    ["203.0.113.7:51234", "203.0.113.7"],
    ["[2001:db8::1]:51234", "2001:db8::1"],
    // An IPv4 client of a socket listening on [::], as workerd reports it.
    ["[::ffff:127.0.0.1]:46850", "::ffff:127.0.0.1"],
    ["203.0.113.7", "203.0.113.7"],
    ["", undefined],
    [undefined, undefined],
    [42, undefined],
  ])("%j is %j", (peer, address) => {
    expect(peerAddress(peer)).toBe(address);
  });
});

describe("trusted proxies (FORWARDED_ALLOW_IPS)", () => {
  it("matches addresses, CIDR ranges, IPv4-mapped IPv6 and *", () => {
    expect(isTrustedProxy("127.0.0.1", LOCAL)).toBe(true);
    expect(isTrustedProxy("::ffff:127.0.0.1", LOCAL)).toBe(true);
    expect(isTrustedProxy("::1", LOCAL)).toBe(true);
    expect(isTrustedProxy("10.1.2.3", ["10.0.0.0/8"])).toBe(true);
    expect(isTrustedProxy("11.1.2.3", ["10.0.0.0/8"])).toBe(false);
    expect(isTrustedProxy("2001:db8::5", ["2001:db8::/32"])).toBe(true);
    expect(isTrustedProxy("203.0.113.7", ["*"])).toBe(true);
    expect(isTrustedProxy("203.0.113.7", LOCAL)).toBe(false);
    expect(isTrustedProxy("not an address", ["*"])).toBe(false);
  });

  it("parses a list once and answers each address by it: an entry that is not an address matches nothing, the others still do", () => {
    const list = ["not an address", "10.0.0.0/8", "2001:db8::1"];
    for (let round = 0; round < 2; round++) {
      expect(isTrustedProxy("10.9.8.7", list)).toBe(true);
      expect(isTrustedProxy("2001:db8::1", list)).toBe(true);
      expect(isTrustedProxy("2001:db8::2", list)).toBe(false);
      expect(isTrustedProxy("::ffff:10.1.1.1", list)).toBe(true);
      expect(isTrustedProxy("192.0.2.1", list)).toBe(false);
    }
  });
});

describe("the client's address", () => {
  it("is the peer itself when the peer is not a trusted proxy, whatever X-Forwarded-For says", () => {
    expect(clientAddress("203.0.113.7", "198.51.100.1", LOCAL)).toBe("203.0.113.7");
  });

  it("is the address a trusted proxy appended, not what the client put before it", () => {
    // nginx's $proxy_add_x_forwarded_for: the client's own header, then the address nginx saw.
    expect(clientAddress("127.0.0.1", "198.51.100.1, 203.0.113.7", LOCAL)).toBe("203.0.113.7");
    expect(clientAddress("127.0.0.1", "203.0.113.7", LOCAL)).toBe("203.0.113.7");
    expect(clientAddress("::ffff:127.0.0.1", "203.0.113.7", LOCAL)).toBe("203.0.113.7");
  });

  it("skips proxies that are trusted, from the right", () => {
    expect(clientAddress("127.0.0.1", "203.0.113.7, 10.0.0.2", [...LOCAL, "10.0.0.0/8"])).toBe("203.0.113.7");
  });

  it("is unknown when a trusted proxy names no client, or a malformed one: not the proxy's own address", () => {
    expect(clientAddress("127.0.0.1", null, LOCAL)).toBeUndefined();
    expect(clientAddress("127.0.0.1", "", LOCAL)).toBeUndefined();
    expect(clientAddress("127.0.0.1", "unknown", LOCAL)).toBeUndefined();
    expect(clientAddress(undefined, "203.0.113.7", LOCAL)).toBeUndefined();
  });
});

describe("the built client's files", () => {
  it("finds a page's file as Workers static assets does (html_handling auto-trailing-slash)", () => {
    expect(fileOfPath("/")).toBe("/index.html");
    expect(fileOfPath("/docs")).toBe("/docs.html");
    expect(fileOfPath("/s/")).toBe("/s/index.html");
    expect(fileOfPath("/app.js")).toBe("/app.js");
  });

  it("gives each kind of file the client's build makes its Content-Type", () => {
    expect(contentTypeOf("/app.js")).toBe("text/javascript; charset=utf-8");
    expect(contentTypeOf("/app.css")).toBe("text/css; charset=utf-8");
    expect(contentTypeOf("/favicon.svg")).toBe("image/svg+xml");
    expect(contentTypeOf("/app.js.map")).toBe("application/json; charset=utf-8");
    expect(contentTypeOf("/marker.PNG")).toBe("image/png");
    expect(contentTypeOf("/unknown.xyz")).toBe("application/octet-stream");
  });
});
