// PNG files written byte by byte, so that each test file is exactly the case it names (the
// bad-file matrix, and the 20000 x 20000 photo that bench/page.mjs times).
import { once } from "node:events";
import { crc32, createDeflate } from "node:zlib";

export function u32(n) {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

function chunk(type, data) {
  const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
  return Buffer.concat([u32(data.length), body, u32(crc32(body))]);
}

/** A PNG of `width` x `height`: colour type (0 grey, 2 RGB, 6 RGBA), bit depth, deflated rows. */
export function png(width, height, colourType, depth, rows) {
  const header = Buffer.concat([u32(width), u32(height), Buffer.from([depth, colourType, 0, 0, 0])]);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", rows),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** The deflated rows of an all-black RGB image, fed a row at a time: at 20000 x 20000 the raw
 * image would be 1.2 GB. */
export async function blackRows(width, height) {
  const deflate = createDeflate({ level: 1 });
  const parts = [];
  deflate.on("data", (part) => parts.push(part));
  const ended = once(deflate, "end");
  const row = Buffer.alloc(1 + width * 3);
  for (let y = 0; y < height; y++) {
    if (!deflate.write(row)) await once(deflate, "drain");
  }
  deflate.end();
  await ended;
  return Buffer.concat(parts);
}
