import { readdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { readPredictions } from '../../runtime/engine/outputs.js';
import { loadPackage, type ModelVersion, type PackageConfig } from '../../runtime/packages/package.js';
import { loadSparkObject } from '../../runtime/packages/spark-loader.js';
import { readMetadata } from '../../runtime/packages/spark-format.js';
import { describeErrors } from '../../runtime/packages/validator.js';
import { buildFrame } from '../../runtime/pipeline/input-schema.js';
import { StageRegistry } from '../../runtime/pipeline/registry.js';
import type { Stage } from '../../runtime/pipeline/stage.js';
import { registerSparkStages } from '../../runtime/stages/spark/index.js';
import { fixture, sparkFixturesDir } from '../helpers/fixtures.js';
import { tempDir, writeFixturePackage } from '../helpers/packages.js';
import { compareKnownPredictions, compareKnownVectors, compareWithSpark } from './compare.js';
import { deriveConfig, sampleRecords, sparkOutputsLayout, type SampleRows } from './layout.js';
import { catalogueFolders, isCatalogueFolder, missingClasses } from './pending.js';
import { writeCombinedPackage } from './variants.js';
import { isRejection, type FixtureResult, type FixtureSpec, type Mode, type Outcome, type SyntheticSpec } from './types.js';

/** Records per micro-batch, as the runtime would cut a stream. */
const BATCH = 500;

/** Only the Spark stages: the suite is about them, and it keeps native ONNX out of the process. */
export function sparkRegistry(): StageRegistry {
  const registry = new StageRegistry();
  registerSparkStages(registry);
  return registry;
}

/** Every folder of `spark/`, then those of `spark-catalogue/`. */
export function fixtureFolders(): string[] {
  const spark = readdirSync(sparkFixturesDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
    .map((d) => d.name)
    .sort();
  return [...spark, ...catalogueFolders()];
}

/**
 * Runs one fixture the way the runtime serves it: a copy in a temp folder with its
 * config.json, loaded by loadPackage, records validated and built into frames, outputs read
 * by the same code that writes prediction messages.
 */
export async function runFixture(spec: FixtureSpec, registry = sparkRegistry()): Promise<FixtureResult> {
  const base = spec.variant?.base ?? spec.name;
  if (isCatalogueFolder(base)) {
    const missing = await missingClasses(fixture(base), registry);
    if (missing.length) return pending(spec, base, missing);
  }
  const layout = spec.sample || spec.synthetic || spec.transformer || spec.refusal ? undefined : sparkOutputsLayout(fixture(base), spec.config !== undefined);
  const config = spec.config ?? (layout ? await deriveConfig(fixture(base), layout) : undefined);
  const dir = writeFixturePackage(tempDir('mlstream-conformance-'), base, config ?? { input_schema: { unknown: 'STRING' } });
  try {
    await spec.variant?.build(dir);
    const sparkVersion = (await readMetadata(dir)).sparkVersion ?? '?';
    const start = { name: spec.name, sparkVersion, note: spec.note ?? spec.variant?.what };
    if (!config) return await loadOnly(start, dir, registry);
    if (spec.refusal) return await refused(start, spec.refusal, dir, registry);
    if (spec.transformer) return await transformerOnly(start, spec, config, dir, registry);

    const model = await loadPackage(dir, registry, spec.name);
    try {
      const problems: string[] = [];
      const counts = { stages: model.pipeline.stages.length, activeStages: model.pipeline.active.length };
      if (layout) {
        const { records, outputs, ...compared } = await compareWithSpark(layout, config, (r) => predict(model, r), spec.float32);
        problems.push(...indexToStringAgreement(model, outputs));
        const rejected = rejectedByCode(outputs);
        return { ...start, ...counts, mode: 'spark-outputs', rows: records, rejected, outputs, ...compared, problems: [...compared.problems, ...problems] };
      }
      const { records, labels } = spec.sample ? sampleRecords(dirname(fixture(base)), spec.sample, config) : syntheticRecords(spec.synthetic!);
      const outputs = await predict(model, records);
      const rejected = rejectedByCode(outputs);
      const skipped = rejected.ROW_SKIPPED ?? 0;
      const failed = Object.entries(rejected).filter(([code]) => code !== 'ROW_SKIPPED');
      if (failed.length) {
        const first = outputs.filter(isRejection).find((o) => o.rejected !== 'ROW_SKIPPED');
        problems.push(`rows failed: ${failed.map(([c, n]) => `${n} ${c}`).join(', ')}; first: ${first?.message}`);
      }
      if (skipped !== (spec.skippedRows ?? 0)) problems.push(`${skipped} rows skipped, expected ${spec.skippedRows ?? 0}`);
      problems.push(...indexToStringAgreement(model, outputs));
      const accuracy = labels ? accuracyOf(outputs, labels) : undefined;
      if (accuracy && spec.minAccuracy !== undefined && accuracy.correct < spec.minAccuracy * accuracy.total) {
        problems.push(`accuracy ${(accuracy.correct / accuracy.total).toFixed(4)} is below ${spec.minAccuracy}`);
      }
      const known = spec.synthetic?.spark ? compareKnownPredictions(outputs, spec.synthetic.spark, problems) : {};
      const mode: Mode = spec.sample ? 'sample' : 'synthetic';
      return { ...start, ...counts, mode, rows: records.length, rejected, outputs, problems, ...known, ...(accuracy ? { accuracy } : {}) };
    } finally {
      await model.pipeline.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs records through a loaded package in micro-batches; one outcome per record, in order. */
export async function predict(model: ModelVersion, records: readonly Record<string, unknown>[]): Promise<Outcome[]> {
  const out: Outcome[] = new Array(records.length);
  for (let first = 0; first < records.length; first += BATCH) {
    const batch = records.slice(first, first + BATCH).map((r, k) => ({ id: first + k, ...r }));
    batch.forEach((r, k) => {
      if (!model.validate(r)) throw new Error(`record ${first + k} does not match the input schema: ${describeErrors(model.validate.errors).message}`);
    });
    const frame = await model.pipeline.run(buildFrame(batch, model.fields));
    if (frame.length > 0) {
      const bodies = readPredictions(frame, model);
      frame.rowIds.forEach((row, i) => (out[first + row] = bodies[i]!));
    }
    for (const r of frame.rejections) out[first + r.row] = { rejected: r.code, message: r.message };
  }
  return out;
}

function syntheticRecords(synthetic: SyntheticSpec): SampleRows {
  const rows = Array.from({ length: synthetic.rows }, (_, i) => i);
  return { records: rows.map(synthetic.record), ...(synthetic.label ? { labels: rows.map(synthetic.label) } : {}) };
}

type Start = Pick<FixtureResult, 'name' | 'sparkVersion' | 'note'>;

async function refused(start: Start, expected: RegExp, dir: string, registry: StageRegistry): Promise<FixtureResult> {
  const stages = ((await readMetadata(dir)).paramMap?.stageUids as unknown[] | undefined)?.length ?? 1;
  const result = { ...start, mode: 'refused' as const, stages, activeStages: 0, rows: 0, rejected: {}, outputs: [] };
  try {
    const model = await loadPackage(dir, registry, start.name);
    await model.pipeline.dispose();
    return { ...result, problems: [`loadPackage accepted the package; expected a refusal matching ${expected}`] };
  } catch (e) {
    const message = withoutPath((e as Error).message, dir);
    return { ...result, message, problems: expected.test(message) ? [] : [`refused with "${message}", expected ${expected}`] };
  }
}

/**
 * A pipeline of feature stages only serves as a package whose prediction is its last
 * column (a vector, as an array); a separately saved model that takes that output (a
 * two-part package) is fed with it, and the two are also run as one PipelineModel.
 */
async function transformerOnly(start: Start, spec: FixtureSpec, config: PackageConfig, dir: string, registry: StageRegistry): Promise<FixtureResult> {
  const { output, size, spark, chainTo } = spec.transformer!;
  const problems: string[] = [];
  let message: string | undefined;
  const model = await loadPackage(dir, registry, spec.name);
  const stages = model.pipeline.stages;
  const pipeline = model.pipeline;
  const records = syntheticRecords(spec.synthetic!).records;
  let vectors: (number[] | null)[];
  try {
    const predicted = await predict(model, records);
    const failed = predicted.filter(isRejection);
    if (failed.length) problems.push(`${failed.length} rows rejected; first: ${failed[0]!.message}`);
    vectors = predicted.map((o) => (o && !isRejection(o) && Array.isArray(o.prediction) ? (o.prediction as number[]) : null));
    message = `served as a package of feature stages: "prediction" is its "${output}" column`;
  } finally {
    await model.pipeline.dispose();
  }
  vectors.forEach((v, i) => {
    if (!v || v.length !== size) problems.push(`row ${i}: ${output} has ${v?.length ?? 'no'} values, expected ${size}`);
  });
  const known = spark ? compareKnownVectors(vectors, spark, problems) : {};
  let outputs: unknown[] = vectors;
  if (chainTo) {
    const chainDir = writeFixturePackage(tempDir('mlstream-conformance-'), chainTo.fixture, chainTo.config);
    try {
      const next = await loadPackage(chainDir, registry, chainTo.fixture);
      try {
        const chained = await predict(next, vectors.map((v) => ({ [output]: v })));
        const failed = chained.filter(isRejection);
        if (failed.length) problems.push(`${failed.length} chained rows failed; first: ${failed[0]!.message}`);
        outputs = vectors.map((vector, i) => ({ vector, chained: chained[i] }));
        message = `${message} Output fed to ${chainTo.fixture}: ${chained.length - failed.length} predictions.`;
        const combined = await predictCombined([spec.name, chainTo.fixture], { ...chainTo.config, input_schema: config.input_schema }, records.map((r, i) => ({ id: i, ...r })), registry);
        if (isDeepStrictEqual(combined, chained)) message += ' Both saved as one PipelineModel: the same predictions.';
        else problems.push('the two parts saved as stages of one PipelineModel predict differently from the chain');
      } finally {
        await next.pipeline.dispose();
      }
    } finally {
      rmSync(chainDir, { recursive: true, force: true });
    }
  }
  const counts = { stages: stages.length, activeStages: pipeline.active.length, rows: records.length };
  return { ...start, mode: 'transformer', ...counts, rejected: {}, outputs, message, problems, ...known };
}

/** The fixtures as stages of one PipelineModel package, run on the records. */
async function predictCombined(fixtures: string[], config: PackageConfig, records: Record<string, unknown>[], registry: StageRegistry): Promise<Outcome[]> {
  const dir = writeCombinedPackage(tempDir('mlstream-conformance-'), fixtures, config);
  try {
    const model = await loadPackage(dir, registry, fixtures.join('+'));
    try {
      return await predict(model, records.map(({ id: _id, ...r }) => r));
    } finally {
      await model.pipeline.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function pending(spec: FixtureSpec, base: string, missing: readonly string[]): Promise<FixtureResult> {
  const sparkVersion = (await readMetadata(fixture(base))).sparkVersion ?? '?';
  const message = `pending: ${missing.map((c) => c.slice(c.lastIndexOf('.') + 1)).join(', ')} not built in yet`;
  return { name: spec.name, sparkVersion, mode: 'pending', stages: 0, activeStages: 0, rows: 0, rejected: {}, outputs: [], message, problems: [] };
}

/** A folder with no entry in the table and no Spark outputs: its stages must load at least. */
async function loadOnly(start: Start, dir: string, registry: StageRegistry): Promise<FixtureResult> {
  const result = { ...start, mode: 'loaded' as const, activeStages: 0, rows: 0, rejected: {}, outputs: [] };
  try {
    const stages = await loadSparkObject(dir, registry);
    const inputs = freeInputs(stages);
    const message = `no entry in test/conformance/fixtures.ts: ${stages.length} stages load; inputs ${inputs.join(', ')} not run`;
    return { ...result, stages: stages.length, problems: [], message };
  } catch (e) {
    return { ...result, stages: 0, problems: [`does not load: ${withoutPath((e as Error).message, dir)}`] };
  }
}

/** Columns a pipeline reads that none of its stages writes: what records must carry. */
function freeInputs(stages: readonly Stage[]): string[] {
  const written = new Set<string>();
  const free = new Set<string>();
  for (const s of stages) {
    for (const c of s.inputCols) if (!written.has(c)) free.add(c);
    for (const c of s.outputCols) written.add(c);
  }
  return [...free];
}

/** Messages name the temp copy; the table should name the package instead. */
function withoutPath(message: string, dir: string): string {
  return message.split(dir).join('<package>');
}

function rejectedByCode(outputs: readonly Outcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of outputs) if (isRejection(o)) counts[o.rejected] = (counts[o.rejected] ?? 0) + 1;
  return counts;
}

function accuracyOf(outputs: readonly Outcome[], labels: readonly (string | undefined)[]): { correct: number; total: number } {
  let correct = 0;
  let total = 0;
  outputs.forEach((o, i) => {
    const label = labels[i];
    if (label === undefined || isRejection(o)) return;
    total++;
    if (String(o.prediction) === label) correct++;
  });
  return { correct, total };
}

/**
 * An IndexToString after the model reads the same label list as output_labels, so its
 * string must equal the mapped prediction on every row.
 */
function indexToStringAgreement(model: ModelVersion, outputs: readonly Outcome[]): string[] {
  const predictionCol = model.pipeline.outputs?.predictionCol;
  const stage = model.pipeline.active.find((s) => s.className.endsWith('.IndexToString') && s.inputCols[0] === predictionCol);
  if (!stage || model.labels.size === 0) return [];
  const col = stage.outputCols[0]!;
  const bad = outputs.filter((o) => !isRejection(o) && o[col] !== o.prediction).length;
  return bad ? [`${bad} rows where ${col} (IndexToString) differs from the mapped prediction`] : [];
}
