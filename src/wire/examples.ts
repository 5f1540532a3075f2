// Prose and an example of each WebSocket message type, for the OpenAPI document
// (src/worker/openapi.ts). The examples are typed by the schemas, and
// test/openapi.test.ts checks that each one parses.
import type { z } from "zod";
import type { ClientMessageType, ClientSchemas, serverSchemas } from "./messages";

export type ServerMessageType = keyof typeof serverSchemas;

/** A 1×1 PNG: the smallest image_data the server accepts. */
const TINY_PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
const WGS84_WKT =
  'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433],AUTHORITY["EPSG","4326"]]';

type ClientDocs = { [T in ClientMessageType]: { description: string; example: z.input<ClientSchemas[T]> } };
type ServerDocs = { [T in ServerMessageType]: { description: string; example: z.output<(typeof serverSchemas)[T]> } };

export const CLIENT_MESSAGE_DOCS: ClientDocs = {
  text: {
    description: "A chat message. Broadcast, and stored unless it is one of the cheat codes.",
    example: { type: "text", author: "jane_doe", avatar: "mGeoPackage.svg", text: "Hi @all, the new layer is up" },
  },
  image: {
    description:
      "A PNG or JPEG, base64 without a data: prefix. The server shrinks it to MAX_IMAGE_SIZE on its longest side and broadcasts it as PNG.",
    example: { type: "image", author: "jane_doe", avatar: null, image_data: TINY_PNG },
  },
  newcomer: {
    description: "Registers this socket under a nickname, and announces it to the room.",
    example: { type: "newcomer", newcomer: "jane_doe" },
  },
  exiter: {
    description:
      "Releases this socket's own nickname (QField sends it before closing). Sent by the server when a registered socket leaves.",
    example: { type: "exiter", exiter: "jane_doe" },
  },
  like: {
    description: "Reaches only the sockets registered as liked_author; never stored.",
    example: { type: "like", liker_author: "bob_gis", liked_author: "jane_doe", message: "Hi @all, the new layer is up" },
  },
  geojson: {
    description: "A vector layer as a GeoJSON FeatureCollection in the CRS given by crs_authid / crs_wkt, with an optional QML style.",
    example: {
      type: "geojson",
      author: "jane_doe",
      avatar: null,
      layer_name: "survey points",
      crs_wkt: WGS84_WKT,
      crs_authid: "EPSG:4326",
      geojson: {
        type: "FeatureCollection",
        features: [{ type: "Feature", properties: { name: "well 1" }, geometry: { type: "Point", coordinates: [2.35, 48.85] } }],
      },
    },
  },
  crs: {
    description: "A coordinate reference system.",
    example: { type: "crs", author: "jane_doe", avatar: null, crs_wkt: WGS84_WKT, crs_authid: "EPSG:4326" },
  },
  bbox: {
    description: "A map extent in the given CRS.",
    example: {
      type: "bbox",
      author: "jane_doe",
      avatar: null,
      crs_wkt: WGS84_WKT,
      crs_authid: "EPSG:4326",
      xmin: 2.22,
      xmax: 2.47,
      ymin: 48.81,
      ymax: 48.91,
    },
  },
  position: {
    description: "A point in the given CRS.",
    example: { type: "position", author: "jane_doe", avatar: null, crs_wkt: WGS84_WKT, crs_authid: "EPSG:4326", x: 2.35, y: 48.85 },
  },
  model: {
    description: "A QGIS Processing graphical model (.model3 XML).",
    example: { type: "model", author: "jane_doe", model_name: "buffer then clip", raw_xml: '<!DOCTYPE model>\n<Option type="Map"/>' },
  },
  script: {
    description: "A QGIS Processing Python script.",
    example: { type: "script", author: "jane_doe", name: "count_features", raw_pycode: "print(layer.featureCount())" },
  },
};

export const SERVER_MESSAGE_DOCS: ServerDocs = {
  nb_users: {
    description: "How many sockets are connected to the room, registered or not. Sent to everyone when someone connects or leaves.",
    example: { type: "nb_users", nb_users: 2 },
  },
  uncompliant: {
    description: "Why a frame was refused, as a sentence a person can act on. Sent to the sender alone; the socket stays open.",
    example: { type: "uncompliant", reason: "Field 'text' must be at most 255 characters long." },
  },
  message_deleted: {
    description:
      "A moderator deleted the stored message with this id (DELETE …/{name}/messages/{id}): it is gone from the history, so hide it. Sent to every socket of the room but gischat 1.x ones; clients that do not know the type ignore it.",
    example: { type: "message_deleted", message_id: "3f0c9a52-6f1e-4c8e-9a57-2d8b1e0f4c11" },
  },
};

/** The id and timestamp the channels family adds, as an example. */
export const CHANNEL_STAMP_EXAMPLE = { id: "3f0c9a52-6f1e-4c8e-9a57-2d8b1e0f4c11", timestamp: 1767225600 };
