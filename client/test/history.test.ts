// A space link's prefix, the paths of a room in the page's realm, and "load earlier":
// a page of the history merged above what is shown, each message once.
import { describe, expect, it } from "vitest";
import { socketUrl } from "../src/connection";
import { PAGE_LIMIT, pagePath, parsePage, roomPath, ShownHistory, spacePrefix } from "../src/history";

const KEY = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-AbCdEfGhIj";

describe("spacePrefix", () => {
  it("is /s/{key} on a space link, with or without the slash and whatever follows", () => {
    expect(spacePrefix(`/s/${KEY}/`)).toBe(`/s/${KEY}`);
    expect(spacePrefix(`/s/${KEY}`)).toBe(`/s/${KEY}`);
    expect(spacePrefix(`/s/${KEY}/index.html`)).toBe(`/s/${KEY}`);
  });

  it("is empty among the public rooms and on anything that is not a space's path", () => {
    for (const pathname of ["/", "", "/docs", "/s/", "/s", "/space/abc/", "/x/s/abc/", `/s/${KEY}%2F/`, "/s/a.b/", "/S/abc/"]) {
      expect(spacePrefix(pathname), pathname).toBe("");
    }
  });
});

describe("paths in the page's realm", () => {
  it("puts the prefix before every room path, the room name encoded", () => {
    expect(roomPath("", "QGIS", "users")).toBe("/channel/QGIS/users");
    expect(roomPath(`/s/${KEY}`, "Field and mobile", "export.geojson")).toBe(`/s/${KEY}/channel/Field%20and%20mobile/export.geojson`);
  });

  it("asks for a page before an id, or the newest page without one", () => {
    expect(pagePath("", "QGIS", "7f9c-1")).toBe(`/channel/QGIS/messages?before=7f9c-1&limit=${PAGE_LIMIT}`);
    expect(pagePath(`/s/${KEY}`, "QGIS", undefined, 10)).toBe(`/s/${KEY}/channel/QGIS/messages?limit=10`);
    expect(pagePath("", "QGIS", "a&b=c")).toBe(`/channel/QGIS/messages?before=a%26b%3Dc&limit=${PAGE_LIMIT}`);
  });

  it("opens the WebSocket in the page's realm, ws: or wss: like the page", () => {
    expect(socketUrl("QGIS", { protocol: "http:", host: "localhost:8787", pathname: "/" })).toBe("ws://localhost:8787/channel/QGIS/ws");
    expect(socketUrl("Field and mobile", { protocol: "https:", host: "chat.example", pathname: `/s/${KEY}/` })).toBe(
      `wss://chat.example/s/${KEY}/channel/Field%20and%20mobile/ws`,
    );
  });
});

describe("parsePage", () => {
  it("takes the documented body", () => {
    const body = { messages: [{ type: "text", id: "a", text: "hi" }], next_before: "a" };
    expect(parsePage(body)).toEqual(body);
    expect(parsePage({ messages: [], next_before: null })).toEqual({ messages: [], next_before: null });
  });

  it("refuses anything else", () => {
    for (const body of [
      null,
      [],
      "page",
      { messages: [] },
      { messages: {}, next_before: null },
      { messages: [{ type: "text" }], next_before: null },
    ]) {
      expect(parsePage(body), JSON.stringify(body)).toBeUndefined();
    }
    expect(parsePage({ messages: [{ id: "a", type: "text" }], next_before: 3 })).toBeUndefined();
  });
});

/** The history of a room, oldest first: m01 … m70. */
const ROOM = Array.from({ length: 70 }, (_, index) => ({ id: `m${String(index + 1).padStart(2, "0")}` }));

/** What the server answers for `before` (GET …/messages): the `limit` messages just older, oldest first. */
function serverPage(before: string | undefined, limit = PAGE_LIMIT) {
  const end = before === undefined ? ROOM.length : ROOM.findIndex((message) => message.id === before);
  const messages = ROOM.slice(Math.max(0, end - limit), end);
  return { messages, next_before: end - limit > 0 ? (messages[0]?.id ?? null) : null };
}

describe("ShownHistory: load earlier", () => {
  it("continues from the oldest message shown, until nothing is older, each message once and in order", () => {
    const shown = new ShownHistory();
    for (const message of ROOM.slice(-5)) shown.append(message.id); // the replay on connect
    expect(shown.cursor()).toBe("m66");
    const drawn: string[][] = [];
    for (;;) {
      const page = serverPage(shown.cursor());
      drawn.push(shown.prepend(page.messages).map((message) => message.id));
      if (page.next_before === null) break;
      expect(shown.cursor()).toBe(page.next_before);
    }
    expect(drawn.map((ids) => ids.length)).toEqual([50, 15]);
    expect(shown.shown).toEqual(ROOM.map((message) => message.id));
  });

  it("draws nothing already shown or already known, keeps the page's order, and repeats nothing within a page", () => {
    const shown = new ShownHistory();
    for (const id of ["m04", "m05", "m06"]) shown.append(id);
    const known = new Set(["m02"]);
    const added = shown.prepend([{ id: "m01" }, { id: "m02" }, { id: "m03" }, { id: "m03" }, { id: "m04" }], (id) => known.has(id));
    expect(added.map((message) => message.id)).toEqual(["m01", "m03"]);
    expect(shown.shown).toEqual(["m01", "m03", "m04", "m05", "m06"]);
    expect(shown.prepend([{ id: "m01" }, { id: "m03" }])).toEqual([]);
    expect(shown.size).toBe(5);
  });

  it("has no cursor before anything is shown (the newest page is asked for), and forgets a deleted message", () => {
    const shown = new ShownHistory();
    expect(shown.cursor()).toBeUndefined();
    shown.append("m69");
    shown.append("m70");
    shown.remove("m69");
    expect(shown.has("m69")).toBe(false);
    expect(shown.cursor()).toBe("m70");
    // A page that brings the deleted message back (it was deleted after the page left the server) is not refused by the list:
    // the session drops it from what it knows as soon as message_deleted arrives.
    expect(shown.prepend([{ id: "m68" }]).map((message) => message.id)).toEqual(["m68"]);
  });

  it("moves its cursor past a shown message the server does not keep (a cheat code, an expired message)", () => {
    const shown = new ShownHistory();
    for (const id of ["cheat", "m69", "m70"]) shown.append(id);
    expect(shown.cursor()).toBe("cheat");
    shown.refuseCursor("cheat");
    expect(shown.cursor()).toBe("m69");
    shown.prepend(serverPage("m69").messages);
    expect(shown.cursor()).toBe("m19");
    expect(shown.shown.filter((id) => id === "cheat")).toHaveLength(1);
  });
});
