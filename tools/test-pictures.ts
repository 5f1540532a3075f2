// Synthetic test pictures, as RGBA pixels, made deterministically (seeded) so that no binary
// fixture lives in the repository: the tests (test/image-fixtures.ts, inside workerd) and the
// benches (bench/picture-files.ts, in Node) draw from here, then encode with jSquash each in its
// runtime (the .wasm is loaded differently in each). No imports: it runs in both unchanged.

/** Width, height and RGBA bytes: the shape of ImageData (and of src/images/pipeline.ts's Pixels). */
export interface Picture {
  readonly data: Uint8ClampedArray;
  readonly width: number;
  readonly height: number;
}

export type Rgba = [number, number, number, number];
export type Paint = (x: number, y: number) => Rgba;

/** A picture painted pixel by pixel. */
export function pixels(width: number, height: number, paint: Paint): Picture {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set(paint(x, y), (y * width + x) * 4);
  }
  return { data, width, height };
}

/** A smooth photo-like gradient with a little texture: small and fast, for the tests. */
export const gradient: Paint = (x, y) => [(x * 7) % 256, (y * 5) % 256, ((x + y) * 3) % 256, 255];

/** A seeded pseudo-random generator in [0, 1): the same picture every time. */
function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Like a phone camera's photo: sky and ground gradients, a wavy horizon, mid-frequency texture on
 * the ground, grain everywhere (grain makes it as hard to compress as a real one).
 */
export function photo(width: number, height: number): Picture {
  const random = mulberry32(width * 31 + height);
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0, i = 0; y < height; y++) {
    const v = y / height;
    for (let x = 0; x < width; x++, i += 4) {
      const u = x / width;
      const horizon = 0.45 + 0.06 * Math.sin(u * 9) + 0.03 * Math.sin(u * 23 + 1);
      const grain = (random() - 0.5) * 40;
      let r: number, g: number, b: number;
      if (v < horizon) {
        const t = v / horizon;
        r = 90 + 120 * t + 25 * Math.sin(u * 4 + v * 7);
        g = 140 + 90 * t;
        b = 220 + 25 * t;
      } else {
        const t = (v - horizon) / (1 - horizon);
        const texture = 60 * Math.sin(x * 0.21 + 3 * Math.sin(y * 0.037)) * Math.sin(y * 0.17 + 2 * Math.sin(x * 0.029));
        r = 70 + 60 * t + texture;
        g = 110 + 30 * Math.sin(u * 5) + texture;
        b = 50 + 20 * t + 0.5 * texture;
      }
      data[i] = r + grain;
      data[i + 1] = g + grain;
      data[i + 2] = b + grain;
      data[i + 3] = 255;
    }
  }
  return { data, width, height };
}

/** Like an app's screenshot: chrome, a map (flat shapes, roads, labels), list rows with thumbnails and text, a bottom bar. */
export function screenshot(width: number, height: number): Picture {
  const random = mulberry32(width * 17 + height);
  const data = new Uint8ClampedArray(width * height * 4);
  const s = width < height ? (2.625 * width) / 1080 : height / 1080; // device pixels per CSS pixel: a phone, or a desktop
  type Rgb = readonly [number, number, number];
  const rect = (x0: number, y0: number, w: number, h: number, [r, g, b]: Rgb, alpha = 1): void => {
    for (let y = Math.max(0, Math.round(y0)); y < Math.min(height, Math.round(y0 + h)); y++) {
      for (let x = Math.max(0, Math.round(x0)), i = (y * width + x) * 4; x < Math.min(width, Math.round(x0 + w)); x++, i += 4) {
        data[i] = data[i]! + (r - data[i]!) * alpha;
        data[i + 1] = data[i + 1]! + (g - data[i + 1]!) * alpha;
        data[i + 2] = data[i + 2]! + (b - data[i + 2]!) * alpha;
        data[i + 3] = 255;
      }
    }
  };
  // Glyphs: random 5x7 bitmaps, drawn with 4x4 supersampling for anti-aliased edges.
  const glyphs = Array.from({ length: 48 }, () => Array.from({ length: 35 }, () => random() < 0.45));
  const text = (x0: number, y0: number, size: number, count: number, colour: Rgb): void => {
    const cell = size / 7;
    for (let c = 0, x = x0; c < count && x + cell * 6 < width; c++, x += cell * 6) {
      if (random() < 0.15) continue; // a space
      const glyph = glyphs[Math.floor(random() * glyphs.length)]!;
      for (let py = Math.floor(y0); py < Math.ceil(y0 + size); py++) {
        for (let px = Math.floor(x); px < Math.ceil(x + cell * 5); px++) {
          let cover = 0;
          for (let sy = 0.125; sy < 1; sy += 0.25) {
            for (let sx = 0.125; sx < 1; sx += 0.25) {
              const gx = Math.floor((px + sx - x) / cell);
              const gy = Math.floor((py + sy - y0) / cell);
              if (gx >= 0 && gx < 5 && gy >= 0 && gy < 7 && glyph[gy * 5 + gx]) cover++;
            }
          }
          if (cover) rect(px, py, 1, 1, colour, cover / 16);
        }
      }
    }
  };
  const bar = 24 * s;
  const toolbar = 56 * s;
  const bottom = 56 * s;
  rect(0, 0, width, height, [250, 250, 250]);
  rect(0, 0, width, bar, [48, 63, 159]);
  text(16 * s, 6 * s, 12 * s, 5, [255, 255, 255]);
  rect(0, bar, width, toolbar, [63, 81, 181]);
  text(16 * s, bar + 18 * s, 20 * s, 14, [255, 255, 255]);
  const mapTop = bar + toolbar;
  const mapHeight = Math.round((height - mapTop - bottom) * 0.45);
  rect(0, mapTop, width, mapHeight, [242, 239, 233]);
  for (let k = 0; k < 40; k++) {
    const colour: Rgb = random() < 0.5 ? [200, 230, 190] : random() < 0.5 ? [170, 210, 240] : [225, 215, 210];
    rect(random() * width, mapTop + random() * mapHeight * 0.9, (10 + random() * 100) * s, (10 + random() * 60) * s, colour);
  }
  for (let k = 0; k < 14; k++) {
    const thickness = (1 + random() * 3) * s;
    if (k % 2 === 0) {
      const y = mapTop + random() * mapHeight;
      rect(0, y, width, thickness, [255, 255, 255]);
      text(random() * width * 0.7, y + thickness + 2 * s, 10 * s, 10, [90, 90, 90]);
    } else {
      const x = random() * width;
      rect(x, mapTop, thickness, mapHeight, [255, 255, 255]);
      text(x + 6 * s, mapTop + random() * mapHeight, 10 * s, 10, [90, 90, 90]);
    }
  }
  const rowHeight = 72 * s;
  const thumb = 56 * s;
  for (let y = mapTop + mapHeight, row = 0; y + rowHeight < height - bottom; y += rowHeight, row++) {
    for (let ty = 0; ty < thumb; ty++) {
      for (let tx = 0; tx < thumb; tx++) {
        const grain = (random() - 0.5) * 40;
        const t = ty / thumb;
        rect(8 * s + tx, y + 8 * s + ty, 1, 1, [
          80 + 100 * t + grain + row * 9,
          120 + 40 * Math.sin(tx * 0.05 + row) + grain,
          90 + 60 * t + grain,
        ]);
      }
    }
    text(thumb + 20 * s, y + 14 * s, 16 * s, 24, [33, 33, 33]);
    text(thumb + 20 * s, y + 40 * s, 14 * s, 34, [117, 117, 117]);
    rect(thumb + 20 * s, y + rowHeight - s / 2, width, Math.max(1, s / 2), [224, 224, 224]);
  }
  rect(0, height - bottom, width, bottom, [255, 255, 255]);
  for (let k = 0; k < 4; k++) text((width * (k + 0.35)) / 4, height - bottom + 20 * s, 14 * s, 3, [97, 97, 97]);
  return { data, width, height };
}
