import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { chromium } from 'playwright-core';
import type { LatencyResult } from './latency.js';
import type { RowResult } from './throughput.js';

/**
 * The benchmark's picture: steady throughput of each row (left) and end-to-end latency
 * percentiles by offered load (right). Drawn as SVG here, rasterized by headless Chromium.
 */

const WIDTH = 1200;
const HEIGHT = 580;
const PANEL = { top: 70, bottom: 440 };
const COLORS = ['#4c78a8', '#f58518', '#54a24b', '#e45756', '#72b7b2', '#b279a2', '#9d755d', '#bab0ac'];
const FONT = 'font-family="DejaVu Sans, Arial, sans-serif"';

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (n: number): string => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n >= 10 ? n.toFixed(0) : n.toFixed(1));

function throughputPanel(rows: readonly RowResult[], color: (label: string) => string): string {
  // Wide enough for the longest row label at 14 px (the tsx and iris rows).
  const x0 = 340;
  const x1 = 560;
  const max = Math.max(1, ...rows.map((r) => (Number.isFinite(r.steadyPerS) ? r.steadyPerS : 0)));
  const barH = Math.min(46, (PANEL.bottom - PANEL.top) / Math.max(1, rows.length) - 14);
  const base = rows[0]?.steadyPerS ?? NaN;
  const parts = [`<text x="30" y="40" font-size="20" font-weight="bold" ${FONT}>Steady throughput (records/s)</text>`];
  rows.forEach((r, i) => {
    const y = PANEL.top + i * (barH + 14);
    const v = Number.isFinite(r.steadyPerS) ? r.steadyPerS : 0;
    const w = ((x1 - x0) * v) / max;
    const ratio = Number.isFinite(base) && base > 0 ? ` (${Math.round((100 * v) / base)}%)` : '';
    parts.push(
      `<text x="${x0 - 10}" y="${y + barH / 2 + 5}" font-size="14" text-anchor="end" ${FONT}>${esc(r.system.label)}</text>`,
      `<rect x="${x0}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${color(r.system.label)}"/>`,
      `<text x="${x0 + w + 6}" y="${y + barH / 2 + 5}" font-size="13" ${FONT}>${fmt(v)}${ratio}</text>`,
    );
  });
  return parts.join('\n');
}

function latencyPanel(results: readonly LatencyResult[], colorOf: (label: string) => string): string {
  const x0 = 700;
  const x1 = WIDTH - 40;
  const y0 = PANEL.top;
  const y1 = PANEL.bottom - 30;
  const parts = [
    `<text x="${x0 - 50}" y="40" font-size="20" font-weight="bold" ${FONT}>End-to-end latency (ms, log scale)</text>`,
    `<text x="${x0 - 50}" y="58" font-size="13" fill="#555" ${FONT}>by offered load — solid: p99, dashed: p50</text>`,
  ];
  if (results.length === 0) return parts.join('\n');
  const loads = [...new Set(results.map((r) => r.offered))].sort((a, b) => a - b);
  const values = results.flatMap((r) => [r.p50, r.p99]).filter((v) => Number.isFinite(v) && v > 0);
  const lo = 10 ** Math.floor(Math.log10(Math.max(0.1, Math.min(...values))));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(100, ...values)));
  const yOf = (v: number): number => y1 - ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * (y1 - y0);
  const xOf = (load: number): number => x0 + 40 + (loads.indexOf(load) * (x1 - x0 - 80)) / Math.max(1, loads.length - 1);
  for (let d = lo; d <= hi; d *= 10) {
    parts.push(
      `<line x1="${x0}" x2="${x1}" y1="${yOf(d)}" y2="${yOf(d)}" stroke="#ddd"/>`,
      `<text x="${x0 - 8}" y="${yOf(d) + 4}" font-size="12" text-anchor="end" ${FONT}>${d}</text>`,
    );
  }
  for (const load of loads) {
    parts.push(`<text x="${xOf(load)}" y="${y1 + 20}" font-size="13" text-anchor="middle" ${FONT}>${load.toLocaleString('en-US')}/s</text>`);
  }
  parts.push(
    `<line x1="${x0}" x2="${x1}" y1="${yOf(50)}" y2="${yOf(50)}" stroke="#333" stroke-dasharray="6,4"/>`,
    `<text x="${x1}" y="${yOf(50) - 5}" font-size="12" fill="#333" text-anchor="end" ${FONT}>p99 target 50 ms</text>`,
  );
  const systems = [...new Set(results.map((r) => r.system.label))];
  systems.forEach((label, i) => {
    const color = colorOf(label);
    const own = results.filter((r) => r.system.label === label).sort((a, b) => a.offered - b.offered);
    for (const [key, dash] of [['p99', ''], ['p50', ' stroke-dasharray="4,4"']] as const) {
      const pts = own.filter((r) => Number.isFinite(r[key])).map((r) => `${xOf(r.offered).toFixed(1)},${yOf(r[key]).toFixed(1)}`);
      parts.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${color}" stroke-width="2.5"${dash}/>`);
      for (const p of pts) parts.push(`<circle cx="${p.split(',')[0]}" cy="${p.split(',')[1]}" r="4" fill="${color}"/>`);
    }
    const ly = PANEL.bottom + 20 + i * 20;
    parts.push(
      `<line x1="${x0}" x2="${x0 + 24}" y1="${ly - 4}" y2="${ly - 4}" stroke="${color}" stroke-width="2.5"/>`,
      `<text x="${x0 + 30}" y="${ly}" font-size="13" ${FONT}>${esc(label)}</text>`,
    );
  });
  return parts.join('\n');
}

export function chartSvg(rows: readonly RowResult[], latency: readonly LatencyResult[], caption: string): string {
  // One colour per system in both panels.
  const colors = new Map<string, string>();
  for (const label of [...rows.map((r) => r.system.label), ...latency.map((r) => r.system.label)]) {
    if (!colors.has(label)) colors.set(label, COLORS[colors.size % COLORS.length]!);
  }
  const color = (label: string): string => colors.get(label)!;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    throughputPanel(rows, color),
    latencyPanel(latency, color),
    `<text x="30" y="${HEIGHT - 12}" font-size="12" fill="#555" ${FONT}>${esc(caption)}</text>`,
    '</svg>',
  ].join('\n');
}

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** Debian's chromium; installed with apt-get when missing and running as root. */
function ensureChromium(): void {
  if (existsSync(CHROMIUM)) return;
  if (process.getuid?.() !== 0) throw new Error(`${CHROMIUM} is missing: install it with \`apt-get update && apt-get install -y chromium\``);
  process.stderr.write(`[bench] ${CHROMIUM} missing: apt-get install -y chromium\n`);
  execFileSync('bash', ['-c', 'apt-get update && apt-get install -y chromium'], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

/** Writes the SVG rasterized to PNG at `file`. */
export async function renderPng(svg: string, file: string): Promise<void> {
  ensureChromium();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: WIDTH, height: HEIGHT }, deviceScaleFactor: 1 });
    await page.setContent(`<!doctype html><html><body style="margin:0">${svg}</body></html>`);
    writeFileSync(file, await page.locator('svg').screenshot({ type: 'png' }));
  } finally {
    await browser.close();
  }
}
