import { createHash } from 'node:crypto';
import { PNG } from 'pngjs';

const GRID = 5;
const CELL = 20;
const MARGIN = 10;
const SIZE = GRID * CELL + 2 * MARGIN;

/**
 * A default avatar: a left-right symmetric 5×5 pattern in one colour, derived from the user id,
 * so every user gets a distinct, stable picture without any upload.
 */
export function identiconPng(seed: string): Buffer {
  const hash = createHash('sha256').update(seed).digest();
  const hue = (hash[0]! / 255) * 360;
  const [r, g, b] = hslToRgb(hue, 0.55, 0.55);

  const png = new PNG({ width: SIZE, height: SIZE });
  png.data.fill(0xf0); // light grey, opaque
  for (let row = 0; row < GRID; row++) {
    for (let col = 0; col < Math.ceil(GRID / 2); col++) {
      if ((hash[1 + row * 3 + col]! & 1) === 0) continue;
      fillCell(png, row, col, r, g, b);
      fillCell(png, row, GRID - 1 - col, r, g, b);
    }
  }
  return PNG.sync.write(png);
}

function fillCell(png: PNG, row: number, col: number, r: number, g: number, b: number): void {
  for (let y = MARGIN + row * CELL; y < MARGIN + (row + 1) * CELL; y++) {
    for (let x = MARGIN + col * CELL; x < MARGIN + (col + 1) * CELL; x++) {
      const i = (y * SIZE + x) * 4;
      png.data[i] = r;
      png.data[i + 1] = g;
      png.data[i + 2] = b;
      png.data[i + 3] = 255;
    }
  }
}

function hslToRgb(h: number, s: number, l: number): [number, number, number] {
  const k = (n: number) => (n + h / 30) % 12;
  const a = s * Math.min(l, 1 - l);
  const f = (n: number) => l - a * Math.max(-1, Math.min(k(n) - 3, Math.min(9 - k(n), 1)));
  return [Math.round(f(0) * 255), Math.round(f(8) * 255), Math.round(f(4) * 255)];
}
