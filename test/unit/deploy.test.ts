import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CONFIG_ENTRIES } from '../../runtime/config.js';
import { processBatch } from '../../runtime/engine/batch.js';
import { createLogger } from '../../runtime/log.js';
import { ModelStore } from '../../runtime/packages/store.js';
import { PostgresSink, quoteTableName } from '../../runtime/sinks/postgres.js';
import { builtinRegistry } from '../../runtime/stages/index.js';
import { haveSparkFixtures, repoRoot } from '../helpers/fixtures.js';
import { installIrisPackage, irisRecords } from '../helpers/iris.js';
import { skipWithoutPostgres, testDatabaseUrl, uniqueTableName, withClient } from '../helpers/postgres.js';
import { metricsOverStore } from '../helpers/metrics-store.js';
import { parsePrometheusText } from '../helpers/prometheus-text.js';

/*
 * Docker cannot run on the build machines, so the observability profile is checked with
 * what runs here: the YAML parsed by python3's yaml, the dashboard JSON parsed, its
 * PromQL checked against the metrics a real RuntimeMetrics exposes, and its SQL run
 * against a real PostgreSQL table created by the sink.
 */

const deploy = (...p: string[]): string => join(repoRoot, 'deploy', ...p);

function pythonYaml(): string | false {
  try {
    execFileSync('python3', ['-c', 'import yaml'], { stdio: 'ignore' });
    return false;
  } catch {
    return 'python3 with the yaml module is needed to parse the compose and provisioning files (apt-get install python3-yaml)';
  }
}
const skipYaml = pythonYaml();

function readYaml(file: string): any {
  const json = execFileSync('python3', ['-c', 'import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))', file], { encoding: 'utf8' });
  return JSON.parse(json);
}

const dashboard = JSON.parse(readFileSync(deploy('grafana/dashboards/mlstream.json'), 'utf8'));
const targets: Array<{ panel: string; datasource: { uid: string }; expr?: string; legendFormat?: string; rawSql?: string; format?: string }> = dashboard.panels.flatMap(
  (p: { title: string; targets: object[] }) => p.targets.map((t) => ({ panel: p.title, ...t })),
);

test('the observability profile adds PostgreSQL, Prometheus and Grafana, wired to files in the repo', { skip: skipYaml }, () => {
  const compose = readYaml(join(repoRoot, 'docker-compose.yml'));
  for (const name of ['postgres', 'prometheus', 'grafana']) {
    assert.deepEqual(compose.services[name].profiles, ['observability'], `${name} only runs with --profile observability`);
  }
  for (const name of ['kafka', 'topics', 'runtime']) assert.equal(compose.services[name].profiles, undefined, `${name} runs without a profile`);
  for (const service of Object.values(compose.services) as Array<{ volumes?: string[] }>) {
    for (const v of service.volumes ?? []) {
      const host = v.split(':')[0]!;
      if (host.startsWith('./')) assert.ok(existsSync(join(repoRoot, host)), `mounted ${host} exists in the repo`);
    }
  }
  const runtime = compose.services.runtime;
  assert.ok('PG_SINK_URL' in runtime.environment, 'the runtime takes the sink URL from the environment');
  assert.ok(Object.values(CONFIG_ENTRIES).some((e) => e.env === 'PG_SINK_URL'));

  const prometheus = readYaml(deploy('prometheus.yml'));
  const job = prometheus.scrape_configs.find((j: { job_name: string }) => j.job_name === 'mlstream');
  assert.equal(job.metrics_path, '/metrics');
  assert.deepEqual(job.static_configs[0].targets, [`runtime:${runtime.environment.HTTP_PORT}`], "Prometheus scrapes the runtime's HTTP_PORT");

  const datasources = readYaml(deploy('grafana/provisioning/datasources/mlstream.yml')).datasources as Array<{ uid: string; type: string; url: string; jsonData?: { database?: string }; user?: string }>;
  const prom = datasources.find((d) => d.type === 'prometheus')!;
  assert.equal(prom.url, 'http://prometheus:9090');
  const pg = datasources.find((d) => d.type === 'grafana-postgresql-datasource')!;
  assert.equal(pg.url, 'postgres:5432');
  assert.equal(pg.jsonData?.database, compose.services.postgres.environment.POSTGRES_DB);
  assert.equal(pg.user, compose.services.postgres.environment.POSTGRES_USER);
  const providers = readYaml(deploy('grafana/provisioning/dashboards/mlstream.yml')).providers;
  assert.ok(compose.services.grafana.volumes.includes(`./deploy/grafana/dashboards:${providers[0].options.path}:ro`), 'the provider path is where the dashboards are mounted');

  const uids = new Set(datasources.map((d) => d.uid));
  for (const t of targets) assert.ok(uids.has(t.datasource.uid), `${t.panel}: datasource ${t.datasource.uid} is provisioned`);
  assert.ok(targets.some((t) => t.datasource.uid === pg.uid) && targets.some((t) => t.datasource.uid === prom.uid), 'rows from the database, rates from Prometheus');
});

/** PromQL words that are not metric names. */
const PROMQL_WORDS = new Set(['sum', 'max', 'min', 'avg', 'count', 'rate', 'increase', 'irate', 'histogram_quantile', 'by', 'without', 'on', 'ignoring', 'and', 'or', 'unless']);

test("every PromQL query in the Grafana dashboard uses metrics and labels the runtime really exposes", async (t) => {
  const { metrics } = await metricsOverStore(t, () => undefined, { watch: false });
  const families = parsePrometheusText(await metrics.registry.metrics());
  const labelsOf = new Map<string, Set<string>>();
  for (const m of metrics.registry.getMetricsAsArray() as unknown as Array<{ name: string; type: string; labelNames?: string[] }>) {
    const labels = new Set(m.labelNames ?? []);
    assert.ok(families.has(m.name), `${m.name} appears in /metrics`);
    if (m.type === 'histogram') {
      labelsOf.set(`${m.name}_bucket`, new Set([...labels, 'le']));
      labelsOf.set(`${m.name}_sum`, labels);
      labelsOf.set(`${m.name}_count`, labels);
    } else labelsOf.set(m.name, labels);
  }

  const promTargets = targets.filter((x) => x.expr !== undefined);
  assert.ok(promTargets.length >= 10);
  for (const { panel, expr, legendFormat } of promTargets) {
    const where = `${panel}: ${expr}`;
    const used: string[] = [];
    const grouped: string[] = [];
    const rest = expr!
      .replace(/\b(by|without)\s*\(([^)]*)\)/g, (_, _kw, labels: string) => {
        grouped.push(...labels.split(',').map((l) => l.trim()).filter(Boolean));
        return ' ';
      })
      .replace(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^}]*)\}/g, (_, name: string, matchers: string) => {
        used.push(name);
        for (const m of matchers.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!=|!~|=)\s*"[^"]*"/g)) {
          assert.ok(labelsOf.get(name)?.has(m[1]!), `${where}: ${name} has no label ${m[1]}`);
        }
        return ' ';
      })
      .replace(/\[[^\]]*\]/g, ' ');
    for (const word of rest.match(/[a-zA-Z_:][a-zA-Z0-9_:]*/g) ?? []) if (!PROMQL_WORDS.has(word)) used.push(word);
    assert.ok(used.length > 0, `${where}: reads some metric`);
    for (const name of used) assert.ok(labelsOf.has(name), `${where}: the runtime exposes no ${name}`);
    const available = new Set(used.flatMap((n) => [...labelsOf.get(n)!]));
    for (const label of grouped) assert.ok(available.has(label), `${where}: groups by ${label}, which its metrics lack`);
    for (const m of (legendFormat ?? '').matchAll(/\{\{\s*(\w+)\s*\}\}/g)) {
      assert.ok(grouped.includes(m[1]!) || (grouped.length === 0 && available.has(m[1]!)), `${where}: legend uses {{${m[1]}}}, which the query drops`);
    }
  }
});

const skipPg = await skipWithoutPostgres();

test("the dashboard's SQL panels run against a table the sink created", { skip: skipPg, timeout: 60_000 }, async (t) => {
  const table = uniqueTableName('grafana_sql');
  const work = mkdtempSync(join(tmpdir(), 'mlstream-deploy-sql-'));
  const log = createLogger('silent');
  const sink = await PostgresSink.open(testDatabaseUrl(), table, log);
  const store = new ModelStore(work, builtinRegistry(), log, { watch: false });
  t.after(async () => {
    await sink.close();
    await store.close();
    await withClient((c) => c.query(`DROP TABLE IF EXISTS ${quoteTableName(table)}`));
    rmSync(work, { recursive: true, force: true });
  });
  let stored = 0;
  if (haveSparkFixtures) {
    installIrisPackage(work);
    await store.start();
    const records = irisRecords(120);
    const inputs = records.map((r, i) => ({ topic: 'messages', partition: 0, offset: String(i), key: null, value: Buffer.from(JSON.stringify(r.input)), timestamp: String(Date.now()) }));
    stored = (await sink.write((await processBatch(inputs, store.current(), { maxMessageBytes: 1 << 20, errorRawMaxBytes: 100 })).records)).inserted;
    assert.equal(stored, 120);
  }

  const sqlTargets = targets.filter((x) => x.rawSql !== undefined);
  assert.ok(sqlTargets.length >= 2);
  for (const { panel, rawSql, format } of sqlTargets) {
    assert.match(rawSql!, /\bmlstream_predictions\b/, `${panel} reads the default PG_SINK_TABLE`);
    assert.equal(CONFIG_ENTRIES.pgSinkTable.default, 'mlstream_predictions');
    // Grafana's macros, expanded the way its PostgreSQL datasource does for a one-hour range.
    const sql = rawSql!
      .replace(/\$__timeGroupAlias\((\w+),\s*'1m'\)/g, `to_timestamp(floor(extract(epoch from $1) / 60) * 60) AS "time"`)
      .replace(/\$__timeFilter\((\w+)\)/g, `$1 BETWEEN now() - interval '1 hour' AND now() + interval '1 minute'`)
      .replace(/\bmlstream_predictions\b/g, quoteTableName(table));
    assert.doesNotMatch(sql, /\$__/, `${panel}: a macro this test does not know`);
    const result = await withClient((c) => c.query(sql));
    const columns = result.fields.map((f) => f.name);
    if (format === 'time_series') {
      assert.deepEqual(columns, ['time', 'metric', 'value'], panel);
      assert.equal(result.rows.reduce((s, r) => s + Number(r.value), 0), stored, `${panel}: counts every stored row`);
    } else {
      assert.equal(columns[0], 'time', panel);
      assert.equal(result.rows.length, Math.min(50, stored), panel);
    }
  }
});
