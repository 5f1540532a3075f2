// "Near me": the users within a radius of the browser's location (when the user
// allows it) or of a point clicked on the map, nearest first, from GET …/nearby,
// with their distances and the age of their positions. A name flies the map to them.
import { byId, el } from "./dom";
import { formatAge, formatDistance, nearbyPath, parseNearby } from "./people";

export interface NearOptions {
  /** The page's realm ("" or "/s/{key}"). */
  prefix: string;
  /** The room and nickname of the current stay, if any. */
  current(): { room: string; nickname: string } | undefined;
  /** Draws the area searched on the map. */
  showArea(lat: number, lon: number, radiusMetres: number): void;
  /** A name in the list was clicked. */
  flyTo(nickname: string): void;
  /** Shares the browser's location in the room, as a `position`. */
  share(lat: number, lon: number): void;
}

type Center = { lat: number; lon: number; from: "location" | "point" };

export class NearPanel {
  private readonly radius = byId("near-radius", HTMLSelectElement);
  private readonly locateButton = byId("near-locate", HTMLButtonElement);
  private readonly status = byId("near-status", HTMLParagraphElement);
  private readonly list = byId("near-list", HTMLOListElement);
  private readonly shareButton = byId("near-share", HTMLButtonElement);
  private center: Center | undefined;
  /** Answers to an older question are dropped: only the last one asked is shown. */
  private asked = 0;

  constructor(private readonly options: NearOptions) {
    this.locateButton.addEventListener("click", () => this.locate());
    this.radius.addEventListener("change", () => {
      if (this.center) void this.search(this.center);
    });
    this.shareButton.addEventListener("click", () => {
      if (this.center?.from === "location") options.share(this.center.lat, this.center.lon);
      this.shareButton.hidden = true;
    });
  }

  /** Around the browser's location, if the user allows it. */
  locate(): void {
    const geolocation = "geolocation" in navigator ? navigator.geolocation : undefined;
    if (!geolocation || !window.isSecureContext) {
      this.say(
        "This browser does not give its location to this page (it needs https). Click a point on the map instead, then “Who is near here?”.",
        true,
      );
      return;
    }
    const asked = ++this.asked;
    this.say("Finding your location…");
    this.locateButton.disabled = true;
    geolocation.getCurrentPosition(
      (position) => {
        this.locateButton.disabled = false;
        if (asked !== this.asked) return;
        void this.search({ lat: position.coords.latitude, lon: position.coords.longitude, from: "location" });
      },
      (error) => {
        this.locateButton.disabled = false;
        if (asked !== this.asked) return;
        this.list.replaceChildren();
        this.say(locationProblem(error), true);
      },
      { enableHighAccuracy: true, timeout: 15_000, maximumAge: 60_000 },
    );
  }

  /** Around a point clicked on the map. */
  around(lat: number, lon: number): Promise<void> {
    return this.search({ lat, lon, from: "point" });
  }

  /** Leaving the room: nothing to show. */
  reset(): void {
    this.asked++;
    this.center = undefined;
    this.list.replaceChildren();
    this.say("");
    this.shareButton.hidden = true;
    this.locateButton.disabled = false;
  }

  private async search(center: Center): Promise<void> {
    const stay = this.options.current();
    if (!stay) return;
    const asked = ++this.asked;
    this.center = center;
    const radius = Number(this.radius.value);
    const where = center.from === "location" ? "your location" : "the point clicked";
    this.options.showArea(center.lat, center.lon, radius);
    this.shareButton.hidden = center.from !== "location";
    this.say(`Looking within ${formatDistance(radius)} of ${where}…`);
    try {
      const response = await fetch(nearbyPath(this.options.prefix, stay.room, center.lat, center.lon, radius), {
        headers: { Accept: "application/json" },
      });
      const body: unknown = await response.json().catch(() => undefined);
      if (asked !== this.asked) return;
      if (!response.ok) throw new Error(serverProblem(body) ?? `the server answered ${response.status}`);
      const nearby = parseNearby(body);
      if (!nearby) throw new Error("the server's answer is not a list of users");
      const count = nearby.users.length;
      this.say(
        count === 0
          ? `No one within ${formatDistance(radius)} of ${where}.`
          : `${count} ${count === 1 ? "person" : "people"} within ${formatDistance(radius)} of ${where}, nearest first:`,
      );
      this.list.replaceChildren(
        ...nearby.users.map((user) => {
          const name = el("button", { className: "near-name", text: user.nickname, attrs: { type: "button" } });
          name.addEventListener("click", () => this.options.flyTo(user.nickname));
          const item = el(
            "li",
            { className: "near-user", attrs: { "data-nickname": user.nickname } },
            name,
            el("span", { className: "near-distance", text: formatDistance(user.distance_m) }),
            el("span", { className: "near-age", text: formatAge(user.age_seconds) }),
          );
          if (user.nickname === stay.nickname) item.classList.add("me");
          return item;
        }),
      );
    } catch (error) {
      if (asked !== this.asked) return;
      this.list.replaceChildren();
      this.say(`Could not ask who is near: ${error instanceof Error ? error.message : String(error)}.`, true);
    }
  }

  private say(text: string, problem = false): void {
    this.status.textContent = text;
    this.status.classList.toggle("error", problem);
  }
}

/** What to tell the user when the browser gives no location. */
export function locationProblem(error: { code: number; PERMISSION_DENIED: number; TIMEOUT: number }): string {
  const instead = "click a point on the map, then “Who is near here?”.";
  if (error.code === error.PERMISSION_DENIED) {
    return `Your location was not shared (the browser refused or you said no). Allow this site to use your location in the browser's settings, or ${instead}`;
  }
  if (error.code === error.TIMEOUT) return `Finding your location took too long. Try again, or ${instead}`;
  return `Your location is not available right now (no GPS or network fix). Try again outside, or ${instead}`;
}

/** The server's own words for a refused question (422 names the parameter, 404 the room). */
function serverProblem(body: unknown): string | undefined {
  const detail = (body as { detail?: unknown } | undefined)?.detail;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    const messages = detail.flatMap((item: unknown) => {
      const msg = (item as { msg?: unknown } | null)?.msg;
      return typeof msg === "string" ? [msg] : [];
    });
    if (messages.length > 0) return messages.join("; ");
  }
  return undefined;
}
