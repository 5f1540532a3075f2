// Avatars in gischat are names of QGIS theme icons (QGIS draws the icon). A
// browser has no QGIS icons: known names get a glyph of the same idea, other
// names the author's initials; the name itself is in the tooltip.

// Geometric shapes rather than emoji: every system font has them, a headless or
// minimal Linux browser included.
export const AVATARS: readonly { name: string; glyph: string; label: string }[] = [
  { name: "mIconPointLayer.svg", glyph: "●", label: "Point layer" },
  { name: "mIconLineLayer.svg", glyph: "╱", label: "Line layer" },
  { name: "mIconPolygonLayer.svg", glyph: "◆", label: "Polygon layer" },
  { name: "mIconRaster.svg", glyph: "▦", label: "Raster" },
  { name: "mGeoPackage.svg", glyph: "▣", label: "GeoPackage" },
  { name: "mIconPostgis.svg", glyph: "◉", label: "PostGIS" },
  { name: "mActionGlobe.svg", glyph: "◍", label: "Globe" },
  { name: "mIconGps.svg", glyph: "✦", label: "GPS" },
];

/** What to show for an avatar: a glyph for a known icon name, else the author's initials. */
export function avatarGlyph(avatar: string | null, author: string): string {
  const known = AVATARS.find((entry) => entry.name === avatar);
  if (known) return known.glyph;
  return author.slice(0, 2).toUpperCase();
}

/** A stable hue per author, so that an author's messages and map items share a colour. */
export function authorColor(author: string): string {
  // FNV-1a, then steps of the golden angle: similar names still get distant hues.
  let hash = 0x811c9dc5;
  for (const char of author) hash = Math.imul(hash ^ char.codePointAt(0)!, 0x01000193) >>> 0;
  return `hsl(${Math.round((hash % 360) * 137.508) % 360} 65% 38%)`;
}
