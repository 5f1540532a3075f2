// Distances on the WGS 84 ellipsoid (GeographicLib's geodesics, Karney's algorithm:
// exact to about 15 nanometres anywhere, antipodes included), for "who is near" on
// the server and in the browser client. Zod-free, so the client can bundle it.
import { Geodesic } from "geographiclib-geodesic";

/** Metres along the ellipsoid between two [longitude, latitude] points. */
export function distanceMetres([lon1, lat1]: readonly [number, number], [lon2, lat2]: readonly [number, number]): number {
  return Geodesic.WGS84.Inverse(lat1, lon1, lat2, lon2, Geodesic.DISTANCE).s12 ?? Number.NaN;
}

/** Half the equator's length: no two points on Earth are further apart along it. */
export const MAX_RADIUS_METRES = 20_037_509;
