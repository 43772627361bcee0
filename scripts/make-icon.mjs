// Writes media/icon.png (128×128): committed → built → running, three nodes on a dark tile.
// Kept as a script so the marketplace icon can be regenerated without image tools.
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const W = 128;
const px = Buffer.alloc(W * W * 4);
const set = (x, y, [r, g, b, a]) => {
  const i = (y * W + x) * 4;
  const k = a / 255;
  px[i] = Math.round(px[i] * (1 - k) + r * k);
  px[i + 1] = Math.round(px[i + 1] * (1 - k) + g * k);
  px[i + 2] = Math.round(px[i + 2] * (1 - k) + b * k);
  px[i + 3] = Math.max(px[i + 3], a);
};
const inRounded = (x, y, x0, y0, x1, y1, r) => {
  const cx = Math.min(Math.max(x, x0 + r), x1 - r);
  const cy = Math.min(Math.max(y, y0 + r), y1 - r);
  return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
};
for (let y = 0; y < W; y++) for (let x = 0; x < W; x++) if (inRounded(x + 0.5, y + 0.5, 4, 4, 124, 124, 22)) set(x, y, [30, 41, 59, 255]);
const line = (x0, y0, x1, y1, w, c) => {
  for (let y = 0; y < W; y++)
    for (let x = 0; x < W; x++) {
      const dx = x1 - x0, dy = y1 - y0;
      const t = Math.max(0, Math.min(1, ((x - x0) * dx + (y - y0) * dy) / (dx * dx + dy * dy)));
      if (Math.hypot(x - (x0 + t * dx), y - (y0 + t * dy)) <= w / 2) set(x, y, c);
    }
};
const disc = (cx, cy, r, c) => {
  for (let y = 0; y < W; y++) for (let x = 0; x < W; x++) if (Math.hypot(x + 0.5 - cx, y + 0.5 - cy) <= r) set(x, y, c);
};
const grey = [148, 163, 184, 255];
const amber = [234, 179, 8, 255];
const green = [34, 197, 94, 255];
line(30, 64, 98, 64, 6, grey);
disc(30, 64, 14, green); // committed
for (let y = 50; y < 78; y++) for (let x = 50; x < 78; x++) if (inRounded(x + 0.5, y + 0.5, 50, 50, 78, 78, 5)) set(x, y, amber); // built
disc(98, 64, 14, grey); // running (behind)
disc(98, 64, 7, [30, 41, 59, 255]);

const chunk = (type, data) => {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td) >>> 0);
  return Buffer.concat([len, td, crc]);
};
function crc32(buf) {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c;
}
const raw = Buffer.alloc(W * (W * 4 + 1));
for (let y = 0; y < W; y++) px.copy(raw, y * (W * 4 + 1) + 1, y * W * 4, (y + 1) * W * 4);
const ihdr = Buffer.alloc(13);
ihdr.writeUInt32BE(W, 0);
ihdr.writeUInt32BE(W, 4);
ihdr.set([8, 6, 0, 0, 0], 8);
writeFileSync(
  new URL('../media/icon.png', import.meta.url),
  Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]),
);
