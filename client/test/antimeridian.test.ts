// The land outline cut at the antimeridian: no ring or line of what the map draws
// jumps across the world, Antarctica is closed along the South Pole, and nothing of
// the land is lost (areas add up).
import { feature } from "topojson-client";
import type { Topology } from "topojson-specification";
import { describe, expect, it } from "vitest";
import land from "world-atlas/land-110m.json";
import { cutLand, cutLine, cutPolygon, cutRing, type Position, unwrapRing } from "../src/antimeridian";

/** The largest jump in longitude between consecutive vertices. */
function widestStep(line: readonly Position[]): number {
  let widest = 0;
  for (let index = 1; index < line.length; index++) widest = Math.max(widest, Math.abs(line[index]![0] - line[index - 1]![0]));
  return widest;
}

/** Planar area in square degrees (what the flat map fills). */
function area(ring: readonly Position[]): number {
  let sum = 0;
  for (let index = 1; index < ring.length; index++) {
    sum += ring[index - 1]![0] * ring[index]![1] - ring[index]![0] * ring[index - 1]![1];
  }
  return Math.abs(sum) / 2;
}

const closed = (ring: readonly Position[]) => ring[0]![0] === ring.at(-1)![0] && ring[0]![1] === ring.at(-1)![1];

/** An island across the antimeridian, as world-atlas keeps Fiji's: 178°E to 178°W. */
const ACROSS: Position[] = [
  [178, -17],
  [-178, -17],
  [-178, -16],
  [178, -16],
  [178, -17],
];

/** A ring round the South Pole, as world-atlas keeps Antarctica: eastwards all the way round. */
const AROUND_POLE: Position[] = [
  [-180, -80],
  [-90, -70],
  [0, -70],
  [90, -70],
  [179, -80],
  [-180, -80],
];

describe("unwrapRing", () => {
  it("makes longitudes continuous and says how many times a ring goes round", () => {
    expect(unwrapRing(ACROSS)).toEqual({
      ring: [
        [178, -17],
        [182, -17],
        [182, -16],
        [178, -16],
        [178, -17],
      ],
      turns: 0,
    });
    expect(unwrapRing(AROUND_POLE).turns).toBe(1);
    expect(unwrapRing(AROUND_POLE).ring.at(-1)).toEqual([180, -80]);
  });
});

describe("cutRing", () => {
  it("cuts a ring across the antimeridian into one piece on each side, within ±180°", () => {
    const pieces = cutRing(ACROSS);
    expect([...pieces.keys()].sort()).toEqual([0, 1]);
    const [east, west] = [pieces.get(0)!, pieces.get(1)!];
    expect(east.every(([lon]) => lon >= 178 && lon <= 180)).toBe(true);
    expect(west.every(([lon]) => lon >= -180 && lon <= -178)).toBe(true);
    expect(area(east)).toBeCloseTo(2, 9);
    expect(area(west)).toBeCloseTo(2, 9);
    expect(closed(east) && closed(west)).toBe(true);
  });

  it("leaves a ring that does not cross it as it is", () => {
    const square: Position[] = [
      [2, 48],
      [3, 48],
      [3, 49],
      [2, 49],
      [2, 48],
    ];
    expect([...cutRing(square).entries()]).toEqual([[0, square]]);
  });

  it("closes a ring round a pole along the pole, covering everything south of it", () => {
    const pieces = [...cutRing(AROUND_POLE).values()];
    expect(pieces).toHaveLength(1);
    const [piece] = pieces;
    expect(piece!.some(([lon, lat]) => lat === -90 && lon === -180)).toBe(true);
    expect(piece!.some(([lon, lat]) => lat === -90 && lon === 180)).toBe(true);
    expect(widestStep(piece!)).toBeLessThanOrEqual(180);
    // From the pole up to the coast: at least the band from -90° to -80° all round.
    expect(area(piece!)).toBeGreaterThan(360 * 10);
  });
});

describe("cutLine", () => {
  it("stops a coast at one edge of the map and goes on from the other, at the latitude where it crosses", () => {
    expect(cutLine(ACROSS)).toEqual([
      [
        [178, -17],
        [180, -17],
      ],
      [
        [-180, -17],
        [-178, -17],
        [-178, -16],
        [-180, -16],
      ],
      [
        [180, -16],
        [178, -16],
        [178, -17],
      ],
    ]);
  });

  it("does not divide by zero at a vertex on the antimeridian itself", () => {
    const lines = cutLine([
      [179, 71],
      [180, 71],
      [-180, 71.5],
      [-179, 71.5],
    ]);
    expect(lines.flat().every(([lon, lat]) => Number.isFinite(lon) && Number.isFinite(lat))).toBe(true);
    expect(lines.every((line) => widestStep(line) <= 180)).toBe(true);
  });
});

describe("cutPolygon", () => {
  it("keeps each hole with the piece of the outer ring it is in", () => {
    const hole: Position[] = [
      [-179, -16.8],
      [-178.5, -16.8],
      [-178.5, -16.2],
      [-179, -16.2],
      [-179, -16.8],
    ];
    const polygons = cutPolygon([ACROSS, hole]);
    expect(polygons).toHaveLength(2);
    expect(polygons.map((polygon) => polygon.length).sort()).toEqual([1, 2]);
  });
});

describe("world-atlas's land at 1:110m", () => {
  const topology = land as unknown as Topology;
  const geojson = feature(topology, topology.objects.land!) as unknown as GeoJSON.FeatureCollection<GeoJSON.MultiPolygon>;
  const polygons = geojson.features.flatMap((f) => f.geometry.coordinates) as unknown as Position[][][];

  it("has rings that cross the antimeridian (what drew lines across the map)", () => {
    const crossing = polygons.filter((polygon) => widestStep(polygon[0]!) > 180);
    // Antarctica, Fiji, Eurasia (Chukotka) and Wrangel Island.
    expect(crossing.length).toBe(4);
  });

  const { fill, coast } = cutLand(polygons);

  it("is drawn with no step wider than 180° of longitude, everything within ±180°, only Antarctica along the pole", () => {
    for (const polygon of fill) {
      for (const ring of polygon) {
        expect(closed(ring)).toBe(true);
        expect(ring.every(([lon, lat]) => lon >= -180 && lon <= 180 && lat >= -90 && lat <= 90)).toBe(true);
        // The one wide step allowed: along the South Pole, closing Antarctica.
        for (let index = 1; index < ring.length; index++) {
          const [a, b] = [ring[index - 1]!, ring[index]!];
          if (Math.abs(a[0] - b[0]) > 180) expect([a[1], b[1]]).toEqual([-90, -90]);
        }
        expect(widestStep(ring)).toBeLessThanOrEqual(180);
      }
    }
    for (const line of coast) {
      expect(widestStep(line)).toBeLessThanOrEqual(180);
      expect(line.every(([lon]) => lon >= -180 && lon <= 180)).toBe(true);
    }
    const polar = fill.flat().filter((ring) => ring.some(([, lat]) => lat === -90));
    expect(polar).toHaveLength(1);
    expect(Math.min(...polar[0]!.map(([lon]) => lon))).toBe(-180);
    expect(Math.max(...polar[0]!.map(([lon]) => lon))).toBe(180);
  });

  it("loses no land: the pieces of each ring that crosses add up to the ring unwrapped", () => {
    for (const polygon of polygons) {
      const outer = polygon[0]!;
      const { ring, turns } = unwrapRing(outer);
      if (turns !== 0) continue; // Antarctica gains the band down to the pole.
      const pieces = [...cutRing(outer).values()];
      expect(pieces.reduce((sum, piece) => sum + area(piece), 0)).toBeCloseTo(area(ring), 6);
    }
  });
});
