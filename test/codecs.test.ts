// The jSquash PNG decoder is called through their compiled glue, by import and export
// names that wasm-bindgen derives from the build (src/images/codecs.ts): the
// packages are pinned exactly, and this says clearly what changed if an upgrade
// renames them, before any image test fails for a reason nobody can read.
import png from "@jsquash/png/codec/pkg/squoosh_png_bg.wasm?module";
import { describe, expect, it } from "vitest";
import jpegScaled from "../vendor/jpeg-scaled/jpeg_scaled.wasm";

const names = (entries: { name: string }[]) => entries.map((entry) => entry.name).sort();
const functionsImported = (module: WebAssembly.Module) =>
  names(WebAssembly.Module.imports(module).filter((entry) => entry.module === "wbg"));

describe("the WebAssembly codecs' names", () => {
  it("@jsquash/png exports what codecs.ts calls, and imports the glue it supplies", () => {
    expect(names(WebAssembly.Module.exports(png)), "@jsquash/png's exports changed: update instantiatePng in src/images/codecs.ts").toEqual(
      expect.arrayContaining(["memory", "decode", "encode", "__wbindgen_malloc", "__wbindgen_add_to_stack_pointer"]),
    );
    const imported = functionsImported(png);
    expect(imported, "@jsquash/png no longer imports the ImageData constructor codecs.ts hands the pixels to").toContainEqual(
      expect.stringMatching(/^__wbg_newwithownedu8clampedarrayandsh_/),
    );
    expect(imported, "@jsquash/png no longer imports __wbindgen_throw: its errors would not reach codecs.ts").toContain("__wbindgen_throw");
  });

  it("the vendored libjpeg-turbo build exports what codecs.ts calls", () => {
    expect(names(WebAssembly.Module.exports(jpegScaled)), "vendor/jpeg-scaled changed: rebuild it with build.sh").toEqual(
      expect.arrayContaining([
        "memory",
        "_initialize",
        "jd_malloc",
        "jd_open",
        "jd_read",
        "jd_close",
        "jd_decode",
        "rs_new",
        "rs_band",
        "rs_push",
        "rs_finish",
        "pe_new",
        "pe_input",
        "pe_rows",
        "pe_finish",
        "pe_length",
        "pd_open",
        "pd_read",
        "pd_close",
      ]),
    );
  });
});
