/**
 * BisectingKMeansModel: the cluster of a point is found by walking the saved clustering
 * tree from the root, at each node stepping into the child whose centre costs least
 * (squared Euclidean distance, or cosine distance), the first on a tie; the leaf's index is
 * the prediction. It is not always the nearest leaf centre, and Spark does not look for it.
 *
 * Layout: the ml stage saves its mllib model under `data/`: `data/metadata/part-00000`
 * (JSON: class, version, rootId, and distanceMeasure since format 2.0) and `data/data/`
 * (parquet rows: index, size, center, norm, cost, height, children). Leaves carry the
 * cluster indices 0..k−1; inner nodes carry negative indices.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { vectorSize } from '../../pipeline/frame.js';
import type { StageContext, StageFactory } from '../../pipeline/stage.js';
import { cosineDistance, fastSquaredDistance, type Point } from './clustering.js';
import { norm } from './linalg.js';
import { failRow } from './stage-helpers.js';
import { vectorFromStruct } from './udt.js';

const ML = 'org.apache.spark.ml.clustering.';

interface TreeNode {
  readonly index: number;
  readonly center: Point;
  readonly children: readonly TreeNode[];
}

/** The mllib model's own metadata line, which holds the root's index. */
async function readTreeMetadata(ctx: StageContext): Promise<{ rootId: number; distanceMeasure?: string }> {
  const dir = join(ctx.dir, 'data', 'metadata');
  const part = (await readdir(dir)).filter((n) => n.startsWith('part-')).sort()[0];
  if (!part) throw new Error('data/metadata/ has no part file');
  const meta = JSON.parse((await readFile(join(dir, part), 'utf8')).split('\n')[0]!) as Record<string, unknown>;
  const rootId = Number(meta.rootId);
  if (!Number.isInteger(rootId)) throw new Error('data/metadata has no integer rootId');
  return { rootId, ...(typeof meta.distanceMeasure === 'string' ? { distanceMeasure: meta.distanceMeasure } : {}) };
}

function buildTree(rows: Record<string, unknown>[], rootId: number): TreeNode {
  const byIndex = new Map(rows.map((r) => [Number(r.index), r]));
  const build = (index: number, depth: number): TreeNode => {
    const row = byIndex.get(index);
    if (!row) throw new Error(`the clustering tree has no node ${index}`);
    if (depth > rows.length) throw new Error('the clustering tree has a cycle');
    const vector = vectorFromStruct(row.center);
    const children = ((row.children as number[] | null) ?? []).map((c) => build(Number(c), depth + 1));
    return { index, center: { vector, norm: Number(row.norm) }, children };
  };
  return build(rootId, 0);
}

const bisectingKMeans: StageFactory = async (ctx) => {
  const uid = ctx.metadata.uid;
  const { rootId, distanceMeasure } = await readTreeMetadata(ctx);
  const measure = distanceMeasure ?? ctx.params.string('distanceMeasure', 'euclidean');
  if (measure !== 'euclidean' && measure !== 'cosine') throw new Error(`unknown distanceMeasure "${measure}"`);
  const cost = measure === 'cosine' ? cosineDistance : fastSquaredDistance;
  const root = buildTree(await ctx.readData(join('data', 'data')), rootId);
  const numFeatures = vectorSize(root.center.vector);
  const featuresCol = ctx.params.string('featuresCol', 'features');
  const predictionCol = ctx.params.string('predictionCol', 'prediction');
  const predict = (point: Point): number => {
    let node = root;
    while (node.children.length > 0) {
      let best = node.children[0]!;
      let bestCost = cost(best.center, point);
      for (let c = 1; c < node.children.length; c++) {
        const d = cost(node.children[c]!.center, point);
        if (d < bestCost) {
          bestCost = d;
          best = node.children[c]!;
        }
      }
      node = best;
    }
    return node.index;
  };
  return {
    uid,
    className: ctx.metadata.class,
    inputCols: [featuresCol],
    outputCols: [predictionCol],
    modelOutputs: { predictionCol },
    transform(frame) {
      const features = frame.getTyped(featuresCol, 'vector').values;
      const out = new Float64Array(frame.length);
      for (let i = 0; i < frame.length; i++) {
        const v = features[i];
        if (!v) failRow(frame, i, `BisectingKMeansModel: features column "${featuresCol}" is null`, uid);
        else if (vectorSize(v) !== numFeatures) {
          failRow(frame, i, `BisectingKMeansModel: features vector has size ${vectorSize(v)}, the model expects ${numFeatures}`, uid);
        } else {
          const point: Point = { vector: v, norm: norm(v, 2) };
          if (measure === 'cosine' && point.norm === 0) failRow(frame, i, 'BisectingKMeansModel: cosine distance is not defined for a zero vector', uid);
          else out[i] = predict(point);
        }
      }
      frame.set(predictionCol, { type: 'double', values: out });
    },
  };
};

export const bisectingKMeansStages: Record<string, StageFactory> = {
  [ML + 'BisectingKMeansModel']: bisectingKMeans,
};
