// The map panel: shared GeoJSON layers, extents (bbox) and positions, each tied
// to the message that shared it. The background works offline (world land from
// Natural Earth, bundled); OpenStreetMap tiles are an opt-in layer that simply
// stays blank without internet, with the land outline still under it.

import type * as GeoJSON from "geojson";
import * as L from "leaflet";
import { feature } from "topojson-client";
import type { Topology } from "topojson-specification";
import land from "world-atlas/land-110m.json";
import { cutLand, type Position } from "./antimeridian";
import { authorColor } from "./avatars";
import { checkedToLatLng, type ToLatLng, toLatLngFor } from "./crs";
import { el } from "./dom";
import type { Person } from "./people";
import { PeopleLayer } from "./people-layer";
import type { Located } from "./protocol";
import { rememberBasemap, rememberedBasemap } from "./settings";

export interface MapCallbacks {
  /** A shared item was clicked on the map. */
  onItemClick(messageId: string): void;
  /** The user asked to share the point they clicked. */
  onSharePoint(lat: number, lng: number): void;
  /** The user asked who is near the point they clicked. */
  onNearPoint(lat: number, lng: number): void;
  /** A user's marker on the people layer was clicked. */
  onPersonClick(person: Person): void;
}

export type ShowResult = { shown: true } | { shown: false; reason: string };

export interface Extent {
  xmin: number;
  xmax: number;
  ymin: number;
  ymax: number;
}

const BASEMAPS = { plain: "Land outline (offline)", osm: "OpenStreetMap (online)" } as const;
const PEOPLE_OVERLAY = "People (last positions)";
const MAX_NOTICES = 4;

export class ChatMap {
  private readonly map: L.Map;
  private readonly items = new Map<string, L.Layer & { getBounds?: () => L.LatLngBounds; getLatLng?: () => L.LatLng }>();
  private readonly notices: HTMLUListElement;
  private highlighted: string | undefined;
  /** The room's users at their last positions. */
  readonly people: PeopleLayer;

  constructor(
    container: HTMLElement,
    private readonly storage: Storage,
    private readonly callbacks: MapCallbacks,
  ) {
    this.map = L.map(container, { worldCopyJump: true, minZoom: 1 }).setView([30, 0], 2);
    this.people = new PeopleLayer(this.map, (person) => this.callbacks.onPersonClick(person));
    this.addBackground();
    this.notices = this.addNoticeControl();
    this.map.on("click", (event: L.LeafletMouseEvent) => this.offerPoint(event.latlng));
  }

  /** Draws a located message, or says why it cannot. */
  show(message: Located): ShowResult {
    const convert = toLatLngFor(message.crs_wkt, message.crs_authid);
    if (!convert) {
      const reason = `${describe(message)} is in ${message.crs_authid || "an unnamed CRS"}, which this map cannot show (not a CRS it knows, and no WKT it can read).`;
      this.notice(reason);
      return { shown: false, reason };
    }
    try {
      const layer = this.layerFor(message, checkedToLatLng(convert));
      layer.on("click", () => this.callbacks.onItemClick(message.id));
      layer.addTo(this.map);
      this.items.set(message.id, layer);
      return { shown: true };
    } catch (error) {
      const reason = `${describe(message)} could not be drawn: ${error instanceof Error ? error.message : String(error)}.`;
      this.notice(reason);
      return { shown: false, reason };
    }
  }

  /** Where a position message was drawn, [latitude, longitude], if it was. */
  positionOf(messageId: string): [number, number] | undefined {
    const item = this.items.get(messageId);
    if (!(item instanceof L.CircleMarker)) return undefined;
    const { lat, lng } = item.getLatLng();
    return [lat, lng];
  }

  has(messageId: string): boolean {
    return this.items.has(messageId);
  }

  /** Removes what a message drew (a moderator deleted it). */
  forget(messageId: string): void {
    this.items.get(messageId)?.remove();
    this.items.delete(messageId);
    if (this.highlighted === messageId) this.highlighted = undefined;
  }

  /** Flies to a shared item and highlights it; false if it is not on the map. */
  flyTo(messageId: string): boolean {
    const item = this.items.get(messageId);
    if (!item) return false;
    const bounds = item.getBounds?.();
    if (bounds?.isValid()) this.map.flyToBounds(bounds, { maxZoom: 14, padding: [24, 24], duration: 0.8 });
    else if (item.getLatLng) this.map.flyTo(item.getLatLng(), Math.max(this.map.getZoom(), 12), { duration: 0.8 });
    this.highlight(messageId);
    return true;
  }

  /** The visible extent in EPSG:4326, kept within the valid range of longitudes and latitudes. */
  currentExtent(): Extent {
    const bounds = this.map.getBounds();
    const clamp = (value: number, limit: number) => Math.max(-limit, Math.min(limit, value));
    return {
      xmin: clamp(bounds.getWest(), 180),
      xmax: clamp(bounds.getEast(), 180),
      ymin: clamp(bounds.getSouth(), 90),
      ymax: clamp(bounds.getNorth(), 90),
    };
  }

  /** Forgets everything shared (leaving the room). */
  clear(): void {
    for (const layer of this.items.values()) layer.remove();
    this.items.clear();
    this.people.clear();
    this.notices.replaceChildren();
    this.notices.hidden = true;
  }

  /** Leaflet measures its container once: call when the panel is shown or resized. */
  refreshSize(): void {
    this.map.invalidateSize();
    this.people.resized();
  }

  private layerFor(message: Located, toLatLng: ToLatLng) {
    const color = authorColor(message.author);
    const style = { color, weight: 2, fillOpacity: 0.25, bubblingMouseEvents: false };
    const latLng = (x: number, y: number) => L.latLng(...toLatLng(x, y));
    switch (message.type) {
      case "position":
        return L.circleMarker(latLng(message.x, message.y), {
          ...style,
          radius: 8,
          fillOpacity: 0.8,
          className: "shared-position",
        }).bindTooltip(el("span", { text: `${message.author}: position` }));
      case "bbox":
        // The extent's outline, each side cut in steps: a rectangle in Lambert-93 or UTM is not one in longitude/latitude.
        return L.polygon(extentOutline(message, latLng), {
          ...style,
          // Outline only: an extent often covers the whole view, and a filled one would catch every click on the map.
          fill: false,
          dashArray: "6 4",
          className: "shared-bbox",
        }).bindTooltip(el("span", { text: `${message.author}: extent` }));
      case "geojson":
        return L.geoJSON(message.geojson as unknown as GeoJSON.GeoJsonObject, {
          coordsToLatLng: (coords) => latLng(coords[0], coords[1]),
          style: () => ({ ...style, className: "shared-geojson" }),
          pointToLayer: (_feature, at) => L.circleMarker(at, { ...style, radius: 6, fillOpacity: 0.7, className: "shared-geojson" }),
          // A function, so the popup is built (with text only) when it opens.
          onEachFeature: (shared, layer) => layer.bindPopup(() => featurePopup(message, shared)),
        });
    }
  }

  /** Draws one item thicker than the others (the one whose message was last picked). */
  highlight(messageId: string): void {
    if (this.highlighted) this.setHighlight(this.highlighted, false);
    this.highlighted = messageId;
    this.setHighlight(messageId, true);
  }

  private setHighlight(messageId: string, on: boolean): void {
    const item = this.items.get(messageId);
    const paths = item instanceof L.Path ? [item] : item instanceof L.FeatureGroup ? item.getLayers() : [];
    for (const path of paths) if (path instanceof L.Path) path.setStyle({ weight: on ? 5 : 2 });
  }

  private offerPoint(at: L.LatLng): void {
    const wrapped = at.wrap();
    const button = el("button", { text: "Share this point", attrs: { type: "button", class: "share-point" } });
    const near = el("button", { text: "Who is near here?", attrs: { type: "button", class: "near-point" } });
    const popup = L.popup()
      .setLatLng(at)
      .setContent(
        el(
          "div",
          { className: "point-popup" },
          el("div", { text: `${wrapped.lat.toFixed(5)}, ${wrapped.lng.toFixed(5)}` }),
          el("div", { className: "point-actions" }, button, near),
        ),
      )
      .openOn(this.map);
    button.addEventListener("click", () => {
      this.callbacks.onSharePoint(wrapped.lat, wrapped.lng);
      popup.close();
    });
    near.addEventListener("click", () => {
      popup.close();
      this.callbacks.onNearPoint(wrapped.lat, wrapped.lng);
    });
  }

  private notice(text: string): void {
    const dismiss = el("button", { text: "×", title: "Dismiss", attrs: { type: "button", "aria-label": "Dismiss" } });
    const item = el("li", { className: "crs-notice" }, el("span", { text }), dismiss);
    dismiss.addEventListener("click", () => {
      item.remove();
      this.notices.hidden = this.notices.childElementCount === 0;
    });
    this.notices.prepend(item);
    while (this.notices.childElementCount > MAX_NOTICES) this.notices.lastElementChild?.remove();
    this.notices.hidden = false;
  }

  private addNoticeControl(): HTMLUListElement {
    const list = el("ul", { className: "map-notices", attrs: { role: "alert" } });
    list.hidden = true;
    const NoticeControl = L.Control.extend({
      onAdd: () => {
        L.DomEvent.disableClickPropagation(list);
        return list;
      },
    });
    new NoticeControl({ position: "bottomleft" }).addTo(this.map);
    return list;
  }

  private addBackground(): void {
    // Below the tile pane (200), so that OpenStreetMap covers it when it loads.
    this.map.createPane("land").style.zIndex = "150";
    const topology = land as unknown as Topology;
    const landObject = topology.objects.land;
    if (landObject) {
      // Cut at the antimeridian: filled without a stroke (the cut edges are not coasts), outlined along the coasts only.
      const { fill, coast } = cutLand(polygonsOf(feature(topology, landObject)));
      const fillShape: GeoJSON.MultiPolygon = { type: "MultiPolygon", coordinates: fill };
      const coastShape: GeoJSON.MultiLineString = { type: "MultiLineString", coordinates: coast };
      L.geoJSON(fillShape, {
        pane: "land",
        interactive: false,
        style: { stroke: false, fillColor: "#e4ead9", fillOpacity: 1, className: "land-fill" },
      }).addTo(this.map);
      L.geoJSON(coastShape, {
        pane: "land",
        interactive: false,
        style: { color: "#8a9a7b", weight: 1, fill: false, className: "land-coast" },
      }).addTo(this.map);
    }
    const basemaps: Record<string, L.Layer> = {
      [BASEMAPS.plain]: L.layerGroup(),
      [BASEMAPS.osm]: L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", {
        maxZoom: 19,
        attribution: "© OpenStreetMap contributors",
      }),
    };
    const chosen = rememberedBasemap(this.storage);
    (basemaps[chosen ?? ""] ?? basemaps[BASEMAPS.plain])!.addTo(this.map);
    L.control.layers(basemaps, { [PEOPLE_OVERLAY]: this.people.group }, { position: "topright" }).addTo(this.map);
    this.map.on("baselayerchange", (event: L.LayersControlEvent) => rememberBasemap(this.storage, event.name));
  }
}

/** Points along each side of an extent, converted (16 steps a side: the curve of a projected side shows at any zoom a shared view is seen at). */
function extentOutline(extent: Extent, latLng: (x: number, y: number) => L.LatLng): L.LatLng[] {
  const { xmin, xmax, ymin, ymax } = extent;
  const STEPS = 16;
  const points: L.LatLng[] = [];
  const side = (x0: number, y0: number, x1: number, y1: number) => {
    for (let step = 0; step < STEPS; step++) points.push(latLng(x0 + ((x1 - x0) * step) / STEPS, y0 + ((y1 - y0) * step) / STEPS));
  };
  side(xmin, ymin, xmax, ymin);
  side(xmax, ymin, xmax, ymax);
  side(xmax, ymax, xmin, ymax);
  side(xmin, ymax, xmin, ymin);
  return points;
}

/** The polygons of the land's features (Polygon or MultiPolygon geometries). */
function polygonsOf(land: GeoJSON.Feature | GeoJSON.FeatureCollection): Position[][][] {
  const features = land.type === "FeatureCollection" ? land.features : [land];
  return features.flatMap(({ geometry }) =>
    geometry.type === "Polygon"
      ? [geometry.coordinates as unknown as Position[][]]
      : geometry.type === "MultiPolygon"
        ? (geometry.coordinates as unknown as Position[][][])
        : [],
  );
}

function describe(message: Located): string {
  const what = message.type === "geojson" ? `Layer "${message.layer_name}"` : message.type === "bbox" ? "An extent" : "A position";
  return `${what} from ${message.author}`;
}

/** A feature's properties as a table of text. */
function featurePopup(message: Located & { type: "geojson" }, shared: GeoJSON.Feature): HTMLElement {
  const rows = Object.entries(shared.properties ?? {}).map(([key, value]) =>
    el("tr", {}, el("th", { text: key }), el("td", { text: typeof value === "string" ? value : JSON.stringify(value) })),
  );
  return el(
    "div",
    { className: "feature-popup" },
    el("strong", { text: message.layer_name }),
    el("div", { className: "muted", text: `shared by ${message.author}` }),
    el("table", {}, ...rows),
  );
}
