// The only reprojection the client does itself: EPSG:3857 to longitude/latitude.
import { describe, expect, it } from "vitest";
import { checkedToLatLng, fromWebMercator, legacyGeojsonCrs, toLatLngFor } from "../src/crs";

describe("toLatLngFor", () => {
  it("reads EPSG:4326 as x = longitude, y = latitude, as QGIS writes it", () => {
    expect(toLatLngFor("EPSG:4326")?.(2.3522, 48.8566)).toEqual([48.8566, 2.3522]);
    expect(toLatLngFor("OGC:CRS84")?.(2.3522, 48.8566)).toEqual([48.8566, 2.3522]);
  });

  it("unprojects EPSG:3857 (Web Mercator metres) and its older names", () => {
    // Paris, Notre-Dame: 261 845.7 m, 6 250 566.7 m in EPSG:3857.
    for (const authid of ["EPSG:3857", "epsg:3857", "EPSG:900913", "EPSG:102100"]) {
      const [lat, lng] = toLatLngFor(authid)!(261_845.7, 6_250_566.7);
      expect(lat).toBeCloseTo(48.8566, 3);
      expect(lng).toBeCloseTo(2.3522, 3);
    }
    expect(fromWebMercator(0, 0)).toEqual([0, 0]);
    // The edge of the Web Mercator world is 85.0511°.
    expect(fromWebMercator(20_037_508.34, 20_037_508.34)[0]).toBeCloseTo(85.0511, 3);
    expect(fromWebMercator(-20_037_508.34, 0)[1]).toBeCloseTo(-180, 6);
  });

  it("knows nothing of other CRSs, rather than drawing them in the wrong place", () => {
    for (const authid of ["EPSG:2154", "EPSG:32631", "IGNF:LAMB93", "", "USER:100000"]) expect(toLatLngFor(authid)).toBeUndefined();
  });
});

describe("checkedToLatLng", () => {
  it("refuses what is not a place on Earth", () => {
    const lonLat = checkedToLatLng(toLatLngFor("EPSG:4326")!);
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
