// jSquash's WebAssembly codecs (mozjpeg's decoder, the PNG codec, lanczos3 resize),
// with a fresh instance for every step of every image.
//
// Why not one instance per isolate, as jSquash's wrappers keep: a WebAssembly memory
// only ever grows. One instance per isolate kept 53 MiB in the JPEG decoder after a
// 12 MP photo, 33 MiB in resize and up to 40 MiB in the PNG codec after a 4K
// screenshot, for the life of the isolate, out of the 128 MB a Worker isolate may
// use. Compiling is the costly part and happens once per isolate (the .wasm files
// are imported as compiled WebAssembly.Module objects); instantiating a compiled
// module is cheap (see `npm run bench:images`), and an instance that is dropped
// gives its whole memory back to the garbage collector.
//
// The calls follow the ABI of the glue code jSquash ships (Emscripten's embind for
// the JPEG decoder, wasm-bindgen for PNG and resize), on an instance of our own.
// Owning the instance also saves copies: decoded and resized pixels are read
// straight out of its memory instead of being copied to a new buffer.
import mozjpegDecoder from "@jsquash/jpeg/codec/dec/mozjpeg_dec.js";
import type { Codecs, Pixels } from "./images";

// mozjpeg's glue builds its result with `new ImageData(...)`, which Workers lack, and
// polyfills it with a class declared inside its factory: that class would hold the
// first decoder instance (and its 50 MB memory) for the life of the isolate. Ours
// holds nothing.
class PixelBuffer implements Pixels {
  readonly data: Uint8ClampedArray;
  readonly width: number;
  readonly height: number;
  constructor(data: Uint8ClampedArray, width: number, height: number) {
    this.data = data;
    this.width = width;
    this.height = height;
  }
}
(globalThis as { ImageData?: unknown }).ImageData ??= PixelBuffer;

export interface CodecModules {
  jpegDecoder: WebAssembly.Module;
  png: WebAssembly.Module;
  resize: WebAssembly.Module;
}

export function wasmCodecs(modules: CodecModules): Codecs {
  return {
    decodeJpeg: (bytes) => decodeJpeg(modules.jpegDecoder, bytes),
    decodePng: async (bytes) => decodePng(modules.png, bytes),
    resize: async (image, width, height, { premultiply }) => resize(modules.resize, image, width, height, premultiply),
    encodePng: async (image) => encodePng(modules.png, image),
  };
}

async function decodeJpeg(module: WebAssembly.Module, bytes: Uint8Array): Promise<Pixels> {
  const decoder = await mozjpegDecoder({
    noInitialRun: true,
    instantiateWasm: (imports: WebAssembly.Imports, ready: (instance: WebAssembly.Instance) => void) => {
      const instance = new WebAssembly.Instance(module, imports);
      ready(instance);
      return instance.exports;
    },
  });
  // Upright by its EXIF orientation, as the photo was seen when taken.
  const image = decoder.decode(bytes, true);
  if (!image) throw new Error("mozjpeg could not decode the JPEG");
  return image as unknown as Pixels;
}

// ---------------------------------------------------------------------------
// wasm-bindgen modules: linear memory, a shadow stack for returned (pointer, length)
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

function resize(module: WebAssembly.Module, image: Pixels, width: number, height: number, premultiply: boolean): Pixels {
  const wasm = new WebAssembly.Instance(module, {}).exports as unknown as ResizeExports;
  const pixels = new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  const input = copyIn(wasm, pixels);
  const output = returningBytes(wasm, (returned) =>
    wasm.resize(returned, input, pixels.length, image.width, image.height, width, height, LANCZOS3, premultiply, false),
  );
  return { data: new Uint8ClampedArray(output.buffer, output.byteOffset, output.length), width, height };
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
  const textAt = (pointer: number, length: number) =>
    new TextDecoder().decode(new Uint8Array(wasm!.memory.buffer, pointer >>> 0, length));
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
