// The "people" layer: a marker per user at their last position, the nickname beside
// it (a DOM element, never a string parsed as HTML), fading as the position ages
// towards the room's position_max_age_seconds, gone once the room forgets it. And
// the area a "near me" search covers.
import * as L from "leaflet";
import { authorColor } from "./avatars";
import { el } from "./dom";
import { opacityForAge, People, type Person } from "./people";

/** How often the markers fade a little more with age. */
const FADE_EVERY_MS = 15_000;

export class PeopleLayer {
  /** The layer control's overlay: shown by default. */
  readonly group = L.layerGroup();
  private readonly people = new People();
  private readonly markers = new Map<string, L.CircleMarker>();
  private readonly nearArea = L.layerGroup();
  private maxAgeSeconds = 3600;
  /** The area to show once the map is visible again (a search made from the phone's People view). */
  private pendingFit: L.LatLngBounds | undefined;

  constructor(
    private readonly map: L.Map,
    private readonly onClick: (person: Person) => void,
  ) {
    // Above shared layers (the overlay pane is 400), below popups and tooltips.
    map.createPane("people").style.zIndex = "450";
    this.group.addTo(map);
    this.nearArea.addTo(map);
    setInterval(() => this.refresh(), FADE_EVERY_MS);
  }

  /** The room's position_max_age_seconds: what "old" means. */
  setMaxAge(seconds: number): void {
    if (seconds > 0) this.maxAgeSeconds = seconds;
    this.refresh();
  }

  /** Everyone's positions at once (GET …/positions): whoever is not in it is gone. */
  replaceAll(people: readonly Person[]): void {
    for (const nickname of [...this.markers.keys()]) this.remove(nickname);
    for (const person of people) this.update(person);
  }

  /** A user's new position (kept only if newer than the one shown). */
  update(person: Person): void {
    if (!this.people.update(person)) return;
    const latLng = L.latLng(person.lat, person.lon);
    const existing = this.markers.get(person.nickname);
    if (existing) {
      existing.setLatLng(latLng);
    } else {
      const marker = L.circleMarker(latLng, {
        pane: "people",
        radius: 9,
        color: "#ffffff",
        weight: 3,
        fillColor: authorColor(person.nickname),
        fillOpacity: 1,
        className: "person-marker",
        bubblingMouseEvents: false,
      }).bindTooltip(el("span", { text: person.nickname }), {
        permanent: true,
        direction: "right",
        offset: [10, 0],
        className: "person-label",
      });
      marker.on("click", () => {
        const current = this.people.get(person.nickname);
        if (current) this.onClick(current);
      });
      marker.addTo(this.group);
      marker.getElement()?.setAttribute("data-nickname", person.nickname);
      this.markers.set(person.nickname, marker);
    }
    this.fade(person.nickname, Date.now());
  }

  /** A user left (or took another nickname): the room forgets their position. */
  remove(nickname: string): void {
    this.people.remove(nickname);
    this.markers.get(nickname)?.remove();
    this.markers.delete(nickname);
  }

  has(nickname: string): boolean {
    return this.markers.has(nickname);
  }

  clear(): void {
    this.replaceAll([]);
    this.nearArea.clearLayers();
    this.pendingFit = undefined;
  }

  /** Flies to a user's marker; false if their position is not known. */
  flyTo(nickname: string): boolean {
    const person = this.people.get(nickname);
    if (!person) return false;
    this.pendingFit = undefined;
    if (!this.map.hasLayer(this.group)) this.group.addTo(this.map);
    this.map.flyTo([person.lat, person.lon], Math.max(this.map.getZoom(), 14), { duration: 0.8 });
    return true;
  }

  /** Shows the circle a "near me" search covers, and its centre. */
  showNearArea(lat: number, lon: number, radiusMetres: number): void {
    this.nearArea.clearLayers();
    const circle = L.circle([lat, lon], {
      radius: radiusMetres,
      color: "#1d5fa8",
      weight: 2,
      dashArray: "4 4",
      fillOpacity: 0.06,
      interactive: false,
      className: "near-area",
    });
    circle.addTo(this.nearArea);
    L.circleMarker([lat, lon], { radius: 5, color: "#1d5fa8", fillOpacity: 1, interactive: false, className: "near-center" }).addTo(
      this.nearArea,
    );
    const bounds = circle.getBounds();
    // A hidden map (the phone's People view) has no size to fly in: it is shown there when it is shown.
    if (this.map.getSize().x === 0) this.pendingFit = bounds;
    else this.map.flyToBounds(bounds, { padding: [24, 24], duration: 0.8 });
  }

  /** The map was shown or resized: shows the area searched while it was hidden. */
  resized(): void {
    if (!this.pendingFit || this.map.getSize().x === 0) return;
    this.map.fitBounds(this.pendingFit, { padding: [24, 24], animate: false });
    this.pendingFit = undefined;
  }

  /** Fades every marker for its age now, and drops those the room has forgotten. */
  refresh(now = Date.now()): void {
    for (const nickname of this.people.expire(now, this.maxAgeSeconds)) {
      this.markers.get(nickname)?.remove();
      this.markers.delete(nickname);
    }
    for (const nickname of this.markers.keys()) this.fade(nickname, now);
  }

  private fade(nickname: string, now: number): void {
    const person = this.people.get(nickname);
    const marker = this.markers.get(nickname);
    if (!person || !marker) return;
    const opacity = opacityForAge((now - person.at) / 1000, this.maxAgeSeconds);
    marker.setStyle({ opacity, fillOpacity: opacity });
    marker.getTooltip()?.setOpacity(Math.max(opacity, 0.6));
    marker.getElement()?.setAttribute("data-opacity", opacity.toFixed(2));
  }
}
