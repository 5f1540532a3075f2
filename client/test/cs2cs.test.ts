// Our conversions (src/wire/crs.ts, proj4js) against PROJ's own, as Debian's
// proj-bin runs them: `cs2cs` with EPSG codes picks EPSG's transformation from its
// database, `projinfo` gives each CRS's area of use and axis order. Every point is
// made by PROJ inside the CRS's area (lon/lat to x/y), then converted back by us and
// compared, both ways, to within a centimetre; and our own round trip must land
// where it started. It runs where cs2cs is installed (.ci/run installs proj-bin);
// in CI a missing cs2cs is a failure, not a skip.

import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { fromLonLatFor, knownAuthids, knownDefinition, toLonLatFor } from "../../src/wire/crs";

const run = promisify(execFile);
const PROJ_ENV = { ...process.env, PROJ_NETWORK: "OFF" };

function hasCs2cs(): boolean {
  try {
    execFileSync("cs2cs", [], { stdio: "ignore", env: PROJ_ENV });
    return true;
  } catch (error) {
    return (error as { code?: string }).code !== "ENOENT";
  }
}
const available = hasCs2cs();
if (!available && process.env.CI) throw new Error("cs2cs is missing: .ci/run installs Debian's proj-bin (apt-get install -y proj-bin)");

type Pair = [number, number];

/** A CRS as cs2cs takes it: a code or a WKT is one argument, a PROJ string is its words. */
const crsArguments = (crs: string) => (crs.startsWith("+") ? crs.split(" ") : [crs]);

/** PROJ's conversion of points from one CRS to another, in the axis order of each CRS. */
async function cs2cs(from: string, to: string, points: Pair[]): Promise<Pair[]> {
  const args = from.startsWith("+") ? [...crsArguments(from), "+to", ...crsArguments(to)] : [from, to];
  const child = run("cs2cs", ["-f", "%.10f", ...args], { env: PROJ_ENV });
  child.child.stdin!.end(`${points.map(([a, b]) => `${a} ${b}`).join("\n")}\n`);
  const { stdout } = await child;
  return stdout
    .trim()
    .split("\n")
    .map((line) => {
      const [a, b] = line.trim().split(/\s+/).map(Number);
      return [a!, b!];
    });
}

interface CrsInfo {
  /** Whether PROJ's first axis is the northing or the latitude (QGIS's x is always the easting). */
  northFirst: boolean;
  /** The area of use, when the CRS has one. */
  bbox?: Area;
}
interface Area {
  west: number;
  south: number;
  east: number;
  north: number;
}

async function projinfo(crs: string): Promise<CrsInfo> {
  const { stdout } = await run("projinfo", [crs, "-o", "PROJJSON", "-q"], { env: PROJ_ENV });
  type Crs = { coordinate_system?: { axis: { name: string }[] }; source_crs?: Crs };
  const json = JSON.parse(stdout) as Crs & {
    bbox?: { west_longitude: number; south_latitude: number; east_longitude: number; north_latitude: number };
  };
  // A WKT1 with TOWGS84 is a bound CRS to PROJ: the axes are its source CRS's.
  const axes = (json.coordinate_system ?? json.source_crs?.coordinate_system)!.axis;
  const northFirst = /^(northing|latitude|geodetic latitude)/i.test(axes[0]!.name);
  if (json.bbox === undefined) return { northFirst };
  const { west_longitude: west, south_latitude: south, north_latitude: north } = json.bbox;
  // An area across the antimeridian has east < west.
  const east = json.bbox.east_longitude < west ? json.bbox.east_longitude + 360 : json.bbox.east_longitude;
  return { northFirst, bbox: { west, south, east, north } };
}

/** The area of use of an EPSG CRS. */
async function areaOf(code: string): Promise<Area> {
  const { bbox } = await projinfo(code);
  if (bbox === undefined) throw new Error(`${code} has no area of use`);
  return bbox;
}

/** A 3×3 grid of points inside the area (its middle 80 %), longitude first. */
function samplePoints({ west, south, east, north }: Area): Pair[] {
  const points: Pair[] = [];
  for (const u of [0.1, 0.5, 0.9]) {
    for (const v of [0.1, 0.5, 0.9]) {
      const lon = west + (east - west) * u;
      points.push([lon > 180 ? lon - 360 : lon, south + (north - south) * v]);
    }
  }
  return points;
}

/** Metres between two lon/lat points a few centimetres apart (an equirectangular approximation, exact enough at that scale). */
function metresApart([lon1, lat1]: Pair, [lon2, lat2]: Pair): number {
  const metresPerDegree = 111_320;
  let dLon = lon1 - lon2;
  if (dLon > 180) dLon -= 360;
  if (dLon < -180) dLon += 360;
  const dx = dLon * metresPerDegree * Math.cos((((lat1 + lat2) / 2) * Math.PI) / 180);
  const dy = (lat1 - lat2) * metresPerDegree;
  return Math.hypot(dx, dy);
}

const swap = ([a, b]: Pair): Pair => [b, a];
const CENTIMETRE = 0.01;

interface Comparison {
  /** The worst distance between our lon/lat and PROJ's, in metres. */
  toLonLat: number;
  /** The worst distance between our x/y and PROJ's, in the CRS's units (metres here). */
  fromLonLat: number;
  /** The worst distance of our own round trip from where it started, in metres. */
  roundTrip: number;
}

/** Compares us with PROJ for one CRS: `crs` is what cs2cs is given (a code or a WKT), `wkt`/`authid` what a message would carry. */
async function compare(crs: string, wkt: string, authid: string, points: Pair[]): Promise<Comparison> {
  const info = await projinfo(crs);
  const toLonLat = toLonLatFor(wkt, authid);
  const fromLonLat = fromLonLatFor(wkt, authid);
  expect(toLonLat, `${authid || "the WKT"} is converted`).toBeDefined();
  const projected = (await cs2cs("OGC:CRS84", crs, points)).map((xy) => (info.northFirst ? swap(xy) : xy));
  const worst = { toLonLat: 0, fromLonLat: 0, roundTrip: 0 };
  points.forEach((lonLat, i) => {
    const [x, y] = projected[i]!;
    const ours = toLonLat!(x, y);
    worst.toLonLat = Math.max(worst.toLonLat, metresApart(ours, lonLat));
    const [ox, oy] = fromLonLat!(...lonLat);
    worst.fromLonLat = Math.max(worst.fromLonLat, Math.hypot(ox - x, oy - y));
    worst.roundTrip = Math.max(worst.roundTrip, metresApart(toLonLat!(ox, oy), lonLat));
  });
  return worst;
}

/**
 * Where PROJ picks another transformation to WGS 84 than ours, with the tolerance
 * it is checked within (ours is EPSG's, good to the metres said): our definition
 * itself, given to cs2cs, is checked within 1 cm below.
 */
function otherTransformation(authid: string): { tolerance: number; why: string } | undefined {
  // PROJ ships the BeTA2007 grid (DHDN) and ntf_r93 (NTF); we apply EPSG's Helmert, good to about 1–3 m.
  if (/^EPSG:(3146[6-9]|27572)$/.test(authid)) return { tolerance: 3, why: "a grid" };
  // PROJ picks a regional NAD83 to WGS 84 Helmert; we use EPSG:1188, the null one (4 m).
  if (/^EPSG:(269\d\d|5070|4269)$/.test(authid)) return { tolerance: 2, why: "a regional Helmert" };
  // In Türkiye PROJ goes through TUREF (0.5 m); we use EPSG:1149, ETRS89 = WGS 84.
  if (authid === "EPSG:25838") return { tolerance: 1, why: "TUREF" };
  return undefined;
}

/**
 * Every EPSG CRS of our table but most of the UTM series, of which a few zones are
 * enough (they are generated by one line each), and but the aliases (older names of
 * Web Mercator, unknown to PROJ).
 */
function tableSample(): string[] {
  const series = /^EPSG:(326|327|258|269|283|78)\d\d$/;
  const seen = new Set<string>();
  const sampledZones = new Set([
    "EPSG:32601",
    "EPSG:32631",
    "EPSG:32660",
    "EPSG:32701",
    "EPSG:32733",
    "EPSG:32760",
    "EPSG:25828",
    "EPSG:25832",
    "EPSG:25833",
    "EPSG:25838",
    "EPSG:26910",
    "EPSG:26918",
    "EPSG:28356",
    "EPSG:7855",
  ]);
  return knownAuthids().filter((authid) => {
    const definition = knownDefinition(authid)!;
    if (seen.has(definition)) return false;
    seen.add(definition);
    return authid.startsWith("EPSG:") && (!series.test(authid) || sampledZones.has(authid));
  });
}

describe.skipIf(!available)("conversions compared with PROJ's cs2cs", () => {
  it.each([
    ["Lambert-93", "EPSG:2154"],
    ["UTM zone 31N (WGS 84)", "EPSG:32631"],
    ["UTM zone 33S (WGS 84)", "EPSG:32733"],
    ["UTM zone 32N (ETRS89)", "EPSG:25832"],
    ["British National Grid", "EPSG:27700"],
  ])("%s (%s): projected to lon/lat and back within 1 cm", async (_name, authid) => {
    const worst = await compare(authid, "", authid, samplePoints(await areaOf(authid)));
    const mm = (metres: number) => `${(metres * 1000).toFixed(3)} mm`;
    console.info(
      `${authid} against cs2cs: to lon/lat ${mm(worst.toLonLat)}, from lon/lat ${mm(worst.fromLonLat)}, round trip ${mm(worst.roundTrip)}`,
    );
    expect(worst.toLonLat).toBeLessThan(CENTIMETRE);
    expect(worst.fromLonLat).toBeLessThan(CENTIMETRE);
    expect(worst.roundTrip).toBeLessThan(CENTIMETRE);
  });

  it("every CRS of the table: within 1 cm where PROJ uses the same transformation, within its accuracy where it picks another", async () => {
    const authids = tableSample();
    expect(authids.length).toBeGreaterThan(50);
    const failures: string[] = [];
    // Four at a time: each is a projinfo and a cs2cs process.
    for (let i = 0; i < authids.length; i += 4) {
      await Promise.all(
        authids.slice(i, i + 4).map(async (authid) => {
          const worst = await compare(authid, "", authid, samplePoints(await areaOf(authid)));
          const tolerance = otherTransformation(authid)?.tolerance ?? CENTIMETRE;
          if (worst.toLonLat >= tolerance || worst.fromLonLat >= tolerance || worst.roundTrip >= CENTIMETRE) {
            failures.push(`${authid}: ${JSON.stringify(worst)} (tolerance ${tolerance} m)`);
          }
        }),
      );
    }
    expect(failures).toEqual([]);
  }, 60_000);

  it("where PROJ picks another transformation: our own definition (the same projection and Helmert) given to cs2cs, within 1 cm", async () => {
    for (const authid of tableSample().filter((authid) => otherTransformation(authid) !== undefined)) {
      const definition = knownDefinition(authid)!;
      // The same datum on both sides: cs2cs then only unprojects.
      const datum = definition.match(/\+(datum|ellps|a|rf|towgs84|pm)=\S+/g)!.join(" ");
      const points = samplePoints(await areaOf(authid));
      const projected = await cs2cs(`+proj=longlat ${datum} +no_defs +type=crs`, `${definition} +type=crs`, points);
      const toLonLat = toLonLatFor("", authid)!;
      const wgs84 = await cs2cs(`${definition} +type=crs`, "+proj=longlat +datum=WGS84 +no_defs +type=crs", projected);
      for (const [i, [x, y]] of projected.entries()) expect(metresApart(toLonLat(x, y), wgs84[i]!), authid).toBeLessThan(CENTIMETRE);
    }
  });
});

/** The WKT that QGIS's toWkt() writes (WKT1 the GDAL way), or WKT2, as PROJ writes it for a CRS. */
function wktOf(crs: string, format: "WKT1_GDAL" | "WKT2_2019", ...extra: string[]): string {
  return execFileSync("projinfo", [crs, "-o", format, "-q", "--single-line", ...extra], { env: PROJ_ENV, encoding: "utf8" }).trim();
}

/** The WKT without the authority id of its outermost node (the id of its base CRS stays, as in a QGIS custom CRS built on one). */
function withoutOwnId(wkt: string): string {
  return wkt.replace(/,(AUTHORITY\["EPSG","\d+"\]|ID\["EPSG",\d+\])\]$/, "]");
}

/** A QGIS custom CRS (USER:100000): a local transverse Mercator on ETRS89, with no authority anywhere. */
const CUSTOM_WKT =
  'PROJCS["Chantier Nantes TM",GEOGCS["ETRS89",DATUM["European_Terrestrial_Reference_System_1989",SPHEROID["GRS 1980",6378137,298.257222101]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",47.2],PARAMETER["central_meridian",-1.55],PARAMETER["scale_factor",1.0001],PARAMETER["false_easting",10000],PARAMETER["false_northing",20000],UNIT["metre",1],AXIS["Easting",EAST],AXIS["Northing",NORTH]]';
const NANTES: Area = { west: -1.8, south: 47.0, east: -1.3, north: 47.4 };

describe.skipIf(!available)("a CRS given only as WKT (no crs_authid), compared with cs2cs given the same WKT", () => {
  it("a QGIS custom CRS, with no authority at all", async () => {
    const worst = await compare(CUSTOM_WKT, CUSTOM_WKT, "", samplePoints(NANTES));
    expect(worst.toLonLat).toBeLessThan(CENTIMETRE);
    expect(worst.fromLonLat).toBeLessThan(CENTIMETRE);
    expect(worst.roundTrip).toBeLessThan(CENTIMETRE);
  });

  it.each([
    ["WKT1_GDAL", "EPSG:2154"],
    ["WKT1_GDAL", "EPSG:27700"],
    ["WKT1_GDAL", "EPSG:32631"],
    ["WKT1_GDAL", "EPSG:3035"],
    ["WKT2_2019", "EPSG:2154"],
    ["WKT2_2019", "EPSG:27700"],
  ] as const)("%s of %s with an empty crs_authid and its own authority removed, so that proj4js reads it", async (format, code) => {
    const wkt = withoutOwnId(wktOf(code, format));
    expect(wkt).not.toContain(`${code.slice(5)}]]`);
    const worst = await compare(wkt, wkt, "", samplePoints(await areaOf(code)));
    expect(worst.toLonLat).toBeLessThan(CENTIMETRE);
    expect(worst.fromLonLat).toBeLessThan(CENTIMETRE);
  });

  it("WKT1 with a TOWGS84 (as QGIS 2 and GDAL 2 wrote Belgian Lambert 72), read by both as the Helmert it gives", async () => {
    const wkt = withoutOwnId(wktOf("EPSG:31370", "WKT1_GDAL")).replace(
      'AUTHORITY["EPSG","7022"]],',
      'AUTHORITY["EPSG","7022"]],TOWGS84[-106.8686,52.2978,-103.7239,0.3366,-0.457,1.8422,-1.2747],',
    );
    expect(wkt).toContain("TOWGS84");
    const worst = await compare(wkt, wkt, "", samplePoints(await areaOf("EPSG:31370")));
    expect(worst.toLonLat).toBeLessThan(CENTIMETRE);
    expect(worst.fromLonLat).toBeLessThan(CENTIMETRE);
  });
});
