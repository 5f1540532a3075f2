// The browser client in a real browser against a real `wrangler dev`: two people
// chat, share a layer and see it on the map, hostile strings stay text, and the
// page comes back by itself when the server restarts.
import path from "node:path";
import type { Browser, BrowserContextOptions, Locator, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { joinByLink, launchBrowser, Session, sendText, waitForConnection, waitForDisconnection } from "./browser.ts";
import { solidPng } from "./png.ts";
import { ADMIN_TOKEN, DevServer } from "./server.ts";

const ROOMS = {
  chat: "e2e-chat",
  threads: "e2e-threads",
  map: "e2e-map",
  xss: "e2e-xss",
  reconnect: "e2e-reconnect",
  space: "e2e-space",
  history: "e2e-history",
  moderation: "e2e-moderation",
  people: "e2e-people",
  near: "e2e-near",
  phone: "Field survey",
  docs: "QGIS",
} as const;
const XSS = "<img src=x onerror=alert(1)>";
const _WGS84_WKT =
  'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]]';

/** A square around central Paris and a point in it, in EPSG:4326. */
function parisLayer(properties: Record<string, unknown> = { name: "Île de la Cité" }) {
  return {
    type: "FeatureCollection",
    features: [
      {
        type: "Feature",
        properties,
        geometry: {
          type: "Polygon",
          coordinates: [
            [
              [2.3, 48.83],
              [2.4, 48.83],
              [2.4, 48.88],
              [2.3, 48.88],
              [2.3, 48.83],
            ],
          ],
        },
      },
      { type: "Feature", properties: { name: "Notre-Dame" }, geometry: { type: "Point", coordinates: [2.3499, 48.853] } },
    ],
  };
}

let server: DevServer;
let browser: Browser;
let session: Session;

beforeAll(async () => {
  server = await DevServer.start(Object.values(ROOMS));
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

beforeEach(async () => {
  session = await Session.open(browser, server.baseUrl);
});

afterEach(async (context) => {
  if (context.task.result?.state === "fail") {
    const files = await session.screenshots(context.task.name);
    console.error(`Screenshots of the failed test: ${files.join(", ")}\nServer log:\n${server.logTail(20)}`);
  }
  await session.close();
});

/** This test's pages in another kind of browser (a phone, a geolocation granted): the session opened for it is closed. */
async function reopenSession(options: BrowserContextOptions): Promise<void> {
  await session.close();
  session = await Session.open(browser, server.baseUrl, options);
}

/**
 * A user of another client (QField in the field, say) who stays connected: registered
 * under `author`, then sends what it is asked to, until closed.
 */
async function rawUser(room: string, author: string): Promise<{ send(message: Record<string, unknown>): void; close(): void }> {
  const socket = new WebSocket(`${server.baseUrl.replace("http", "ws")}/channel/${encodeURIComponent(room)}/ws`);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`raw user ${author}: not registered after 10 s`)), 10_000);
    socket.addEventListener("open", () => socket.send(JSON.stringify({ type: "newcomer", newcomer: author })));
    socket.addEventListener("message", (event) => {
      const received = JSON.parse(String(event.data)) as { type: string; newcomer?: string; reason?: string };
      if (received.type === "uncompliant") reject(new Error(`raw user ${author} refused: ${received.reason}`));
      if (received.type === "newcomer" && received.newcomer === author) {
        clearTimeout(timer);
        resolve();
      }
    });
    socket.addEventListener("error", () => reject(new Error(`raw user ${author}: socket failed`)));
  });
  return {
    send: (message) => socket.send(JSON.stringify(message)),
    close: () => socket.close(),
  };
}

/** A `position` in WGS 84, as QField sends the device's location. */
function wgs84Position(author: string, lon: number, lat: number): Record<string, unknown> {
  return { type: "position", author, crs_wkt: "", crs_authid: "EPSG:4326", x: lon, y: lat };
}

/** Nothing ran that should not have: no dialog, no CSP violation, no uncaught error, no injected <img src=x>. */
async function expectNoTrouble(pages: Page[]): Promise<void> {
  expect(session.trouble.dialogs, "dialogs opened").toEqual([]);
  expect(session.trouble.cspViolations, "Content-Security-Policy violations").toEqual([]);
  expect(session.trouble.pageErrors, "uncaught errors in the page").toEqual([]);
  for (const page of pages) expect(await page.locator('img[src="x"]').count(), "injected <img src=x>").toBe(0);
}

/** The width of an element once the map has stopped flying (two reads 300 ms apart agree). */
async function settledWidth(locator: Locator): Promise<number> {
  let previous = -1;
  for (let read = 0; read < 20; read++) {
    const width = (await locator.boundingBox())?.width ?? 0;
    if (width > 0 && Math.abs(width - previous) < 0.5) return width;
    previous = width;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  throw new Error("the map never stopped moving");
}

/** A REST call to the e2e server (as its moderator with `admin`), a JSON body sent as such. */
function api(path: string, options: { method?: string; admin?: boolean; body?: unknown } = {}): Promise<Response> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (options.admin) headers.Authorization = `Bearer ${ADMIN_TOKEN}`;
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  return fetch(`${server.baseUrl}${path}`, { method: options.method ?? "GET", headers, body });
}

/** Posts a text as a bot would (PUT …/text, not rate-limited like a socket), and gives the stored message's id. */
async function putText(room: string, author: string, text: string): Promise<{ id: string }> {
  const response = await api(`/channel/${encodeURIComponent(room)}/text`, { method: "PUT", body: { author, text } });
  expect(response.status, `PUT text: ${await response.clone().text()}`).toBe(200);
  return (await response.json()) as { id: string };
}

/** What a page asks the server for by script: its fetch() calls and its WebSockets. */
function requestsOf(page: Page): { fetches: string[]; sockets: string[] } {
  const asked = { fetches: [] as string[], sockets: [] as string[] };
  page.on("request", (request) => {
    if (request.resourceType() === "fetch") asked.fetches.push(request.url());
  });
  page.on("websocket", (socket) => asked.sockets.push(socket.url()));
  return asked;
}

/** Where an item is in the conversation's box, in pixels from its top. */
async function offsetInConversation(page: Page, item: Locator): Promise<number> {
  const [list, box] = [await page.locator("#messages").boundingBox(), await item.boundingBox()];
  if (!list || !box) throw new Error("the conversation or the item has no box");
  return box.y - list.y;
}

/**
 * Sends messages as another client would (a QGIS plugin, a bot): registers `author`,
 * then sends, and waits for the echo of each (likes excepted: only their target sees them).
 */
async function sendRaw(room: string, author: string, messages: ({ type: string } & Record<string, unknown>)[]): Promise<void> {
  const socket = new WebSocket(`${server.baseUrl.replace("http", "ws")}/channel/${encodeURIComponent(room)}/ws`);
  const expected = messages.filter((message) => message.type !== "like").length;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`raw socket in ${room}: echoes missing after 10 s`)), 10_000);
    let echoes = -1; // counting starts with our own newcomer, after the room's replay
    socket.addEventListener("open", () => socket.send(JSON.stringify({ type: "newcomer", newcomer: author })));
    socket.addEventListener("message", (event) => {
      const received = JSON.parse(String(event.data)) as { type: string; reason?: string; newcomer?: string };
      if (received.type === "uncompliant") reject(new Error(`raw message refused: ${received.reason}`));
      if (received.type === "newcomer" && received.newcomer === author && echoes < 0) {
        echoes = 0;
        for (const message of messages) socket.send(JSON.stringify(message));
      } else if (echoes >= 0 && received.type !== "nb_users" && received.type !== "newcomer" && received.type !== "exiter") {
        echoes++;
      }
      if (echoes === expected) {
        clearTimeout(timer);
        resolve();
      }
    });
    socket.addEventListener("error", () => reject(new Error(`raw socket in ${room} failed`)));
  });
  socket.close();
}

describe("two people in one room", () => {
  it("exchange text, an image and a like, and see each other", async () => {
    const [alice, bob] = [await session.page(), await session.page()];
    await joinByLink(alice, ROOMS.chat, "alice_e2e");
    await joinByLink(bob, ROOMS.chat, "bob_e2e");
    await alice.locator("#users li", { hasText: "bob_e2e" }).waitFor();
    await expect.poll(() => alice.locator("#nb-users").textContent()).toBe("2 connected");

    await sendText(alice, "hello @bob_e2e, the layer is up");
    const received = bob.locator(".message.type-text", { hasText: "hello @bob_e2e" });
    await received.waitFor();
    expect(await received.locator(".author").textContent()).toBe("alice_e2e");
    expect(await received.getAttribute("class")).toContain("mentions-me");
    expect(await received.locator(".mention-me").textContent()).toBe("@bob_e2e");
    await alice.locator(".message.type-text", { hasText: "hello @bob_e2e" }).waitFor();

    await bob.locator(".message.type-text .like").click();
    await alice.locator("#likes li", { hasText: "bob_e2e liked your message “hello @bob_e2e, the layer is up”" }).waitFor();

    await alice.locator("#image-file").setInputFiles({ name: "map.png", mimeType: "image/png", buffer: solidPng(40, 30, [200, 30, 30]) });
    const image = bob.locator(".message.type-image img.chat-image");
    await image.waitFor();
    expect(await image.getAttribute("src")).toMatch(/^data:image\/png;base64,iVBOR/);
    await image.click();
    await bob.locator("#lightbox[open] #lightbox-image").waitFor();

    await expectNoTrouble([alice, bob]);
  });
});

/** The frames a page sends on its WebSockets, parsed (the keepalive "ping" left out). */
function sentFrames(page: Page): Record<string, unknown>[] {
  const frames: Record<string, unknown>[] = [];
  page.on("websocket", (socket) =>
    socket.on("framesent", ({ payload }) => {
      if (typeof payload === "string" && payload !== "ping") frames.push(JSON.parse(payload) as Record<string, unknown>);
    }),
  );
  return frames;
}

/** Whether an item is entirely within the visible part of the conversation (which scrolls). */
async function inConversationView(page: Page, item: Locator): Promise<boolean> {
  const [list, box] = [await page.locator("#messages").boundingBox(), await item.boundingBox()];
  if (!list || !box) return false;
  return box.y >= list.y - 1 && box.y + box.height <= list.y + list.height + 1;
}

describe("threads", () => {
  it("a reply carries the id of the message it answers, quotes it, and takes the reader to it", async () => {
    const original = "the roads layer is up, have a look at the bridges  near the river";
    const [alice, bob] = [await session.page(), await session.page()];
    const bobSent = sentFrames(bob);
    await joinByLink(alice, ROOMS.threads, "alice_thread");
    await joinByLink(bob, ROOMS.threads, "bob_thread");
    // Narrow, as on a phone (once joined: the list of users is not shown there): one column, and a short conversation that scrolls.
    await alice.setViewportSize({ width: 420, height: 760 });

    await sendText(alice, original);
    const sentInAlice = alice.locator(".message.type-text", { hasText: "the roads layer is up" });
    await sentInAlice.waitFor();
    const originalId = await sentInAlice.getAttribute("data-id");
    expect(originalId).toMatch(/^[0-9a-f-]{36}$/);
    // By its id: the replies quote its text too.
    const originalInAlice = alice.locator(`.message[data-id="${originalId}"]`);
    const originalInBob = bob.locator(`.message[data-id="${originalId}"]`);
    await originalInBob.waitFor();

    // Enough chatter from QGIS users that the original scrolls out of Alice's view (each socket has a budget of 20).
    for (const bot of ["qgis_one", "qgis_two"]) {
      await sendRaw(
        ROOMS.threads,
        bot,
        Array.from({ length: 8 }, (_, n) => ({ type: "text", author: bot, text: `${bot} says ${n}` })),
      );
    }
    await alice.locator(".message", { hasText: "qgis_two says 7" }).waitFor();
    await bob.locator(".message", { hasText: "qgis_two says 7" }).waitFor();

    // Reply mode: the bar says to whom; Escape leaves it, and what is sent then answers nothing.
    const replyBar = bob.locator("#reply-bar");
    await originalInBob.locator(".reply-button").click();
    await replyBar.waitFor();
    expect(await replyBar.textContent()).toContain(
      "Replying to alice_thread: the roads layer is up, have a look at the bridges near the river",
    );
    await bob.keyboard.press("Escape");
    await replyBar.waitFor({ state: "hidden" });
    await sendText(bob, "not an answer");
    await alice.locator(".message", { hasText: "not an answer" }).waitFor();
    expect(await alice.locator(".message", { hasText: "not an answer" }).getAttribute("data-reply-to")).toBeNull();

    // A text in reply, then the map's view shared in reply (a bbox): both carry the original's id, and reply mode ends with each.
    await originalInBob.locator(".reply-button").click();
    await replyBar.waitFor();
    await sendText(bob, "looks good, the bridges too");
    await replyBar.waitFor({ state: "hidden" });
    await originalInBob.locator(".reply-button").click();
    await bob.locator("#share-view").click();
    await replyBar.waitFor({ state: "hidden" });

    // What Bob's page sent: exactly the key, on the threaded types only.
    await expect.poll(() => bobSent.filter((frame) => frame.type === "bbox").length).toBe(1);
    const byType = (type: string) => bobSent.filter((frame) => frame.type === type);
    expect(byType("text").map((frame) => [frame.text, frame.in_reply_to_id])).toEqual([
      ["not an answer", undefined],
      ["looks good, the bridges too", originalId],
    ]);
    expect(byType("bbox")[0]?.in_reply_to_id).toBe(originalId);
    expect(byType("newcomer")[0]).toEqual({ type: "newcomer", newcomer: "bob_thread" });

    // What Alice sees: each reply quotes her message and names it in data-reply-to.
    const reply = alice.locator(".message.is-reply.type-text", { hasText: "looks good, the bridges too" });
    await reply.waitFor();
    expect(await reply.getAttribute("data-reply-to")).toBe(originalId);
    const quote = reply.locator("button.reply-quote");
    expect(await quote.locator(".reply-author").textContent()).toBe("alice_thread");
    expect(await quote.locator(".reply-snippet").textContent()).toBe("the roads layer is up, have a look at the bridges near the river");
    const bboxReply = alice.locator(".message.is-reply.type-bbox");
    await bboxReply.waitFor();
    expect(await bboxReply.getAttribute("data-reply-to")).toBe(originalId);
    // The quote fits the narrow column: nothing sticks out sideways.
    expect(await reply.evaluate((item) => item.scrollWidth <= item.clientWidth + 1)).toBe(true);

    // A click on the quote scrolls to the original and highlights it for a moment.
    // In front, as the page someone reads is: a background tab gets no animation frames, so no smooth scrolling.
    await alice.bringToFront();
    await alice.locator(".message", { hasText: "qgis_two says 7" }).scrollIntoViewIfNeeded();
    expect(await inConversationView(alice, originalInAlice)).toBe(false);
    await quote.click();
    await expect.poll(() => originalInAlice.getAttribute("class")).toContain("reply-highlight");
    await expect.poll(() => inConversationView(alice, originalInAlice)).toBe(true);
    await expect.poll(() => originalInAlice.getAttribute("class"), { timeout: 4_000 }).not.toContain("reply-highlight");

    // A reply to a message this page never had says so, and goes nowhere.
    await sendRaw(ROOMS.threads, "qgis_one", [
      { type: "text", author: "qgis_one", text: "about that old message", in_reply_to_id: crypto.randomUUID() },
    ]);
    const orphan = alice.locator(".message.is-reply", { hasText: "about that old message" });
    await orphan.waitFor();
    expect(await orphan.locator(".reply-quote").textContent()).toBe("Reply to a message that is not shown here");
    expect(await orphan.locator("button.reply-quote").count()).toBe(0);

    // Someone who comes later gets the thread in the replay (the room keeps 5 messages: not the original).
    const carol = await session.page();
    await joinByLink(carol, ROOMS.threads, "carol_thread");
    const replayed = carol.locator(".message.is-reply.type-text", { hasText: "looks good, the bridges too" });
    await replayed.waitFor();
    expect(await replayed.getAttribute("data-reply-to")).toBe(originalId);
    expect(await replayed.locator(".reply-missing").count()).toBe(1);

    await expectNoTrouble([alice, bob, carol]);
  });
});

describe("joining", () => {
  it("remembers the last choice, joins from the form, refuses a taken nickname, and shows the server's refusals", async () => {
    const [dora, other] = [await session.page(), await session.page()];
    await joinByLink(dora, ROOMS.chat, "dora_e2e");
    await dora.locator("#leave").click();
    await dora.locator("#join").waitFor();

    // The next visit, without a deep link: the form remembers the room and the nickname.
    await dora.goto("/");
    // The form is filled once /channels and /rules have answered.
    await expect.poll(() => dora.locator("#join-room").inputValue()).toBe(ROOMS.chat);
    expect(await dora.locator("#join-nickname").inputValue()).toBe("dora_e2e");
    await dora.locator("#join-avatar").selectOption("mIconRaster.svg");
    await dora.locator("#join button[type=submit]").click();
    await waitForConnection(dora, "open");
    await dora.locator("#users li", { hasText: "dora_e2e" }).waitFor();

    // Someone else with the same nickname is sent back to the form, with the server's reason.
    await other.goto(`/?room=${ROOMS.chat}&nickname=dora_e2e`);
    await other.locator("#join-error", { hasText: `User 'dora_e2e' already registered in channel ${ROOMS.chat}` }).waitFor();

    // A refusal by the server is shown in the conversation.
    await dora.locator("#image-file").setInputFiles({ name: "broken.png", mimeType: "image/png", buffer: Buffer.from("not a png at all") });
    await dora.locator(".event-error", { hasText: "Invalid or oversized image data." }).waitFor();

    await sendText(dora, "with my raster avatar");
    const mine = dora.locator(".message", { hasText: "with my raster avatar" });
    await mine.waitFor();
    expect(await mine.locator(".avatar").getAttribute("title")).toBe("mIconRaster.svg");

    await expectNoTrouble([dora, other]);
  });
});

describe("the map", () => {
  it("draws a GeoJSON layer shared by another page, and flies to it from its message", async () => {
    const [alice, bob] = [await session.page(), await session.page()];
    await joinByLink(alice, ROOMS.map, "alice_map");
    await joinByLink(bob, ROOMS.map, "bob_map");

    await alice.locator("#geojson-file").setInputFiles({
      name: "paris survey.geojson",
      mimeType: "application/geo+json",
      buffer: Buffer.from(JSON.stringify(parisLayer())),
    });
    const message = bob.locator(".message.type-geojson", { hasText: "paris survey" });
    await message.waitFor();
    expect(await message.textContent()).toContain("2 features, EPSG:4326");
    const shapes = bob.locator("#map path.shared-geojson");
    await expect.poll(() => shapes.count()).toBe(2);
    // At world zoom the square is a dot; after a click on its message it fills the view.
    await message.click();
    expect(await settledWidth(shapes.first())).toBeGreaterThan(150);

    await expectNoTrouble([alice, bob]);
  });

  it("draws extents and points shared from the page, in EPSG:3857 and in Lambert-93, and says when a CRS cannot be shown", async () => {
    const [alice, bob] = [await session.page(), await session.page()];
    await joinByLink(alice, ROOMS.map, "alice_view");
    await joinByLink(bob, ROOMS.map, "bob_view");

    await alice.locator("#share-view").click();
    await bob.locator(".message.type-bbox", { hasText: "EPSG:4326" }).last().waitFor();

    await alice.locator("#map").click({ position: { x: 300, y: 300 } });
    await alice.locator(".share-point").click();
    await bob.locator(".message.type-position").last().waitFor();
    await expect.poll(() => bob.locator("#map path.shared-position").count()).toBeGreaterThanOrEqual(1);

    // Paris in Web Mercator metres, as QGIS sends a canvas extent in EPSG:3857.
    await sendRaw(ROOMS.map, "qgis_user", [
      {
        type: "bbox",
        author: "qgis_user",
        crs_wkt: "",
        crs_authid: "EPSG:3857",
        xmin: 256_000,
        xmax: 268_000,
        ymin: 6_243_000,
        ymax: 6_257_000,
      },
      // Lambert-93, drawn since the client has proj4js; and a building's own grid (an engineering CRS), which no map can place.
      { type: "position", author: "qgis_user", crs_wkt: "", crs_authid: "EPSG:2154", x: 652_000, y: 6_862_000 },
      {
        type: "position",
        author: "qgis_user",
        crs_wkt: 'LOCAL_CS["Site grid",LOCAL_DATUM["Site datum",0],UNIT["metre",1],AXIS["X",EAST],AXIS["Y",NORTH]]',
        crs_authid: "USER:100001",
        x: 12,
        y: 34,
      },
    ]);
    const mercator = bob.locator(".message.type-bbox", { hasText: "EPSG:3857" });
    await mercator.waitFor();
    await mercator.click();
    expect(await settledWidth(bob.locator("#map path.shared-bbox").last())).toBeGreaterThan(150);

    const lambert = bob.locator(".message.type-position", { hasText: "EPSG:2154" });
    await lambert.waitFor();
    expect(await lambert.evaluate((item) => item.classList.contains("not-on-map"))).toBe(false);
    await expect.poll(() => bob.locator("#map path.shared-position").count()).toBeGreaterThanOrEqual(2);
    const notice = bob.locator(".crs-notice", { hasText: "USER:100001" });
    await notice.waitFor();
    expect(await notice.textContent()).toContain("cannot show");
    expect(await bob.locator(".message.type-position.not-on-map .map-problem").textContent()).toContain("USER:100001");
    expect(await bob.locator(".crs-notice", { hasText: "EPSG:2154" }).count()).toBe(0);

    await expectNoTrouble([alice, bob]);
  });
});

describe("the background's land outline", () => {
  it("draws no line across the map where land crosses the antimeridian (Chukotka, Fiji, Antarctica)", async () => {
    const page = await session.page();
    await joinByLink(page, ROOMS.map, "reader_land");
    // Zoom 1: the whole world (512 px wide) in view, so that Leaflet clips nothing.
    await page.locator(".leaflet-control-zoom-out").click();
    await page.locator(".leaflet-control-zoom-out.leaflet-disabled").waitFor();
    await page.waitForTimeout(500); // the end of the zoom's animation
    const report = await page.locator("#map").evaluate((map) => {
      const halfWorld = 256; // 180° of longitude at zoom 1
      const wide: string[] = [];
      const counts = { fill: 0, coast: 0 };
      for (const path of map.querySelectorAll<SVGPathElement>("path.land-fill, path.land-coast")) {
        const kind = path.classList.contains("land-fill") ? "fill" : "coast";
        counts[kind]++;
        const rings = (path.getAttribute("d") ?? "").split(/[Mz]/i).filter((ring) => ring.trim() !== "");
        for (const ring of rings) {
          const points = ring
            .split("L")
            .map((pair) => pair.trim().split(/[ ,]+/).map(Number))
            .filter((point) => point.length === 2);
          const bottom = Math.max(...points.map(([, y]) => y!));
          for (let index = 1; index < points.length; index++) {
            const [[x1, y1], [x2, y2]] = [points[index - 1]!, points[index]!];
            if (Math.abs(x2! - x1!) <= halfWorld) continue;
            // The one wide step allowed: the fill of Antarctica closed along the bottom of the world, where no stroke is drawn.
            if (kind === "fill" && Math.abs(y1! - bottom) < 1 && Math.abs(y2! - bottom) < 1) continue;
            wide.push(`${kind}: (${x1}, ${y1}) to (${x2}, ${y2})`);
          }
        }
      }
      return { counts, wide };
    });
    expect(report.counts).toEqual({ fill: 1, coast: 1 });
    expect(report.wide).toEqual([]);
    await expectNoTrouble([page]);
  });
});

describe("the people layer", () => {
  it("puts each user at their last position, live: shared on one page, on the other's map; gone when they leave", async () => {
    const [alice, bob] = [await session.page(), await session.page()];
    await joinByLink(alice, ROOMS.people, "alice_people");
    await joinByLink(bob, ROOMS.people, "bob_people");
    const marker = (page: Page, nickname: string) => page.locator(`#map path.person-marker[data-nickname="${nickname}"]`);

    await alice.locator("#map").click({ position: { x: 300, y: 300 } });
    await alice.locator(".share-point").click();
    await marker(bob, "alice_people").waitFor();
    await marker(alice, "alice_people").waitFor();
    // The nickname beside it, as text; a position just shared is not faded.
    await bob.locator(".leaflet-tooltip.person-label", { hasText: "alice_people" }).waitFor();
    expect(await marker(bob, "alice_people").getAttribute("data-opacity")).toBe("1.00");

    // Someone who comes later finds her there, from GET …/positions.
    const carol = await session.page();
    await joinByLink(carol, ROOMS.people, "carol_people");
    await marker(carol, "alice_people").waitFor();

    // A QField user on the move: one marker, at the newest place.
    const qfield = await rawUser(ROOMS.people, "qfield_people");
    qfield.send(wgs84Position("qfield_people", 2.35, 48.85));
    await marker(bob, "qfield_people").waitFor();
    const before = await marker(bob, "qfield_people").boundingBox();
    qfield.send(wgs84Position("qfield_people", 30, -20));
    await expect.poll(async () => (await marker(bob, "qfield_people").boundingBox())?.y).toBeGreaterThan((before?.y ?? 0) + 50);
    expect(await bob.locator("#map path.person-marker").count()).toBe(2);

    // The layer control switches the layer off and on.
    await bob.locator(".leaflet-control-layers").hover();
    const toggle = bob.locator(".leaflet-control-layers-overlays label", { hasText: "People (last positions)" }).locator("input");
    await toggle.uncheck();
    await expect.poll(() => bob.locator("#map path.person-marker").count()).toBe(0);
    await toggle.check();
    await expect.poll(() => bob.locator("#map path.person-marker").count()).toBe(2);

    // Leaving (the Leave button, or a socket that closes): gone from every page, the messages stay.
    await alice.locator("#leave").click();
    await marker(bob, "alice_people").waitFor({ state: "detached" });
    await marker(carol, "alice_people").waitFor({ state: "detached" });
    qfield.close();
    await marker(bob, "qfield_people").waitFor({ state: "detached" });
    expect(await bob.locator(".message.type-position").count()).toBe(3);

    await expectNoTrouble([alice, bob, carol]);
  });
});

describe("near me", () => {
  /** Two users of the field, at Notre-Dame (Paris) and at the Château de Versailles, 17 km apart. */
  async function fieldUsers(suffix: string) {
    const paris = await rawUser(ROOMS.near, `paris_${suffix}`);
    const versailles = await rawUser(ROOMS.near, `versailles_${suffix}`);
    paris.send(wgs84Position(`paris_${suffix}`, 2.3499, 48.853));
    versailles.send(wgs84Position(`versailles_${suffix}`, 2.1204, 48.8049));
    await expect
      .poll(async () => ((await (await api(`/channel/${ROOMS.near}/positions`)).json()) as { features: unknown[] }).features.length)
      .toBe(2);
    return {
      close: () => {
        for (const user of [paris, versailles]) user.close();
      },
    };
  }

  it("lists who is within the radius of a point clicked on the map, nearest first, with distances and ages; a name flies there", async () => {
    const users = await fieldUsers("click");
    const page = await session.page();
    await joinByLink(page, ROOMS.near, "reader_near");
    await page.locator('#map path.person-marker[data-nickname="versailles_click"]').waitFor();

    // To Paris (the position's message flies there), then a click just beside Notre-Dame.
    await page.locator(".message.type-position", { hasText: "paris_click" }).click();
    await settledBox(page.locator('#map path.person-marker[data-nickname="paris_click"]'));
    const mapBox = (await page.locator("#map").boundingBox())!;
    await page.locator("#map").click({ position: { x: mapBox.width / 2, y: mapBox.height / 2 + 60 } });
    await page.locator(".near-point").click();

    await expect.poll(() => listed(page)).toEqual(["paris_click"]);
    expect(await page.locator("#near-status").textContent()).toBe("1 person within 5 km of the point clicked, nearest first:");
    expect(await page.locator(".near-user .near-distance").first().textContent()).toMatch(/^\d+ m$|^\d\.\d km$/);
    expect(await page.locator(".near-user .near-age").first().textContent()).toMatch(/^just now$|^\d+ s ago$/);
    await expect.poll(() => page.locator("#map path.near-area").count()).toBe(1);

    // A wider radius asks again: Versailles too, further.
    await page.locator("#near-radius").selectOption("25000");
    await expect.poll(() => listed(page)).toEqual(["paris_click", "versailles_click"]);
    expect(await page.locator(".near-user .near-distance").nth(1).textContent()).toMatch(/^1[5-9](\.\d)? km$/);
    expect(await page.locator("#near-status").textContent()).toBe("2 people within 25 km of the point clicked, nearest first:");

    // A name flies the map to that user.
    await page.locator(".near-name", { hasText: "versailles_click" }).click();
    const box = await settledBox(page.locator('#map path.person-marker[data-nickname="versailles_click"]'));
    expect(Math.abs(box.x + box.width / 2 - (mapBox.x + mapBox.width / 2))).toBeLessThan(20);
    expect(Math.abs(box.y + box.height / 2 - (mapBox.y + mapBox.height / 2))).toBeLessThan(20);

    users.close();
    await expectNoTrouble([page]);
  });

  it("uses the browser's location when the user allows it, says so clearly when refused, and can share it", async () => {
    const users = await fieldUsers("gps");
    // Refused: this browser grants no permission.
    const refused = await session.page();
    await joinByLink(refused, ROOMS.near, "refused_near");
    await refused.locator("#near-locate").click();
    await refused.locator("#near-status.error", { hasText: "Your location was not shared" }).waitFor();
    expect(await refused.locator("#near-status").textContent()).toContain("click a point on the map");
    expect(await refused.locator("#near-list li").count()).toBe(0);
    await expectNoTrouble([refused]);

    // Allowed, at the gates of Versailles.
    await reopenSession({ geolocation: { latitude: 48.8049, longitude: 2.1301 }, permissions: ["geolocation"] });
    const page = await session.page();
    await joinByLink(page, ROOMS.near, "walker_near");
    await page.locator("#near-locate").click();
    await expect.poll(() => listed(page)).toEqual(["versailles_gps"]);
    expect(await page.locator("#near-status").textContent()).toBe("1 person within 5 km of your location, nearest first:");
    expect(await page.locator(".near-user .near-distance").first().textContent()).toMatch(/^\d+ m$/);

    // Shared as a position: the walker is on everyone's people layer, and 0 m from where they stand.
    await page.locator("#near-share").click();
    await page.locator('#map path.person-marker[data-nickname="walker_near"]').waitFor();
    await page.locator("#near-locate").click();
    await expect.poll(() => listed(page)).toEqual(["walker_near", "versailles_gps"]);
    expect(await page.locator(".near-user.me .near-distance").textContent()).toBe("0 m");

    users.close();
    await expectNoTrouble([page]);
  });
});

describe("on a phone", () => {
  it("fits 390 × 844: nothing sideways, the count whole, the conversation tall on Chat, the map the whole view on Map, people on People", async () => {
    await reopenSession({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const anna = await rawUser(ROOMS.phone, "anna_qfield");
    const marc = await rawUser(ROOMS.phone, "marc_qfield");
    const page = await session.page();
    await joinByLink(page, ROOMS.phone, "jane_doe");
    await sendRaw(ROOMS.phone, "bob_gis", [
      { type: "text", author: "bob_gis", text: "Morning! The new trail layer is in the project, check the bridges" },
    ]);
    anna.send({ type: "text", author: "anna_qfield", text: "At the Sainte-Victoire trailhead: the path up is washed out" });
    anna.send(wgs84Position("anna_qfield", 5.56, 43.529));
    marc.send(wgs84Position("marc_qfield", 5.469, 43.455));
    marc.send({ type: "text", author: "marc_qfield", text: "Same near Gardanne, I put a point where it starts" });
    await page.locator(".message", { hasText: "Same near Gardanne" }).waitFor();
    await sendText(page, "@anna_qfield thanks, on my way, 20 min");
    await page.locator(".message", { hasText: "on my way" }).waitFor();

    const layout = () =>
      page.evaluate(() => {
        const box = (selector: string) => document.querySelector(selector)!.getBoundingClientRect().toJSON() as DOMRect;
        const count = document.querySelector("#nb-users")!;
        return {
          scrollWidth: document.documentElement.scrollWidth,
          innerWidth,
          innerHeight,
          header: box(".topbar"),
          count: box("#nb-users"),
          countClipped: count.scrollWidth > count.clientWidth,
          tabs: box(".view-tabs"),
          messages: box("#messages"),
          composer: box("#composer"),
          map: box("#map"),
        };
      });
    const inside = (inner: DOMRect, outer: DOMRect) =>
      inner.width > 0 &&
      inner.left >= outer.left - 0.5 &&
      inner.right <= outer.right + 0.5 &&
      inner.top >= outer.top - 0.5 &&
      inner.bottom <= outer.bottom + 0.5;

    // Chat: the conversation and the composer, nothing sideways, the header whole.
    const chat = await layout();
    expect(chat.scrollWidth).toBeLessThanOrEqual(chat.innerWidth);
    await expect.poll(() => page.locator("#nb-users").textContent()).toBe("3 connected");
    expect(inside(chat.count, chat.header)).toBe(true);
    expect(chat.count.right).toBeLessThanOrEqual(chat.innerWidth);
    expect(chat.countClipped).toBe(false);
    expect(chat.messages.height).toBeGreaterThanOrEqual(chat.innerHeight / 2);
    expect(chat.composer.bottom).toBeLessThanOrEqual(chat.innerHeight + 0.5);
    expect(await page.locator("#map").isVisible()).toBe(false);
    const chatShot = await page.screenshot();

    // A position's message takes the reader to the map, which fills the view under the tabs.
    await page.locator(".message.type-position", { hasText: "anna_qfield" }).click();
    await expect.poll(() => page.locator("#chat").getAttribute("data-view")).toBe("map");
    const map = await layout();
    expect(map.scrollWidth).toBeLessThanOrEqual(map.innerWidth);
    expect(map.map.left).toBeLessThanOrEqual(0.5);
    expect(map.map.width).toBeGreaterThanOrEqual(map.innerWidth - 0.5);
    expect(map.map.top).toBeLessThanOrEqual(map.tabs.bottom + 1);
    expect(map.map.bottom).toBeGreaterThanOrEqual(map.innerHeight - 0.5);
    expect(await page.locator("#messages").isVisible()).toBe(false);

    // Who is near here: the People view lists them; the area searched is on the map when it is back.
    await settledBox(page.locator('#map path.person-marker[data-nickname="anna_qfield"]'));
    const box = (await page.locator("#map").boundingBox())!;
    await page.locator("#map").tap({ position: { x: box.width / 2 + 40, y: box.height / 2 - 90 } });
    await page.locator(".near-point").tap();
    await expect.poll(() => page.locator("#chat").getAttribute("data-view")).toBe("people");
    await expect.poll(() => listed(page)).toEqual(["anna_qfield"]);
    await page.locator("#near-radius").selectOption("25000");
    await expect.poll(() => listed(page)).toEqual(["anna_qfield", "marc_qfield"]);
    const people = await layout();
    expect(people.scrollWidth).toBeLessThanOrEqual(people.innerWidth);
    const peopleShot = await page.screenshot();

    await page.locator(".view-tab", { hasText: "Map" }).click();
    await page.locator("#map path.near-area").waitFor();
    await page.locator(".leaflet-tooltip.person-label", { hasText: "marc_qfield" }).waitFor();
    await page.waitForTimeout(600);
    const mapShot = await page.screenshot();

    await page.locator(".view-tab", { hasText: "Chat" }).click();
    await page.locator("#composer-text").waitFor();
    expect((await layout()).messages.height).toBeGreaterThanOrEqual(chat.innerHeight / 2);

    // The README's picture, made again only when asked: a test run leaves the tree as it was.
    if (process.env.README_SCREENSHOTS) await saveSideBySide(PHONE_SCREENSHOT, [chatShot, mapShot, peopleShot]);
    anna.close();
    marc.close();
    await expectNoTrouble([page]);
  });
});

const PHONE_SCREENSHOT = path.resolve(import.meta.dirname, "..", "docs", "client-phone.png");

const listed = (page: Page) => page.locator("#near-list .near-name").allTextContents();

/** Screenshots of a phone side by side, in one PNG (the README's picture of the client on a phone). */
async function saveSideBySide(file: string, shots: Buffer[]): Promise<void> {
  const context = await browser.newContext({ viewport: { width: 100, height: 100 } });
  try {
    const page = await context.newPage();
    const images = shots.map((shot) => `<img src="data:image/png;base64,${shot.toString("base64")}">`).join("");
    await page.setContent(
      `<style>body{margin:0;background:#e9eee4}div{display:flex;gap:24px;padding:24px;width:max-content}img{width:390px;height:844px;border-radius:18px;box-shadow:0 4px 16px rgba(0,0,0,.25)}</style><div>${images}</div>`,
    );
    await page.locator("div").screenshot({ path: file });
  } finally {
    await context.close();
  }
}

/** An element's box once the map has stopped flying (two reads 300 ms apart agree). */
async function settledBox(locator: Locator): Promise<{ x: number; y: number; width: number; height: number }> {
  let previous: { x: number; y: number } | undefined;
  for (let read = 0; read < 20; read++) {
    const box = await locator.boundingBox();
    if (box && previous && Math.abs(box.x - previous.x) < 0.5 && Math.abs(box.y - previous.y) < 0.5) return box;
    previous = box ?? undefined;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  throw new Error("the map never stopped moving");
}

describe("hostile strings", () => {
  it(`stay text in messages, avatars, layer names, feature properties, likes and nicknames: ${XSS}`, async () => {
    const [alice, bob] = [await session.page(), await session.page()];
    await joinByLink(alice, ROOMS.xss, "alice_xss");
    await joinByLink(bob, ROOMS.xss, "bob_xss");

    await sendText(alice, XSS);
    await sendRaw(ROOMS.xss, "mallory", [
      { type: "text", author: "mallory", avatar: XSS, text: `avatar ${XSS}` },
      {
        type: "geojson",
        author: "mallory",
        avatar: XSS,
        layer_name: XSS,
        crs_wkt: XSS,
        crs_authid: "EPSG:4326",
        geojson: parisLayer({ name: XSS, [XSS]: XSS }),
        style: XSS,
      },
      { type: "model", author: "mallory", avatar: XSS, model_name: XSS, model_group: XSS, raw_xml: XSS },
      { type: "script", author: "mallory", avatar: XSS, name: XSS, raw_pycode: XSS },
      { type: "like", liker_author: "mallory", liked_author: "bob_xss", message: XSS },
    ]);
    await bob.locator(".message.type-script").waitFor();
    await bob.locator("#likes li", { hasText: XSS }).waitFor();

    // Rendered, as text: the payload is there to read, not to run.
    const conversation = (await bob.locator("#messages").textContent()) ?? "";
    expect(conversation.split(XSS).length - 1).toBeGreaterThanOrEqual(5);
    expect(await bob.locator(".message.type-text .avatar").last().getAttribute("title")).toBe(XSS);

    const layerMessage = bob.locator(".message.type-geojson");
    await layerMessage.click();
    expect(await settledWidth(bob.locator("#map path.shared-geojson").first())).toBeGreaterThan(150);
    // Near a corner of the square, away from the point feature drawn over it.
    await bob
      .locator("#map path.shared-geojson")
      .first()
      .click({ position: { x: 12, y: 12 } });
    const popup = bob.locator(".feature-popup");
    await popup.waitFor();
    expect(await popup.locator("strong").textContent()).toBe(XSS);
    expect(await popup.locator("th").allTextContents()).toContain(XSS);

    // A deep link with a hostile nickname: refused, and shown as text.
    const carol = await session.page();
    await carol.goto(`/?room=${ROOMS.xss}&nickname=${encodeURIComponent(XSS)}`);
    await carol.locator("#join-error", { hasText: "nickname" }).waitFor();
    expect(await carol.locator("#join-nickname").inputValue()).toBe(XSS);

    await expectNoTrouble([alice, bob, carol]);
  });
});

describe("a private space", () => {
  it("works from its link alone: every path under /s/{key}, the key never shown, and the public room of the same name gets nothing", async () => {
    const created = await api("/spaces", { method: "POST", admin: true, body: { name: "e2e mappers", rooms: [ROOMS.space] } });
    expect(created.status).toBe(201);
    const space = (await created.json()) as { key: string; path: string };
    expect(space.path).toBe(`/s/${space.key}`);

    const [alice, bob] = [await session.page(), await session.page()];
    const asked = requestsOf(alice);
    await joinByLink(alice, ROOMS.space, "alice_space", space.path);
    await joinByLink(bob, ROOMS.space, "bob_space", space.path);
    await alice.locator("#users li", { hasText: "bob_space" }).waitFor();
    await expect.poll(() => alice.locator("#nb-users").textContent()).toBe("2 connected");

    await sendText(alice, "only for the space @bob_space");
    await bob.locator(".message.type-text", { hasText: "only for the space" }).waitFor();
    await sendText(bob, "seen, in the space too");
    await alice.locator(".message.type-text", { hasText: "seen, in the space too" }).waitFor();

    // In a space, and says so discreetly: never the key in what is shown.
    for (const page of [alice, bob]) {
      expect(await page.locator("#space-badge").textContent()).toBe("private space");
      expect(await page.locator("#space-badge").isVisible()).toBe(true);
      expect(await page.locator("body").textContent()).not.toContain(space.key);
      expect(await page.title()).toBe("gischat · private space");
    }

    // The public room of the same name got nothing; the space's room has both.
    expect(await (await api(`/room/${ROOMS.space}/last`)).json()).toEqual([]);
    const inSpace = (await (await api(`${space.path}/room/${ROOMS.space}/last`)).json()) as { text: string }[];
    expect(inSpace.map((message) => message.text)).toEqual(["only for the space @bob_space", "seen, in the space too"]);

    // "Load earlier" asks the space's room: nothing is older, and the button goes.
    await alice.locator("#load-earlier").click();
    await alice.locator("#load-earlier").waitFor({ state: "hidden" });

    // The export is the space room's.
    const exportLink = alice.locator("#export-link");
    expect(await exportLink.textContent()).toBe("Export the room's geodata (GeoJSON)");
    const href = await exportLink.getAttribute("href");
    expect(href).toBe(`${space.path}/channel/${ROOMS.space}/export.geojson`);
    expect(await exportLink.getAttribute("download")).toBe(`${ROOMS.space}.geojson`);
    const exported = await api(href ?? "");
    expect(exported.status).toBe(200);
    expect(((await exported.json()) as { type: string }).type).toBe("FeatureCollection");

    // Every call the page made went to the space: the rooms, the rules, the users, the page of history, the socket.
    const paths = asked.fetches.map((url) => new URL(url).pathname);
    for (const wanted of ["/channels", "/rules", `/channel/${ROOMS.space}/users`, `/channel/${ROOMS.space}/messages`]) {
      expect(paths, wanted).toContain(`${space.path}${wanted}`);
    }
    for (const path of paths) expect(path.startsWith(`${space.path}/`), path).toBe(true);
    expect(asked.sockets.map((url) => new URL(url).pathname)).toEqual([`${space.path}/channel/${ROOMS.space}/ws`]);

    await expectNoTrouble([alice, bob]);
  });
});

describe("load earlier messages", () => {
  it("pages the history back from the replay, above it, each message once and in order, keeping the reader's place", async () => {
    const texts = Array.from({ length: 70 }, (_, n) => `history ${String(n + 1).padStart(2, "0")}`);
    for (const text of texts) await putText(ROOMS.history, "poster_e2e", text);

    const page = await session.page();
    await joinByLink(page, ROOMS.history, "reader_e2e");
    const shown = () => page.locator(".message.type-text .text").allTextContents();
    // The replay on connect: the newest (MAX_STORED_MESSAGES is 5).
    await expect.poll(shown).toEqual(texts.slice(-5));

    const button = page.locator("#load-earlier");
    await button.click();
    await expect.poll(async () => (await shown()).length).toBe(55);
    expect(await shown()).toEqual(texts.slice(-55));
    expect(await button.isVisible()).toBe(true);

    // At the top of the conversation, load the rest: the message at the top stays where it is.
    await page.locator("#messages").evaluate((list) => {
      list.scrollTop = 0;
    });
    const top = page.locator(".message", { hasText: "history 16" });
    const offsetBefore = await offsetInConversation(page, top);
    let clicks = 1;
    while (await button.isVisible()) {
      const count = (await shown()).length;
      await button.click();
      clicks++;
      await expect.poll(async () => (await shown()).length !== count || !(await button.isVisible())).toBe(true);
    }
    expect(clicks).toBe(2);
    expect(await shown()).toEqual(texts);
    expect(Math.abs((await offsetInConversation(page, top)) - offsetBefore)).toBeLessThan(2);
    expect(await page.locator("#messages").evaluate((list) => list.scrollTop)).toBeGreaterThan(0);

    // What arrives now goes below, as ever.
    await putText(ROOMS.history, "poster_e2e", "history live");
    await expect.poll(shown).toEqual([...texts, "history live"]);

    await expectNoTrouble([page]);
  });
});

describe("a message deleted by the moderator", () => {
  it("disappears from an open page with its shape on the map, and a reply to it says the original is not shown", async () => {
    const page = await session.page();
    await joinByLink(page, ROOMS.moderation, "reader_mod");
    const doomed = await putText(ROOMS.moderation, "poster_mod", "a misplaced paste");
    await putText(ROOMS.moderation, "poster_mod", "this one stays");
    await page.locator(".message", { hasText: "this one stays" }).waitFor();

    await page.locator(`.message[data-id="${doomed.id}"] .reply-button`).click();
    await sendText(page, "what was that?");
    const reply = page.locator(".message.is-reply", { hasText: "what was that?" });
    expect(await reply.locator("button.reply-quote .reply-snippet").textContent()).toBe("a misplaced paste");

    await sendRaw(ROOMS.moderation, "qgis_mod", [
      { type: "bbox", author: "qgis_mod", crs_wkt: "", crs_authid: "EPSG:4326", xmin: 2.3, xmax: 2.4, ymin: 48.83, ymax: 48.88 },
    ]);
    const extent = page.locator(".message.type-bbox");
    await extent.waitFor();
    const extentId = await extent.getAttribute("data-id");
    await expect.poll(() => page.locator("#map path.shared-bbox").count()).toBe(1);

    expect((await api(`/channel/${ROOMS.moderation}/messages/${doomed.id}`, { method: "DELETE", admin: true })).status).toBe(204);
    await page.locator(`.message[data-id="${doomed.id}"]`).waitFor({ state: "detached" });
    await reply.locator(".reply-quote.reply-missing", { hasText: "Reply to a message that is not shown here" }).waitFor();
    expect(await page.locator(".message", { hasText: "this one stays" }).count()).toBe(1);

    expect((await api(`/channel/${ROOMS.moderation}/messages/${extentId}`, { method: "DELETE", admin: true })).status).toBe(204);
    await page.locator(".message.type-bbox").waitFor({ state: "detached" });
    await expect.poll(() => page.locator("#map path.shared-bbox").count()).toBe(0);

    // Gone from the history too: a page opened now does not show it.
    const later = await session.page();
    await joinByLink(later, ROOMS.moderation, "later_mod");
    await later.locator(".message", { hasText: "what was that?" }).waitFor();
    expect(await later.locator(".message", { hasText: "a misplaced paste" }).count()).toBe(0);
    expect(await later.locator(".message.is-reply .reply-missing").count()).toBe(1);

    await expectNoTrouble([page, later]);
  });
});

describe("a server restart", () => {
  it("is survived: the pages reconnect by themselves and messages flow again, without duplicates", async () => {
    const [alice, bob] = [await session.page(), await session.page()];
    await joinByLink(alice, ROOMS.reconnect, "alice_back");
    await joinByLink(bob, ROOMS.reconnect, "bob_back");
    await sendText(alice, "before the restart");
    await bob.locator(".message", { hasText: "before the restart" }).waitFor();

    await server.stop();
    await waitForDisconnection(alice);
    await waitForDisconnection(bob);
    expect(await alice.locator("#connection").textContent()).toMatch(/Disconnected|Reconnecting/);

    await server.restart();
    await waitForConnection(alice, "open", 45_000);
    await waitForConnection(bob, "open", 45_000);
    await alice.locator("#users li", { hasText: "bob_back" }).waitFor();

    await sendText(alice, "after the restart");
    await bob.locator(".message", { hasText: "after the restart" }).waitFor();
    // The room replays its recent messages on reconnection; the page shows each once.
    expect(await bob.locator(".message", { hasText: "before the restart" }).count()).toBe(1);

    await expectNoTrouble([alice, bob]);
  });
});

describe("GET /docs", () => {
  it("renders the API documentation offline, from our own assets", async () => {
    const page = await session.page();
    await page.goto("/docs");
    await page.locator(".opblock").first().waitFor({ timeout: 20_000 });
    expect(await page.locator(".opblock").count()).toBeGreaterThan(15);
    expect(await page.locator('.opblock-summary-path[data-path="/channel/{name}/ws"]').count()).toBe(1);
    await expectNoTrouble([page]);
  });
});

describe("the JSON API beside the static assets", () => {
  it("still reaches the Worker, with Content-Type: application/json exactly", async () => {
    for (const path of ["/rooms", "/channels", "/rules", "/status", "/openapi.json", `/channel/${ROOMS.chat}/users`]) {
      const response = await fetch(`${server.baseUrl}${path}`);
      expect(response.status, path).toBe(200);
      expect(response.headers.get("Content-Type"), path).toBe("application/json");
    }
    const unknown = await fetch(`${server.baseUrl}/nope`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ detail: "Not Found" });
  });
});
