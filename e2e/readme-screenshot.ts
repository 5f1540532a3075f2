// Takes docs/client.png, the README's picture of the client: two people in a room,
// one shares a GeoJSON layer, an extent and a position, the other's page is shot.
//
//   npm run screenshot:readme
import path from "node:path";
import { joinByLink, launchBrowser, Session, sendText } from "./browser.ts";
import { DevServer } from "./server.ts";

const OUTPUT = path.resolve(import.meta.dirname, "..", "docs", "client.png");
const ROOM = "QGIS";

/** Bike parking survey around Lyon's Presqu'île, in EPSG:4326. */
const SURVEY = {
  type: "FeatureCollection",
  features: [
    {
      type: "Feature",
      properties: { zone: "Presqu'île", surveyed: "2026-05-12" },
      geometry: {
        type: "Polygon",
        coordinates: [
          [
            [4.826, 45.752],
            [4.836, 45.752],
            [4.842, 45.764],
            [4.838, 45.772],
            [4.829, 45.768],
            [4.826, 45.752],
          ],
        ],
      },
    },
    {
      type: "Feature",
      properties: { route: "Quai Saint-Antoine" },
      geometry: {
        type: "LineString",
        coordinates: [
          [4.829, 45.756],
          [4.8305, 45.762],
          [4.8325, 45.768],
        ],
      },
    },
    ...[
      [4.8322, 45.7578, 24],
      [4.8357, 45.7641, 12],
      [4.8335, 45.7672, 40],
    ].map(([lng, lat, spaces]) => ({
      type: "Feature",
      properties: { spaces },
      geometry: { type: "Point", coordinates: [lng, lat] },
    })),
  ],
};

const server = await DevServer.start([ROOM, "Geotribu"]);
const browser = await launchBrowser();
try {
  const session = await Session.open(browser, server.baseUrl);
  const [jane, bob] = [await session.page(), await session.page()];
  await jane.addInitScript(() =>
    localStorage.setItem("gischat.choice", JSON.stringify({ room: "QGIS", nickname: "jane_doe", avatar: "mIconPointLayer.svg" })),
  );
  await bob.addInitScript(() =>
    localStorage.setItem("gischat.choice", JSON.stringify({ room: "QGIS", nickname: "bob_gis", avatar: "mGeoPackage.svg" })),
  );
  await joinByLink(jane, ROOM, "jane_doe");
  await joinByLink(bob, ROOM, "bob_gis");

  await sendText(bob, "Morning! Anyone has the bike parking survey for Lyon?");
  await sendText(jane, "@bob_gis here it is, 3 spots counted this week");
  await jane.locator("#geojson-file").setInputFiles({
    name: "bike parking survey.geojson",
    mimeType: "application/geo+json",
    buffer: Buffer.from(JSON.stringify(SURVEY)),
  });
  const layer = bob.locator(".message.type-geojson");
  await layer.waitFor();
  await layer.click();
  await bob.waitForTimeout(1500); // the flight to the layer
  await bob.locator("#map").click({ position: { x: 520, y: 600 } });
  await bob.locator(".share-point").click();
  await bob.locator(".message.type-position").waitFor();
  await sendText(bob, "Thanks! There is room for a new rack where I put the point");
  await bob.locator(".message", { hasText: "room for a new rack" }).waitFor();
  await bob.waitForTimeout(500);
  await bob.screenshot({ path: OUTPUT });
  console.log(`Saved ${OUTPUT}`);
  await session.close();
} finally {
  await browser.close();
  await server.stop();
}
