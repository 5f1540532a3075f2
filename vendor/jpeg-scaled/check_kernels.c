/*
 * check_kernels.c - build.sh runs this after building: jsimd_wasm.c's kernels (both IDCTs,
 * YCbCr to RGBA, the h2v1 upsampler) must give
 * the same bytes as libjpeg-turbo's C code, on 4 million random coefficient blocks
 * (sparse ones for the zero shortcuts, 16-bit quantizers and full-range coefficients
 * for the overflows), on every (Y, Cb, Cr) triple, at widths that leave a tail, and on
 * random and extreme rows of every width from 3 to 300 (writing nothing past the row).
 */
#define JPEG_INTERNALS
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "jinclude.h"
#include "jpeglib.h"
#include "jdct.h"
EXTERN(void) jpeg_idct_4x4(j_decompress_ptr, jpeg_component_info *, JCOEFPTR, JSAMPARRAY, JDIMENSION);
EXTERN(void) jsimd_idct_4x4(j_decompress_ptr, jpeg_component_info *, JCOEFPTR, JSAMPARRAY, JDIMENSION);
EXTERN(void) jpeg_idct_islow(j_decompress_ptr, jpeg_component_info *, JCOEFPTR, JSAMPARRAY, JDIMENSION);
EXTERN(void) jsimd_idct_islow(j_decompress_ptr, jpeg_component_info *, JCOEFPTR, JSAMPARRAY, JDIMENSION);
EXTERN(void) jsimd_ycc_rgb_convert(j_decompress_ptr, JSAMPIMAGE, JDIMENSION, JSAMPARRAY, int);
EXTERN(void) jsimd_h2v1_fancy_upsample(j_decompress_ptr, jpeg_component_info *, JSAMPARRAY, JSAMPARRAY *);
/* jdsample.c's h2v1_fancy_upsample (static there), its loop for one row, copied as is. */
static void h2v1_reference(JSAMPROW inptr, JSAMPROW outptr, JDIMENSION downsampled_width) {
  register int invalue;
  register JDIMENSION colctr;
  invalue = *inptr++;
  *outptr++ = (JSAMPLE)invalue;
  *outptr++ = (JSAMPLE)((invalue * 3 + inptr[0] + 2) >> 2);
  for (colctr = downsampled_width - 2; colctr > 0; colctr--) {
    invalue = (*inptr++) * 3;
    *outptr++ = (JSAMPLE)((invalue + inptr[-2] + 1) >> 2);
    *outptr++ = (JSAMPLE)((invalue + inptr[0] + 2) >> 2);
  }
  invalue = *inptr;
  *outptr++ = (JSAMPLE)((invalue * 3 + inptr[-1] + 1) >> 2);
  *outptr++ = (JSAMPLE)invalue;
}
static unsigned long long s = 88172645463325252ull;
static unsigned rnd(void) { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return (unsigned)s; }
int main(void) {
  struct jpeg_decompress_struct cinfo; struct jpeg_error_mgr jerr;
  cinfo.err = jpeg_std_error(&jerr); jpeg_create_decompress(&cinfo);
  /* the range-limit table as jdmaster.c builds it */
  JSAMPLE *table = malloc(5 * 256 + 128); table += 256; cinfo.sample_range_limit = table;
  memset(table - 256, 0, 256); for (int i = 0; i < 256; i++) table[i] = i; table += 128;
  for (int i = 128; i < 512; i++) table[i] = 255; memset(table + 512, 0, 512 - 128); memcpy(table + 1024 - 128, cinfo.sample_range_limit, 128);
  jpeg_component_info comp; ISLOW_MULT_TYPE q[64]; comp.dct_table = q;
  JCOEF blk[64]; JSAMPLE o1[4][4], o2[4][4]; JSAMPROW r1[4] = {o1[0], o1[1], o1[2], o1[3]}, r2[4] = {o2[0], o2[1], o2[2], o2[3]};
  JSAMPLE p1[8][8], p2[8][8]; JSAMPROW s1[8], s2[8];
  for (int r = 0; r < 8; r++) s1[r] = p1[r], s2[r] = p2[r];
  long bad = 0, bad8 = 0, n = 4000000;
  for (long t = 0; t < n; t++) {
    int mode = t % 4;
    for (int i = 0; i < 64; i++) {
      q[i] = mode == 0 ? 1 + rnd() % 65535 : 1 + rnd() % (mode == 3 ? 8 : 100);
      unsigned r = rnd();
      int zero = (mode >= 2) ? (r % 4 != 0) : 0; /* sparse blocks hit the shortcuts */
      if (mode == 3 && i != 0 && (r & 16)) zero = 1;
      blk[i] = zero ? 0 : (mode == 0 ? (JCOEF)rnd() : (JCOEF)((int)(rnd() % 2048) - 1024));
    }
    if (t % 7 == 0) for (int i = 1; i < 64; i++) if (i != 4 && i % 8 != 4) blk[i] = 0;
    if (t % 11 == 0) for (int i = 1; i < 64; i++) blk[i] = 0; /* DC only */
    jpeg_idct_4x4(&cinfo, &comp, blk, r1, 0); jsimd_idct_4x4(&cinfo, &comp, blk, r2, 0);
    if (memcmp(o1, o2, 16)) { if (bad++ < 5) printf("idct differs at %ld (mode %d)\n", t, mode); }
    jpeg_idct_islow(&cinfo, &comp, blk, s1, 0); jsimd_idct_islow(&cinfo, &comp, blk, s2, 0);
    if (memcmp(p1, p2, 64)) { if (bad8++ < 5) printf("islow differs at %ld (mode %d)\n", t, mode); }
  }
  printf("idct islow: %ld of %ld blocks differ\n", bad8, n);
  printf("idct4x4: %ld of %ld blocks differ\n", bad, n);
  long idct_bad = bad;
  /* YCbCr: every (y, cb, cr), rows of 256 cr values (plus a tail of odd widths) */
  cinfo.out_color_space = JCS_EXT_RGBA; cinfo.output_width = 256;
  JSAMPLE y[264], cb[264], cr[264], out[264 * 4], ref[264 * 4];
  JSAMPROW py = y, pcb = cb, pcr = cr, po = out; JSAMPARRAY iy = &py, icb = &pcb, icr = &pcr; JSAMPARRAY img[3] = {iy, icb, icr};
  bad = 0;
  for (int Y = 0; Y < 256; Y++) for (int CB = 0; CB < 256; CB++) {
    for (int c = 0; c < 256; c++) { y[c] = Y; cb[c] = CB; cr[c] = c; }
    cinfo.output_width = 256 - (CB % 13);
    jsimd_ycc_rgb_convert(&cinfo, img, 0, &po, 1);
    for (int c = 0; c < (int)cinfo.output_width; c++) {
      JLONG x = c - 128, xb = CB - 128;
      JSAMPLE *l = cinfo.sample_range_limit;
      ref[4*c] = l[Y + (int)((91881 * x + 32768) >> 16)];
      ref[4*c+1] = l[Y + (int)((-22554 * xb + 32768 + -46802 * x) >> 16)];
      ref[4*c+2] = l[Y + (int)((116130 * xb + 32768) >> 16)];
      ref[4*c+3] = 255;
    }
    if (memcmp(out, ref, cinfo.output_width * 4)) bad++;
  }
  printf("ycc->rgba: %ld of 65536 rows differ\n", bad);
  long ycc_bad = bad;
  /* h2v1: two rows a call (max_v_samp_factor 2), widths 3..300, random, all 0, all 255, alternating */
  cinfo.max_v_samp_factor = 2;
  JSAMPLE in[2][304], up[2][608 + 16], upref[2][608 + 16];
  JSAMPROW inrows[2] = {in[0], in[1]}, uprows[2] = {up[0], up[1]};
  JSAMPARRAY upout = uprows;
  bad = 0;
  for (int width = 3; width <= 300; width++) for (int kind = 0; kind < 40; kind++) {
    for (int r = 0; r < 2; r++) for (int c = 0; c < 304; c++)
      in[r][c] = kind == 0 ? 0 : kind == 1 ? 255 : kind == 2 ? (c & 1) * 255 : (JSAMPLE)rnd();
    memset(up, 0xA5, sizeof(up)); memset(upref, 0xA5, sizeof(upref));
    comp.downsampled_width = width;
    jsimd_h2v1_fancy_upsample(&cinfo, &comp, inrows, &upout);
    for (int r = 0; r < 2; r++) h2v1_reference(in[r], upref[r], width);
    if (memcmp(up, upref, sizeof(up))) { if (bad++ < 5) printf("h2v1 differs at width %d (kind %d)\n", width, kind); }
  }
  printf("h2v1 upsample: %ld of %d rows pairs differ\n", bad, 298 * 40);
  return bad != 0 || ycc_bad != 0 || idct_bad != 0 || bad8 != 0;
}
