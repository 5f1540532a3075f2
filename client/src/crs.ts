// Coordinates arrive in the CRS of the sender's QGIS project. The map shows
// longitude/latitude (WGS 84); these are the CRSs it can convert from without a
// projection library. Anything else is reported on the map as not shown, rather
// than drawn in the wrong place.

/** [latitude, longitude] from a message's (x, y). */
export type ToLatLng = (x: number, y: number) => [number, number];

/** Web Mercator's sphere radius (EPSG:3857 uses the WGS 84 semi-major axis). */
const EARTH_RADIUS = 6378137;
const DEGREES = 180 / Math.PI;

/** EPSG:4326 as QGIS writes GeoJSON and extents: x is the longitude, y the latitude. */
const fromLonLat: ToLatLng = (x, y) => [y, x];

/** The inverse of the spherical Mercator projection of EPSG:3857. */
export const fromWebMercator: ToLatLng = (x, y) => [
  (2 * Math.atan(Math.exp(y / EARTH_RADIUS)) - Math.PI / 2) * DEGREES,
  (x / EARTH_RADIUS) * DEGREES,
];

const SUPPORTED: Record<string, ToLatLng> = {
  "EPSG:4326": fromLonLat,
  "OGC:CRS84": fromLonLat,
  "EPSG:3857": fromWebMercator,
  // Older names of EPSG:3857, still found in QGIS projects.
  "EPSG:900913": fromWebMercator,
  "EPSG:102100": fromWebMercator,
};

export const SUPPORTED_CRS_LABEL = "EPSG:4326 and EPSG:3857";

/** The conversion for a CRS authority id, or undefined when this map cannot show it. */
export function toLatLngFor(crsAuthid: string): ToLatLng | undefined {
  return SUPPORTED[crsAuthid.trim().toUpperCase()];
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
