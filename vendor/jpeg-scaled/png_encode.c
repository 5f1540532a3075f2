/*
 * png_encode.c - writes a PNG a band of rows at a time, with zlib (Debian's
 * zlib 1.2.13 source, linked in): each row filtered with Sub (the byte minus the
 * one a pixel to the left), then deflated. RGB (colour type 2) when the picture
 * is opaque, RGBA (6) otherwise; the input is always RGBA.
 *
 * zlib's level and strategy are the caller's: Z_HUFFMAN_ONLY on filtered photos
 * gives most of what level 6 gives at a fraction of the time (docs/benchmarks.md).
 *
 * Exports:
 *   pe_t    *pe_new(width, height, opaque, level, strategy)
 *   uint8_t *pe_input(pe, rows)  room for `rows` RGBA rows to encode next
 *   int      pe_rows(pe, rows)   filters and deflates them; answers 0, or a zlib error
 *   uint8_t *pe_finish(pe)       the whole PNG (pe_length bytes), or NULL
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "zlib.h"

#define EXPORT __attribute__((used, visibility("default")))

typedef struct {
  int width, height, channels, rows_done;
  z_stream z;
  uint8_t *input;
  int input_rows;
  uint8_t *filtered;
  uint8_t *out;
  size_t capacity, idat_start; /* the IDAT chunk's data starts here */
  size_t length;
} pe_t;

static void put32(uint8_t *p, uint32_t v) { p[0] = v >> 24, p[1] = v >> 16, p[2] = v >> 8, p[3] = v; }

/* A chunk's length, type, data (already in place after them) and CRC. */
static void close_chunk(pe_t *e, size_t start, const char *type) {
  size_t data = e->length - start - 8;
  put32(e->out + start, (uint32_t)data);
  memcpy(e->out + start + 4, type, 4);
  put32(e->out + e->length, (uint32_t)crc32(0, e->out + start + 4, (uInt)(data + 4)));
  e->length += 4;
}

EXPORT pe_t *pe_new(int width, int height, int opaque, int level, int strategy) {
  pe_t *e = (pe_t *)calloc(1, sizeof(pe_t));
  if (!e) return NULL;
  e->width = width, e->height = height, e->channels = opaque ? 3 : 4;
  size_t raw = ((size_t)width * e->channels + 1) * height;
  if (deflateInit2(&e->z, level, Z_DEFLATED, 15, 9, strategy) != Z_OK) return NULL;
  e->capacity = 8 + 25 + 12 + deflateBound(&e->z, raw) + 12 + 64;
  e->out = (uint8_t *)malloc(e->capacity);
  e->filtered = (uint8_t *)malloc((size_t)width * e->channels + 1);
  if (!e->out || !e->filtered) return NULL;
  static const uint8_t signature[8] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};
  memcpy(e->out, signature, 8);
  e->length = 8 + 8;
  put32(e->out + e->length, width), put32(e->out + e->length + 4, height);
  uint8_t rest[5] = {8, (uint8_t)(opaque ? 2 : 6), 0, 0, 0};
  memcpy(e->out + e->length + 8, rest, 5);
  e->length += 13;
  close_chunk(e, 8, "IHDR");
  e->idat_start = e->length;
  e->length += 8;
  return e;
}

EXPORT uint8_t *pe_input(pe_t *e, int rows) {
  if (rows > e->input_rows) {
    free(e->input);
    e->input = (uint8_t *)malloc((size_t)e->width * 4 * rows);
    e->input_rows = e->input ? rows : 0;
  }
  return e->input;
}

static int deflate_into_out(pe_t *e, const uint8_t *data, size_t size, int flush) {
  e->z.next_in = (Bytef *)data;
  e->z.avail_in = (uInt)size;
  do {
    e->z.next_out = e->out + e->length;
    e->z.avail_out = (uInt)(e->capacity - e->length - 16);
    int status = deflate(&e->z, flush);
    if (status == Z_STREAM_ERROR) return status;
    e->length = e->capacity - 16 - e->z.avail_out;
    if (status == Z_STREAM_END) return 0;
    if (e->z.avail_out == 0) return Z_BUF_ERROR; /* deflateBound was wrong: cannot happen */
  } while (e->z.avail_in > 0 || flush == Z_FINISH);
  return 0;
}

EXPORT int pe_rows(pe_t *e, int rows) {
  int ch = e->channels;
  for (int r = 0; r < rows && e->rows_done < e->height; r++, e->rows_done++) {
    const uint8_t *src = e->input + (size_t)r * e->width * 4;
    uint8_t *f = e->filtered;
    *f++ = 1; /* Sub */
    uint8_t pr = 0, pg = 0, pb = 0, pa = 0;
    for (int x = 0; x < e->width; x++, src += 4) {
      *f++ = (uint8_t)(src[0] - pr), *f++ = (uint8_t)(src[1] - pg), *f++ = (uint8_t)(src[2] - pb);
      if (ch == 4) *f++ = (uint8_t)(src[3] - pa), pa = src[3];
      pr = src[0], pg = src[1], pb = src[2];
    }
    int status = deflate_into_out(e, e->filtered, (size_t)(f - e->filtered), Z_NO_FLUSH);
    if (status) return status;
  }
  return 0;
}

EXPORT uint8_t *pe_finish(pe_t *e) {
  if (e->rows_done != e->height || deflate_into_out(e, NULL, 0, Z_FINISH)) return NULL;
  deflateEnd(&e->z);
  close_chunk(e, e->idat_start, "IDAT");
  size_t iend = e->length;
  e->length += 8;
  close_chunk(e, iend, "IEND");
  return e->out;
}

EXPORT int pe_length(pe_t *e) { return (int)e->length; }
