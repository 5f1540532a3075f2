// The land outline on a flat map. world-atlas keeps Natural Earth's polygons whole
// on the sphere: a ring that crosses the antimeridian (Chukotka, Fiji, Antarctica)
// jumps from +180° to -180° between two vertices, which a flat map draws as a line
// across the whole world. Here every ring is cut at ±180° instead: the fill as
// polygons within [-180, 180] (a ring around a pole, Antarctica's, closed along
// that pole first), the coastline as lines that stop at one edge of the map and go
// on from the other. The cut edges are part of the fill only, so no stroke is drawn
// along the antimeridian.

export type Position = [number, number];
export type Ring = Position[];

/** What to draw: polygons to fill (no stroke) and coastlines to stroke (no fill). */
export interface CutLand {
  fill: Ring[][];
  coast: Position[][];
}

/** Vertices added per 360° along a pole when closing a ring around it. */
const POLE_STEPS = 36;

/** Consecutive vertices more than this apart in longitude are taken to cross the antimeridian. */
const HALF_TURN = 180;

/**
 * The ring with continuous longitudes: each crossing of the antimeridian adds or
 * takes 360°, so the ring may reach beyond ±180°. `turns` is how many times it
 * goes round the globe (±1 for a ring around a pole, 0 for any other).
 */
export function unwrapRing(ring: readonly Position[]): { ring: Ring; turns: number } {
  const out: Ring = [];
  let offset = 0;
  let previous: number | undefined;
  for (const [lon, lat] of ring) {
    if (previous !== undefined) {
      const step = lon + offset - previous;
      if (step > HALF_TURN) offset -= 360;
      else if (step < -HALF_TURN) offset += 360;
    }
    previous = lon + offset;
    out.push([previous, lat]);
  }
  const first = out[0];
  const last = out.at(-1);
  const turns = first && last ? Math.round((last[0] - first[0]) / 360) : 0;
  return { ring: out, turns };
}

/** A ring that goes round a pole, closed along that pole: from its last vertex down (or up) to it, along it, and back. */
export function closeAroundPole(ring: Ring, turns: number): Ring {
  const first = ring[0];
  const last = ring.at(-1);
  if (!first || !last || turns === 0) return ring;
  // The pole the ring goes round: the one on the side of its vertices.
  const pole = ring.reduce((sum, [, lat]) => sum + lat, 0) < 0 ? -90 : 90;
  const closed: Ring = [...ring];
  const steps = Math.max(1, Math.ceil((Math.abs(last[0] - first[0]) / 360) * POLE_STEPS));
  for (let step = 0; step <= steps; step++) closed.push([last[0] + ((first[0] - last[0]) * step) / steps, pole]);
  closed.push([first[0], first[1]]);
  return closed;
}

/** Sutherland–Hodgman: the part of a closed ring on one side of a meridian (`keep` says which side). */
function clipToMeridian(ring: readonly Position[], meridian: number, keepEast: boolean): Ring {
  const inside = (lon: number) => (keepEast ? lon >= meridian : lon <= meridian);
  const crossing = ([lon1, lat1]: Position, [lon2, lat2]: Position): Position => [
    meridian,
    lat1 + ((lat2 - lat1) * (meridian - lon1)) / (lon2 - lon1),
  ];
  const out: Ring = [];
  const open = ringVertices(ring);
  for (let index = 0; index < open.length; index++) {
    const current = open[index]!;
    const previous = open[(index + open.length - 1) % open.length]!;
    if (inside(current[0])) {
      if (!inside(previous[0])) out.push(crossing(previous, current));
      out.push(current);
    } else if (inside(previous[0])) {
      out.push(crossing(previous, current));
    }
  }
  return closeRing(out);
}

/** A ring's vertices without the closing repeat of the first. */
function ringVertices(ring: readonly Position[]): Position[] {
  const first = ring[0];
  const last = ring.at(-1);
  return first && last && ring.length > 1 && first[0] === last[0] && first[1] === last[1] ? ring.slice(0, -1) : [...ring];
}

function closeRing(vertices: Ring): Ring {
  const first = vertices[0];
  return first ? [...vertices, [first[0], first[1]]] : [];
}

/** Twice the signed area, in square degrees: zero for a ring with nothing inside. */
function doubleArea(ring: readonly Position[]): number {
  let sum = 0;
  for (let index = 1; index < ring.length; index++) {
    const [x1, y1] = ring[index - 1]!;
    const [x2, y2] = ring[index]!;
    sum += x1 * y2 - x2 * y1;
  }
  return sum;
}

/** Which copies of the world ([-180, 180] + 360 k) an unwrapped ring reaches. */
function worldCopies(ring: readonly Position[]): number[] {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const [lon] of ring) {
    min = Math.min(min, lon);
    max = Math.max(max, lon);
  }
  const copies: number[] = [];
  for (let k = Math.floor((min + 180) / 360); k * 360 - 180 < max; k++) copies.push(k);
  return copies;
}

/**
 * One ring cut into the copies of the world it reaches, each brought back into
 * [-180, 180]: a map from the copy (k) to the ring's piece there.
 */
export function cutRing(ring: readonly Position[]): Map<number, Ring> {
  const { ring: unwrapped, turns } = unwrapRing(ring);
  const whole = closeAroundPole(unwrapped, turns);
  const pieces = new Map<number, Ring>();
  for (const k of worldCopies(whole)) {
    const west = k * 360 - 180;
    const piece = clipToMeridian(clipToMeridian(whole, west, true), west + 360, false);
    if (piece.length < 4 || Math.abs(doubleArea(piece)) < 1e-12) continue;
    pieces.set(
      k,
      piece.map(([lon, lat]) => [lon - k * 360, lat]),
    );
  }
  return pieces;
}

/** A polygon (outer ring then holes) cut at the antimeridian: one polygon per copy of the world its outer ring reaches. */
export function cutPolygon(polygon: readonly (readonly Position[])[]): Ring[][] {
  const [outer, ...holes] = polygon;
  if (!outer) return [];
  const byCopy = new Map<number, Ring[]>();
  for (const [k, piece] of cutRing(outer)) byCopy.set(k, [piece]);
  for (const hole of holes) {
    for (const [k, piece] of cutRing(hole)) byCopy.get(k)?.push(piece);
  }
  return [...byCopy.values()];
}

/**
 * A ring's outline as lines that never cross the antimeridian: at each crossing the
 * line stops at one edge of the map (at the latitude where it crosses) and goes on
 * from the other.
 */
export function cutLine(line: readonly Position[]): Position[][] {
  const lines: Position[][] = [];
  let current: Position[] = [];
  let previous: Position | undefined;
  for (const point of line) {
    if (previous && Math.abs(point[0] - previous[0]) > HALF_TURN) {
      const edge = previous[0] > 0 ? 180 : -180;
      const nextLon = point[0] + (edge > 0 ? 360 : -360);
      const span = nextLon - previous[0];
      const lat = span === 0 ? previous[1] : previous[1] + ((point[1] - previous[1]) * (edge - previous[0])) / span;
      current.push([edge, lat]);
      if (current.length > 1) lines.push(current);
      current = [[-edge, lat]];
    }
    current.push(point);
    previous = point;
  }
  if (current.length > 1) lines.push(current);
  return lines;
}

/** Polygons (GeoJSON coordinates of a Polygon or a MultiPolygon's members), ready to draw on a flat map. */
export function cutLand(polygons: readonly (readonly (readonly Position[])[])[]): CutLand {
  const fill: Ring[][] = [];
  const coast: Position[][] = [];
  for (const polygon of polygons) {
    fill.push(...cutPolygon(polygon));
    for (const ring of polygon) coast.push(...cutLine(ring));
  }
  return { fill, coast };
}
