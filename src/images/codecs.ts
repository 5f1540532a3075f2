// The WebAssembly codecs: a JPEG decoder that decodes at a reduced DCT scale
// (libjpeg-turbo, built by us: vendor/jpeg-scaled), and jSquash's PNG codec and
// lanczos3 resize, with a fresh instance for every step of every image.
//
// Why not one instance per isolate, as jSquash's wrappers keep: a WebAssembly memory
// only ever grows. One instance per isolate kept 53 MiB in a JPEG decoder after a
// 12 MP photo, 33 MiB in resize and up to 40 MiB in the PNG codec after a 4K
// screenshot, for the life of the isolate, out of the 128 MB a Worker isolate may
// use. Compiling is the costly part and happens once per isolate (the .wasm files
// are imported as compiled WebAssembly.Module objects); instantiating a compiled
// module is cheap (see `npm run bench:images`), and an instance that is dropped
// gives its whole memory back to the garbage collector.
//
// Owning the instance also saves copies: decoded pixels are read straight out of its
// memory instead of being copied to a new buffer. (Resize is the one exception to a
// fresh instance per step: see RESIZE_KEEP_BYTES.)
import type { Codecs, DecodedJpeg, Pixels } from "./pipeline";

export interface CodecModules {
  jpegDecoder: WebAssembly.Module;
  png: WebAssembly.Module;
  resize: WebAssembly.Module;
}

export function wasmCodecs(modules: CodecModules): Codecs {
  const resize = resizer(modules.resize);
  return {
    decodeJpeg: async (bytes, scaleDenominator) => decodeJpeg(modules.jpegDecoder, bytes, scaleDenominator),
    decodePng: async (bytes) => decodePng(modules.png, bytes),
    resize: async (image, width, height, { premultiply }) => resize(image, width, height, premultiply),
    encodePng: async (image) => encodePng(modules.png, image),
  };
}

// ---------------------------------------------------------------------------
// vendor/jpeg-scaled: plain C exports, no JavaScript glue.

interface JpegScaledExports {
  memory: WebAssembly.Memory;
  _initialize(): void;
  jd_malloc(size: number): number;
  /** Returns the RGBA pixels' address, or 0; fills info (7 int32, see jpeg_scaled.c). A libjpeg error traps. */
  jd_decode(jpeg: number, length: number, maxScaleDenominator: number, minWidth: number, minHeight: number, info: number): number;
}

const JPEG_SCALED_IMPORTS = {
  // Emscripten's allocator reports memory growth; our views are taken after the decode.
  env: { emscripten_notify_memory_growth: () => undefined },
};

/** Decodes at 1/scaleDenominator (1, 2, 4 or 8) of the full size, as stored (not turned upright). */
function decodeJpeg(module: WebAssembly.Module, bytes: Uint8Array, scaleDenominator: number): DecodedJpeg {
  const wasm = new WebAssembly.Instance(module, JPEG_SCALED_IMPORTS).exports as unknown as JpegScaledExports;
  wasm._initialize();
  const input = wasm.jd_malloc(bytes.length);
  const info = wasm.jd_malloc(7 * 4);
  if (!input || !info) throw new Error("the JPEG decoder is out of memory");
  new Uint8Array(wasm.memory.buffer, input, bytes.length).set(bytes);
  let pixels: number;
  try {
    pixels = wasm.jd_decode(input, bytes.length, scaleDenominator, 0, 0, info);
  } catch (error) {
    throw new Error(`libjpeg refused the data (message code ${new Int32Array(wasm.memory.buffer, info, 7)[6]})`, { cause: error });
  }
  const [width = 0, height = 0, orientation = 0, , , , code = 0] = new Int32Array(wasm.memory.buffer, info, 7);
  if (!pixels) throw new Error(code === -2 ? "CMYK JPEGs are not supported" : `the JPEG decoder failed (${code})`);
  return { data: new Uint8ClampedArray(wasm.memory.buffer, pixels, width * height * 4), width, height, orientation };
}

// ---------------------------------------------------------------------------
// jSquash's PNG codec and resize, called through the ABI of the wasm-bindgen glue
// it ships, on instances of our own. wasm-bindgen modules: linear memory, a shadow stack for returned (pointer, length)
// pairs, and malloc/free exported by the Rust side.

interface BindgenExports {
  memory: WebAssembly.Memory;
  __wbindgen_malloc(size: number, align: number): number;
  __wbindgen_add_to_stack_pointer(delta: number): number;
}

interface PngExports extends BindgenExports {
  encode(returned: number, pointer: number, length: number, width: number, height: number, bitDepth: number): void;
  decode(pointer: number, length: number): number;
}

interface ResizeExports extends BindgenExports {
  __wbindgen_free(pointer: number, size: number, align: number): void;
  resize(
    returned: number,
    pointer: number,
    length: number,
    inputWidth: number,
    inputHeight: number,
    outputWidth: number,
    outputHeight: number,
    method: number,
    premultiply: boolean,
    linearRgb: boolean,
  ): void;
}

/** The resize crate's filters, in the order of its `typ_idx`. */
const LANCZOS3 = 3;

function copyIn(wasm: BindgenExports, bytes: Uint8Array): number {
  const pointer = wasm.__wbindgen_malloc(bytes.length, 1) >>> 0;
  new Uint8Array(wasm.memory.buffer, pointer, bytes.length).set(bytes);
  return pointer;
}

/** Runs a wasm-bindgen function that returns a byte vector, and views the vector where it lies. */
function returningBytes(wasm: BindgenExports, call: (returned: number) => void): Uint8Array {
  const returned = wasm.__wbindgen_add_to_stack_pointer(-16);
  try {
    call(returned);
    const [pointer = 0, length = 0] = new Int32Array(wasm.memory.buffer, returned, 2);
    return new Uint8Array(wasm.memory.buffer, pointer >>> 0, length);
  } finally {
    wasm.__wbindgen_add_to_stack_pointer(16);
  }
}

/**
 * Resize keeps one instance while its memory stays at most this big: in workerd, a
 * fresh instance growing its memory again to ~25 MiB cost ~45 ms per screenshot, a
 * third of the whole pipeline. Bigger than this (a 12 MP photo's resize grows it to
 * ~33 MiB), the instance is dropped after use, as the other codecs' always are.
 */
const RESIZE_KEEP_BYTES = 32 * 2 ** 20;

function resizer(module: WebAssembly.Module) {
  let kept: ResizeExports | undefined;
  return (image: Pixels, width: number, height: number, premultiply: boolean): Pixels => {
    const wasm = kept ?? (new WebAssembly.Instance(module, {}).exports as unknown as ResizeExports);
    kept = undefined;
    const pixels = new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength);
    // The input vector is the Rust side's from here: it frees it.
    const input = copyIn(wasm, pixels);
    const output = returningBytes(wasm, (returned) =>
      wasm.resize(returned, input, pixels.length, image.width, image.height, width, height, LANCZOS3, premultiply, false),
    );
    // Copied out (small: the final picture) and freed, so a kept instance holds nothing.
    const data = new Uint8ClampedArray(output);
    wasm.__wbindgen_free(output.byteOffset, output.length, 1);
    if (wasm.memory.buffer.byteLength <= RESIZE_KEEP_BYTES) kept = wasm;
    return { data, width, height };
  };
}

function encodePng(module: WebAssembly.Module, image: Pixels): Uint8Array {
  const wasm = instantiatePng(module, () => {}).exports;
  const pixels = new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  const input = copyIn(wasm, pixels);
  return returningBytes(wasm, (returned) => wasm.encode(returned, input, pixels.length, image.width, image.height, 8));
}

function decodePng(module: WebAssembly.Module, bytes: Uint8Array): Pixels {
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
