// The WebAssembly codecs: vendor/jpeg-scaled (libjpeg-turbo, built by us, decoding
// at a reduced DCT scale a band of scanlines at a time, and a banded lanczos3
// resampler with Pillow's coefficients, and a banded PNG decoder and encoder over
// zlib, all in the same module), and jSquash's PNG decoder.
//
// A fresh instance of each module for every image: a WebAssembly memory only ever
// grows, and an instance that is dropped gives its whole memory back to the garbage
// collector. Compiling is the costly part and happens once per isolate (the .wasm
// files are imported as compiled WebAssembly.Module objects); instantiating is cheap.
// jSquash's PNG decoder stays for the PNGs our own declines.
// Decoding straight into the resampler's band, in the same memory, saves copies:
// a JPEG is never held whole, neither its pixels at full nor at reduced size.
import type { Codecs, Factors, OpenedImage, Pixels, Shrinking } from "./pipeline";

export interface CodecModules {
  /** vendor/jpeg-scaled/jpeg_scaled.wasm: the JPEG decoder and the resampler. */
  jpegScaled: WebAssembly.Module;
  png: WebAssembly.Module;
}

export function wasmCodecs(modules: CodecModules): Codecs {
  return {
    openJpeg: async (bytes, scaleDenominator) => openJpeg(modules.jpegScaled, bytes, scaleDenominator),
    openPng: async (bytes, hasAlpha) => openPng(modules, bytes, hasAlpha),
    encodePng: (image, options) => encodePng(modules.jpegScaled, image, options),
  };
}

// ---------------------------------------------------------------------------
// vendor/jpeg-scaled: plain C exports, no JavaScript glue (see jpeg_scaled.c, resample.c).

interface JpegScaledExports {
  memory: WebAssembly.Memory;
  _initialize(): void;
  jd_malloc(size: number): number;
  /** Reads the header and starts decoding; returns the decoder, or 0; fills info (7 int32, see jpeg_scaled.c). A libjpeg error traps. */
  jd_open(jpeg: number, length: number, maxScaleDenominator: number, minWidth: number, minHeight: number, info: number): number;
  /** Decodes up to `lines` more scanlines into `rows`; answers how many. */
  jd_read(decoder: number, rows: number, lines: number): number;
  jd_close(decoder: number): void;
  /** The whole picture at once (kept to check the banded decode against). */
  jd_decode(jpeg: number, length: number, maxScaleDenominator: number, minWidth: number, minHeight: number, info: number): number;
  rs_new(
    inWidth: number,
    inHeight: number,
    factorX: number,
    factorY: number,
    outWidth: number,
    outHeight: number,
    premultiply: number,
    bandRows: number,
  ): number;
  rs_band(resampler: number): number;
  rs_push(resampler: number, rows: number): number;
  rs_finish(resampler: number): number;
  pe_new(width: number, height: number, opaque: number, level: number, strategy: number): number;
  pe_input(encoder: number, rows: number): number;
  pe_rows(encoder: number, rows: number): number;
  pe_finish(encoder: number): number;
  pe_length(encoder: number): number;
  /** Reads a PNG's header chunks; returns the decoder, or 0 (info[6] = -3: a kind it declines). */
  pd_open(png: number, length: number, info: number): number;
  /** Decodes up to `rows` more rows of RGBA; answers how many, or -1 for damaged data. */
  pd_read(decoder: number, rows: number, count: number): number;
  /** 0 when the stream ended where it should; frees the decoder. */
  pd_close(decoder: number): number;
}

const JPEG_SCALED_IMPORTS = {
  // Emscripten's allocator reports memory growth; our views are taken after each call.
  env: { emscripten_notify_memory_growth: () => undefined },
};

/** Rows of source pixels the resampler takes at a time: 16, fewer for very wide pictures (a band of at most ~1 MiB). */
const BAND_ROWS = 16;
const BAND_BYTES = 2 ** 20;

function bandRowsFor(width: number): number {
  return Math.max(1, Math.min(BAND_ROWS, Math.floor(BAND_BYTES / (width * 4))));
}

function instantiateJpegScaled(module: WebAssembly.Module): JpegScaledExports {
  const wasm = new WebAssembly.Instance(module, JPEG_SCALED_IMPORTS).exports as unknown as JpegScaledExports;
  wasm._initialize();
  return wasm;
}

/** A box reduction by whole factors then lanczos3 to width x height, fed `bandRows` rows at a time by `fill`. */
function resampler(
  wasm: JpegScaledExports,
  source: { width: number; height: number; hasAlpha: boolean },
  size: { factors: Factors; width: number; height: number },
  fill: (band: number, firstRow: number, rows: number) => number,
  onAllRowsIn: () => void = () => {},
): Shrinking {
  const { factors, width, height } = size;
  const bandRows = bandRowsFor(source.width);
  const handle = wasm.rs_new(source.width, source.height, factors.x, factors.y, width, height, source.hasAlpha ? 1 : 0, bandRows);
  if (!handle) throw new Error("the resampler is out of memory");
  const band = wasm.rs_band(handle);
  let rowsIn = 0;
  let pixels: Pixels | undefined;
  return {
    next(budget) {
      // At least one band, then as many more as fit in the budget.
      for (let done = 0; rowsIn < source.height && (done === 0 || done + bandRows * source.width <= budget); ) {
        const rows = fill(band, rowsIn, Math.min(bandRows, source.height - rowsIn));
        if (rows <= 0) throw new Error(`the decoder stopped at row ${rowsIn} of ${source.height}`);
        wasm.rs_push(handle, rows);
        rowsIn += rows;
        done += rows * source.width;
      }
      if (rowsIn < source.height) return false;
      onAllRowsIn();
      const out = wasm.rs_finish(handle);
      if (!out) throw new Error("the resampler did not make every row");
      pixels = { data: new Uint8ClampedArray(wasm.memory.buffer, out, width * height * 4), width, height };
      return true;
    },
    result() {
      if (!pixels) throw new Error("the picture is not shrunk yet");
      return pixels;
    },
  };
}

/** How many int32 a decoder's info holds (width, height, …, code: see jpeg_scaled.c, png_decode.c). */
const INFO_INTS = 7;

/** The file copied into the module, and room for the info its decoder fills in. */
function copyInWithInfo(wasm: JpegScaledExports, bytes: Uint8Array, format: string): { input: number; info: number } {
  const input = wasm.jd_malloc(bytes.length);
  const info = wasm.jd_malloc(INFO_INTS * 4);
  if (!input || !info) throw new Error(`the ${format} decoder is out of memory`);
  new Uint8Array(wasm.memory.buffer, input, bytes.length).set(bytes);
  return { input, info };
}

/** The decoder's info, read after the call that filled it (a view taken before may be detached by memory growth). */
function infoOf(wasm: JpegScaledExports, info: number): Int32Array {
  return new Int32Array(wasm.memory.buffer, info, INFO_INTS);
}

/** Starts decoding at 1/scaleDenominator (1, 2, 4 or 8) of the full size, as stored (not turned upright). */
function openJpeg(module: WebAssembly.Module, bytes: Uint8Array, scaleDenominator: number): OpenedImage {
  const wasm = instantiateJpegScaled(module);
  const { input, info } = copyInWithInfo(wasm, bytes, "JPEG");
  const refused = (error: unknown) => new Error(`libjpeg refused the data (message code ${infoOf(wasm, info)[6]})`, { cause: error });
  let decoder: number;
  try {
    decoder = wasm.jd_open(input, bytes.length, scaleDenominator, 0, 0, info);
  } catch (error) {
    throw refused(error);
  }
  const [width = 0, height = 0, orientation = 0, , , , code = 0] = infoOf(wasm, info);
  if (!decoder) throw new Error(code === -2 ? "CMYK JPEGs are not supported" : `the JPEG decoder failed (${code})`);
  const source = { width, height, hasAlpha: false };
  return {
    ...source,
    orientation,
    shrink: (factors, toWidth, toHeight) =>
      resampler(
        wasm,
        source,
        { factors, width: toWidth, height: toHeight },
        (band, _firstRow, rows) => {
          try {
            return wasm.jd_read(decoder, band, rows);
          } catch (error) {
            throw refused(error);
          }
        },
        () => {
          try {
            wasm.jd_close(decoder);
          } catch (error) {
            throw refused(error);
          }
        },
      ),
  };
}

/** Decodes the whole picture in one call, as the banded decode must equal: for the tests. */
export function decodeJpegWhole(module: WebAssembly.Module, bytes: Uint8Array, scaleDenominator: number): Pixels {
  const wasm = instantiateJpegScaled(module);
  const { input, info } = copyInWithInfo(wasm, bytes, "JPEG");
  const pixels = wasm.jd_decode(input, bytes.length, scaleDenominator, 0, 0, info);
  const [width = 0, height = 0] = infoOf(wasm, info);
  if (!pixels) throw new Error("the JPEG decoder failed");
  return { data: new Uint8ClampedArray(wasm.memory.buffer, pixels, width * height * 4).slice(), width, height };
}

/** PNG kinds png_decode.c declines (16-bit, under 8 bits, interlaced, a colour key): jSquash decodes those. */
const PNG_DECLINED = -3;

/**
 * A PNG decoded a band of rows at a time by png_decode.c, straight into the
 * resampler's band, or else decoded whole by jSquash's codec and copied in a band at
 * a time. With an alpha channel it is resized premultiplied, which changes nothing
 * for opaque pixels.
 */
async function openPng(modules: CodecModules, bytes: Uint8Array, hasAlpha: boolean): Promise<OpenedImage> {
  const wasm = instantiateJpegScaled(modules.jpegScaled);
  const { input, info } = copyInWithInfo(wasm, bytes, "PNG");
  const decoder = wasm.pd_open(input, bytes.length, info);
  const [width = 0, height = 0, alpha = 0, , , , code = 0] = infoOf(wasm, info);
  if (!decoder && code === PNG_DECLINED) return openPngWithJsquash(modules, bytes, hasAlpha);
  if (!decoder) throw new Error(`the PNG decoder failed (${code})`);
  const source = { width, height, hasAlpha: alpha === 1 };
  return {
    ...source,
    orientation: 0,
    shrink: (factors, toWidth, toHeight) =>
      resampler(
        wasm,
        source,
        { factors, width: toWidth, height: toHeight },
        (band, _firstRow, rows) => {
          const read = wasm.pd_read(decoder, band, rows);
          if (read < 0) throw new Error("the PNG data is damaged or cut short");
          return read;
        },
        () => {
          if (wasm.pd_close(decoder) !== 0) throw new Error("the PNG data does not end where it should");
        },
      ),
  };
}

/** The PNGs png_decode.c declines, decoded whole by jSquash's codec, then copied into the resampler a band at a time. */
export async function openPngWithJsquash(modules: CodecModules, bytes: Uint8Array, hasAlpha: boolean): Promise<OpenedImage> {
  const decoded = decodePng(modules.png, bytes);
  const source = { width: decoded.width, height: decoded.height, hasAlpha };
  const rowBytes = decoded.width * 4;
  return {
    ...source,
    orientation: 0,
    shrink: (factors, width, height) => {
      const wasm = instantiateJpegScaled(modules.jpegScaled);
      return resampler(wasm, source, { factors, width, height }, (band, firstRow, rows) => {
        const from = decoded.data.subarray(firstRow * rowBytes, (firstRow + rows) * rowBytes);
        new Uint8Array(wasm.memory.buffer, band, from.length).set(from);
        return rows;
      });
    },
  };
}

// ---------------------------------------------------------------------------
// PNG encoding (vendor/jpeg-scaled/png_encode.c: zlib in the same module), a band
// of rows at a time: RGB when the picture is opaque, RGBA otherwise; rows filtered
// with Sub. A photo is deflated with Huffman coding only (Z_HUFFMAN_ONLY: its grain
// leaves string matching little to find), anything else at zlib's level 1. Why not
// the runtime's native zlib through CompressionStream("deflate"): it only does level
// 6, which cost several times the time for 15-25 % fewer bytes (docs/benchmarks.md).

const Z_DEFAULT_STRATEGY = 0;
const Z_HUFFMAN_ONLY = 2;

async function encodePng(
  module: WebAssembly.Module,
  image: Pixels,
  { opaque, photo, rows, between }: Parameters<Codecs["encodePng"]>[1],
): Promise<Uint8Array> {
  const { width, height, data } = image;
  const wasm = instantiateJpegScaled(module);
  const encoder = wasm.pe_new(width, height, opaque ? 1 : 0, 1, photo ? Z_HUFFMAN_ONLY : Z_DEFAULT_STRATEGY);
  const input = encoder && wasm.pe_input(encoder, rows);
  if (!input) throw new Error("the PNG encoder is out of memory");
  const rowBytes = width * 4;
  for (let y = 0; y < height; y += rows) {
    const band = Math.min(rows, height - y);
    new Uint8Array(wasm.memory.buffer, input, band * rowBytes).set(data.subarray(y * rowBytes, (y + band) * rowBytes));
    const status = wasm.pe_rows(encoder, band);
    if (status !== 0) throw new Error(`zlib failed (${status})`);
    if (y + band < height) await between();
  }
  const png = wasm.pe_finish(encoder);
  if (!png) throw new Error("the PNG encoder could not finish");
  return new Uint8Array(wasm.memory.buffer, png, wasm.pe_length(encoder));
}

// ---------------------------------------------------------------------------
// jSquash's PNG decoder, called through the ABI of the wasm-bindgen glue
// it ships, on instances of our own. wasm-bindgen modules: linear memory, a shadow stack for returned (pointer, length)
// pairs, and malloc/free exported by the Rust side.

interface BindgenExports {
  memory: WebAssembly.Memory;
  __wbindgen_malloc(size: number, align: number): number;
  __wbindgen_add_to_stack_pointer(delta: number): number;
}

interface PngExports extends BindgenExports {
  decode(pointer: number, length: number): number;
}

function copyIn(wasm: BindgenExports, bytes: Uint8Array): number {
  const pointer = wasm.__wbindgen_malloc(bytes.length, 1) >>> 0;
  new Uint8Array(wasm.memory.buffer, pointer, bytes.length).set(bytes);
  return pointer;
}

/** The whole picture, 8-bit RGBA, viewed in the codec's own memory. */
export function decodePng(module: WebAssembly.Module, bytes: Uint8Array): Pixels {
  let decoded: Pixels | undefined;
  const { exports: wasm } = instantiatePng(module, (pointer, length, width, height) => {
    decoded = { data: new Uint8ClampedArray(wasm.memory.buffer, pointer, length), width, height };
  });
  wasm.decode(copyIn(wasm, bytes), bytes.length);
  if (!decoded) throw new Error("the PNG codec returned no image");
  return decoded;
}

/**
 * The PNG codec imports a few JavaScript functions, named with a hash of the build.
 * Of those, decoding 8-bit RGBA uses two: building the ImageData (handed here to
 * `onImage`, without a copy) and throwing an error with a message.
 */
function instantiatePng(
  module: WebAssembly.Module,
  onImage: (pointer: number, length: number, width: number, height: number) => void,
): { exports: PngExports } {
  let wasm: PngExports | undefined;
  const textAt = (pointer: number, length: number) => new TextDecoder().decode(new Uint8Array(wasm!.memory.buffer, pointer >>> 0, length));
  const functions: Record<string, (...args: number[]) => unknown> = {};
  for (const { module: namespace, name } of WebAssembly.Module.imports(module)) {
    if (namespace !== "wbg") continue;
    if (name.startsWith("__wbg_newwithownedu8clampedarrayandsh_")) {
      functions[name] = (pointer = 0, length = 0, width = 0, height = 0) => {
        onImage(pointer >>> 0, length >>> 0, width >>> 0, height >>> 0);
        return 0; // a handle the Rust side hands back unused
      };
    } else if (name === "__wbindgen_throw") {
      functions[name] = (pointer = 0, length = 0) => {
        throw new Error(textAt(pointer, length));
      };
    } else if (name === "__wbindgen_object_drop_ref") {
      functions[name] = () => undefined;
    } else {
      // 16-bit decoding only, which we never ask for.
      functions[name] = () => {
        throw new Error(`the PNG codec called ${name}, which 8-bit decoding does not use`);
      };
    }
  }
  wasm = new WebAssembly.Instance(module, { wbg: functions }).exports as unknown as PngExports;
  return { exports: wasm };
}
