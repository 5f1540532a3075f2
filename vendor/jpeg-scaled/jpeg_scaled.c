/*
 * jpeg_scaled.c - tiny plain-C WebAssembly wrapper around libjpeg-turbo's
 * libjpeg API that decodes a JPEG at a reduced DCT scale (1/1, 1/2, 1/4, 1/8)
 * straight to RGBA.  No embind, no filesystem, no stdio.
 *
 * Exports (all plain C):
 *   void*    jd_malloc(size_t n)
 *   void     jd_free(void* p)
 *   uint8_t* jd_decode(const uint8_t* jpeg, size_t len, int max_scale_denom,
 *                      int min_width, int min_height, int32_t* info)
 *       Picks the largest reduction 1/d (d in {1,2,4,8}, d <= max_scale_denom)
 *       whose output is still >= min_width x min_height (in the JPEG's stored,
 *       un-rotated frame), decodes to RGBA and returns a malloc'd pixel buffer
 *       (width*height*4 bytes, caller frees with jd_free), or NULL on failure.
 *       info[0] = output width, info[1] = output height,
 *       info[2] = EXIF orientation (1..8, 0 = none/unknown),
 *       info[3] = chosen scale denominator,
 *       info[4] = source width, info[5] = source height,
 *       info[6] = error code (0 = ok, otherwise libjpeg msg_code, or -1/-2).
 *   jd_stream* jd_open(jpeg, len, max_scale_denom, min_width, min_height, info)
 *   int        jd_read(jd_stream*, uint8_t* rows, int max_lines)
 *   void       jd_close(jd_stream*)
 *       The same decode a band of scanlines at a time: jd_open reads the header
 *       and fills info[0..5] as above; each jd_read decodes up to max_lines more
 *       lines into rows (contiguous, width*4 bytes each) and answers how many;
 *       jd_close reads to the end and frees the decoder.
 *
 * A premature end of data or a corrupt segment (libjpeg warnings it would
 * otherwise paper over with grey) is fatal, like any libjpeg error.
 *
 * Fatal libjpeg errors trap (__builtin_trap -> WebAssembly.RuntimeError) after
 * recording the message code in info[6]; the JS side must then discard the
 * instance (the JS loader uses a fresh instance per call anyway).  This avoids
 * setjmp/longjmp, which Emscripten 3.1.6 can only implement with JS imports.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "jpeglib.h"
#include "jerror.h"  /* the message codes only; jerror.c is not linked */

#define EXPORT __attribute__((used, visibility("default")))

static int32_t *g_info;

static void jd_error_exit(j_common_ptr cinfo) {
  if (g_info) g_info[6] = cinfo->err->msg_code ? cinfo->err->msg_code : -1;
  __builtin_trap();
}
/* Warnings that mean the data is cut short or damaged (libjpeg would fill the rest
 * with grey and carry on): treated as fatal, so that a truncated or corrupt file is
 * refused rather than shown half grey. Other warnings (extraneous bytes between
 * markers, for example) are harmless and ignored. */
static void jd_emit_message(j_common_ptr cinfo, int level) {
  int code = cinfo->err->msg_code;
  if (level < 0 && (code == JWRN_JPEG_EOF || code == JWRN_HIT_MARKER || code == JWRN_MUST_RESYNC)) jd_error_exit(cinfo);
}
static void jd_output_message(j_common_ptr cinfo) { (void)cinfo; }
static void jd_format_message(j_common_ptr cinfo, char *buffer) { (void)cinfo; buffer[0] = 0; }
static void jd_reset_error_mgr(j_common_ptr cinfo) { cinfo->err->num_warnings = 0; cinfo->err->msg_code = 0; }

/* Fill the error manager by hand instead of jpeg_std_error(): that keeps
 * jerror.o (fprintf to stderr -> WASI fd_write import) out of the link. */
static void jd_init_error(struct jpeg_error_mgr *err) {
  memset(err, 0, sizeof(*err));
  err->error_exit = jd_error_exit;
  err->emit_message = jd_emit_message;
  err->output_message = jd_output_message;
  err->format_message = jd_format_message;
  err->reset_error_mgr = jd_reset_error_mgr;
}

static unsigned rd16(const uint8_t *p, int le) { return le ? (p[0] | p[1] << 8) : (p[0] << 8 | p[1]); }
static uint32_t rd32(const uint8_t *p, int le) {
  return le ? ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24)
            : ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3]);
}

/* EXIF orientation (tag 0x0112 in IFD0) from a saved APP1 marker; 0 if absent. */
static int exif_orientation(const uint8_t *d, unsigned len) {
  if (len < 14 || memcmp(d, "Exif\0\0", 6) != 0) return 0;
  const uint8_t *t = d + 6;
  unsigned tl = len - 6;
  int le;
  if (t[0] == 'I' && t[1] == 'I') le = 1;
  else if (t[0] == 'M' && t[1] == 'M') le = 0;
  else return 0;
  if (rd16(t + 2, le) != 42) return 0;
  uint32_t ifd = rd32(t + 4, le);
  if (ifd > tl - 2 || ifd < 8) return 0;
  unsigned n = rd16(t + ifd, le);
  for (unsigned i = 0; i < n; i++) {
    uint32_t e = ifd + 2 + 12 * i;
    if (e + 12 > tl) return 0;
    if (rd16(t + e, le) == 0x0112) {
      unsigned type = rd16(t + e + 2, le);
      if (type != 3) return 0; /* SHORT */
      unsigned v = rd16(t + e + 8, le);
      return (v >= 1 && v <= 8) ? (int)v : 0;
    }
  }
  return 0;
}

EXPORT void *jd_malloc(size_t n) { return malloc(n); }
EXPORT void jd_free(void *p) { free(p); }

/* A decode in progress: jd_open reads the header and starts the decompressor,
 * jd_read decodes the next scanlines into the caller's rows, jd_close finishes.
 * The caller decides how many lines each call decodes, so a decode can be cut
 * into slices of a few milliseconds (the JavaScript side yields in between). */
typedef struct {
  struct jpeg_decompress_struct cinfo;
  struct jpeg_error_mgr jerr;
} jd_stream;

EXPORT jd_stream *jd_open(const uint8_t *jpeg, size_t len, int max_scale_denom,
                          int min_width, int min_height, int32_t *info) {
  jd_stream *s = (jd_stream *)malloc(sizeof(jd_stream));
  g_info = info;
  memset(info, 0, 7 * sizeof(int32_t));
  if (!s) { info[6] = -1; return NULL; }
  jd_init_error(&s->jerr);
  s->cinfo.err = &s->jerr;
  jpeg_create_decompress(&s->cinfo);
  jpeg_mem_src(&s->cinfo, jpeg, (unsigned long)len);
  jpeg_save_markers(&s->cinfo, JPEG_APP0 + 1, 0xFFFF);
  jpeg_read_header(&s->cinfo, TRUE);

  for (jpeg_saved_marker_ptr m = s->cinfo.marker_list; m; m = m->next) {
    if (m->marker == JPEG_APP0 + 1) {
      int o = exif_orientation(m->data, m->data_length);
      if (o) { info[2] = o; break; }
    }
  }
  info[4] = (int32_t)s->cinfo.image_width;
  info[5] = (int32_t)s->cinfo.image_height;

  if (s->cinfo.jpeg_color_space == JCS_CMYK || s->cinfo.jpeg_color_space == JCS_YCCK) {
    info[6] = -2; /* CMYK/YCCK -> RGBA not supported by libjpeg-turbo */
    jpeg_destroy_decompress(&s->cinfo);
    free(s);
    return NULL;
  }

  /* Largest reduction that still yields >= min_width x min_height.
   * libjpeg rounds scaled dimensions up: ceil(w / d). */
  int denom = 1;
  for (int d = 8; d >= 2; d >>= 1) {
    if (d > max_scale_denom) continue;
    unsigned sw = (s->cinfo.image_width + d - 1) / d;
    unsigned sh = (s->cinfo.image_height + d - 1) / d;
    if ((int)sw >= min_width && (int)sh >= min_height) { denom = d; break; }
  }
  s->cinfo.scale_num = 1;
  s->cinfo.scale_denom = denom;
  s->cinfo.out_color_space = JCS_EXT_RGBA;
  s->cinfo.dct_method = JDCT_ISLOW;
  s->cinfo.do_fancy_upsampling = TRUE;

  jpeg_start_decompress(&s->cinfo);
  info[0] = (int32_t)s->cinfo.output_width;
  info[1] = (int32_t)s->cinfo.output_height;
  info[3] = denom;
  return s;
}

/* Decodes up to max_lines scanlines into rows (contiguous, width*4 bytes each);
 * answers how many it decoded, 0 once every line is out. */
EXPORT int jd_read(jd_stream *s, uint8_t *rows, int max_lines) {
  unsigned h = s->cinfo.output_height;
  size_t stride = (size_t)s->cinfo.output_width * 4;
  unsigned first = s->cinfo.output_scanline;
  unsigned last = first + (unsigned)max_lines < h ? first + (unsigned)max_lines : h;
  while (s->cinfo.output_scanline < last) {
    JSAMPROW row[4];
    unsigned at = s->cinfo.output_scanline;
    unsigned n = last - at < 4 ? last - at : 4;
    for (unsigned k = 0; k < 4; k++) row[k] = rows + stride * ((at + (k < n ? k : n - 1)) - first);
    jpeg_read_scanlines(&s->cinfo, row, n);
  }
  return (int)(last - first);
}

/* Reads what follows the last scanline (a file cut short there still traps) and frees the decoder. */
EXPORT void jd_close(jd_stream *s) {
  jpeg_finish_decompress(&s->cinfo);
  jpeg_destroy_decompress(&s->cinfo);
  free(s);
  g_info = NULL;
}

/* The whole picture at once: what the banded decode must equal (the tests compare them). */
EXPORT uint8_t *jd_decode(const uint8_t *jpeg, size_t len, int max_scale_denom,
                          int min_width, int min_height, int32_t *info) {
  jd_stream *s = jd_open(jpeg, len, max_scale_denom, min_width, min_height, info);
  if (!s) return NULL;
  size_t size = (size_t)info[0] * 4 * (size_t)info[1];
  uint8_t *out = (uint8_t *)malloc(size);
  if (!out) {
    info[6] = -1;
    jpeg_destroy_decompress(&s->cinfo);
    free(s);
    return NULL;
  }
  jd_read(s, out, info[1]);
  jd_close(s);
  return out;
}
