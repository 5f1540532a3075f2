// GET …/{name}/export.geojson read by GDAL, as QGIS reads a vector layer from a URL:
// `ogrinfo` on the live URL of a real `wrangler dev` finds one layer named after the
// room, every feature, and the extent in WGS 84. Skipped only where GDAL is not
// installed (`apt-get install -y gdal-bin`; .ci/run installs it).
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DevServer } from "./server.ts";

const ROOM = "e2e-export";
const WKT = "GEOGCRS[]";
const HAS_OGRINFO = spawnSync("ogrinfo", ["--version"]).status === 0;
// Where GDAL is missing the test says so and skips; in CI (.ci/run installs it) a missing GDAL is a failure.
if (!HAS_OGRINFO && process.env.CI) throw new Error("ogrinfo is missing: .ci/run installs Debian's gdal-bin (apt-get install -y gdal-bin)");
if (!HAS_OGRINFO) console.warn("e2e/export.e2e.ts skipped: GDAL's ogrinfo is not installed (apt-get install -y gdal-bin).");

/**
 * What one person shares: 3 points in EPSG:4326, an extent in EPSG:3857, a position,
 * and a layer in a building's own grid (an engineering CRS, which no conversion can
 * place: left out; Lambert-93 was, before the server had proj4js).
 */
const SHARED = [
  {
    type: "geojson",
    author: "alice",
    layer_name: "towns",
    crs_wkt: WKT,
    crs_authid: "EPSG:4326",
    geojson: {
      type: "FeatureCollection",
      features: [
        { type: "Feature", properties: { name: "Paris", pop: 2_100_000 }, geometry: { type: "Point", coordinates: [2.35, 48.85] } },
        { type: "Feature", properties: { name: "Lyon", pop: 520_000 }, geometry: { type: "Point", coordinates: [4.83, 45.76] } },
        { type: "Feature", properties: { name: "Brest", pop: 140_000 }, geometry: { type: "Point", coordinates: [-4.49, 48.39] } },
      ],
    },
  },
  // 1° to 2° east, 0° to 1° north, in Web Mercator.
  { type: "bbox", author: "alice", crs_wkt: WKT, crs_authid: "EPSG:3857", xmin: 111_319.49, xmax: 222_638.98, ymin: 0, ymax: 111_325.14 },
  { type: "position", author: "alice", crs_wkt: WKT, crs_authid: "EPSG:4326", x: 7.75, y: 48.58 },
  {
    type: "geojson",
    author: "alice",
    layer_name: "site plan",
    crs_wkt: 'LOCAL_CS["Site grid",LOCAL_DATUM["Site datum",0],UNIT["metre",1],AXIS["X",EAST],AXIS["Y",NORTH]]',
    crs_authid: "USER:100001",
    geojson: {
      type: "FeatureCollection",
      features: [{ type: "Feature", properties: {}, geometry: { type: "Point", coordinates: [12, 34] } }],
    },
  },
];

let server: DevServer;

async function share(baseUrl: string): Promise<void> {
  const ws = new WebSocket(`${baseUrl.replace("http", "ws")}/channel/${ROOM}/ws`);
  const received: unknown[] = [];
  let notify: () => void = () => {};
  ws.addEventListener("message", (event) => {
    received.push(JSON.parse(String(event.data)));
    notify();
  });
  await new Promise((resolve, reject) => {
    ws.addEventListener("open", resolve);
    ws.addEventListener("error", reject);
  });
  const until = async (count: number) => {
    const deadline = Date.now() + 10_000;
    while (received.length < count) {
      if (Date.now() > deadline) throw new Error(`only ${received.length} of ${count} frames: ${JSON.stringify(received)}`);
      await new Promise<void>((resolve) => {
        notify = resolve;
        setTimeout(resolve, 200);
      });
    }
  };
  ws.send(JSON.stringify({ type: "newcomer", newcomer: "alice" }));
  await until(2); // nb_users, newcomer
  for (const [index, message] of SHARED.entries()) {
    ws.send(JSON.stringify(message));
    await until(3 + index);
  }
  ws.close();
}

describe.skipIf(!HAS_OGRINFO)("GET /channel/{name}/export.geojson read by GDAL", () => {
  beforeAll(async () => {
    server = await DevServer.start([ROOM]);
    await share(server.baseUrl);
  });

  afterAll(async () => {
    await server?.stop();
  });

  it("ogrinfo on the live URL: one layer named after the room, 5 features, the extent in WGS 84", () => {
    const url = `${server.baseUrl}/channel/${ROOM}/export.geojson`;
    const info = execFileSync("ogrinfo", ["-ro", "-so", "-al", url], { encoding: "utf8" });
    expect(info).toMatch(new RegExp(`^Layer name: ${ROOM}$`, "m"));
    expect(info).toMatch(/^Feature Count: 5$/m);
    expect(info).toMatch(/^Extent: \(-4\.490000, 0\.000000\) - \(7\.750000, 48\.850000\)$/m);
    expect(info).toMatch(/WGS 84/);
    for (const field of ["message_id", "message_type", "author", "time", "layer_name", "name", "pop"]) {
      expect(info).toMatch(new RegExp(`^${field}: `, "m"));
    }
  });

  it("ogr2ogr to a GeoPackage, then ogrinfo on it: the same features, 3 points, 1 polygon, 1 point position", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gischat-export-"));
    try {
      const file = path.join(dir, "export.gpkg");
      execFileSync("ogr2ogr", ["-f", "GPKG", file, `${server.baseUrl}/room/${ROOM}/export.geojson`, "-nlt", "GEOMETRY"], {
        encoding: "utf8",
      });
      const count = (where: string) =>
        execFileSync("ogrinfo", ["-ro", "-so", "-al", "-where", where, file], { encoding: "utf8" }).match(/^Feature Count: (\d+)$/m)?.[1];
      expect(count("1=1")).toBe("5");
      expect(count("message_type = 'geojson'")).toBe("3");
      expect(count("message_type = 'bbox'")).toBe("1");
      expect(count("message_type = 'position'")).toBe("1");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
