#!/usr/bin/env bash
# Reproducible build of jpeg_scaled.wasm from Debian bookworm packages only:
#   emscripten 3.1.6~dfsg-5 (clang 14 / binaryen 108), libjpeg-turbo 1:2.1.5-2 and zlib 1:1.2.13.dfsg-1 sources.
# Run as root (or with sudo for the apt steps).  Output: ./jpeg_scaled.wasm
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
cd "$HERE"

if [ "${SKIP_APT:-0}" != 1 ]; then
  # deb-src for the configured Debian mirror (deb822 format, as in debian.sources)
  if ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ && ! grep -qs '^deb-src' /etc/apt/sources.list; then
    cat > /etc/apt/sources.list.d/debian-src.sources <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  fi
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y emscripten cmake make dpkg-dev wabt patch
fi

mkdir -p src
if [ ! -d src/libjpeg-turbo-2.1.5 ]; then
  (cd src && apt-get source libjpeg-turbo=1:2.1.5-2)
fi
JT="$HERE/src/libjpeg-turbo-2.1.5"
if [ ! -d src/zlib-1.2.13.dfsg ]; then
  (cd src && apt-get source zlib=1:1.2.13.dfsg-1)
fi
ZL="$HERE/src/zlib-1.2.13.dfsg"

# Our patches (each explained at its top, and in README.md), applied once: a patch that
# already reverses cleanly is in. patches/*.patch are libjpeg-turbo's, patches/zlib/*.patch zlib's.
apply_patches() {
  local dir="$1"; shift
  for p in "$@"; do
    if ! patch -d "$dir" -p1 -R --dry-run -s -f < "$p" >/dev/null 2>&1; then
      patch -d "$dir" -p1 -N -s < "$p"
    fi
  done
}
apply_patches "$JT" "$HERE"/patches/*.patch
apply_patches "$ZL" "$HERE"/patches/zlib/*.patch

# Debian emscripten runs tools/acorn-optimizer.js with node; Debian ships acorn in /usr/share/nodejs,
# which a non-Debian node (e.g. NodeSource) does not search by default.
export NODE_PATH="/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}"

# SIMD=1 adds -msimd128 to libjpeg-turbo (clang auto-vectorisation only: its hand-written
# WebAssembly kernels are jsimd_wasm.c). Measured: no speed difference, +21 KiB, so off by default.
SIMDFLAG=""
[ "${SIMD:-0}" = 1 ] && SIMDFLAG="-msimd128"
CFLAGS_COMMON="-O3 $SIMDFLAG -DNO_GETENV -DNO_PUTENV"

# 1. libjpeg-turbo static library (libjpeg API only; no TurboJPEG, no x86/arm SIMD asm)
rm -rf build-jt && mkdir build-jt
(
  cd build-jt
  emcmake cmake "$JT" \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_FLAGS="$CFLAGS_COMMON" \
    -DCMAKE_C_FLAGS_RELEASE="-O3" \
    -DENABLE_SHARED=0 -DENABLE_STATIC=1 \
    -DWITH_TURBOJPEG=0 -DWITH_SIMD=0 -DWITH_JAVA=0 \
    -DWITH_ARITH_ENC=0 -DWITH_ARITH_DEC=1 \
    -DWITH_12BIT=0 -DWITH_MEM_SRCDST=1 \
    -DSIZE_T=4 -DUNSIGNED_LONG=4 -DHAVE_SIZE_T=TRUE -DHAVE_UNSIGNED_LONG=TRUE
  # ^ Debian's Emscripten.cmake evaluates check_type_size() by running the test with
  #   'node --experimental-wasm-threads', a flag node >= 20 rejects (exit 9 -> "size 9").
  #   wasm32: size_t and unsigned long are both 4 bytes; pre-seed the cache.
  grep -q '^#define SIZEOF_SIZE_T  4' jconfigint.h
  emmake make -j2 jpeg-static
  # jsimd_wasm.c replaces jsimd_none.c (the stubs WITH_SIMD=0 links): our WebAssembly SIMD kernels.
  emar d libjpeg.a jsimd_none.c.o
  ! emar t libjpeg.a | grep -q jsimd_none
)

# 2. wrapper, resampler, PNG encoder and decoder (with zlib) + link: standalone wasm, no JS glue, no filesystem, reactor (no main)
emcc $CFLAGS_COMMON -I"$JT" -I"$HERE/build-jt" -c jpeg_scaled.c -o build-jt/jpeg_scaled.o
# libjpeg-turbo's SIMD hooks, written with WebAssembly SIMD (the 4x4 IDCT, YCbCr to RGBA).
emcc $CFLAGS_COMMON -msimd128 -I"$JT" -I"$HERE/build-jt" -c jsimd_wasm.c -o build-jt/jsimd_wasm.o
# The resampler is written with WebAssembly SIMD (wasm_simd128.h): 4 channels per instruction.
emcc $CFLAGS_COMMON -msimd128 -c resample.c -o build-jt/resample.o
# zlib, for the PNG encoder and decoder
ZOBJS=""
for f in adler32 crc32 deflate trees zutil inflate inftrees inffast; do
  emcc $CFLAGS_COMMON -I"$ZL" -c "$ZL/$f.c" -o "build-jt/z_$f.o"
  ZOBJS="$ZOBJS build-jt/z_$f.o"
done
emcc $CFLAGS_COMMON -I"$ZL" -c png_encode.c -o build-jt/png_encode.o
emcc $CFLAGS_COMMON -I"$ZL" -c png_decode.c -o build-jt/png_decode.o
emcc -O3 -msimd128 build-jt/jpeg_scaled.o build-jt/jsimd_wasm.o build-jt/resample.o build-jt/png_encode.o build-jt/png_decode.o $ZOBJS build-jt/libjpeg.a \
  -o jpeg_scaled.wasm \
  --no-entry \
  -sSTANDALONE_WASM=1 \
  -sFILESYSTEM=0 \
  -sALLOW_MEMORY_GROWTH=1 \
  -sINITIAL_MEMORY=1MB \
  -sTOTAL_STACK=256KB \
  -sMAXIMUM_MEMORY=1GB \
  -sEXPORTED_FUNCTIONS=_jd_malloc,_jd_free,_jd_decode,_jd_open,_jd_read,_jd_close,_rs_new,_rs_band,_rs_push,_rs_finish,_pe_new,_pe_input,_pe_rows,_pe_finish,_pe_length,_pd_open,_pd_read,_pd_close \
  -sERROR_ON_UNDEFINED_SYMBOLS=1

# The SIMD kernels against libjpeg-turbo's C code, byte for byte (a difference fails the build).
emcc -O2 -msimd128 -I"$JT" -I"$HERE/build-jt" check_kernels.c build-jt/jsimd_wasm.o build-jt/libjpeg.a \
  -sALLOW_MEMORY_GROWTH=1 -o build-jt/check_kernels.cjs
node --no-experimental-fetch build-jt/check_kernels.cjs

ls -l jpeg_scaled.wasm
if command -v wasm-objdump >/dev/null; then
  wasm-objdump -x -j Import jpeg_scaled.wasm || true
  wasm-objdump -x -j Export jpeg_scaled.wasm || true
fi
sha256sum jpeg_scaled.wasm
