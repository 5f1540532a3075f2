// The map's conversions: the server's own module (src/wire/crs.ts, proj4js), read
// as [latitude, longitude] for Leaflet. PROJ's figures are in cs2cs.test.ts.
import { describe, expect, it } from "vitest";
import { checkedToLatLng, legacyGeojsonCrs, toLatLngFor } from "../src/crs";

describe("toLatLngFor", () => {
  it("reads EPSG:4326 as x = longitude, y = latitude, as QGIS writes it", () => {
    expect(toLatLngFor("", "EPSG:4326")?.(2.3522, 48.8566)).toEqual([48.8566, 2.3522]);
    expect(toLatLngFor("", "OGC:CRS84")?.(2.3522, 48.8566)).toEqual([48.8566, 2.3522]);
  });

  it("unprojects EPSG:3857 (Web Mercator metres) and its older names", () => {
    // Paris, Notre-Dame: 261 845.7 m, 6 250 566.7 m in EPSG:3857.
    for (const authid of ["EPSG:3857", "epsg:3857", "EPSG:900913", "EPSG:102100", "ESRI:102100"]) {
      const [lat, lng] = toLatLngFor("", authid)!(261_845.7, 6_250_566.7);
      expect(lat).toBeCloseTo(48.8566, 3);
      expect(lng).toBeCloseTo(2.3522, 3);
    }
    const mercator = toLatLngFor("", "EPSG:3857")!;
    expect(mercator(0, 0)).toEqual([0, 0]);
    // The edge of the Web Mercator world is 85.0511°.
    expect(mercator(20_037_508.34, 20_037_508.34)[0]).toBeCloseTo(85.0511, 3);
    expect(mercator(-20_037_508.34, 0)[1]).toBeCloseTo(-180, 6);
  });

  it("draws Lambert-93, UTM and national grids where they are (PROJ's figures, to 1e-7 degree: 1 cm)", () => {
    const at = (authid: string, x: number, y: number) => toLatLngFor("", authid)!(x, y).map((degrees) => Number(degrees.toFixed(7)));
    // The Eiffel Tower (2.2945, 48.8584) in Lambert-93 and in UTM 31N, by cs2cs.
    expect(at("EPSG:2154", 648_237.302, 6_862_271.682)).toEqual([48.8584, 2.2945]);
    expect(at("EPSG:32631", 448_252.001, 5_411_954.91)).toEqual([48.8584, 2.2945]);
    // Big Ben (-0.124628, 51.500694) in British National Grid.
    expect(at("EPSG:27700", 530_267.976, 179_640)).toEqual([51.500694, -0.124628]);
  });

  it("reads a CRS given only as WKT, and prefers a known authid to the WKT", () => {
    const wkt =
      'PROJCS["Site TM",GEOGCS["ETRS89",DATUM["European_Terrestrial_Reference_System_1989",SPHEROID["GRS 1980",6378137,298.257222101]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",47.2],PARAMETER["central_meridian",-1.55],PARAMETER["scale_factor",1.0001],PARAMETER["false_easting",10000],PARAMETER["false_northing",20000],UNIT["metre",1]]';
    expect(toLatLngFor(wkt, "USER:100000")!(10_000, 20_000)).toEqual([47.2, -1.55]);
    expect(toLatLngFor(wkt, "EPSG:4326")!(2, 48)).toEqual([48, 2]);
  });

  it("knows nothing of CRSs it cannot convert, rather than drawing them in the wrong place", () => {
    for (const authid of ["EPSG:5514", "IGNF:RGF93G", "", "USER:100000"]) expect(toLatLngFor("", authid)).toBeUndefined();
    expect(toLatLngFor('LOCAL_CS["Building plan",UNIT["metre",1]]', "USER:100001")).toBeUndefined();
    expect(toLatLngFor("GEOGCRS[]", "")).toBeUndefined();
  });
});

describe("checkedToLatLng", () => {
  it("refuses what is not a place on Earth", () => {
    const lonLat = checkedToLatLng(toLatLngFor("", "EPSG:4326")!);
    expect(lonLat(2, 48)).toEqual([48, 2]);
    expect(() => lonLat(652_000, 6_862_000)).toThrow(RangeError); // Lambert-93 metres sent as EPSG:4326
    expect(() => lonLat(Number.NaN, 0)).toThrow(RangeError);
  });
});

describe("legacyGeojsonCrs", () => {
  it("reads the crs member of GeoJSON 2008 files", () => {
    const named = (name: string) => ({ type: "FeatureCollection", crs: { type: "name", properties: { name } }, features: [] });
    expect(legacyGeojsonCrs(named("urn:ogc:def:crs:EPSG::3857"))).toBe("EPSG:3857");
    expect(legacyGeojsonCrs(named("urn:ogc:def:crs:OGC:1.3:CRS84"))).toBe("OGC:CRS84");
    expect(legacyGeojsonCrs(named("EPSG:2154"))).toBe("EPSG:2154");
    expect(legacyGeojsonCrs({ type: "FeatureCollection", features: [] })).toBeUndefined();
    expect(legacyGeojsonCrs(null)).toBeUndefined();
  });
});
