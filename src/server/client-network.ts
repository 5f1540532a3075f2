// Who a connection comes from, as the flood guard remembers it (the room in its
// SQLite, the Worker in its refusal cache), and the 429 both answer a flooder with.
import ipaddr from "ipaddr.js";
import { sentences } from "../wire/sentences";

/** An IPv4 address in dotted decimal, each part 0 to 255 without leading zeros. */
const CANONICAL_IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/**
 * What a flooder is remembered by: its IPv4 address, or the /64 of its IPv6 one,
 * because a host picks freely among the addresses of its /64.
 */
export function networkOf(address: string): string {
  // What CF-Connecting-IP holds for most clients, and ipaddr.js would answer unchanged: every
  // upgrade asks (the Worker and the room), and parsing it costs more than the rest of the check.
  if (CANONICAL_IPV4.test(address)) return address;
  if (!ipaddr.isValid(address)) return address;
  // An IPv4-mapped IPv6 address counts as the IPv4 one.
  const ip = ipaddr.process(address);
  if (ip.kind() === "ipv4") return ip.toString();
  return `${ipaddr.IPv6.networkAddressFromCIDR(`${ip.toString()}/64`).toString()}/64`;
}

/** The network of the client (Cloudflare's CF-Connecting-IP), if the request says. */
export function clientNetwork(request: Request): string | null {
  const address = request.headers.get("CF-Connecting-IP");
  return address === null ? null : networkOf(address);
}

/** 429 before the upgrade: the client sees a failed handshake, and sends nothing. */
export function floodRefusal(noun: string, room: string, until: number, now: number): Response {
  const seconds = Math.max(1, Math.ceil((until - now) / 1000));
  return Response.json(
    { detail: sentences.floodRefusal(noun, room, seconds) },
    { status: 429, headers: { "Retry-After": String(seconds) } },
  );
}
