/*
 * jsimd_wasm.c - WebAssembly SIMD kernels for libjpeg-turbo 2.1.5's SIMD hooks.
 *
 * libjpeg-turbo built with WITH_SIMD=0 links jsimd_none.c, whose jsimd_can_*()
 * all answer 0. This file replaces it (build.sh drops jsimd_none.c.o from
 * libjpeg.a): it is jsimd_none.c itself, included below, except for the kernels
 * the 1/2-scale decode of a photo spends its time in, written with wasm_simd128.h:
 *   - jsimd_idct_4x4: the reduced 4x4 inverse DCT (jidctred.c's jpeg_idct_4x4);
 *   - jsimd_idct_islow: the full 8x8 inverse DCT (jidctint.c's jpeg_idct_islow:
 *     a 4:2:0 photo's chroma at 1/2 scale, any photo at full scale);
 *   - jsimd_ycc_rgb_convert: YCbCr to RGBA/RGBX (jdcolext.c's ycc_rgb_convert);
 *   - jsimd_h2v1_fancy_upsample: chroma doubled across with the triangle filter
 *     (jdsample.c's h2v1_fancy_upsample: a 4:2:2 photo, the phones' other layout).
 *
 * Each computes exactly what the C code computes, with the same 32-bit integer
 * arithmetic (JLONG is 32 bits on wasm32), the same rounding and the same range
 * limiting, including the C code's shortcuts for all-zero AC terms (which only
 * differ from the full formula when it would overflow): the pixels are the same
 * bytes. build.sh's output is checked against the C kernels' on the bench
 * pictures and test JPEGs (see README.md).
 */

#include <wasm_simd128.h>

#define jsimd_can_ycc_rgb jsimd_none_can_ycc_rgb
#define jsimd_ycc_rgb_convert jsimd_none_ycc_rgb_convert
#define jsimd_can_idct_4x4 jsimd_none_can_idct_4x4
#define jsimd_idct_4x4 jsimd_none_idct_4x4
#define jsimd_can_idct_islow jsimd_none_can_idct_islow
#define jsimd_idct_islow jsimd_none_idct_islow
#define jsimd_can_h2v1_fancy_upsample jsimd_none_can_h2v1_fancy_upsample
#define jsimd_h2v1_fancy_upsample jsimd_none_h2v1_fancy_upsample
#include "jsimd_none.c"
#undef jsimd_can_ycc_rgb
#undef jsimd_ycc_rgb_convert
#undef jsimd_can_idct_4x4
#undef jsimd_idct_4x4
#undef jsimd_can_idct_islow
#undef jsimd_idct_islow
#undef jsimd_can_h2v1_fancy_upsample
#undef jsimd_h2v1_fancy_upsample

/* ------------------------------------------------------------------------- */
/* YCbCr -> RGB: jdcolor.c's build_ycc_rgb_table and jdcolext.c's loop. */

#define YCC_SCALEBITS 16
#define YCC_ONE_HALF ((JLONG)1 << (YCC_SCALEBITS - 1))
#define YCC_FIX(x) ((JLONG)((x) * (1L << YCC_SCALEBITS) + 0.5))

GLOBAL(int)
jsimd_can_ycc_rgb(void)
{
  return 1;
}

/* One pixel, as ycc_rgb_convert_internal with its tables written out. */
static inline void ycc_rgb_pixel(int y, int cb, int cr, JSAMPLE *limit, JSAMPROW out,
                                 int r, int g, int b, int a)
{
  JLONG xcb = cb - CENTERJSAMPLE, xcr = cr - CENTERJSAMPLE;
  out[r] = limit[y + (int)((YCC_FIX(1.40200) * xcr + YCC_ONE_HALF) >> YCC_SCALEBITS)];
  out[g] = limit[y + (int)(((-YCC_FIX(0.34414)) * xcb + YCC_ONE_HALF + (-YCC_FIX(0.71414)) * xcr) >> YCC_SCALEBITS)];
  out[b] = limit[y + (int)((YCC_FIX(1.77200) * xcb + YCC_ONE_HALF) >> YCC_SCALEBITS)];
  if (a >= 0) out[a] = MAXJSAMPLE;
}

/* Eight pixels, RGBA or RGBX: the sums saturate into 0..255 as range_limit does
 * (y plus a chroma term always lies within its -256..511 span). */
static inline void ycc_rgba_8(const JSAMPLE *yp, const JSAMPLE *cbp, const JSAMPLE *crp, JSAMPROW out)
{
  const v128_t center = wasm_i32x4_splat(CENTERJSAMPLE), half = wasm_i32x4_splat(YCC_ONE_HALF);
  const v128_t k_rcr = wasm_i32x4_splat(YCC_FIX(1.40200)), k_bcb = wasm_i32x4_splat(YCC_FIX(1.77200));
  const v128_t k_gcb = wasm_i32x4_splat(-YCC_FIX(0.34414)), k_gcr = wasm_i32x4_splat(-YCC_FIX(0.71414));
  v128_t y16 = wasm_u16x8_load8x8(yp), cb16 = wasm_u16x8_load8x8(cbp), cr16 = wasm_u16x8_load8x8(crp);
  v128_t rgb[3][2];
  for (int h = 0; h < 2; h++) {
    v128_t y = h ? wasm_u32x4_extend_high_u16x8(y16) : wasm_u32x4_extend_low_u16x8(y16);
    v128_t cb = wasm_i32x4_sub(h ? wasm_u32x4_extend_high_u16x8(cb16) : wasm_u32x4_extend_low_u16x8(cb16), center);
    v128_t cr = wasm_i32x4_sub(h ? wasm_u32x4_extend_high_u16x8(cr16) : wasm_u32x4_extend_low_u16x8(cr16), center);
    rgb[0][h] = wasm_i32x4_add(y, wasm_i32x4_shr(wasm_i32x4_add(wasm_i32x4_mul(cr, k_rcr), half), YCC_SCALEBITS));
    rgb[1][h] = wasm_i32x4_add(
        y, wasm_i32x4_shr(wasm_i32x4_add(wasm_i32x4_add(wasm_i32x4_mul(cb, k_gcb), half), wasm_i32x4_mul(cr, k_gcr)),
                          YCC_SCALEBITS));
    rgb[2][h] = wasm_i32x4_add(y, wasm_i32x4_shr(wasm_i32x4_add(wasm_i32x4_mul(cb, k_bcb), half), YCC_SCALEBITS));
  }
  v128_t r16 = wasm_i16x8_narrow_i32x4(rgb[0][0], rgb[0][1]);
  v128_t g16 = wasm_i16x8_narrow_i32x4(rgb[1][0], rgb[1][1]);
  v128_t b16 = wasm_i16x8_narrow_i32x4(rgb[2][0], rgb[2][1]);
  v128_t rg = wasm_u8x16_narrow_i16x8(r16, g16);                         /* r0..r7 g0..g7 */
  v128_t ba = wasm_u8x16_narrow_i16x8(b16, wasm_i16x8_splat(MAXJSAMPLE)); /* b0..b7 a0..a7 */
  wasm_v128_store(out, wasm_i8x16_shuffle(rg, ba, 0, 8, 16, 24, 1, 9, 17, 25, 2, 10, 18, 26, 3, 11, 19, 27));
  wasm_v128_store(out + 16, wasm_i8x16_shuffle(rg, ba, 4, 12, 20, 28, 5, 13, 21, 29, 6, 14, 22, 30, 7, 15, 23, 31));
}

GLOBAL(void)
jsimd_ycc_rgb_convert(j_decompress_ptr cinfo, JSAMPIMAGE input_buf, JDIMENSION input_row, JSAMPARRAY output_buf,
                      int num_rows)
{
  J_COLOR_SPACE space = cinfo->out_color_space;
  int r = rgb_red[space], g = rgb_green[space], b = rgb_blue[space], size = rgb_pixelsize[space];
  int a = size == 4 ? 6 - r - g - b : -1; /* the fourth byte, set to MAXJSAMPLE as jdcolext.c does */
  int vector = r == 0 && g == 1 && b == 2 && size == 4;
  JDIMENSION num_cols = cinfo->output_width;
  JSAMPLE *limit = cinfo->sample_range_limit;
  while (--num_rows >= 0) {
    const JSAMPLE *yp = input_buf[0][input_row], *cbp = input_buf[1][input_row], *crp = input_buf[2][input_row];
    JSAMPROW out = *output_buf++;
    JDIMENSION col = 0;
    input_row++;
    if (vector)
      for (; col + 8 <= num_cols; col += 8) ycc_rgba_8(yp + col, cbp + col, crp + col, out + col * 4);
    for (; col < num_cols; col++) ycc_rgb_pixel(yp[col], cbp[col], crp[col], limit, out + col * size, r, g, b, a);
  }
}

/* ------------------------------------------------------------------------- */
/* The 4x4 reduced inverse DCT: jidctred.c's jpeg_idct_4x4 (8-bit samples), four
 * lanes at a time: pass 1 on columns 0-3 and 4-7 (column 4 is not used), pass 2
 * on the four rows at once after a transpose. */

#define IDCT_CONST_BITS 13
#define IDCT_PASS1_BITS 2

GLOBAL(int)
jsimd_can_idct_4x4(void)
{
  return BITS_IN_JSAMPLE == 8 && DCTSIZE == 8;
}

/* Four coefficients (JCOEF is 16 bits), dequantized with the table (ISLOW_MULT_TYPE: int or short). */
static inline v128_t dequantize4(const JCOEF *coef, const ISLOW_MULT_TYPE *quant)
{
  v128_t q = sizeof(ISLOW_MULT_TYPE) == 2 ? wasm_i32x4_load16x4(quant) : wasm_v128_load(quant);
  return wasm_i32x4_mul(wasm_i32x4_load16x4(coef), q);
}

static inline v128_t descale(v128_t x, int n)
{
  return wasm_i32x4_shr(wasm_i32x4_add(x, wasm_i32x4_splat(1 << (n - 1))), n);
}

static inline v128_t mul(v128_t x, int k)
{
  return wasm_i32x4_mul(x, wasm_i32x4_splat(k));
}

static inline v128_t is_zero(v128_t x)
{
  return wasm_i32x4_eq(x, wasm_i32x4_splat(0));
}

/* The 4-point odd/even butterflies both passes share: in[k] is the k-th input
 * (k = 0..7, in[4] unused), out[0..3] before descaling. */
static inline void idct4_core(const v128_t in[8], v128_t out[4])
{
  v128_t tmp0 = wasm_i32x4_shl(in[0], IDCT_CONST_BITS + 1);
  v128_t tmp2 = wasm_i32x4_add(mul(in[2], 15137), mul(in[6], -6270)); /* FIX_1_847759065, -FIX_0_765366865 */
  v128_t tmp10 = wasm_i32x4_add(tmp0, tmp2), tmp12 = wasm_i32x4_sub(tmp0, tmp2);
  v128_t z1 = in[7], z2 = in[5], z3 = in[3], z4 = in[1];
  v128_t odd0 = wasm_i32x4_add(wasm_i32x4_add(mul(z1, -1730), mul(z2, 11893)), /* -FIX_0_211164243, FIX_1_451774981 */
                               wasm_i32x4_add(mul(z3, -17799), mul(z4, 8697))); /* -FIX_2_172734803, FIX_1_061594337 */
  v128_t odd2 = wasm_i32x4_add(wasm_i32x4_add(mul(z1, -4176), mul(z2, -4926)), /* -FIX_0_509795579, -FIX_0_601344887 */
                               wasm_i32x4_add(mul(z3, 7373), mul(z4, 20995)));  /* FIX_0_899976223, FIX_2_562915447 */
  out[0] = wasm_i32x4_add(tmp10, odd2);
  out[3] = wasm_i32x4_sub(tmp10, odd2);
  out[1] = wasm_i32x4_add(tmp12, odd0);
  out[2] = wasm_i32x4_sub(tmp12, odd0);
}

static inline void transpose4(v128_t *a, v128_t *b, v128_t *c, v128_t *d)
{
  v128_t ab_lo = wasm_i32x4_shuffle(*a, *b, 0, 4, 1, 5), ab_hi = wasm_i32x4_shuffle(*a, *b, 2, 6, 3, 7);
  v128_t cd_lo = wasm_i32x4_shuffle(*c, *d, 0, 4, 1, 5), cd_hi = wasm_i32x4_shuffle(*c, *d, 2, 6, 3, 7);
  *a = wasm_i32x4_shuffle(ab_lo, cd_lo, 0, 1, 4, 5);
  *b = wasm_i32x4_shuffle(ab_lo, cd_lo, 2, 3, 6, 7);
  *c = wasm_i32x4_shuffle(ab_hi, cd_hi, 0, 1, 4, 5);
  *d = wasm_i32x4_shuffle(ab_hi, cd_hi, 2, 3, 6, 7);
}

/* IDCT_range_limit(cinfo)[x & RANGE_MASK] (jdmaster.c's table) is x sign-extended
 * from 10 bits, plus CENTERJSAMPLE, clamped to 0..255 (the clamp: saturating narrows). */
static inline v128_t range_limit_unclamped(v128_t x)
{
  return wasm_i32x4_add(wasm_i32x4_shr(wasm_i32x4_shl(x, 22), 22), wasm_i32x4_splat(CENTERJSAMPLE));
}

/* No AC term at all (smooth areas, most chroma blocks): both passes of either IDCT
 * take their zero shortcuts, and every pixel is range_limit[DESCALE(DC << PASS1_BITS,
 * PASS1_BITS + 3)]. Writes the size x size block and answers 1, or answers 0. */
static inline int dc_only_block(const JCOEF *coef_block, const ISLOW_MULT_TYPE *quant, JSAMPARRAY output_buf,
                                JDIMENSION output_col, int size)
{
  v128_t any = wasm_v128_and(wasm_v128_load(coef_block), wasm_i16x8_make(0, -1, -1, -1, -1, -1, -1, -1));
  for (int k = 1; k < 8; k++) any = wasm_v128_or(any, wasm_v128_load(coef_block + DCTSIZE * k));
  if (wasm_v128_any_true(any)) return 0;
  int dc = (int)((unsigned)(int)coef_block[0] * (unsigned)(int)quant[0] << IDCT_PASS1_BITS); /* wraps as the C code */
  v128_t pixel = range_limit_unclamped(descale(wasm_i32x4_splat(dc), IDCT_PASS1_BITS + 3));
  v128_t bytes = wasm_u8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(pixel, pixel), wasm_i16x8_narrow_i32x4(pixel, pixel));
  for (int r = 0; r < size; r++) {
    if (size == 8) wasm_v128_store64_lane(output_buf[r] + output_col, bytes, 0);
    else wasm_v128_store32_lane(output_buf[r] + output_col, bytes, 0);
  }
  return 1;
}

GLOBAL(void)
jsimd_idct_4x4(j_decompress_ptr cinfo, jpeg_component_info *compptr, JCOEFPTR coef_block, JSAMPARRAY output_buf,
               JDIMENSION output_col)
{
  const ISLOW_MULT_TYPE *quant = (const ISLOW_MULT_TYPE *)compptr->dct_table;
  v128_t ws[2][4]; /* pass 1's output: ws[half][row], lanes = columns 4*half .. 4*half+3 */
  (void)cinfo;

  if (dc_only_block(coef_block, quant, output_buf, output_col, 4)) return;

  /* Pass 1: columns. A column whose AC terms (but the unused row 4) are all zero is its DC << PASS1_BITS. */
  for (int half = 0; half < 2; half++) {
    v128_t in[8], out[4];
    for (int k = 0; k < 8; k++)
      in[k] = k == 4 ? wasm_i32x4_splat(0) : dequantize4(coef_block + DCTSIZE * k + 4 * half, quant + DCTSIZE * k + 4 * half);
    /* As the C code, test the coefficients themselves. */
    v128_t c_ac = wasm_v128_or(
        wasm_v128_or(wasm_v128_or(wasm_i32x4_load16x4(coef_block + DCTSIZE * 1 + 4 * half),
                                  wasm_i32x4_load16x4(coef_block + DCTSIZE * 2 + 4 * half)),
                     wasm_v128_or(wasm_i32x4_load16x4(coef_block + DCTSIZE * 3 + 4 * half),
                                  wasm_i32x4_load16x4(coef_block + DCTSIZE * 5 + 4 * half))),
        wasm_v128_or(wasm_i32x4_load16x4(coef_block + DCTSIZE * 6 + 4 * half),
                     wasm_i32x4_load16x4(coef_block + DCTSIZE * 7 + 4 * half)));
    v128_t dc_only = is_zero(c_ac);
    v128_t dc = wasm_i32x4_shl(in[0], IDCT_PASS1_BITS);
    idct4_core(in, out);
    for (int r = 0; r < 4; r++)
      ws[half][r] = wasm_v128_bitselect(dc, descale(out[r], IDCT_CONST_BITS - IDCT_PASS1_BITS + 1), dc_only);
  }

  /* Transpose: col[c] holds workspace column c, lanes = rows 0..3. */
  v128_t col[8];
  for (int half = 0; half < 2; half++) {
    transpose4(&ws[half][0], &ws[half][1], &ws[half][2], &ws[half][3]);
    for (int k = 0; k < 4; k++) col[4 * half + k] = ws[half][k];
  }

  /* Pass 2: the four rows at once. A row whose terms 1-3 and 5-7 are zero is range_limit[DESCALE(ws[0], PASS1_BITS + 3)]. */
  v128_t out[4];
  idct4_core(col, out);
  v128_t row_ac = wasm_v128_or(wasm_v128_or(wasm_v128_or(col[1], col[2]), wasm_v128_or(col[3], col[5])),
                               wasm_v128_or(col[6], col[7]));
  v128_t dc_only = is_zero(row_ac);
  v128_t dc = range_limit_unclamped(descale(col[0], IDCT_PASS1_BITS + 3));
  for (int j = 0; j < 4; j++)
    out[j] = wasm_v128_bitselect(dc, range_limit_unclamped(descale(out[j], IDCT_CONST_BITS + IDCT_PASS1_BITS + 3 + 1)),
                                 dc_only);
  /* out[j] lanes = rows, column j: bytes [o0 r0..r3, o1 r0..r3, o2 .., o3 ..] -> row-major. */
  v128_t bytes = wasm_u8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(out[0], out[1]), wasm_i16x8_narrow_i32x4(out[2], out[3]));
  bytes = wasm_i8x16_shuffle(bytes, bytes, 0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  wasm_v128_store32_lane(output_buf[0] + output_col, bytes, 0);
  wasm_v128_store32_lane(output_buf[1] + output_col, bytes, 1);
  wasm_v128_store32_lane(output_buf[2] + output_col, bytes, 2);
  wasm_v128_store32_lane(output_buf[3] + output_col, bytes, 3);
}

/* ------------------------------------------------------------------------- */
/* The full 8x8 inverse DCT: jidctint.c's jpeg_idct_islow (8-bit samples), pass 1
 * on columns 0-3 and 4-7, pass 2 on rows 0-3 and 4-7 after a transpose. */

GLOBAL(int)
jsimd_can_idct_islow(void)
{
  return BITS_IN_JSAMPLE == 8 && DCTSIZE == 8;
}

/* jpeg_idct_islow's butterflies, either pass: in[k] the k-th input, out[k] the k-th output before descaling. */
static inline void idct8_core(const v128_t in[8], v128_t out[8])
{
  v128_t z1 = mul(wasm_i32x4_add(in[2], in[6]), 4433);          /* FIX_0_541196100 */
  v128_t tmp2 = wasm_i32x4_add(z1, mul(in[6], -15137));          /* -FIX_1_847759065 */
  v128_t tmp3 = wasm_i32x4_add(z1, mul(in[2], 6270));            /* FIX_0_765366865 */
  v128_t tmp0 = wasm_i32x4_shl(wasm_i32x4_add(in[0], in[4]), IDCT_CONST_BITS);
  v128_t tmp1 = wasm_i32x4_shl(wasm_i32x4_sub(in[0], in[4]), IDCT_CONST_BITS);
  v128_t tmp10 = wasm_i32x4_add(tmp0, tmp3), tmp13 = wasm_i32x4_sub(tmp0, tmp3);
  v128_t tmp11 = wasm_i32x4_add(tmp1, tmp2), tmp12 = wasm_i32x4_sub(tmp1, tmp2);

  v128_t o0 = in[7], o1 = in[5], o2 = in[3], o3 = in[1];
  v128_t z1o = wasm_i32x4_add(o0, o3), z2 = wasm_i32x4_add(o1, o2);
  v128_t z3 = wasm_i32x4_add(o0, o2), z4 = wasm_i32x4_add(o1, o3);
  v128_t z5 = mul(wasm_i32x4_add(z3, z4), 9633);                 /* FIX_1_175875602 */
  o0 = mul(o0, 2446);                                            /* FIX_0_298631336 */
  o1 = mul(o1, 16819);                                           /* FIX_2_053119869 */
  o2 = mul(o2, 25172);                                           /* FIX_3_072711026 */
  o3 = mul(o3, 12299);                                           /* FIX_1_501321110 */
  z1o = mul(z1o, -7373);                                         /* -FIX_0_899976223 */
  z2 = mul(z2, -20995);                                          /* -FIX_2_562915447 */
  z3 = wasm_i32x4_add(mul(z3, -16069), z5);                      /* -FIX_1_961570560 */
  z4 = wasm_i32x4_add(mul(z4, -3196), z5);                       /* -FIX_0_390180644 */
  o0 = wasm_i32x4_add(o0, wasm_i32x4_add(z1o, z3));
  o1 = wasm_i32x4_add(o1, wasm_i32x4_add(z2, z4));
  o2 = wasm_i32x4_add(o2, wasm_i32x4_add(z2, z3));
  o3 = wasm_i32x4_add(o3, wasm_i32x4_add(z1o, z4));

  out[0] = wasm_i32x4_add(tmp10, o3);
  out[7] = wasm_i32x4_sub(tmp10, o3);
  out[1] = wasm_i32x4_add(tmp11, o2);
  out[6] = wasm_i32x4_sub(tmp11, o2);
  out[2] = wasm_i32x4_add(tmp12, o1);
  out[5] = wasm_i32x4_sub(tmp12, o1);
  out[3] = wasm_i32x4_add(tmp13, o0);
  out[4] = wasm_i32x4_sub(tmp13, o0);
}

GLOBAL(void)
jsimd_idct_islow(j_decompress_ptr cinfo, jpeg_component_info *compptr, JCOEFPTR coef_block, JSAMPARRAY output_buf,
                 JDIMENSION output_col)
{
  const ISLOW_MULT_TYPE *quant = (const ISLOW_MULT_TYPE *)compptr->dct_table;
  v128_t ws[2][8]; /* pass 1's output: ws[half][row], lanes = columns 4*half .. 4*half+3 */
  (void)cinfo;
  if (dc_only_block(coef_block, quant, output_buf, output_col, 8)) return;

  /* Pass 1: columns. A column whose AC terms are all zero is its DC << PASS1_BITS. */
  for (int half = 0; half < 2; half++) {
    v128_t in[8], out[8], c_ac = wasm_i32x4_splat(0);
    for (int k = 0; k < 8; k++) {
      in[k] = dequantize4(coef_block + DCTSIZE * k + 4 * half, quant + DCTSIZE * k + 4 * half);
      if (k) c_ac = wasm_v128_or(c_ac, wasm_i32x4_load16x4(coef_block + DCTSIZE * k + 4 * half));
    }
    v128_t dc_only = is_zero(c_ac), dc = wasm_i32x4_shl(in[0], IDCT_PASS1_BITS);
    idct8_core(in, out);
    for (int r = 0; r < 8; r++)
      ws[half][r] = wasm_v128_bitselect(dc, descale(out[r], IDCT_CONST_BITS - IDCT_PASS1_BITS), dc_only);
  }

  /* Pass 2, rows 4*rh .. 4*rh+3 at once. A row whose terms 1-7 are zero is range_limit[DESCALE(ws[0], PASS1_BITS + 3)]. */
  for (int rh = 0; rh < 2; rh++) {
    v128_t col[8], out[8];
    for (int half = 0; half < 2; half++) {
      v128_t a = ws[half][4 * rh], b = ws[half][4 * rh + 1], c = ws[half][4 * rh + 2], d = ws[half][4 * rh + 3];
      transpose4(&a, &b, &c, &d);
      col[4 * half] = a, col[4 * half + 1] = b, col[4 * half + 2] = c, col[4 * half + 3] = d;
    }
    v128_t row_ac = col[1];
    for (int k = 2; k < 8; k++) row_ac = wasm_v128_or(row_ac, col[k]);
    v128_t dc_only = is_zero(row_ac), dc = range_limit_unclamped(descale(col[0], IDCT_PASS1_BITS + 3));
    idct8_core(col, out);
    for (int j = 0; j < 8; j++)
      out[j] = wasm_v128_bitselect(dc, range_limit_unclamped(descale(out[j], IDCT_CONST_BITS + IDCT_PASS1_BITS + 3)), dc_only);
    /* out[j] lanes = rows: [o0 r0..3 .. o3 r0..3] and [o4 .. o7] -> two rows per 16 bytes. */
    v128_t lo = wasm_u8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(out[0], out[1]), wasm_i16x8_narrow_i32x4(out[2], out[3]));
    v128_t hi = wasm_u8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(out[4], out[5]), wasm_i16x8_narrow_i32x4(out[6], out[7]));
    v128_t r01 = wasm_i8x16_shuffle(lo, hi, 0, 4, 8, 12, 16, 20, 24, 28, 1, 5, 9, 13, 17, 21, 25, 29);
    v128_t r23 = wasm_i8x16_shuffle(lo, hi, 2, 6, 10, 14, 18, 22, 26, 30, 3, 7, 11, 15, 19, 23, 27, 31);
    wasm_v128_store64_lane(output_buf[4 * rh] + output_col, r01, 0);
    wasm_v128_store64_lane(output_buf[4 * rh + 1] + output_col, r01, 1);
    wasm_v128_store64_lane(output_buf[4 * rh + 2] + output_col, r23, 0);
    wasm_v128_store64_lane(output_buf[4 * rh + 3] + output_col, r23, 1);
  }
}

/* ------------------------------------------------------------------------- */
/* 4:2:2 chroma doubled across: jdsample.c's h2v1_fancy_upsample, 16 input samples
 * (32 output) per step. Each output is 3/4 of the nearer sample and 1/4 of the
 * further one, rounded as the C code rounds (+1 on the left, +2 on the right);
 * the sums (at most 1022) fit 16 bits and the results 8. Only samples within the
 * row are read: the edges and the tail are the C code's. */

GLOBAL(int)
jsimd_can_h2v1_fancy_upsample(void)
{
  return 1;
}

static inline v128_t h2v1_half(v128_t cur, v128_t prev, v128_t next, int high, v128_t *odd)
{
  v128_t c = high ? wasm_u16x8_extend_high_u8x16(cur) : wasm_u16x8_extend_low_u8x16(cur);
  v128_t p = high ? wasm_u16x8_extend_high_u8x16(prev) : wasm_u16x8_extend_low_u8x16(prev);
  v128_t n = high ? wasm_u16x8_extend_high_u8x16(next) : wasm_u16x8_extend_low_u8x16(next);
  v128_t three = wasm_i16x8_add(wasm_i16x8_add(c, c), c);
  *odd = wasm_u16x8_shr(wasm_i16x8_add(wasm_i16x8_add(three, n), wasm_i16x8_splat(2)), 2);
  return wasm_u16x8_shr(wasm_i16x8_add(wasm_i16x8_add(three, p), wasm_i16x8_splat(1)), 2);
}

GLOBAL(void)
jsimd_h2v1_fancy_upsample(j_decompress_ptr cinfo, jpeg_component_info *compptr,
                          JSAMPARRAY input_data, JSAMPARRAY *output_data_ptr)
{
  JSAMPARRAY output_data = *output_data_ptr;
  JDIMENSION width = compptr->downsampled_width; /* > 2: jdsample.c checks */

  for (int inrow = 0; inrow < cinfo->max_v_samp_factor; inrow++) {
    JSAMPROW inptr = input_data[inrow], outptr = output_data[inrow];
    int invalue = inptr[0];
    outptr[0] = (JSAMPLE)invalue;
    outptr[1] = (JSAMPLE)((invalue * 3 + inptr[1] + 2) >> 2);
    JDIMENSION col = 1;
    /* samples col-1 .. col+16 are read: within the row while col + 16 < width */
    for (; col + 16 < width; col += 16) {
      v128_t cur = wasm_v128_load(inptr + col), prev = wasm_v128_load(inptr + col - 1);
      v128_t next = wasm_v128_load(inptr + col + 1);
      v128_t odd_lo, odd_hi;
      v128_t even_lo = h2v1_half(cur, prev, next, 0, &odd_lo);
      v128_t even_hi = h2v1_half(cur, prev, next, 1, &odd_hi);
      v128_t even = wasm_u8x16_narrow_i16x8(even_lo, even_hi), odd = wasm_u8x16_narrow_i16x8(odd_lo, odd_hi);
      wasm_v128_store(outptr + 2 * col,
                      wasm_i8x16_shuffle(even, odd, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23));
      wasm_v128_store(outptr + 2 * col + 16,
                      wasm_i8x16_shuffle(even, odd, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31));
    }
    for (; col < width - 1; col++) {
      invalue = inptr[col] * 3;
      outptr[2 * col] = (JSAMPLE)((invalue + inptr[col - 1] + 1) >> 2);
      outptr[2 * col + 1] = (JSAMPLE)((invalue + inptr[col + 1] + 2) >> 2);
    }
    invalue = inptr[width - 1];
    outptr[2 * (width - 1)] = (JSAMPLE)((invalue * 3 + inptr[width - 2] + 1) >> 2);
    outptr[2 * (width - 1) + 1] = (JSAMPLE)invalue;
  }
}
