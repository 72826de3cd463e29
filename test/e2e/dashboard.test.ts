import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startLocalBroker, type LocalBroker } from '../../scripts/broker/index.js';
import { repoRoot, skipWithoutFixtures } from '../helpers/fixtures.js';
import { IRIS_PACKAGE, installIrisPackage, irisRecords } from '../helpers/iris.js';
import { testKafka } from '../helpers/kafka.js';
import { parsePrometheusText, sampleValue } from '../helpers/prometheus-text.js';
import { startRuntime, type RuntimeProcess } from '../helpers/runtime-process.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
/** Checked in, so a reviewer sees what the test saw. */
const SCREENSHOT = join(repoRoot, 'test/artifacts/dashboard.png');
/** The page's "records in" figure, as a browser-side expression. */
const TOTAL_IN = `Number(document.getElementById('total-in').textContent.replace(/,/g, ''))`;

/** Debian's chromium (Playwright's own browser download does not work here); installed when missing and we are root. */
function chromiumMissing(): string | false {
  if (existsSync(CHROMIUM)) return false;
  if (process.getuid?.() !== 0) return `${CHROMIUM} is missing and this is not root: install it with \`apt-get update && apt-get install -y chromium\``;
  process.stderr.write(`[dashboard test] ${CHROMIUM} missing: apt-get install -y chromium\n`);
  try {
    execFileSync('bash', ['-c', 'apt-get update && apt-get install -y chromium'], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: 900_000 });
  } catch (e) {
    return `installing chromium with apt-get failed: ${(e as Error).message}`;
  }
  return existsSync(CHROMIUM) ? false : `apt-get ran but ${CHROMIUM} is still missing`;
}

const skip = skipWithoutFixtures || chromiumMissing();

test('the dashboard shows live counts, steady windowed rate and latency charts matching the records sent, the latest predictions and errors, and only current refusals', { skip, timeout: 240_000 }, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'mlstream-dashboard-'));
  installIrisPackage(join(work, 'models'));
  const broker: LocalBroker = await startLocalBroker({ topics: [{ name: 'messages', partitions: 2 }, { name: 'predictions', partitions: 2 }, { name: 'errors' }] });
  let runtime: RuntimeProcess | undefined;
  let browser: Browser | undefined;
  const producer = new StreamingProducer(broker.bootstrap);
  t.after(async () => {
    await producer.stop();
    await browser?.close();
    await runtime?.stop();
    await broker.stop();
    rmSync(work, { recursive: true, force: true });
  });

  runtime = startRuntime({
    KAFKA_BOOTSTRAP_SERVER: broker.bootstrap,
    MODELS_DIR: join(work, 'models'),
    MODEL_PIPELINE: IRIS_PACKAGE,
    KAFKA_GROUP_ID: 'dashboard',
    HTTP_PORT: '0',
  });
  const { port } = (await runtime.waitForLog((l) => l.msg === 'http listening', 60_000)) as { port: number };
  await runtime.waitForLog((l) => l.msg === 'consuming', 60_000);
  const origin = `http://127.0.0.1:${port}`;
  await producer.start();

  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const requested: string[] = [];
  const pageErrors: string[] = [];
  page.on('request', (r) => requested.push(r.url()));
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text());
  });
  await page.goto(`${origin}/`);

  await waitInPage(page, `${TOTAL_IN} > 0`, 60_000);
  const before = await readPage(page);
  const newestBefore = JSON.stringify(before.rows[0]?.source ?? null);
  await waitInPage(page, `${TOTAL_IN} >= ${before.totalIn + 500} && document.querySelector('#latest tr td:nth-child(6)')?.textContent !== ${newestBefore}`, 60_000);
  // A broken package dropped next to the served one is listed as refused, with the file and reason.
  const broken = join(work, 'models', 'broken');
  mkdirSync(broken);
  writeFileSync(join(broken, 'config.json'), '{ not json');
  await waitInPage(page, `[...document.querySelectorAll('#refusals tr')].some((tr) => tr.textContent.includes('broken'))`, 30_000);
  // Let the charts collect a window and more of steady traffic before reading them.
  await new Promise((r) => setTimeout(r, 7000));
  const after = await readPage(page);
  const sentRate = producer.rateOver(5000);
  mkdirSync(join(repoRoot, 'test/artifacts'), { recursive: true });
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  assert.match(after.refusals.join("\n"), /^broken.*config\.json: not valid JSON/m);

  // Deleted, it is no longer refused.
  rmSync(broken, { recursive: true, force: true });
  await waitInPage(page, `document.querySelectorAll('#refusals tr').length === 0`, 30_000);

  // Throughput is a rate over a sliding window: steady traffic draws a steady line at the rate sent, not a sawtooth.
  const inputs = after.charts.throughput.series.find((x) => x.name === 'in')!.values.slice(-6) as number[];
  for (const v of inputs) assert.ok(Math.abs(v - sentRate) <= 0.35 * sentRate, `throughput ${v.toFixed(1)}/s drawn while ${sentRate.toFixed(1)}/s were sent: ${inputs.map((x) => x.toFixed(1))}`);
  // Latency has no gap while records flow.
  const p95 = after.charts.latency.series.find((x) => x.name === 'p95')!.values;
  const firstDrawn = p95.findIndex((v) => v !== null);
  assert.ok(firstDrawn >= 0 && p95.slice(firstDrawn).every((v) => v !== null && v >= 0), `latency is drawn without gaps while streaming: ${JSON.stringify(p95)}`);
  // The recent-errors table holds the schema violations that were sent, with their source offsets.
  assert.ok(after.errorRows.length > 0);
  for (const e of after.errorRows) {
    assert.equal(e.code, 'SCHEMA_VIOLATION');
    assert.equal(Number(e.id.slice(1)) % 40, 39, `${e.id} was sent as a schema violation`);
    assert.match(e.message, /Sepal_(Length|Width)/);
    assert.match(e.source, /^messages\/[01]\/\d+$/);
  }

  assert.ok(after.totalIn > before.totalIn, `records in went from ${before.totalIn} to ${after.totalIn}`);
  assert.ok(after.predictions > before.predictions);
  assert.ok(after.errors > 0, 'the schema violations mixed into the stream are counted');
  assert.equal(after.totalIn, after.predictions + after.errors);
  assert.match(after.connection, /live/);
  assert.match(after.serving, new RegExp(`serving ${IRIS_PACKAGE}@[0-9a-f]+`));
  assert.match(after.rate, /^[\d.]+k?\/s$/);
  assert.notEqual(after.rate, '0/s', 'throughput shows records per second while streaming');
  assert.match(after.latency, /ms$/);

  assert.equal(after.rows.length, 20, 'the rolling table holds the latest 20 predictions');
  for (const row of after.rows) {
    assert.equal(row.prediction, producer.expectedLabel(row.id), `row ${row.id} shows ${row.prediction}`);
    assert.deepEqual(JSON.parse(row.input), producer.input(row.id));
  }
  assert.notDeepEqual(
    after.rows.map((r) => r.id),
    before.rows.map((r) => r.id),
    'the table moved on',
  );
  assert.deepEqual(after.labelLegend.map((l) => l.name).sort(), ['setosa', 'versicolor', 'virginica']);
  assert.ok(after.labelLegend.every((l) => l.count > 0));
  assert.deepEqual(after.errorLegend.map((l) => l.name), ['SCHEMA_VIOLATION']);
  assert.equal(after.errorLegend[0]!.count, after.errors);
  assert.ok(after.inkedCharts.every((n) => n > 500), `every chart has drawn lines: ${after.inkedCharts}`);
  assert.equal(after.models, 1);

  // Once the stream stops, the page converges on exactly what the runtime's metrics count.
  const produced = await producer.stop();
  const metricsTotal = await waitForValue(async () => {
    const m = parsePrometheusText(await (await fetch(`${origin}/metrics`)).text());
    return sampleValue(m, 'mlstream_records_in_total', { topic: 'messages' });
  }, produced);
  assert.equal(metricsTotal, produced);
  await waitInPage(page, `${TOTAL_IN} === ${produced}`, 30_000);
  // The label chart's legend counts what was predicted for exactly the records sent.
  const expected = new Map<string, number>();
  for (let n = 0; n < produced; n++) if (n % 40 !== 39) expected.set(producer.expectedLabel(`r${n}`), (expected.get(producer.expectedLabel(`r${n}`)) ?? 0) + 1);
  await waitInPage(page, `[...document.querySelectorAll('#legend-labels > span b')].reduce((s, b) => s + Number(b.textContent.replace(/,/g, '')), 0) === ${produced - Math.floor(produced / 40)}`, 30_000);
  const settled = await readPage(page);
  assert.deepEqual(Object.fromEntries(settled.labelLegend.map((l) => [l.name, l.count])), Object.fromEntries([...expected].sort()));
  // With no traffic for a whole window the rates fall to zero and latency leaves a gap.
  await new Promise((r) => setTimeout(r, 6500));
  const idle = await readPage(page);
  assert.equal(idle.charts.throughput.series.find((x) => x.name === 'in')!.values.at(-1), 0);
  assert.equal(idle.charts.latency.series.find((x) => x.name === 'p95')!.values.at(-1), null);
  assert.equal(idle.latency, '–');

  assert.deepEqual(pageErrors, []);
  assert.ok(requested.length >= 4);
  assert.deepEqual(requested.filter((u) => !u.startsWith(`${origin}/`)), [], 'the page loads nothing from anywhere else');
});

interface PageState {
  totalIn: number;
  predictions: number;
  errors: number;
  rate: string;
  latency: string;
  serving: string;
  connection: string;
  models: number;
  rows: Array<{ id: string; input: string; prediction: string; source: string }>;
  labelLegend: Array<{ name: string; count: number }>;
  errorLegend: Array<{ name: string; count: number }>;
  inkedCharts: number[];
  refusals: string[];
  errorRows: Array<{ code: string; message: string; id: string; source: string }>;
  charts: Record<'throughput' | 'latency' | 'labels' | 'errors', { times: number[]; series: Array<{ name: string; values: Array<number | null> }> }>;
}

/**
 * Reads what the page shows. Passed as source text: tsx compiles functions with a naming
 * helper that does not exist inside the browser.
 */
const READ_PAGE = `(() => {
  const text = (id) => document.getElementById(id).textContent.trim();
  const num = (id) => Number(text(id).replace(/,/g, ''));
  const legend = (id) => [...document.querySelectorAll('#' + id + ' > span')].map((el) => ({ name: el.dataset.series, count: Number(el.querySelector('b').textContent.replace(/,/g, '')) }));
  // Counts painted pixels: a blank canvas has none, axes and grid alone have few.
  const ink = (id) => {
    const c = document.getElementById(id);
    const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
    return n;
  };
  return {
    totalIn: num('total-in'),
    predictions: num('total-predictions'),
    errors: num('total-errors'),
    rate: text('rate'),
    latency: text('latency'),
    serving: text('serving'),
    connection: text('connection'),
    models: document.querySelectorAll('#models tr').length,
    rows: [...document.querySelectorAll('#latest tr')].map((tr) => {
      const cells = [...tr.querySelectorAll('td')].map((td) => td.textContent);
      return { id: cells[1], input: cells[2], prediction: cells[3], source: cells[5] };
    }),
    labelLegend: legend('legend-labels'),
    errorLegend: legend('legend-errors'),
    inkedCharts: ['chart-throughput', 'chart-latency', 'chart-labels', 'chart-errors'].map(ink),
    refusals: [...document.querySelectorAll('#refusals tr')].map((tr) => tr.textContent),
    errorRows: [...document.querySelectorAll('#errors tr')].map((tr) => {
      const cells = [...tr.querySelectorAll('td')].map((td) => td.textContent);
      return { code: cells[1], message: cells[2], id: cells[3], source: cells[4] };
    }),
    charts: Object.fromEntries(['throughput', 'latency', 'labels', 'errors'].map((name) => [name, JSON.parse(document.getElementById('chart-' + name).dataset.points)])),
  };
})()`;

/**
 * Polls a browser-side expression. Not page.waitForFunction: with a string it evaluates
 * inside the page, which the dashboard's Content-Security-Policy (rightly) forbids.
 */
async function waitInPage(page: Page, expression: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await page.evaluate(expression))) {
    if (Date.now() > deadline) throw new Error(`the page did not reach \`${expression}\` within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function readPage(page: Page): Promise<PageState> {
  return page.evaluate(READ_PAGE) as Promise<PageState>;
}

/** Keeps records flowing at a steady pace (40 every 250 ms, one in 40 a schema violation) until stopped. */
class StreamingProducer {
  private readonly producer;
  private readonly records = irisRecords(150);
  private sent = 0;
  /** (time, records sent by then) after each send, for the rate actually produced. */
  private readonly progress: Array<{ at: number; sent: number }> = [];
  private running: Promise<void> | undefined;
  private stopping = false;

  constructor(bootstrap: string) {
    this.producer = testKafka(bootstrap).producer({ idempotent: true, maxInFlightRequests: 1 });
  }

  async start(): Promise<void> {
    await this.producer.connect();
    this.running = this.loop();
  }

  /** Stops sending and resolves with the number of records sent. */
  async stop(): Promise<number> {
    if (this.stopping) return this.sent;
    this.stopping = true;
    await this.running;
    if (this.running) await this.producer.disconnect();
    return this.sent;
  }

  /** Records per second sent over the last `ms`. */
  rateOver(ms: number): number {
    const last = this.progress.at(-1)!;
    const first = this.progress.find((p) => p.at >= last.at - ms)!;
    const before = this.progress[this.progress.indexOf(first) - 1] ?? first;
    return (last.sent - before.sent) / ((last.at - before.at) / 1000);
  }

  expectedLabel(id: string): string {
    return this.records[Number(id.slice(1)) % this.records.length]!.expectedLabel;
  }

  input(id: string): Record<string, unknown> {
    return { ...this.records[Number(id.slice(1)) % this.records.length]!.input, id };
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      const started = Date.now();
      const messages = Array.from({ length: 40 }, (_, k) => {
        const n = this.sent + k;
        const id = `r${n}`;
        const value = n % 40 === 39 ? { id, Sepal_Length: 'not a number' } : this.input(id);
        return { key: id, value: JSON.stringify(value) };
      });
      await this.producer.send({ topic: 'messages', acks: -1, messages });
      this.sent += messages.length;
      this.progress.push({ at: Date.now(), sent: this.sent });
      await new Promise((r) => setTimeout(r, Math.max(0, 250 - (Date.now() - started))));
    }
  }
}

async function waitForValue(read: () => Promise<number | undefined>, want: number, timeoutMs = 60_000): Promise<number | undefined> {
  const deadline = Date.now() + timeoutMs;
  let v = await read();
  while (v !== want && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    v = await read();
  }
  return v;
}
