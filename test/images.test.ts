// The image message: resized in WebAssembly to MAX_IMAGE_SIZE, re-encoded as PNG,
// and refused with the contract's reason when it is not a sane PNG or JPEG.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { decodeJpegWhole } from "../src/images/codecs";
import {
  type Codecs,
  decodeBase64,
  IMAGE_REJECTED_REASON,
  MAX_SIDE,
  type OpenedImage,
  type Pixels,
  SLICE_PIXELS,
  shrinkImage,
} from "../src/images/pipeline";
import { codecs } from "../src/images/shrink";
import jpegScaled from "../vendor/jpeg-scaled/jpeg_scaled.wasm";
import { Client, expectNothingBefore, freshRoom, type Json, request, withoutStamp } from "./helpers";
import {
  base64,
  decodePngBytes,
  decodeSentPng,
  gradient,
  handMadePng,
  jpegBytes,
  pixels,
  pngBytes,
  pngHeaderOnly,
  withExifOrientation,
} from "./image-fixtures";
import { freshHostileRoom } from "./rooms";

const MAX_IMAGE_SIZE = Number(env.MAX_IMAGE_SIZE);

/** Sends an image from a registered socket and returns the broadcast it gets back. */
async function roundTrip(imageData: string) {
  const room = freshRoom();
  const sender = await Client.join("rooms", room, "photographer");
  sender.send({ type: "image", author: "photographer", image_data: imageData });
  const received = await sender.next(20_000);
  expect(received).toMatchObject({ type: "image", author: "photographer", avatar: null });
  return { room, sender, received, picture: await decodeSentPng(received.image_data as string) };
}

describe("image: resizing", () => {
  it("turns a 1200x800 JPEG into exactly an 800x533 PNG", async () => {
    const { received, picture } = await roundTrip(base64(await jpegBytes(pixels(1200, 800, gradient))));
    expect(Object.keys(received)).toEqual(["type", "author", "avatar", "image_data"]);
    expect([picture.width, picture.height]).toEqual([800, 533]);
  });

  it("keeps a 300x200 PNG at 300x200 (never enlarges)", async () => {
    const { picture } = await roundTrip(base64(await pngBytes(pixels(300, 200, gradient))));
    expect([picture.width, picture.height]).toEqual([300, 200]);
  });

  it("keeps the aspect ratio of a wide panorama and of a tall phone screenshot", async () => {
    const panorama = await roundTrip(base64(await jpegBytes(pixels(3000, 500, gradient))));
    expect([panorama.picture.width, panorama.picture.height]).toEqual([MAX_IMAGE_SIZE, 133]);
    // Flat bands like a phone's user interface: a screenshot compresses well.
    const bands = pixels(1080, 2400, (_x, y) => (y % 300 < 150 ? [240, 240, 240, 255] : [30, 90, 160, 255]));
    const screenshot = await roundTrip(base64(await pngBytes(bands)));
    expect([screenshot.picture.width, screenshot.picture.height]).toEqual([360, MAX_IMAGE_SIZE]);
  });

  it("keeps transparency", async () => {
    // Left half fully transparent, right half opaque red.
    const source = pixels(1600, 400, (x) => (x < 800 ? [0, 0, 0, 0] : [255, 0, 0, 255]));
    const { picture } = await roundTrip(base64(await pngBytes(source)));
    expect([picture.width, picture.height]).toEqual([800, 200]);
    const at = (x: number, y: number) => [...picture.data.subarray((y * picture.width + x) * 4, (y * picture.width + x) * 4 + 4)];
    expect(at(100, 100)[3]).toBe(0);
    expect(at(700, 100)).toEqual([255, 0, 0, 255]);
  });

  it("turns an EXIF-rotated JPEG upright", async () => {
    // Stored 400x200, left half red and right half blue; orientation 6 means
    // "rotate 90° clockwise to display": upright it is 200x400, red on top.
    const stored = await jpegBytes(pixels(400, 200, (x) => (x < 200 ? [255, 0, 0, 255] : [0, 0, 255, 255])));
    const { picture } = await roundTrip(base64(withExifOrientation(stored, 6)));
    expect([picture.width, picture.height]).toEqual([200, 400]);
    const top = picture.data.subarray((20 * 200 + 100) * 4, (20 * 200 + 100) * 4 + 3);
    const bottom = picture.data.subarray((380 * 200 + 100) * 4, (380 * 200 + 100) * 4 + 3);
    expect(top[0]).toBeGreaterThan(200);
    expect(top[2]).toBeLessThan(60);
    expect(bottom[2]).toBeGreaterThan(200);
    expect(bottom[0]).toBeLessThan(60);
  });
});

describe("image: big JPEGs, reduced while decoded", () => {
  /** The production codecs, recording the DCT scale each JPEG decode is asked for. */
  function recordingCodecs() {
    const scales: number[] = [];
    const recording: Codecs = {
      ...codecs,
      openJpeg: (bytes, scale) => {
        scales.push(scale);
        return codecs.openJpeg(bytes, scale);
      },
    };
    return { scales, recording };
  }

  const limits = { maxImageSize: 800, maxImageRawLength: 5_000_000, maxImagePixels: 12_600_000 };
  // Four quadrants of flat colour: easy to check after any scaling and turning.
  const quadrants = (w: number, h: number) =>
    pixels(w, h, (x, y): [number, number, number, number] =>
      y < h / 2 ? (x < w / 2 ? [220, 30, 30, 255] : [30, 200, 40, 255]) : x < w / 2 ? [30, 40, 210, 255] : [240, 230, 30, 255],
    );
  const colourAt = (image: { data: Uint8ClampedArray; width: number }, x: number, y: number) => [
    ...image.data.subarray((y * image.width + x) * 4, (y * image.width + x) * 4 + 3),
  ];
  const near = (actual: number[], expected: number[]) => actual.every((value, i) => Math.abs(value - expected[i]!) <= 12);

  it("decodes a 3200x2000 JPEG at half scale and shrinks it to exactly 800x500", async () => {
    const { scales, recording } = recordingCodecs();
    const result = await shrinkImage(base64(await jpegBytes(quadrants(3200, 2000))), limits, recording);
    expect(scales).toEqual([2]);
    if (!result.ok) throw new Error(result.detail);
    const picture = await decodeSentPng(result.imageData);
    expect([picture.width, picture.height]).toEqual([800, 500]);
    expect(near(colourAt(picture, 200, 125), [220, 30, 30])).toBe(true);
    expect(near(colourAt(picture, 600, 375), [240, 230, 30])).toBe(true);
  });

  it("turns a big EXIF-rotated JPEG upright after shrinking it", async () => {
    const { scales, recording } = recordingCodecs();
    // Stored 3200x2000 with orientation 6: upright it is 2000x3200, so 500x800.
    const result = await shrinkImage(base64(withExifOrientation(await jpegBytes(quadrants(3200, 2000)), 6)), limits, recording);
    expect(scales).toEqual([2]);
    if (!result.ok) throw new Error(result.detail);
    const picture = await decodeSentPng(result.imageData);
    expect([picture.width, picture.height]).toEqual([500, 800]);
    // A quarter turn clockwise: the stored top-left (red) is now top-right, bottom-left (blue) top-left.
    expect(near(colourAt(picture, 375, 200), [220, 30, 30])).toBe(true);
    expect(near(colourAt(picture, 125, 200), [30, 40, 210])).toBe(true);
  });

  it("decodes a JPEG smaller than four times the target at full scale", async () => {
    const { scales, recording } = recordingCodecs();
    const result = await shrinkImage(base64(await jpegBytes(quadrants(1200, 800))), limits, recording);
    expect(scales).toEqual([1]);
    expect(result).toMatchObject({ ok: true, width: 800, height: 533 });
  });
});

describe("image: delivery and storage", () => {
  it("sends both families the same resized image, and stores it for replay", async () => {
    const room = freshRoom();
    const rooms = await Client.join("rooms", room, "rooms_user");
    const channels = await Client.join("channels", room, "channels_user");
    await rooms.take(2);
    rooms.send({
      type: "image",
      author: "rooms_user",
      avatar: "mIconCamera.svg",
      image_data: base64(await jpegBytes(pixels(1200, 800, gradient))),
    });
    const forRooms = await rooms.next(20_000);
    const forChannels = await channels.next(20_000);
    expect(withoutStamp(forChannels)).toEqual(forRooms);
    expect((await decodeSentPng(forRooms.image_data as string)).width).toBe(800);
    const late = await Client.open("channels", room);
    await late.next(); // nb_users
    expect(await late.next()).toEqual(forChannels);
  });

  it("may not be sent under a nickname another socket holds", async () => {
    const room = freshRoom();
    const owner = await Client.join("rooms", room, "owner");
    const other = await Client.join("rooms", room, "other");
    await owner.take(2);
    const reason = await other.rejected({ type: "image", author: "owner", image_data: base64(await pngBytes(pixels(10, 10, gradient))) });
    expect(reason).toContain("'owner'");
    await expectNothingBefore(owner, other, "other");
  });
});

describe("image: sharing the room's thread", () => {
  const limits = { maxImageSize: 800, maxImageRawLength: 5_000_000, maxImagePixels: 12_600_000 };

  /** The production codecs, recording each slice of decoding and shrinking, and each band of encoding. */
  function slicingCodecs(events: string[]): Codecs {
    const recordSlices = (opened: OpenedImage): OpenedImage => ({
      ...opened,
      shrink: (factor, width, height) => {
        const shrinking = opened.shrink(factor, width, height);
        return {
          next: (budget) => {
            events.push("slice");
            // Queued like a room's incoming frame: it must run before the next slice.
            setTimeout(() => events.push("room"), 0);
            return shrinking.next(budget);
          },
          result: () => shrinking.result(),
        };
      },
    });
    return {
      openJpeg: async (bytes, scale) => recordSlices(await codecs.openJpeg(bytes, scale)),
      openPng: async (bytes, hasAlpha) => recordSlices(await codecs.openPng(bytes, hasAlpha)),
      encodePng: (image, options) =>
        codecs.encodePng(image, {
          ...options,
          between: async () => {
            events.push("band");
            setTimeout(() => events.push("room"), 0);
            await options.between();
          },
        }),
    };
  }

  it("decodes and shrinks a big JPEG in slices, the room's queued work running between each two", async () => {
    const events: string[] = [];
    const jpeg = await jpegBytes(pixels(2400, 1600, gradient));
    const result = await shrinkImage(base64(jpeg), limits, slicingCodecs(events));
    expect(result).toMatchObject({ ok: true, width: 800, height: 533 });
    const slices = events.filter((event) => event === "slice").length;
    // 1200x800 decoded (half scale), never more than SLICE_PIXELS (or one band of 16 rows) at a time.
    expect(slices).toBeGreaterThanOrEqual(Math.ceil((1200 * 800) / Math.max(SLICE_PIXELS, 16 * 1200)));
    const work = events.filter((event) => event !== "room");
    // Each slice and each band is followed by the room's timer before the next one starts.
    for (let i = 0, seen = 0; i < events.length; i++) {
      if (events[i] === "room") continue;
      seen++;
      if (seen < work.length) expect(events[i + 1], `after work item ${seen} of ${work.length}`).toBe("room");
    }
    expect(work.filter((event) => event === "band").length).toBeGreaterThan(1);
  });

  it("broadcasts a text sent while a big image is in flight before the image", async () => {
    const room = freshRoom();
    const photographer = await Client.join("rooms", room, "photographer");
    const chatter = await Client.join("rooms", room, "chatter");
    const watcher = await Client.join("rooms", room, "watcher");
    await photographer.take(2);
    await chatter.take(1);
    const photo = base64(await jpegBytes(pixels(4000, 3000, gradient)));
    photographer.send({ type: "image", author: "photographer", image_data: photo });
    chatter.send({ type: "text", author: "chatter", avatar: null, text: "still here?" });
    const first = await watcher.next(20_000);
    const second = await watcher.next(20_000);
    expect([first.type, first.author]).toEqual(["text", "chatter"]);
    expect([second.type, second.author]).toEqual(["image", "photographer"]);
  });

  // Any way of sending a big image in pieces (a few sockets per turn was tried: docs/benchmarks.md)
  // must keep this: each socket sees what it is sent in the order the room stored it.
  it("gives every socket the texts sent around a big image in the history's order", async () => {
    // No rate limit: the chatter sends a text every millisecond or so while the image is resized and sent.
    const room = freshHostileRoom();
    const photographer = await Client.join("rooms", room, "photographer");
    const chatter = await Client.join("rooms", room, "chatter");
    const watchers: Client[] = [];
    for (let i = 0; i < 6; i++) watchers.push(await Client.join("rooms", room, `watcher${i}`));
    // Random pixels do not compress: ~1.9 M base64 characters of PNG, to 8 sockets.
    const noise = pixels(800, 600, () => [rand(), rand(), rand(), 255]);
    const sent = base64(await jpegBytes(noise));

    photographer.send({ type: "image", author: "photographer", image_data: sent });
    let texts = 0;
    let imageBack = false;
    const back = nextImage(photographer).then((message) => {
      imageBack = true;
      return message;
    });
    // Texts before, during and after the image's broadcast: the room's turns and these sends interleave.
    for (let after = 0; after < 30; texts++) {
      chatter.send({ type: "text", author: "chatter", text: `t${texts}` });
      await new Promise((resolve) => setTimeout(resolve, 1));
      if (imageBack) after++;
    }
    const image = await back;
    expect((image.image_data as string).length).toBeGreaterThan(1_000_000);

    const history = await storedOrder(room, texts + 1);
    const imageAt = history.indexOf("image");
    expect(imageAt).toBeGreaterThan(0);
    expect(imageAt).toBeLessThan(history.length - 1);
    for (const [i, watcher] of watchers.entries()) {
      const seen: string[] = [];
      while (seen.length <= texts) {
        const message = await watcher.next(20_000);
        // The arrivals after its own and the counts (sent within 250 ms) may come in between.
        if (message.type !== "image" && message.type !== "text") continue;
        seen.push(message.type === "image" ? "image" : String(message.text));
        if (message.type === "image") expect(message.image_data, `watcher${i}'s image`).toBe(image.image_data);
      }
      expect(seen, `watcher${i}`).toEqual(history);
    }
  });
});

/** A pseudo-random byte (the same picture on every run). */
let seed = 1;
function rand(): number {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed >>> 23;
}

async function nextImage(client: Client): Promise<Json> {
  for (;;) {
    const message = await client.next(20_000);
    if (message.type === "image") return message;
  }
}

/** The room's stored messages, oldest first: "image", or a text's own text. */
async function storedOrder(room: string, count: number): Promise<string[]> {
  const ordered: string[] = [];
  for (let before: string | null = ""; before !== null; ) {
    const page = await request(`/room/${encodeURIComponent(room)}/messages?limit=100${before ? `&before=${before}` : ""}`);
    const { messages, next_before } = (await page.json()) as { messages: Json[]; next_before: string | null };
    ordered.unshift(...messages.map((m) => (m.type === "image" ? "image" : String(m.text))));
    before = next_before;
  }
  expect(ordered.length).toBe(count);
  return ordered;
}

describe("image: the banded paths equal the whole ones", () => {
  const limits = { maxImageSize: 800, maxImageRawLength: 5_000_000, maxImagePixels: 12_600_000 };
  const sameBytes = (a: Pixels, b: Pixels) => {
    expect([a.width, a.height]).toEqual([b.width, b.height]);
    // Compared as one buffer: toEqual on millions of elements is slow and its diff unreadable.
    const differing = a.data.findIndex((value, i) => value !== b.data[i]);
    expect(differing, `first differing byte ${differing}`).toBe(-1);
  };
  const shrinkAll = async (opened: OpenedImage, factor: number, width: number, height: number, budget: number) => {
    const shrinking = opened.shrink({ x: factor, y: factor }, width, height);
    let slices = 1;
    while (!shrinking.next(budget)) slices++;
    return { pixels: shrinking.result(), slices };
  };

  it("decodes a JPEG band by band to the very pixels of a whole decode, at every DCT scale", async () => {
    // An odd size: bands never line up with the JPEG's 16-row blocks.
    const jpeg = await jpegBytes(pixels(1001, 757, gradient));
    for (const scale of [1, 2, 4, 8]) {
      const whole = decodeJpegWhole(jpegScaled, jpeg, scale);
      const opened = await codecs.openJpeg(jpeg, scale);
      // No reduction and no resize: the resampler hands the decoded rows through.
      const { pixels: banded, slices } = await shrinkAll(opened, 1, opened.width, opened.height, 7 * opened.width);
      expect(slices).toBeGreaterThan(1);
      sameBytes(banded, whole);
    }
  });

  it("shrinks to the same pixels whatever the size of the slices", async () => {
    const jpeg = await jpegBytes(pixels(1601, 999, gradient));
    const inOneGo = await shrinkAll(await codecs.openJpeg(jpeg, 1), 2, 400, 250, Number.POSITIVE_INFINITY);
    const inSlices = await shrinkAll(await codecs.openJpeg(jpeg, 1), 2, 400, 250, 1);
    expect(inOneGo.slices).toBe(1);
    expect(inSlices.slices).toBeGreaterThan(50);
    sameBytes(inSlices.pixels, inOneGo.pixels);
  });

  it("decodes PNGs band by band to the pixels jSquash's decoder gives: every colour type, every filter, IDAT cut anywhere", async () => {
    let seed = 11;
    const byte = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return (seed >> 16) & 0xff;
    };
    const width = 61;
    const height = 45;
    const kinds = [
      { colourType: 0, channels: 1 },
      { colourType: 2, channels: 3 },
      { colourType: 3, channels: 1 },
      { colourType: 4, channels: 2 },
      { colourType: 6, channels: 4 },
    ] as const;
    for (const { colourType, channels } of kinds) {
      // Smooth rows with some noise, so that every filter has something to predict.
      const rows = Array.from({ length: height }, (_, y) =>
        Uint8Array.from({ length: width * channels }, (_, i) =>
          colourType === 3 ? (i * 3 + y) % 40 : (i * 2 + y * 3 + (byte() & 15)) & 0xff,
        ),
      );
      const palette = colourType === 3 ? Uint8Array.from({ length: 40 * 3 }, () => byte()) : undefined;
      const transparency = colourType === 3 ? Uint8Array.from({ length: 30 }, () => byte()) : undefined;
      const png = await handMadePng({
        width,
        height,
        colourType,
        rows,
        filters: (y) => (y % 5) as 0 | 1 | 2 | 3 | 4,
        palette,
        transparency,
        idatBytes: 97,
      });
      const opened = await codecs.openPng(png, colourType >= 3);
      const { pixels: banded, slices } = await shrinkAll(opened, 1, width, height, 3 * width);
      expect(slices, `colour type ${colourType}`).toBeGreaterThan(1);
      sameBytes(banded, decodePngBytes(png));
    }
  });

  it("hands the PNGs it does not decode itself (16-bit, interlaced) to jSquash's decoder", async () => {
    const rows = Array.from({ length: 30 }, (_, y) => Uint8Array.from({ length: 40 * 6 }, (_, i) => (i * 5 + y) & 0xff));
    const png16 = await handMadePng({ width: 40, height: 30, colourType: 2, bitDepth: 16, rows, filters: () => 1 });
    const opened = await codecs.openPng(png16, false);
    const { pixels } = await shrinkAll(opened, 1, 40, 30, Number.POSITIVE_INFINITY);
    sameBytes(pixels, decodePngBytes(png16));
    const result = await shrinkImage(base64(png16), limits, codecs);
    expect(result).toMatchObject({ ok: true, width: 40, height: 30 });
  });

  it("refuses a PNG whose rows are damaged, and one whose zlib stream does not end", async () => {
    const rows = Array.from({ length: 30 }, (_, y) => Uint8Array.from({ length: 40 * 3 }, (_, i) => (i + y) & 0xff));
    const png = await handMadePng({ width: 40, height: 30, colourType: 2, rows, filters: () => 7 as 0 });
    expect(await shrinkImage(base64(png), limits, codecs)).toMatchObject({ ok: false, reason: IMAGE_REJECTED_REASON });
    const whole = await handMadePng({ width: 40, height: 30, colourType: 2, rows, filters: () => 2, idatBytes: 1 << 20 });
    // The last 4 bytes of the IDAT data are the Adler-32: damaged, the stream does not check out.
    const damaged = whole.slice();
    const idatEnd = damaged.length - 12 - 4;
    damaged[idatEnd - 1] = damaged[idatEnd - 1]! ^ 0xff;
    expect(await shrinkImage(base64(damaged), limits, codecs)).toMatchObject({ ok: false, reason: IMAGE_REJECTED_REASON });
  });

  it("writes a PNG, band by band, that jSquash's decoder reads back to the same pixels, opaque as RGB and transparent as RGBA", async () => {
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return (seed >> 16) & 0xff;
    };
    const opaque = pixels(333, 97, () => [next(), next(), next(), 255]);
    const transparent = pixels(333, 97, () => [next(), next(), next(), next()]);
    for (const [image, isOpaque, photo, colourType] of [
      [opaque, true, true, 2],
      [opaque, true, false, 2],
      [transparent, false, false, 6],
    ] as const) {
      let bands = 0;
      const png = await codecs.encodePng(image, { opaque: isOpaque, photo, rows: 10, between: async () => void bands++ });
      expect(bands).toBe(9); // 97 rows, 10 at a time: a yield between each two bands
      expect(png[25], "the IHDR colour type").toBe(colourType);
      sameBytes(decodePngBytes(png), image);
    }
  });
});

describe("image: strict base64, natively", () => {
  it("takes the standard alphabet, padded, and nothing else", () => {
    expect(Array.from(decodeBase64("QUJD") ?? [])).toEqual([65, 66, 67]);
    expect(Array.from(decodeBase64("QUI=") ?? [])).toEqual([65, 66]);
    expect(Array.from(decodeBase64("QQ==") ?? [])).toEqual([65]);
    for (const bad of ["QUJ", "QQ", "QU I=", "QUJD QUJD   ", "QUJD\nQUJ=", "QQ==QUJD", "Q===", "QU-_", "QUJD!!!!", "===="]) {
      expect(decodeBase64(bad), JSON.stringify(bad)).toBeUndefined();
    }
  });
});

describe("image: extreme shapes", () => {
  const limits = { maxImageSize: 800, maxImageRawLength: 5_000_000, maxImagePixels: 12_600_000 };

  it("shrinks a 60000x6 strip, each axis reduced by its own factor", async () => {
    const rows = Array.from({ length: 6 }, (_, y) => Uint8Array.from({ length: 60000 * 3 }, (_, i) => (y < 3 ? 200 : 40) + (i % 3)));
    const png = await handMadePng({ width: 60000, height: 6, colourType: 2, rows, filters: () => 0 });
    const result = await shrinkImage(base64(png), limits, codecs);
    if (!result.ok) throw new Error(result.detail);
    const picture = await decodeSentPng(result.imageData);
    expect([picture.width, picture.height]).toEqual([800, 1]);
    // The top half (200) and the bottom half (40) averaged down to one row.
    expect(Math.abs(picture.data[0]! - 120)).toBeLessThanOrEqual(2);
  });

  it("refuses a side over MAX_SIDE, however few the pixels", async () => {
    const result = await shrinkImage(base64(pngHeaderOnly(MAX_SIDE + 1, 1)), limits, codecs);
    expect(result).toEqual({ ok: false, reason: IMAGE_REJECTED_REASON, detail: `${MAX_SIDE + 1}x1 has a side over ${MAX_SIDE} pixels` });
  });
});

describe("image: refusals", () => {
  const refusals: [string, () => Promise<string>][] = [
    ["invalid base64", async () => "not base64 at all!"],
    ["base64 without padding", async () => base64(await pngBytes(pixels(5, 5, gradient))).replace(/=+$/, "")],
    [
      "a truncated PNG",
      async () => {
        const png = await pngBytes(pixels(300, 200, gradient));
        return base64(png.subarray(0, Math.floor(png.length / 2)));
      },
    ],
    [
      "a truncated JPEG",
      async () => {
        const jpeg = await jpegBytes(pixels(300, 200, gradient));
        return base64(jpeg.subarray(0, Math.floor(jpeg.length / 2)));
      },
    ],
    [
      "a JPEG cut short just before its end",
      async () => {
        const jpeg = await jpegBytes(pixels(1200, 800, gradient));
        return base64(jpeg.subarray(0, jpeg.length - 40));
      },
    ],
    [
      "a JPEG whose scan data is damaged",
      async () => {
        const jpeg = (await jpegBytes(pixels(1200, 800, gradient))).slice();
        // A run of marker bytes in the middle of the entropy-coded data.
        jpeg.fill(0xff, Math.floor(jpeg.length * 0.5), Math.floor(jpeg.length * 0.5) + 64);
        return base64(jpeg);
      },
    ],
    ["a GIF", async () => base64(new Uint8Array([0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 1, 0, 1, 0, 0, 0, 0, 0x3b]))],
    ["a WebP", async () => base64(new TextEncoder().encode("RIFF\x1a\x00\x00\x00WEBPVP8 \x0e\x00\x00\x00"))],
    ["a PNG whose header claims 30000x30000", async () => base64(pngHeaderOnly(30000, 30000))],
  ];

  it.each(refusals)("refuses %s with the contract's reason, socket kept, nothing broadcast", async (_name, make) => {
    const room = freshRoom();
    const watcher = await Client.join("rooms", room, "watcher");
    const sender = await Client.join("rooms", room, "sender");
    await watcher.take(2);
    expect(await sender.rejected({ type: "image", author: "sender", image_data: await make() })).toBe(IMAGE_REJECTED_REASON);
    await expectNothingBefore(watcher, sender, "sender");
  });

  it("refuses a decompression bomb from its header, without ever calling a decoder", async () => {
    const calls: string[] = [];
    const spy = (name: string) => async () => {
      calls.push(name);
      throw new Error(`${name} must not be called`);
    };
    const codecs: Codecs = {
      openJpeg: spy("openJpeg"),
      openPng: spy("openPng"),
      encodePng: spy("encodePng"),
    };
    const limits = { maxImageSize: 800, maxImageRawLength: 5_000_000, maxImagePixels: 12_600_000 };
    const started = performance.now();
    const result = await shrinkImage(base64(pngHeaderOnly(30000, 30000)), limits, codecs);
    expect(performance.now() - started).toBeLessThan(250);
    expect(result).toEqual({ ok: false, reason: IMAGE_REJECTED_REASON, detail: "30000x30000 is more than MAX_IMAGE_PIXELS (12600000)" });
    expect(calls).toEqual([]);
  });
});
