// Time-series charts drawn on a canvas by hand: the page loads nothing from outside the runtime.

export const PALETTE = ['#5aa9f2', '#4cc38a', '#f0b429', '#c78bf0', '#f06a6a', '#46c5c5', '#e87fb1', '#9aa5b1', '#b4d455', '#f08c46', '#8c9cf0', '#d9c37a', '#6f8fa6'];

const AXIS = '#7d8a99';
const GRID = '#26313d';

/**
 * Draws series of equal length over time. With `stacked`, each series is filled on top of
 * the previous ones, so the top edge is the total.
 *   chart: { times: number[] (ms), series: [{ name, color, values: (number|null)[] }], stacked?, unit? }
 */
export function drawTimeSeries(canvas, chart) {
  // What is drawn, readable by tests and by anyone inspecting the page.
  canvas.dataset.points = JSON.stringify({ times: chart.times, series: chart.series.map((s) => ({ name: s.name, values: s.values })) });
  const ctx = fitToElement(canvas);
  const { width, height } = canvas.getBoundingClientRect();
  ctx.clearRect(0, 0, width, height);
  const pad = { left: 44, right: 8, top: 6, bottom: 18 };
  const w = width - pad.left - pad.right;
  const h = height - pad.top - pad.bottom;
  const n = chart.times.length;
  const tops = chart.stacked ? stack(chart.series, n) : chart.series.map((s) => s.values);
  let max = 0;
  for (const values of tops) for (const v of values) if (v !== null && v > max) max = v;
  const yMax = niceCeiling(max);
  const x = (i) => pad.left + (n <= 1 ? w : (i / (n - 1)) * w);
  const y = (v) => pad.top + h - (v / yMax) * h;

  ctx.font = '11px system-ui, sans-serif';
  ctx.lineWidth = 1;
  for (let k = 0; k <= 4; k++) {
    const v = (yMax * k) / 4;
    const yy = Math.round(y(v)) + 0.5;
    ctx.strokeStyle = GRID;
    ctx.beginPath();
    ctx.moveTo(pad.left, yy);
    ctx.lineTo(pad.left + w, yy);
    ctx.stroke();
    ctx.fillStyle = AXIS;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    ctx.fillText(formatNumber(v), pad.left - 6, yy);
  }
  if (n > 1) {
    ctx.textBaseline = 'top';
    const spanS = Math.round((chart.times[n - 1] - chart.times[0]) / 1000);
    ctx.textAlign = 'left';
    ctx.fillText(`-${spanS}s`, pad.left, pad.top + h + 4);
    ctx.textAlign = 'right';
    ctx.fillText('now', pad.left + w, pad.top + h + 4);
  }
  if (n === 0) return;

  for (let s = chart.series.length - 1; s >= 0; s--) {
    const values = tops[s];
    const color = chart.series[s].color;
    ctx.beginPath();
    let started = false;
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (v === null || v === undefined) {
        started = false;
        continue;
      }
      if (!started) ctx.moveTo(x(i), y(v));
      else ctx.lineTo(x(i), y(v));
      started = true;
    }
    ctx.strokeStyle = color;
    ctx.lineWidth = 1.6;
    ctx.stroke();
    if (chart.stacked) {
      const below = s > 0 ? tops[s - 1] : null;
      ctx.lineTo(x(n - 1), y(below ? below[n - 1] ?? 0 : 0));
      for (let i = n - 1; i >= 0; i--) ctx.lineTo(x(i), y(below ? below[i] ?? 0 : 0));
      ctx.closePath();
      ctx.globalAlpha = 0.35;
      ctx.fillStyle = color;
      ctx.fill();
      ctx.globalAlpha = 1;
    }
  }
}

/** A legend in HTML (crisper than canvas text): swatch, name and a figure per series. */
export function renderLegend(el, entries) {
  el.replaceChildren(
    ...entries.map(({ name, color, figure }) => {
      const item = document.createElement('span');
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.style.background = color;
      const b = document.createElement('b');
      b.textContent = figure;
      item.append(swatch, `${name} `, b);
      item.dataset.series = name;
      return item;
    }),
  );
}

export function formatNumber(v) {
  if (v >= 1e6) return `${(v / 1e6).toFixed(v >= 1e7 ? 0 : 1)}M`;
  if (v >= 1e4) return `${(v / 1e3).toFixed(0)}k`;
  if (v >= 100 || Number.isInteger(v)) return String(Math.round(v));
  return v.toFixed(v >= 10 ? 1 : 2);
}

function stack(series, n) {
  const out = [];
  let base = new Array(n).fill(0);
  for (const s of series) {
    const top = base.map((b, i) => b + (s.values[i] ?? 0));
    out.push(top);
    base = top;
  }
  return out;
}

function niceCeiling(v) {
  if (v <= 0) return 1;
  const exp = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * exp) return m * exp;
  return 10 * exp;
}

/** Sizes the backing store to the element's CSS size times the pixel ratio. */
function fitToElement(canvas) {
  const ratio = window.devicePixelRatio || 1;
  const { width, height } = canvas.getBoundingClientRect();
  const wantW = Math.max(1, Math.round(width * ratio));
  const wantH = Math.max(1, Math.round(height * ratio));
  if (canvas.width !== wantW || canvas.height !== wantH) {
    canvas.width = wantW;
    canvas.height = wantH;
  }
  const ctx = canvas.getContext('2d');
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  return ctx;
}
