/*
 * png_decode.c - reads a PNG a band of rows at a time, with zlib's inflate: each
 * row inflated, unfiltered against the previous one and turned into RGBA. It
 * takes what phones and desktops write for screenshots: 8-bit greyscale, grey
 * with alpha, RGB, RGBA and 8-bit palettes (with or without tRNS), not interlaced.
 * Anything else (16-bit, fewer than 8 bits, Adam7, a colour key) is declined at
 * pd_open with info[6] = -3, and the caller decodes it another way.
 *
 * Exports:
 *   pd_t *pd_open(png, len, info)   info[0] = width, info[1] = height, info[2] = 1 if it has
 *                                   an alpha channel or tRNS, info[6] = 0 or an error code
 *   int   pd_read(pd, rows, n)      up to n more rows of RGBA into rows; answers how many,
 *                                   or -1 when the data is damaged or cut short
 *   int   pd_close(pd)              0 when the zlib stream ends where it should (checksum
 *                                   included), -1 otherwise; frees the decoder
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "zlib.h"

#define EXPORT __attribute__((used, visibility("default")))

typedef struct {
  const uint8_t *png;
  size_t len, next_chunk; /* offset of the chunk after the IDAT being read */
  int width, height, colour, channels, rows_done, ended;
  size_t stride;
  uint8_t palette[256 * 4];
  uint8_t *previous, *current; /* filter byte + stride bytes each */
  z_stream z;
} pd_t;

static uint32_t get32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

/* Points zlib at the data of the next IDAT chunk; 0 when there is none. */
static int next_idat(pd_t *d) {
  while (d->next_chunk + 12 <= d->len) {
    size_t at = d->next_chunk;
    uint32_t length = get32(d->png + at);
    if (length > d->len - at - 12) return 0;
    d->next_chunk = at + 12 + length;
    if (memcmp(d->png + at + 4, "IDAT", 4) == 0) {
      d->z.next_in = (Bytef *)(d->png + at + 8);
      d->z.avail_in = length;
      return 1;
    }
    if (memcmp(d->png + at + 4, "IEND", 4) == 0) return 0;
  }
  return 0;
}

EXPORT pd_t *pd_open(const uint8_t *png, size_t len, int32_t *info) {
  memset(info, 0, 7 * sizeof(int32_t));
  if (len < 33 || memcmp(png + 12, "IHDR", 4) != 0) return info[6] = -1, NULL;
  int width = (int)get32(png + 16), height = (int)get32(png + 20);
  int depth = png[24], colour = png[25], interlace = png[28];
  static const int channels_of[7] = {1, 0, 3, 1, 2, 0, 4};
  if (width <= 0 || height <= 0 || colour > 6 || !channels_of[colour]) return info[6] = -1, NULL;
  if (depth != 8 || interlace != 0) return info[6] = -3, NULL;
  pd_t *d = (pd_t *)calloc(1, sizeof(pd_t));
  if (!d) return info[6] = -2, NULL;
  d->png = png, d->len = len, d->width = width, d->height = height, d->colour = colour;
  d->channels = channels_of[colour];
  d->stride = (size_t)width * d->channels;
  for (int i = 0; i < 256; i++) d->palette[i * 4 + 3] = 255;
  int has_alpha = colour == 4 || colour == 6;
  /* Chunks before the first IDAT: PLTE and tRNS. */
  size_t at = 8;
  while (at + 12 <= len) {
    uint32_t length = get32(png + at);
    if (length > len - at - 12) break;
    const uint8_t *type = png + at + 4, *data = png + at + 8;
    if (memcmp(type, "IDAT", 4) == 0) break;
    if (memcmp(type, "PLTE", 4) == 0 && colour == 3) {
      for (uint32_t i = 0; i < length / 3 && i < 256; i++) memcpy(d->palette + i * 4, data + i * 3, 3);
    } else if (memcmp(type, "tRNS", 4) == 0) {
      if (colour != 3) return free(d), info[6] = -3, NULL; /* a colour key: declined */
      for (uint32_t i = 0; i < length && i < 256; i++) d->palette[i * 4 + 3] = data[i];
      has_alpha = 1;
    }
    at += 12 + length;
  }
  d->next_chunk = at;
  d->previous = (uint8_t *)calloc(1, d->stride + 1);
  d->current = (uint8_t *)malloc(d->stride + 1);
  if (!d->previous || !d->current || inflateInit(&d->z) != Z_OK) return info[6] = -2, NULL;
  if (!next_idat(d)) return info[6] = -1, NULL;
  info[0] = width, info[1] = height, info[2] = has_alpha;
  return d;
}

/* Inflates exactly one row (filter byte included) into d->current. */
static int inflate_row(pd_t *d) {
  d->z.next_out = d->current;
  d->z.avail_out = (uInt)(d->stride + 1);
  while (d->z.avail_out > 0) {
    if (d->z.avail_in == 0 && !next_idat(d)) return -1;
    int status = inflate(&d->z, Z_NO_FLUSH);
    if (status == Z_STREAM_END) d->ended = 1;
    if (status == Z_STREAM_END && d->z.avail_out > 0) return -1;
    if (status != Z_OK && status != Z_STREAM_END && status != Z_BUF_ERROR) return -1;
  }
  return 0;
}

static inline uint8_t paeth(int a, int b, int c) {
  int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
  return (uint8_t)(pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
}

static int unfilter(pd_t *d) {
  uint8_t *row = d->current + 1;
  const uint8_t *up = d->previous + 1;
  size_t n = d->stride, bpp = (size_t)d->channels;
  switch (d->current[0]) {
    case 0:
      break;
    case 1:
      for (size_t i = bpp; i < n; i++) row[i] += row[i - bpp];
      break;
    case 2:
      for (size_t i = 0; i < n; i++) row[i] += up[i];
      break;
    case 3:
      for (size_t i = 0; i < bpp; i++) row[i] += up[i] >> 1;
      for (size_t i = bpp; i < n; i++) row[i] += (uint8_t)((row[i - bpp] + up[i]) >> 1);
      break;
    case 4:
      for (size_t i = 0; i < bpp; i++) row[i] += up[i];
      for (size_t i = bpp; i < n; i++) row[i] += paeth(row[i - bpp], up[i], up[i - bpp]);
      break;
    default:
      return -1;
  }
  return 0;
}

static void to_rgba(const pd_t *d, const uint8_t *src, uint8_t *out) {
  int w = d->width;
  switch (d->colour) {
    case 6:
      memcpy(out, src, (size_t)w * 4);
      break;
    case 2:
      for (int x = 0; x < w; x++, src += 3, out += 4) out[0] = src[0], out[1] = src[1], out[2] = src[2], out[3] = 255;
      break;
    case 0:
      for (int x = 0; x < w; x++, src++, out += 4) out[0] = out[1] = out[2] = src[0], out[3] = 255;
      break;
    case 4:
      for (int x = 0; x < w; x++, src += 2, out += 4) out[0] = out[1] = out[2] = src[0], out[3] = src[1];
      break;
    default: /* 3: palette */
      for (int x = 0; x < w; x++, src++, out += 4) memcpy(out, d->palette + src[0] * 4, 4);
  }
}

EXPORT int pd_read(pd_t *d, uint8_t *rows, int n) {
  int done = 0;
  for (; done < n && d->rows_done < d->height; done++, d->rows_done++) {
    if (inflate_row(d) || unfilter(d)) return -1;
    to_rgba(d, d->current + 1, rows + (size_t)done * d->width * 4);
    uint8_t *swap = d->previous;
    d->previous = d->current, d->current = swap;
  }
  return done;
}

EXPORT int pd_close(pd_t *d) {
  /* Nothing but the end of the stream (and its Adler-32) may follow the last row. */
  while (d->rows_done == d->height && !d->ended) {
    if (d->z.avail_in == 0 && !next_idat(d)) break;
    uint8_t spare;
    d->z.next_out = &spare;
    d->z.avail_out = 1;
    int status = inflate(&d->z, Z_NO_FLUSH);
    if (status == Z_STREAM_END && d->z.avail_out == 1) d->ended = 1;
    else if (status != Z_OK || d->z.avail_out == 0) break;
  }
  int ok = d->rows_done == d->height && d->ended;
  inflateEnd(&d->z);
  free(d->previous), free(d->current), free(d);
  return ok ? 0 : -1;
}
