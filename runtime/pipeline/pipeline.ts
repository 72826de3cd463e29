import type { AttributeSchema, ColumnAttributes } from './attributes.js';
import { Frame, PipelineError } from './frame.js';
import { fuseStages } from './fusion.js';
import type { ModelOutputs, Stage } from './stage.js';
import { PackageError } from '../packages/errors.js';

/**
 * A pipeline bound to an input schema: stages that do nothing for these inputs (a label
 * indexer whose column is absent) are dropped once, at load, and every stage's inputs are
 * checked to come from the input schema or an earlier stage. Adjacent stages whose params
 * allow it then run fused (pipeline/fusion.ts): `active` is the stages as saved, `executed`
 * what runs.
 */
export class Pipeline {
  readonly active: readonly Stage[];
  readonly outputs: ModelOutputs | undefined;
  /** Columns produced by stages after the last model stage (e.g. IndexToString's string). */
  readonly derivedCols: readonly string[];
  /**
   * For a pipeline of feature stages only (a Word2Vec model, a saved preprocessing
   * pipeline): the column its last stage writes, which becomes the `prediction`.
   */
  readonly featureCol: string | undefined;
  /** Spark's ML attributes of the columns after the last stage (attributes.ts). */
  readonly attributes: AttributeSchema;
  /** What run() executes: `active`, with fusable runs of stages replaced by their fused stage. */
  readonly executed: readonly Stage[];

  /** `inputs`: the input schema's columns, as Spark would see them (attributes.ts inputAttributes). */
  constructor(
    readonly stages: readonly Stage[],
    inputCols: readonly string[],
    inputs: AttributeSchema = new Map(),
    options: { readonly fuse?: boolean } = {},
  ) {
    const available = new Set(inputCols);
    const active: Stage[] = [];
    const written: (readonly string[])[] = [];
    const attributes = new Map<string, ColumnAttributes>(inputs);
    for (const stage of stages) {
      if (stage.skips?.(available)) continue;
      const columns = stage.columnsFor?.(available) ?? stage;
      const missing = columns.inputCols.filter((c) => !available.has(c));
      if (missing.length) {
        throw new PackageError(
          `stage ${stage.uid} (${stage.className}) reads ${missing.map((c) => `"${c}"`).join(', ')}, ` +
            `which neither the input schema nor an earlier stage provides (available: ${[...available].join(', ')})`,
        );
      }
      const produced = stage.attributes?.(attributes);
      for (const c of columns.outputCols) {
        available.add(c);
        attributes.delete(c);
      }
      for (const [c, a] of produced ?? []) if (columns.outputCols.includes(c) || columns.inputCols.includes(c)) attributes.set(c, a);
      active.push(stage);
      written.push(columns.outputCols);
    }
    this.active = active;
    this.attributes = attributes;
    let lastModel = -1;
    active.forEach((s, i) => {
      if (s.modelOutputs) lastModel = i;
    });
    this.outputs = lastModel >= 0 ? active[lastModel]!.modelOutputs : undefined;
    this.derivedCols = lastModel >= 0 ? written.slice(lastModel + 1).flat() : [];
    this.featureCol = lastModel < 0 ? written.at(-1)?.at(-1) : undefined;
    const o = this.outputs;
    const kept = [o?.predictionCol, o?.probabilityCol, o?.rawPredictionCol, this.featureCol, ...this.derivedCols];
    this.executed = options.fuse === false ? active : fuseStages(active, new Set(kept.filter((c) => c !== undefined)));
  }

  /** Runs every executed stage; `timings`, when given, receives each stage's milliseconds by uid. */
  async run(frame: Frame, timings?: Map<string, number>): Promise<Frame> {
    for (const stage of this.executed) {
      const started = timings ? performance.now() : 0;
      try {
        await stage.transform(frame);
        if (timings) timings.set(stage.uid, performance.now() - started);
      } catch (e) {
        throw new StageFailure(stage, e);
      }
      frame.compact();
      if (frame.length === 0) break;
    }
    return frame;
  }

  async dispose(): Promise<void> {
    for (const s of this.stages) await s.dispose?.();
  }
}

/** Any throw inside a stage, wrapped so the engine can name the stage in the records it fails. */
export class StageFailure extends PipelineError {
  override name = 'StageFailure';
  readonly stage: string;
  constructor(stage: Stage, cause: unknown) {
    super(`${stage.uid} (${stage.className}): ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.stage = stage.uid;
  }
}
