// GET …/{name}/export.geojson: everything geographic in the room's retained
// history as one RFC 7946 FeatureCollection in WGS 84 longitude/latitude: every
// feature of every shared layer, every extent as a Polygon, every position as a
// Point, converted from each message's CRS by wire/crs.ts (a known authid, else
// its WKT). What is in a CRS the server cannot convert is left out and counted,
// per CRS, in the foreign member `not_converted`.
//
// The history may hold tens of megabytes: it is read a batch at a time as the
// answer is sent (a ReadableStream returned over RPC), never all at once.
import { lonLatOf, type ToLonLat, toLonLatFor } from "../wire/crs";
import type { Envelope } from "../wire/envelope";
import type { ClientMessageOf } from "../wire/messages";
import type { History, Retention } from "./history";

/** About how much of the history one step of the stream reads. */
const BATCH_BYTES = 2_000_000;

type Position = number[];
interface Geometry {
  type: string;
  coordinates?: unknown;
  geometries?: unknown;
}
export interface ExportFeature {
  type: "Feature";
  id?: string | number;
  geometry: Geometry | null;
  properties: Record<string, unknown>;
}
export interface NotConverted {
  crs_authid: string;
  /** Messages left out. */
  messages: number;
  /** Features they would have given. */
  features: number;
}

/** Counts what is left out, per CRS, in the order first met. */
export class NotConvertedTally {
  private readonly byCrs = new Map<string, NotConverted>();

  add(crsAuthid: string, features: number): void {
    const entry = this.byCrs.get(crsAuthid) ?? { crs_authid: crsAuthid, messages: 0, features: 0 };
    entry.messages += 1;
    entry.features += features;
    this.byCrs.set(crsAuthid, entry);
  }

  list(): NotConverted[] {
    return [...this.byCrs.values()];
  }
}

/** The features one stored message gives, in WGS 84; those it cannot give are counted in `tally`. */
export function featuresOf(stored: Envelope, tally: NotConvertedTally): ExportFeature[] {
  const { message } = stored;
  if (message.type !== "geojson" && message.type !== "bbox" && message.type !== "position") return [];
  const features = message.type === "geojson" ? message.geojson.features.length : 1;
  const convert = toLonLatFor(message.crs_wkt, message.crs_authid);
  if (convert === undefined) {
    tally.add(message.crs_authid, features);
    return [];
  }
  const about = { message_id: stored.id, message_type: message.type, author: message.author, time: isoTime(stored.timestamp) };
  switch (message.type) {
    case "geojson":
      return layerFeatures(message, convert, about);
    case "bbox":
      return [{ type: "Feature", geometry: extentPolygon(message, convert), properties: about }];
    case "position": {
      const at = lonLatOf(convert, message.x, message.y);
      return [{ type: "Feature", geometry: at === undefined ? null : { type: "Point", coordinates: at }, properties: about }];
    }
  }
}

function isoTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}

function layerFeatures(layer: ClientMessageOf<"geojson">, convert: ToLonLat, about: Record<string, unknown>): ExportFeature[] {
  const properties = { ...about, layer_name: layer.layer_name };
  return layer.geojson.features.map((feature) => {
    const { id, geometry, properties: own } = feature as { id?: unknown; geometry?: unknown; properties?: unknown };
    const kept = typeof own === "object" && own !== null && !Array.isArray(own) ? own : {};
    // The layer's own properties, then the export's (which win on a clash: they say where the feature comes from).
    const exported: ExportFeature = {
      type: "Feature",
      geometry: convertGeometry(geometry, convert),
      properties: { ...kept, ...properties },
    };
    if (typeof id === "string" || (typeof id === "number" && Number.isFinite(id))) exported.id = id;
    return exported;
  });
}

/** An extent as a Polygon, counterclockwise (RFC 7946's right-hand rule). */
function extentPolygon(extent: ClientMessageOf<"bbox">, convert: ToLonLat): Geometry | null {
  const { xmin, xmax, ymin, ymax } = extent;
  const corners = [
    [xmin, ymin],
    [xmax, ymin],
    [xmax, ymax],
    [xmin, ymax],
    [xmin, ymin],
  ].map(([x, y]) => lonLatOf(convert, x!, y!));
  if (corners.some((corner) => corner === undefined)) return null;
  return { type: "Polygon", coordinates: [corners as Position[]] };
}

// A geometry's nesting depth of positions, per type.
const DEPTH: Record<string, number> = { Point: 0, MultiPoint: 1, LineString: 1, MultiLineString: 2, Polygon: 2, MultiPolygon: 3 };
/** GeometryCollections nest; a shared layer is QGIS's export, never deeply, so this bound refuses only abuse. */
const MAX_COLLECTION_DEPTH = 8;

/**
 * The geometry in longitude/latitude, or null (a feature without geometry, valid in
 * RFC 7946) when it is absent, not a GeoJSON geometry, or off the Earth once converted.
 */
export function convertGeometry(geometry: unknown, convert: ToLonLat, depth = 0): Geometry | null {
  if (typeof geometry !== "object" || geometry === null) return null;
  const { type, coordinates, geometries } = geometry as Geometry;
  if (type === "GeometryCollection") {
    if (!Array.isArray(geometries) || depth >= MAX_COLLECTION_DEPTH) return null;
    const converted = geometries.map((member) => convertGeometry(member, convert, depth + 1));
    return converted.some((member) => member === null) ? null : { type, geometries: converted };
  }
  if (typeof type !== "string" || !Object.hasOwn(DEPTH, type)) return null;
  const converted = convertCoordinates(coordinates, DEPTH[type]!, convert);
  return converted === undefined ? null : { type, coordinates: converted };
}

function convertCoordinates(value: unknown, depth: number, convert: ToLonLat): unknown {
  if (!Array.isArray(value)) return undefined;
  if (depth === 0) {
    const [x, y, ...rest] = value as unknown[];
    if (typeof x !== "number" || typeof y !== "number" || rest.some((extra) => typeof extra !== "number")) return undefined;
    const at = lonLatOf(convert, x, y);
    return at === undefined ? undefined : [...at, ...(rest as number[])];
  }
  const converted: unknown[] = [];
  for (const member of value) {
    const one = convertCoordinates(member, depth - 1, convert);
    if (one === undefined) return undefined;
    converted.push(one);
  }
  return converted;
}

const encoder = new TextEncoder();

/**
 * The export as a stream of UTF-8 JSON, read from the history a batch at a time as
 * the reader asks for more. Messages stored after the export began are not in it.
 */
export function exportStream(history: History, retention: () => Retention, name: string): ReadableStream<Uint8Array> {
  const upTo = history.lastSeq();
  const tally = new NotConvertedTally();
  let after = 0;
  let first = true;
  let done = false;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(`{"type":"FeatureCollection","name":${JSON.stringify(name)},"features":[`));
    },
    pull(controller) {
      // Each pull reads batches until it has something to send, or the history is read.
      while (!done) {
        const { envelopes, lastSeq } = history.batchAfter(after, upTo, BATCH_BYTES, retention());
        if (envelopes.length === 0) {
          done = true;
          controller.enqueue(encoder.encode(`],"not_converted":${JSON.stringify(tally.list())}}\n`));
          controller.close();
          return;
        }
        after = lastSeq;
        const features = envelopes.flatMap((stored) => featuresOf(stored, tally));
        if (features.length === 0) continue;
        const text = features.map((feature) => JSON.stringify(feature)).join(",");
        controller.enqueue(encoder.encode(first ? text : `,${text}`));
        first = false;
        return;
      }
    },
  });
}
