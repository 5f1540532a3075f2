// Coordinates arrive in the CRS of the sender's QGIS project. The map shows
// longitude/latitude (WGS 84): the conversion is the server's own
// (src/wire/crs.ts, proj4js), so the map and the export agree on every point.
// A CRS it cannot convert is reported on the map as not shown, rather than drawn
// in the wrong place.

import { toLonLatFor } from "../../src/wire/crs";

/** [latitude, longitude] from a message's (x, y). */
export type ToLatLng = (x: number, y: number) => [number, number];

/** The conversion for a message's CRS (its authid when it is a known one, else its WKT), or undefined when this map cannot show it. */
export function toLatLngFor(crsWkt: string, crsAuthid: string): ToLatLng | undefined {
  const toLonLat = toLonLatFor(crsWkt, crsAuthid);
  if (toLonLat === undefined) return undefined;
  return (x, y) => {
    const [lng, lat] = toLonLat(x, y);
    return [lat, lng];
  };
}

/** A checked conversion: non-finite or off-the-globe results throw, so that nothing is drawn at a wrong place. */
export function checkedToLatLng(toLatLng: ToLatLng): ToLatLng {
  return (x, y) => {
    const [lat, lng] = toLatLng(x, y);
    if (!Number.isFinite(lat) || !Number.isFinite(lng) || Math.abs(lat) > 90 || Math.abs(lng) > 540) {
      throw new RangeError(`(${x}, ${y}) is not a place on Earth in this CRS`);
    }
    return [lat, lng];
  };
}

/** The CRS named by a GeoJSON file's legacy `crs` member (GeoJSON 2008), e.g. urn:ogc:def:crs:EPSG::3857. */
export function legacyGeojsonCrs(geojson: unknown): string | undefined {
  if (typeof geojson !== "object" || geojson === null) return undefined;
  const name = (geojson as { crs?: { properties?: { name?: unknown } } }).crs?.properties?.name;
  if (typeof name !== "string") return undefined;
  const match = /(EPSG|OGC)[:]+(?:[\d.]*:)?(\w+)$/i.exec(name);
  return match ? `${match[1]!.toUpperCase()}:${match[2]!.toUpperCase()}` : undefined;
}
