// src/wire/crs.ts in the Workers runtime, where the export (and positions) call it:
// proj4js runs in workerd, and the figures are exact (rounded to 1e-9 degree).
// They agree with PROJ's cs2cs to within a centimetre (client/test/cs2cs.test.ts,
// where cs2cs's own figures are; the last digit may differ by 0.1 mm or so).
import { describe, expect, it } from "vitest";
import { fromLonLatFor, knownAuthids, lonLatOf, toLonLatFor } from "../src/wire/crs";
import { Client, freshRoom, type Json, request, roomPath } from "./helpers";

/** A QGIS custom CRS (USER:100000) as toWkt() writes it: a local transverse Mercator on ETRS89, no authority anywhere. */
const CUSTOM_WKT =
  'PROJCS["Chantier Nantes TM",GEOGCS["ETRS89",DATUM["European_Terrestrial_Reference_System_1989",SPHEROID["GRS 1980",6378137,298.257222101]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",47.2],PARAMETER["central_meridian",-1.55],PARAMETER["scale_factor",1.0001],PARAMETER["false_easting",10000],PARAMETER["false_northing",20000],UNIT["metre",1],AXIS["Easting",EAST],AXIS["Northing",NORTH]]';

/** EPSG:28992 (the Dutch RD New) as QGIS's toWkt() writes it: WKT1 the GDAL 3 way, with no TOWGS84. */
const RD_WKT1 =
  'PROJCS["Amersfoort / RD New",GEOGCS["Amersfoort",DATUM["Amersfoort",SPHEROID["Bessel 1841",6377397.155,299.1528128,AUTHORITY["EPSG","7004"]],AUTHORITY["EPSG","6289"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AUTHORITY["EPSG","4289"]],PROJECTION["Oblique_Stereographic"],PARAMETER["latitude_of_origin",52.1561605555556],PARAMETER["central_meridian",5.38763888888889],PARAMETER["scale_factor",0.9999079],PARAMETER["false_easting",155000],PARAMETER["false_northing",463000],UNIT["metre",1,AUTHORITY["EPSG","9001"]],AXIS["Easting",EAST],AXIS["Northing",NORTH],AUTHORITY["EPSG","28992"]]';

/** Lambert-93 in WKT2 (QGIS 3 can send WKT2 too), without its own ID: proj4js's WKT2 reader does the work. */
const LAMBERT93_WKT2 =
  'PROJCRS["RGF93 v1 / Lambert-93",BASEGEOGCRS["RGF93 v1",DATUM["Reseau Geodesique Francais 1993 v1",ELLIPSOID["GRS 1980",6378137,298.257222101,LENGTHUNIT["metre",1]]],PRIMEM["Greenwich",0,ANGLEUNIT["degree",0.0174532925199433]],ID["EPSG",4171]],CONVERSION["Lambert-93",METHOD["Lambert Conic Conformal (2SP)",ID["EPSG",9802]],PARAMETER["Latitude of false origin",46.5,ANGLEUNIT["degree",0.0174532925199433],ID["EPSG",8821]],PARAMETER["Longitude of false origin",3,ANGLEUNIT["degree",0.0174532925199433],ID["EPSG",8822]],PARAMETER["Latitude of 1st standard parallel",49,ANGLEUNIT["degree",0.0174532925199433],ID["EPSG",8823]],PARAMETER["Latitude of 2nd standard parallel",44,ANGLEUNIT["degree",0.0174532925199433],ID["EPSG",8824]],PARAMETER["Easting at false origin",700000,LENGTHUNIT["metre",1],ID["EPSG",8826]],PARAMETER["Northing at false origin",6600000,LENGTHUNIT["metre",1],ID["EPSG",8827]]],CS[Cartesian,2],AXIS["easting (X)",east,ORDER[1],LENGTHUNIT["metre",1]],AXIS["northing (Y)",north,ORDER[2],LENGTHUNIT["metre",1]]]';

describe("toLonLatFor", () => {
  it.each([
    // authid, x, y, [lon, lat]; cs2cs says the same to the 8th decimal.
    ["EPSG:2154", 652_000, 6_862_000, [2.345811959, 48.856248141]], // Lambert-93, Paris
    ["EPSG:32631", 452_000, 5_411_000, [2.34570621, 48.850111662]], // UTM 31N, Paris
    ["EPSG:25832", 691_000, 5_336_000, [11.567949804, 48.148546265]], // ETRS89 / UTM 32N, Munich
    ["EPSG:27700", 530_000, 180_000, [-0.12835394, 51.503990834]], // British National Grid, London
    ["EPSG:28992", 121_000, 487_000, [4.887970765, 52.36982621]], // RD New, Amsterdam
    ["EPSG:2056", 2_600_000, 1_200_000, [7.438632421, 46.951082771]], // LV95, Bern
    ["EPSG:3035", 4_321_000, 3_210_000, [10, 52]], // LAEA Europe, its origin
    ["EPSG:3857", 261_600, 6_250_000, [2.349992783, 48.853264341]], // Web Mercator
    ["EPSG:4326", 2.35, 48.85, [2.35, 48.85]],
  ] as const)("%s (%d, %d) is %j", (authid, x, y, lonLat) => {
    expect(toLonLatFor("", authid)!(x, y)).toEqual(lonLat);
  });

  it("generates every UTM zone: a zone's central meridian on the equator", () => {
    for (let zone = 1; zone <= 60; zone++) {
      const meridian = zone * 6 - 183;
      expect(toLonLatFor("", `EPSG:${32600 + zone}`)!(500_000, 0)).toEqual([meridian, 0]);
      expect(toLonLatFor("", `EPSG:${32700 + zone}`)!(500_000, 10_000_000)).toEqual([meridian, 0]);
    }
    for (let zone = 28; zone <= 38; zone++) expect(toLonLatFor("", `EPSG:${25800 + zone}`)!(500_000, 0)).toEqual([zone * 6 - 183, 0]);
    expect(knownAuthids().length).toBeGreaterThan(200);
  });

  it("reads an authid in any case and with spaces, as older clients write it", () => {
    expect(toLonLatFor("", " epsg:2154 ")!(652_000, 6_862_000)).toEqual([2.345811959, 48.856248141]);
    expect(toLonLatFor("", "IGNF:LAMB93")!(652_000, 6_862_000)).toEqual([2.345811959, 48.856248141]);
  });

  it("converts a CRS given only as WKT: a QGIS custom CRS, WKT2, and a compound CRS's horizontal part", () => {
    expect(toLonLatFor(CUSTOM_WKT, "USER:100000")!(10_000, 20_000)).toEqual([-1.55, 47.2]);
    expect(toLonLatFor(CUSTOM_WKT, "")!(12_000, 21_000)).toEqual([-1.523603109, 47.208990902]);
    expect(toLonLatFor(LAMBERT93_WKT2, "")!(652_000, 6_862_000)).toEqual([2.345811959, 48.856248141]);
    const compound = `COMPD_CS["RD New + NAP height",${RD_WKT1},VERT_CS["NAP height",VERT_DATUM["Normaal Amsterdams Peil",2005],UNIT["metre",1],AXIS["Gravity-related height",UP]]]`;
    expect(toLonLatFor(compound, "")!(121_000, 487_000)).toEqual([4.887970765, 52.36982621]);
  });

  it("gives a WKT1 on an old datum the TOWGS84 QGIS leaves out: the RD's WKT, named or not, lands where EPSG:28992 does", () => {
    const expected = [4.887970765, 52.36982621];
    expect(toLonLatFor(RD_WKT1, "")!(121_000, 487_000)).toEqual(expected);
    const unnamed = RD_WKT1.replace(/,AUTHORITY\["EPSG","28992"\]\]$/, "]");
    expect(toLonLatFor(unnamed, "USER:100000")!(121_000, 487_000)).toEqual(expected);
    // Without that shift (a WKT naming no known datum) it would be about 100 m off: proj4js alone has no Amersfoort shift.
    const anonymous = unnamed.replace('AUTHORITY["EPSG","6289"]', 'AUTHORITY["XX","1"]');
    const [lon, lat] = toLonLatFor(anonymous, "")!(121_000, 487_000);
    expect(Math.hypot((lon - expected[0]!) * 68_000, (lat - expected[1]!) * 111_000)).toBeGreaterThan(50);
  });

  it("has no conversion for what it cannot read or is not on the Earth", () => {
    for (const [wkt, authid] of [
      ["", ""],
      ["", "USER:100000"],
      ["", "EPSG:5514"],
      ["GEOGCRS[]", ""],
      ["w", ""],
      ["EPSG:4326", ""],
      ["+proj=longlat +datum=WGS84", ""],
      ['LOCAL_CS["Building plan",LOCAL_DATUM["Local",0],UNIT["metre",1],AXIS["X",EAST],AXIS["Y",NORTH]]', "USER:100001"],
      ['GEOCCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],PRIMEM["Greenwich",0],UNIT["metre",1]]', "EPSG:4978"],
      [
        'PROJCS["x",GEOGCS["y",DATUM["d",SPHEROID["s",6378137,298.257223563]],PRIMEM["G",0],UNIT["degree",0.0174532925199433]],PROJECTION["No_Such_Projection"],UNIT["metre",1]]',
        "",
      ],
      [`PROJCS["${"[".repeat(500)}`, ""],
    ]) {
      expect(toLonLatFor(wkt!, authid!), `${wkt} / ${authid}`).toBeUndefined();
    }
  });

  it("builds one converter per CRS text and keeps a bounded number of them", () => {
    expect(toLonLatFor("", "EPSG:2154")).toBe(toLonLatFor("", "EPSG:2154"));
    expect(toLonLatFor(CUSTOM_WKT, "")).toBe(toLonLatFor(CUSTOM_WKT, "USER:100000"));
    // A client sending a hundred different WKTs: each still converts, the cache stays bounded.
    for (let i = 0; i < 100; i++) {
      const wkt = CUSTOM_WKT.replace('"false_easting",10000', `"false_easting",${10_000 + i}`);
      expect(toLonLatFor(wkt, "")!(10_000 + i, 20_000)).toEqual([-1.55, 47.2]);
    }
    expect(toLonLatFor(CUSTOM_WKT, "")!(10_000, 20_000)).toEqual([-1.55, 47.2]);
  });

  it("converts the other way too, and back", () => {
    const [x, y] = fromLonLatFor("", "EPSG:2154")!(2.345811959, 48.856248141);
    expect(x).toBeCloseTo(652_000, 3);
    expect(y).toBeCloseTo(6_862_000, 3);
  });
});

describe("lonLatOf", () => {
  it("refuses what is not a place on Earth", () => {
    const wgs84 = toLonLatFor("", "EPSG:4326")!;
    expect(lonLatOf(wgs84, 2, 48)).toEqual([2, 48]);
    expect(lonLatOf(wgs84, 652_000, 6_862_000)).toBeUndefined(); // Lambert-93 metres sent as EPSG:4326
    expect(lonLatOf(toLonLatFor("", "EPSG:2154")!, Number.NaN, 0)).toBeUndefined();
    expect(lonLatOf(toLonLatFor("", "EPSG:2154")!, Number.POSITIVE_INFINITY, 0)).toBeUndefined();
  });
});

describe("the room's positions, in every CRS it converts", () => {
  it("keeps a position sent in Lambert-93, in British National Grid or as WKT only, in WGS 84, and nearby measures from it", async () => {
    const room = freshRoom();
    const join = async (nickname: string) => {
      const client = await Client.open("channels", room);
      client.send({ type: "newcomer", newcomer: nickname });
      for (let message = await client.next(); message.newcomer !== nickname; message = await client.next());
      return client;
    };
    const share = async (client: Client, author: string, crs_wkt: string, crs_authid: string, x: number, y: number) => {
      client.send({ type: "position", author, crs_wkt, crs_authid, x, y });
      await client.next();
    };
    const jane = await join("jane");
    await share(jane, "jane", "", "EPSG:2154", 652_000, 6_862_000);
    const bob = await join("bob");
    await share(bob, "bob", "", "EPSG:27700", 530_000, 180_000);
    const carol = await join("carol");
    await share(carol, "carol", CUSTOM_WKT, "", 10_000, 20_000);
    const response = await request(roomPath("channels", room, "positions"));
    const { features } = (await response.json()) as { features: { geometry: { coordinates: number[] }; properties: Json }[] };
    const at = Object.fromEntries(features.map((feature) => [feature.properties.nickname, feature.geometry.coordinates]));
    expect(at).toEqual({ jane: [2.345811959, 48.856248141], bob: [-0.12835394, 51.503990834], carol: [-1.55, 47.2] });
    const near = await request(`${roomPath("channels", room, "nearby")}?lon=2.345811959&lat=48.856248141&radius_m=1000`);
    expect(((await near.json()) as { users: Json[] }).users.map((user) => user.nickname)).toEqual(["jane"]);
  });
});
