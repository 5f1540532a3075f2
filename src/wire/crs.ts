// Coordinates to WGS 84 longitude/latitude, from the CRS a message names: its
// `crs_authid` when it is one of the CRSs written out below, else its `crs_wkt`
// (WKT1 as QGIS's QgsCoordinateReferenceSystem.toWkt() writes it, or WKT2),
// parsed by proj4js. Pure and zod-free: the browser client bundles this file as
// it is (client/test/bundle.test.ts), so the server and the map agree on every
// point.
//
// Why a known authid comes before the WKT: QGIS writes WKT1 the GDAL 3 way, which
// leaves out TOWGS84, so the WKT of a grid on an old datum says nothing of how to
// reach WGS 84. proj4js then guesses from the datum's name (right for OSGB36,
// wrong by about 100 m for the Dutch RD's Amersfoort), where the table below has
// the Helmert parameters PROJ itself uses (checked against cs2cs in
// client/test/cs2cs.test.ts). For the same reason a WKT that names a CRS of the
// table (its outermost AUTHORITY or ID) is read as that CRS, and a WKT1 on one of
// the old datums below gets that datum's TOWGS84. The WKT is what makes every
// other CRS work, custom ones (USER:100000) and compound ones (their horizontal
// part) included. What proj4js cannot read, or is not a CRS on the Earth
// (engineering, vertical, geocentric), has no conversion: undefined.

import proj4 from "proj4";

/** [longitude, latitude] from a message's (x, y). */
export type ToLonLat = (x: number, y: number) => [number, number];

/** Converted coordinates are rounded to 1e-9 (of a degree: 0.1 mm): the projection's floating-point noise is not kept. */
const ROUNDING = 1e9;
const round = (value: number) => Math.round(value * ROUNDING) / ROUNDING;

const WGS84 = "+proj=longlat +datum=WGS84 +no_defs";
const WEB_MERCATOR = "+proj=merc +a=6378137 +b=6378137 +lat_ts=0 +lon_0=0 +x_0=0 +y_0=0 +k=1 +units=m +nadgrids=@null +no_defs";
/** ETRS89, RGF93, NZGD2000, SWEREF99… are WGS 84 to within a metre, and PROJ converts them with a null transformation: so do we. */
const GRS80_AS_WGS84 = "+ellps=GRS80 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs";

/**
 * EPSG's Helmert transformations to WGS 84 that PROJ picks when no grid is
 * installed, per EPSG datum code, in proj4's position-vector convention (PROJ's
 * coordinate-frame ones negated). The table below uses them, and a WKT1 on one of
 * these datums without a TOWGS84 (as QGIS writes them) gets its own.
 */
const DATUM_SHIFTS: Record<string, string> = {
  "6277": "446.448,-125.157,542.06,0.15,0.247,0.842,-20.489", // OSGB36 (EPSG:1314, about 2 m)
  "6289": "565.4171,50.3319,465.5524,-0.398957388243134,0.343987817378283,-1.87740163998045,4.0725", // Amersfoort (EPSG:15739, about 1 m)
  "6313": "-106.8686,52.2978,-103.7239,0.3366,-0.457,1.8422,-1.2747", // BD72 (EPSG:1609, about 1 m)
  "6314": "598.1,73.7,418.2,0.202,0.045,-2.455,6.7", // DHDN (EPSG:1777, about 3 m; PROJ prefers the BeTA2007 grid where it has it)
  "6149": "674.374,15.056,405.346,0,0,0,0", // CH1903 (EPSG:1766)
  "6150": "674.374,15.056,405.346,0,0,0,0", // CH1903+ (EPSG:1676)
  "6181": "-189.6806,18.3463,-42.7695,-0.33746,-3.09264,2.53861,0.4598", // LUREF
  "6121": "-199.87,74.79,246.62,0,0,0,0", // GGRS87 (EPSG:1272)
  "6300": "482.5,-130.6,564.6,-1.042,-0.214,-0.631,8.15", // TM75, the Irish Grid's (EPSG:1954)
  "6275": "-168,-60,320,0,0,0,0", // NTF (EPSG:1193, about 2 m; PROJ prefers the ntf_r93 grid)
  "6807": "-168,-60,320,0,0,0,0", // NTF (Paris)
};
const shift = (datum: string) => `+towgs84=${DATUM_SHIFTS[datum]} +units=m +no_defs`;

const utm = (zone: number, datum: string, south = false) => `+proj=utm +zone=${zone}${south ? " +south" : ""} ${datum}`;
/** France's nine conic conformal zones CC42…CC50 (EPSG:3942…3950), on RGF93. */
const franceConicZone = (latitude: number) =>
  `+proj=lcc +lat_0=${latitude} +lon_0=3 +lat_1=${latitude - 0.75} +lat_2=${latitude + 0.75} +x_0=1700000 +y_0=${(latitude - 41) * 1_000_000 + 200_000} ${GRS80_AS_WGS84}`;

/** The CRSs known by their authority id, as proj4 strings, with the datum shifts above. */
function knownCrss(): Map<string, string> {
  const known = new Map<string, string>([
    // WGS 84 and the geographic CRSs of datums PROJ takes as WGS 84.
    ["EPSG:4326", WGS84],
    ["OGC:CRS84", WGS84],
    ["CRS84", WGS84],
    ["EPSG:4258", `+proj=longlat ${GRS80_AS_WGS84}`], // ETRS89
    ["EPSG:4171", `+proj=longlat ${GRS80_AS_WGS84}`], // RGF93 v1
    ["EPSG:4167", `+proj=longlat ${GRS80_AS_WGS84}`], // NZGD2000
    ["EPSG:4283", `+proj=longlat ${GRS80_AS_WGS84}`], // GDA94
    ["EPSG:4269", "+proj=longlat +datum=NAD83 +no_defs"],
    // Web Mercator and its older names, still found in QGIS projects; World Mercator.
    ["EPSG:3857", WEB_MERCATOR],
    ["EPSG:900913", WEB_MERCATOR],
    ["EPSG:3785", WEB_MERCATOR],
    ["EPSG:102100", WEB_MERCATOR],
    ["EPSG:102113", WEB_MERCATOR],
    ["ESRI:102100", WEB_MERCATOR],
    ["EPSG:3395", "+proj=merc +lon_0=0 +k=1 +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs"],
    // France: Lambert-93 (and its IGNF name).
    ["EPSG:2154", `+proj=lcc +lat_0=46.5 +lon_0=3 +lat_1=49 +lat_2=44 +x_0=700000 +y_0=6600000 ${GRS80_AS_WGS84}`],
    ["IGNF:LAMB93", `+proj=lcc +lat_0=46.5 +lon_0=3 +lat_1=49 +lat_2=44 +x_0=700000 +y_0=6600000 ${GRS80_AS_WGS84}`],
    // France's older Lambert II étendu on NTF (Paris), for old data (Helmert EPSG:1193, about 2 m; PROJ prefers the ntf_r93 grid).
    [
      "EPSG:27572",
      `+proj=lcc +lat_1=46.8 +lat_0=46.8 +lon_0=0 +k_0=0.99987742 +x_0=600000 +y_0=2200000 +ellps=clrk80ign +pm=paris ${shift("6807")}`,
    ],
    // Great Britain: OSGB36 / British National Grid (EPSG:1314, about 2 m; OSTN15 is a grid proj4js cannot hold).
    ["EPSG:27700", `+proj=tmerc +lat_0=49 +lon_0=-2 +k=0.9996012717 +x_0=400000 +y_0=-100000 +ellps=airy ${shift("6277")}`],
    // Ireland: Irish Transverse Mercator, and the older Irish Grid (TM75).
    ["EPSG:2157", `+proj=tmerc +lat_0=53.5 +lon_0=-8 +k=0.99982 +x_0=600000 +y_0=750000 ${GRS80_AS_WGS84}`],
    ["EPSG:29903", `+proj=tmerc +lat_0=53.5 +lon_0=-8 +k=1.000035 +x_0=200000 +y_0=250000 +a=6377340.189 +rf=299.3249646 ${shift("6300")}`],
    // Switzerland: LV95 and LV03.
    [
      "EPSG:2056",
      `+proj=somerc +lat_0=46.9524055555556 +lon_0=7.43958333333333 +k_0=1 +x_0=2600000 +y_0=1200000 +ellps=bessel ${shift("6150")}`,
    ],
    [
      "EPSG:21781",
      `+proj=somerc +lat_0=46.9524055555556 +lon_0=7.43958333333333 +k_0=1 +x_0=600000 +y_0=200000 +ellps=bessel ${shift("6149")}`,
    ],
    // Belgium: Lambert 72 (BD72) and Lambert 2008.
    [
      "EPSG:31370",
      `+proj=lcc +lat_0=90 +lon_0=4.36748666666667 +lat_1=51.1666672333333 +lat_2=49.8333339 +x_0=150000.013 +y_0=5400088.438 +ellps=intl ${shift("6313")}`,
    ],
    [
      "EPSG:3812",
      `+proj=lcc +lat_0=50.797815 +lon_0=4.35921583333333 +lat_1=49.8333333333333 +lat_2=51.1666666666667 +x_0=649328 +y_0=665262 ${GRS80_AS_WGS84}`,
    ],
    // The Netherlands: RD New (Amersfoort to WGS 84 (4), about 1 m).
    [
      "EPSG:28992",
      `+proj=sterea +lat_0=52.1561605555556 +lon_0=5.38763888888889 +k=0.9999079 +x_0=155000 +y_0=463000 +ellps=bessel ${shift("6289")}`,
    ],
    // Luxembourg.
    ["EPSG:2169", `+proj=tmerc +lat_0=49.8333333333333 +lon_0=6.16666666666667 +k=1 +x_0=80000 +y_0=100000 +ellps=intl ${shift("6181")}`],
    // Germany: Gauss-Krüger zones 2 to 5 on DHDN (EPSG:1777, about 3 m; PROJ prefers the BeTA2007 grid where it has it).
    ...[2, 3, 4, 5].map(
      (zone) =>
        [
          `EPSG:${31464 + zone}`,
          `+proj=tmerc +lat_0=0 +lon_0=${zone * 3} +k=1 +x_0=${zone * 1_000_000 + 500_000} +y_0=0 +ellps=bessel ${shift("6314")}`,
        ] as [string, string],
    ),
    // Europe: LAEA and LCC (ETRS89).
    ["EPSG:3035", `+proj=laea +lat_0=52 +lon_0=10 +x_0=4321000 +y_0=3210000 ${GRS80_AS_WGS84}`],
    ["EPSG:3034", `+proj=lcc +lat_0=52 +lon_0=10 +lat_1=35 +lat_2=65 +x_0=4000000 +y_0=2800000 ${GRS80_AS_WGS84}`],
    // Portugal, Spain's neighbours and the North.
    ["EPSG:3763", `+proj=tmerc +lat_0=39.6682583333333 +lon_0=-8.13310833333333 +k=1 +x_0=0 +y_0=0 ${GRS80_AS_WGS84}`],
    ["EPSG:3006", utm(33, GRS80_AS_WGS84)], // SWEREF99 TM
    ["EPSG:3067", utm(35, GRS80_AS_WGS84)], // ETRS-TM35FIN
    ["EPSG:2180", `+proj=tmerc +lat_0=0 +lon_0=19 +k=0.9993 +x_0=500000 +y_0=-5300000 ${GRS80_AS_WGS84}`], // Poland CS92
    ["EPSG:2100", `+proj=tmerc +lat_0=0 +lon_0=24 +k=0.9996 +x_0=500000 +y_0=0 +ellps=GRS80 ${shift("6121")}`], // Greek Grid
    // French overseas departments (their RGF93 siblings are WGS 84 for PROJ too).
    ["EPSG:2972", utm(22, GRS80_AS_WGS84)], // RGFG95 / UTM 22N, French Guiana
    ["EPSG:2975", utm(40, GRS80_AS_WGS84, true)], // RGR92 / UTM 40S, Réunion
    ["EPSG:5490", utm(20, GRS80_AS_WGS84)], // RGAF09 / UTM 20N, Antilles
    ["EPSG:4471", utm(38, GRS80_AS_WGS84, true)], // RGM04 / UTM 38S, Mayotte
    // Elsewhere.
    ["EPSG:2193", `+proj=tmerc +lat_0=0 +lon_0=173 +k=0.9996 +x_0=1600000 +y_0=10000000 ${GRS80_AS_WGS84}`], // NZTM
    ["EPSG:3577", `+proj=aea +lat_0=0 +lon_0=132 +lat_1=-18 +lat_2=-36 +x_0=0 +y_0=0 ${GRS80_AS_WGS84}`], // Australian Albers
    ["EPSG:5070", "+proj=aea +lat_0=23 +lon_0=-96 +lat_1=29.5 +lat_2=45.5 +x_0=0 +y_0=0 +datum=NAD83 +units=m +no_defs"], // CONUS Albers
    // The poles: UPS and the polar stereographics of the ice people.
    ["EPSG:32661", "+proj=stere +lat_0=90 +lat_ts=90 +lon_0=0 +k=0.994 +x_0=2000000 +y_0=2000000 +datum=WGS84 +units=m +no_defs"],
    ["EPSG:32761", "+proj=stere +lat_0=-90 +lat_ts=-90 +lon_0=0 +k=0.994 +x_0=2000000 +y_0=2000000 +datum=WGS84 +units=m +no_defs"],
    ["EPSG:3413", "+proj=stere +lat_0=90 +lat_ts=70 +lon_0=-45 +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs"],
    ["EPSG:3031", "+proj=stere +lat_0=-90 +lat_ts=-71 +lon_0=0 +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs"],
  ]);
  for (let latitude = 42; latitude <= 50; latitude++) known.set(`EPSG:${3900 + latitude}`, franceConicZone(latitude));
  // UTM: every WGS 84 zone north and south, ETRS89 zones 28 to 38, NAD83 zones 1 to 23, GDA94 and GDA2020 (MGA).
  for (let zone = 1; zone <= 60; zone++) {
    known.set(`EPSG:${32600 + zone}`, utm(zone, "+datum=WGS84 +units=m +no_defs"));
    known.set(`EPSG:${32700 + zone}`, utm(zone, "+datum=WGS84 +units=m +no_defs", true));
  }
  for (let zone = 28; zone <= 38; zone++) known.set(`EPSG:${25800 + zone}`, utm(zone, GRS80_AS_WGS84));
  for (let zone = 1; zone <= 23; zone++) known.set(`EPSG:${26900 + zone}`, utm(zone, "+datum=NAD83 +units=m +no_defs"));
  for (let zone = 48; zone <= 58; zone++) known.set(`EPSG:${28300 + zone}`, utm(zone, GRS80_AS_WGS84, true));
  for (let zone = 46; zone <= 59; zone++) known.set(`EPSG:${7800 + zone}`, utm(zone, GRS80_AS_WGS84, true));
  return known;
}

let known: Map<string, string> | undefined;

/** The proj4 definition of a CRS known by its authority id (`EPSG:2154`, any case), or undefined. */
export function knownDefinition(crsAuthid: string): string | undefined {
  known ??= knownCrss();
  return known.get(crsAuthid.trim().toUpperCase());
}

/** The authority ids written out above (the tests compare each with PROJ). */
export function knownAuthids(): string[] {
  known ??= knownCrss();
  return [...known.keys()];
}

/** A WKT's first keyword, WKT1 or WKT2: a CRS that proj4 could draw on a map, not an engineering or vertical one. */
const WKT_CRS = /^\s*(PROJCS|GEOGCS|PROJCRS|PROJECTEDCRS|GEOGCRS|GEOGRAPHICCRS|GEODCRS|GEODETICCRS)\s*\[/i;
/** A compound CRS (horizontal + height, QGIS's 3D CRSs): its horizontal part is the first CRS inside it. */
const WKT_COMPOUND = /^\s*(COMPD_CS|COMPOUNDCRS)\s*\[/i;
const WKT_HORIZONTAL = /\b(PROJCS|GEOGCS|PROJCRS|PROJECTEDCRS|GEOGCRS|GEOGRAPHICCRS|GEODCRS|GEODETICCRS)\s*\[/gi;
/** Every usable CRS has an ellipsoid: `GEOGCRS[]` alone does not say where anything is, though proj4 would take it as WGS 84. */
const WKT_ELLIPSOID = /\b(SPHEROID|ELLIPSOID)\s*\[/i;
/** The authority id of the whole CRS: the AUTHORITY (WKT1) or ID (WKT2) that closes its outermost node. */
const WKT_OWN_ID = /(?:AUTHORITY\s*\[\s*"([A-Z]+)"\s*,\s*"(\d+)"\s*\]|ID\s*\[\s*"([A-Z]+)"\s*,\s*(\d+)\s*\])\s*\]\s*$/i;

/** A WKT1 DATUM's own EPSG code: the AUTHORITY that closes it, just before the PRIMEM that follows it. */
const WKT1_DATUM_ID = /AUTHORITY\s*\[\s*"EPSG"\s*,\s*"(\d+)"\s*\]\s*\]\s*,\s*PRIMEM\s*\[/i;

/** The horizontal CRS of a compound one: its first CRS node, up to its closing bracket (brackets in quoted names do not count). */
function horizontalOf(compound: string): string | undefined {
  WKT_HORIZONTAL.lastIndex = compound.indexOf("[") + 1;
  const start = WKT_HORIZONTAL.exec(compound)?.index;
  if (start === undefined) return undefined;
  let depth = 0;
  let quoted = false;
  for (let i = start; i < compound.length; i++) {
    const char = compound[i];
    if (char === '"') quoted = !quoted;
    else if (!quoted && (char === "[" || char === "(")) depth++;
    else if (!quoted && (char === "]" || char === ")") && --depth === 0) return compound.slice(start, i + 1);
  }
  return undefined;
}

/** The CRS a message names, as proj4 will read it: the known authid's definition, the one the WKT names, or the WKT itself. */
function definitionOf(crsWkt: string, crsAuthid: string): string | undefined {
  const byAuthid = knownDefinition(crsAuthid);
  if (byAuthid !== undefined) return byAuthid;
  if (WKT_COMPOUND.test(crsWkt)) {
    const horizontal = horizontalOf(crsWkt);
    return horizontal === undefined ? undefined : definitionOf(horizontal, "");
  }
  if (!WKT_CRS.test(crsWkt) || !WKT_ELLIPSOID.test(crsWkt)) return undefined;
  const id = WKT_OWN_ID.exec(crsWkt);
  const named = id === null ? undefined : knownDefinition(`${id[1] ?? id[3]}:${id[2] ?? id[4]}`);
  if (named !== undefined) return named;
  // A WKT1 on an old datum, without the TOWGS84 that GDAL 3 no longer writes: give it EPSG's Helmert (proj4js would otherwise guess from the name).
  const datum = WKT1_DATUM_ID.exec(crsWkt);
  if (datum !== null && Object.hasOwn(DATUM_SHIFTS, datum[1]!) && !/TOWGS84\s*\[/i.test(crsWkt)) {
    return `${crsWkt.slice(0, datum.index)}TOWGS84[${DATUM_SHIFTS[datum[1]!]}],${crsWkt.slice(datum.index)}`;
  }
  return crsWkt;
}

interface Converter {
  toLonLat: ToLonLat;
  fromLonLat: ToLonLat;
}

/** One converter per CRS text, built once: a room converts the thousands of features of a layer with one. Bounded, as the texts come from clients. */
const converters = new Map<string, Converter | null>();
const MAX_CONVERTERS = 64;

const asIs: ToLonLat = (x, y) => [x, y];
const identity: Converter = { toLonLat: asIs, fromLonLat: asIs };

function build(definition: string): Converter | null {
  if (definition === WGS84) return identity;
  try {
    const projection = proj4(definition, WGS84);
    // Axis order is QGIS's: x is the easting (or the longitude) whatever the WKT's AXIS says, so proj4 is not asked to enforce it.
    const run = (direction: "forward" | "inverse"): ToLonLat => {
      const convert = projection[direction];
      return (x, y) => {
        try {
          const [u, v] = convert([x, y]) as [number, number];
          return [round(u), round(v)];
        } catch {
          // proj4 throws for some points outside a projection's domain: not a place.
          return [Number.NaN, Number.NaN];
        }
      };
    };
    return { toLonLat: run("forward"), fromLonLat: run("inverse") };
  } catch {
    return null;
  }
}

function converterFor(crsWkt: string, crsAuthid: string): Converter | undefined {
  const definition = definitionOf(crsWkt, crsAuthid);
  if (definition === undefined) return undefined;
  let converter = converters.get(definition);
  if (converter === undefined) {
    converter = build(definition);
    if (converters.size >= MAX_CONVERTERS) converters.delete(converters.keys().next().value!);
    converters.set(definition, converter);
  }
  return converter ?? undefined;
}

/**
 * The conversion to WGS 84 longitude/latitude for a message's CRS: its authid when
 * it is a known one, else its WKT; undefined when neither can be converted.
 */
export function toLonLatFor(crsWkt: string, crsAuthid: string): ToLonLat | undefined {
  return converterFor(crsWkt, crsAuthid)?.toLonLat;
}

/** The other way: WGS 84 longitude/latitude to the CRS's (x, y). */
export function fromLonLatFor(crsWkt: string, crsAuthid: string): ToLonLat | undefined {
  return converterFor(crsWkt, crsAuthid)?.fromLonLat;
}

/** The inverse of the spherical Mercator projection of EPSG:3857 (built at its first call, not when the Worker starts). */
export const fromWebMercator: ToLonLat = (x, y) => toLonLatFor("", "EPSG:3857")!(x, y);

/** The converted position, or undefined when it is not a place on Earth (not finite, latitude past the poles). */
export function lonLatOf(toLonLat: ToLonLat, x: number, y: number): [number, number] | undefined {
  if (!Number.isFinite(x) || !Number.isFinite(y)) return undefined;
  const [lon, lat] = toLonLat(x, y);
  return Number.isFinite(lon) && Number.isFinite(lat) && Math.abs(lat) <= 90 && Math.abs(lon) <= 540 ? [lon, lat] : undefined;
}
