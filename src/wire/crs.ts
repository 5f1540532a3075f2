// Coordinates to WGS 84 longitude/latitude, for the CRSs the server converts
// without a projection library: WGS 84 itself (EPSG:4326, OGC:CRS84) and Web
// Mercator (EPSG:3857 and its older names). Pure and zod-free. The browser client
// has its own copy (client/src/crs.ts) until a projection library replaces both.

/** [longitude, latitude] from a message's (x, y). */
export type ToLonLat = (x: number, y: number) => [number, number];

/** Web Mercator's sphere radius (EPSG:3857 uses the WGS 84 semi-major axis). */
const EARTH_RADIUS = 6378137;
const DEGREES = 180 / Math.PI;
/** Converted coordinates are rounded to 1e-9 degree (0.1 mm): the projection's floating-point noise is not kept. */
const ROUNDING = 1e9;

/** QGIS writes EPSG:4326 extents and GeoJSON as x = longitude, y = latitude. */
const asIs: ToLonLat = (x, y) => [x, y];

/** The inverse of the spherical Mercator projection of EPSG:3857. */
export const fromWebMercator: ToLonLat = (x, y) => [
  Math.round((x / EARTH_RADIUS) * DEGREES * ROUNDING) / ROUNDING,
  Math.round((2 * Math.atan(Math.exp(y / EARTH_RADIUS)) - Math.PI / 2) * DEGREES * ROUNDING) / ROUNDING,
];

const CONVERSIONS: Record<string, ToLonLat> = {
  "EPSG:4326": asIs,
  "OGC:CRS84": asIs,
  CRS84: asIs,
  "EPSG:3857": fromWebMercator,
  // Older names of EPSG:3857, still found in QGIS projects.
  "EPSG:900913": fromWebMercator,
  "EPSG:102100": fromWebMercator,
};

/** The conversion for a CRS authority id (as QGIS writes it: `EPSG:3857`), or undefined when the server has none. */
export function toLonLatFor(crsAuthid: string): ToLonLat | undefined {
  const key = crsAuthid.trim().toUpperCase();
  return Object.hasOwn(CONVERSIONS, key) ? CONVERSIONS[key] : undefined;
}

/** The converted position, or undefined when it is not a place on Earth (not finite, latitude past the poles). */
export function lonLatOf(toLonLat: ToLonLat, x: number, y: number): [number, number] | undefined {
  if (!Number.isFinite(x) || !Number.isFinite(y)) return undefined;
  const [lon, lat] = toLonLat(x, y);
  return Number.isFinite(lon) && Number.isFinite(lat) && Math.abs(lat) <= 90 && Math.abs(lon) <= 540 ? [lon, lat] : undefined;
}
