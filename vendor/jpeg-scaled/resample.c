/*
 * resample.c - shrinks RGBA pixels as they arrive, a band of rows at a time:
 * an optional box reduction by a whole factor on each axis (Pillow's reduce), then Pillow's separable
 * convolution (lanczos3, fixed point, the coefficients of Pillow's
 * precompute_coeffs and normalize_coeffs_8bpc), horizontal pass on each row as
 * it comes in, vertical pass for each output row as soon as the rows it needs
 * are in. Nothing ever holds the whole input picture: the caller decodes into
 * rs_band() and calls rs_push(), as often as it likes, so the work is cut into
 * slices of its choosing.
 *
 * Transparency as Pillow's resize does it for RGBA: premultiplied on the way in
 * (RGBA -> RGBa), un-premultiplied on the way out (RGBa -> RGBA), so that the
 * hidden colour of transparent pixels never bleeds into the edges.
 *
 * Exports:
 *   rs_t    *rs_new(in_w, in_h, factor_x, factor_y, out_w, out_h, premultiply, band_rows)
 *   uint8_t *rs_band(rs)       room for band_rows input rows (in_w * 4 bytes each)
 *   int      rs_push(rs, n)    consumes the band's first n rows; answers the output rows done
 *   uint8_t *rs_finish(rs)     flushes a partial box row; answers the out_w x out_h RGBA pixels
 */
#include <math.h>
#include <wasm_simd128.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT __attribute__((used, visibility("default")))
#define PRECISION_BITS (32 - 8 - 2)
#define LANCZOS_SUPPORT 3.0

typedef struct {
  int in_w, in_h, fx, fy, rw, rh, out_w, out_h, premultiply, band_rows;
  uint8_t *band;
  /* box reduction: per reduced column and channel, the sum of the rows so far */
  uint32_t *sums;
  int sum_rows, rows_in;
  uint8_t *reduced; /* one reduced row */
  /* horizontal pass */
  int *hbounds, hksize;
  int32_t *hk;
  uint8_t *mid; /* out_w x rh, filled as rows come in */
  int mid_rows;
  /* vertical pass */
  int *vbounds, vksize;
  int32_t *vk;
  int32_t *acc;
  uint8_t *out;
  int out_rows;
} rs_t;

static double sinc(double x) {
  if (x == 0.0) return 1.0;
  x *= M_PI;
  return sin(x) / x;
}
static double lanczos3(double x) { return (-3.0 <= x && x < 3.0) ? sinc(x) * sinc(x / 3.0) : 0.0; }

/* Pillow's precompute_coeffs + normalize_coeffs_8bpc, for the whole input range. */
static int coefficients(int in_size, int out_size, int **bounds_out, int32_t **k_out) {
  double scale = (double)in_size / out_size;
  double filterscale = scale < 1.0 ? 1.0 : scale;
  double support = LANCZOS_SUPPORT * filterscale;
  int ksize = (int)ceil(support) * 2 + 1;
  double *kk = (double *)malloc(sizeof(double) * ksize);
  int *bounds = (int *)malloc(sizeof(int) * 2 * out_size);
  int32_t *k = (int32_t *)calloc((size_t)out_size * ksize, sizeof(int32_t));
  if (!kk || !bounds || !k) return 0;
  for (int xx = 0; xx < out_size; xx++) {
    double center = (xx + 0.5) * scale, ww = 0.0, ss = 1.0 / filterscale;
    int xmin = (int)(center - support + 0.5), xmax = (int)(center + support + 0.5);
    if (xmin < 0) xmin = 0;
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    for (int x = 0; x < xmax; x++) {
      double w = lanczos3((x + xmin - center + 0.5) * ss);
      kk[x] = w;
      ww += w;
    }
    for (int x = 0; x < xmax; x++) {
      double v = ww != 0.0 ? kk[x] / ww : kk[x];
      k[xx * ksize + x] = (int32_t)(v < 0 ? trunc(-0.5 + v * (1 << PRECISION_BITS)) : trunc(0.5 + v * (1 << PRECISION_BITS)));
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  free(kk);
  *bounds_out = bounds;
  *k_out = k;
  return ksize;
}

EXPORT rs_t *rs_new(int in_w, int in_h, int factor_x, int factor_y, int out_w, int out_h, int premultiply, int band_rows) {
  rs_t *r = (rs_t *)calloc(1, sizeof(rs_t));
  if (!r) return NULL;
  r->in_w = in_w, r->in_h = in_h, r->fx = factor_x < 1 ? 1 : factor_x, r->fy = factor_y < 1 ? 1 : factor_y;
  r->rw = (in_w + r->fx - 1) / r->fx, r->rh = (in_h + r->fy - 1) / r->fy;
  r->out_w = out_w, r->out_h = out_h, r->premultiply = premultiply, r->band_rows = band_rows;
  r->band = (uint8_t *)malloc((size_t)in_w * 4 * band_rows);
  r->sums = (uint32_t *)calloc((size_t)r->rw * 4, sizeof(uint32_t));
  r->reduced = (uint8_t *)malloc((size_t)r->rw * 4);
  r->mid = (uint8_t *)malloc((size_t)out_w * 4 * r->rh);
  r->acc = (int32_t *)aligned_alloc(16, sizeof(int32_t) * 4 * out_w);
  r->out = (uint8_t *)malloc((size_t)out_w * 4 * out_h);
  if (!r->band || !r->sums || !r->reduced || !r->mid || !r->acc || !r->out) return NULL;
  if (out_w != r->rw && !(r->hksize = coefficients(r->rw, out_w, &r->hbounds, &r->hk))) return NULL;
  if (out_h != r->rh && !(r->vksize = coefficients(r->rh, out_h, &r->vbounds, &r->vk))) return NULL;
  /* Nothing to filter, nothing to premultiply: the pixels pass through untouched. */
  if (!r->hk && !r->vk && r->fx == 1 && r->fy == 1) r->premultiply = 0;
  return r;
}

EXPORT uint8_t *rs_band(rs_t *r) { return r->band; }

/* Pillow's MULDIV255: a * b / 255, rounded. */
static inline uint8_t muldiv255(unsigned a, unsigned b) {
  unsigned t = a * b + 128;
  return (uint8_t)(((t >> 8) + t) >> 8);
}

static void premultiply_row(uint8_t *p, int w) {
  for (int x = 0; x < w; x++, p += 4) {
    unsigned a = p[3];
    if (a == 255) continue;
    p[0] = muldiv255(p[0], a), p[1] = muldiv255(p[1], a), p[2] = muldiv255(p[2], a);
  }
}

/* Pillow's rgba2rgbA: colour * 255 / alpha, except for alpha 0 and 255. */
static void unpremultiply_row(uint8_t *p, int w) {
  for (int x = 0; x < w; x++, p += 4) {
    unsigned a = p[3];
    if (a == 255 || a == 0) continue;
    for (int c = 0; c < 3; c++) {
      unsigned v = 255 * p[c] / a;
      p[c] = v > 255 ? 255 : (uint8_t)v;
    }
  }
}

/* One pixel's four channels as 32-bit lanes. */
static inline v128_t pixel_lanes(const uint8_t *p) {
  uint32_t word;
  memcpy(&word, p, 4);
  return wasm_u32x4_extend_low_u16x8(wasm_u16x8_extend_low_u8x16(wasm_i32x4_splat((int32_t)word)));
}

/* Four 32-bit sums, shifted out of fixed point and clamped to bytes, stored as one pixel. */
static inline void store_pixel(uint8_t *p, v128_t sums) {
  v128_t v = wasm_i32x4_shr(sums, PRECISION_BITS);
  v = wasm_i32x4_min(wasm_i32x4_max(v, wasm_i32x4_splat(0)), wasm_i32x4_splat(255));
  v = wasm_u8x16_narrow_i16x8(wasm_u16x8_narrow_i32x4(v, v), v);
  uint32_t word = (uint32_t)wasm_i32x4_extract_lane(v, 0);
  memcpy(p, &word, 4);
}

static void horizontal(rs_t *r, const uint8_t *row) {
  uint8_t *dst = r->mid + (size_t)r->mid_rows * r->out_w * 4;
  if (!r->hk) {
    memcpy(dst, row, (size_t)r->out_w * 4);
  } else {
    const v128_t half = wasm_i32x4_splat(1 << (PRECISION_BITS - 1));
    for (int xx = 0; xx < r->out_w; xx++) {
      int xmin = r->hbounds[xx * 2], xsize = r->hbounds[xx * 2 + 1];
      const int32_t *k = r->hk + xx * r->hksize;
      const uint8_t *src = row + xmin * 4;
      v128_t sums = half;
      for (int x = 0; x < xsize; x++, src += 4) sums = wasm_i32x4_add(sums, wasm_i32x4_mul(pixel_lanes(src), wasm_i32x4_splat(k[x])));
      store_pixel(dst + xx * 4, sums);
    }
  }
  r->mid_rows++;
}

/* Output rows whose whole window of intermediate rows is in. */
static void vertical(rs_t *r) {
  int n = r->out_w * 4;
  while (r->out_rows < r->out_h) {
    int yy = r->out_rows;
    uint8_t *dst = r->out + (size_t)yy * n;
    if (!r->vk) {
      if (yy >= r->mid_rows) return;
      memcpy(dst, r->mid + (size_t)yy * n, n);
    } else {
      int ymin = r->vbounds[yy * 2], ysize = r->vbounds[yy * 2 + 1];
      if (ymin + ysize > r->mid_rows) return;
      const int32_t *k = r->vk + yy * r->vksize;
      v128_t *acc = (v128_t *)r->acc;
      for (int i = 0; i < r->out_w; i++) acc[i] = wasm_i32x4_splat(1 << (PRECISION_BITS - 1));
      for (int y = 0; y < ysize; y++) {
        const uint8_t *src = r->mid + (size_t)(ymin + y) * n;
        v128_t w = wasm_i32x4_splat(k[y]);
        for (int i = 0; i < r->out_w; i++) acc[i] = wasm_i32x4_add(acc[i], wasm_i32x4_mul(pixel_lanes(src + i * 4), w));
      }
      for (int i = 0; i < r->out_w; i++) store_pixel(dst + i * 4, acc[i]);
    }
    if (r->premultiply) unpremultiply_row(dst, r->out_w);
    r->out_rows++;
  }
}

/* The box reduction's row so far, averaged: partial blocks at the edges average what they hold. */
static void emit_reduced_row(rs_t *r) {
  int f = r->fx;
  for (int x = 0; x < r->rw; x++) {
    unsigned cols = (x + 1) * f <= r->in_w ? (unsigned)f : (unsigned)(r->in_w - x * f);
    unsigned count = cols * (unsigned)r->sum_rows;
    for (int c = 0; c < 4; c++) r->reduced[x * 4 + c] = (uint8_t)((r->sums[x * 4 + c] + count / 2) / count);
  }
  memset(r->sums, 0, sizeof(uint32_t) * 4 * r->rw);
  r->sum_rows = 0;
  horizontal(r, r->reduced);
}

EXPORT int rs_push(rs_t *r, int n) {
  size_t stride = (size_t)r->in_w * 4;
  for (int i = 0; i < n && r->rows_in < r->in_h; i++, r->rows_in++) {
    uint8_t *row = r->band + stride * i;
    if (r->premultiply) premultiply_row(row, r->in_w);
    if (r->fx == 1 && r->fy == 1) {
      horizontal(r, row);
      continue;
    }
    for (int x = 0; x < r->in_w; x++) {
      uint32_t *s = r->sums + (x / r->fx) * 4;
      s[0] += row[x * 4], s[1] += row[x * 4 + 1], s[2] += row[x * 4 + 2], s[3] += row[x * 4 + 3];
    }
    if (++r->sum_rows == r->fy) emit_reduced_row(r);
  }
  vertical(r);
  return r->out_rows;
}

EXPORT uint8_t *rs_finish(rs_t *r) {
  if (r->sum_rows > 0) emit_reduced_row(r);
  vertical(r);
  return r->out_rows == r->out_h ? r->out : NULL;
}
