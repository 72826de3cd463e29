import { vectorAt, vectorSize, type Vector } from '../../pipeline/frame.js';
import type { StageContext } from '../../pipeline/stage.js';
import { RowError, type ExtraOutput } from './predictors.js';

/**
 * Decision trees as Spark saves them (one row per node: id, prediction, impurityStats,
 * leftChild, rightChild, split{featureIndex, leftCategoriesOrThreshold, numCategories}),
 * packed at load into flat typed arrays shared by all trees of an ensemble.
 */

const LEAF = 0;
const CONTINUOUS = 1;
/** Categorical split testing membership in its left categories. */
const CATEGORIES_LEFT = 2;
/** Categorical split testing membership in the complement (Spark's CategoricalSplit with isLeft false). */
const CATEGORIES_RIGHT = 3;

interface NodeRow {
  id: number;
  prediction: number;
  impurityStats: number[];
  leftChild: number;
  rightChild: number;
  split: { featureIndex: number; leftCategoriesOrThreshold: number[]; numCategories: number };
}

function nodeRow(raw: unknown): NodeRow {
  const r = raw as Record<string, unknown>;
  const split = (r.split ?? {}) as Record<string, unknown>;
  return {
    id: Number(r.id),
    prediction: Number(r.prediction),
    impurityStats: Array.from((r.impurityStats as ArrayLike<unknown> | null) ?? [], Number),
    leftChild: Number(r.leftChild),
    rightChild: Number(r.rightChild),
    split: {
      featureIndex: Number(split.featureIndex),
      leftCategoriesOrThreshold: Array.from((split.leftCategoriesOrThreshold as ArrayLike<unknown> | null) ?? [], Number),
      numCategories: Number(split.numCategories),
    },
  };
}

export class FlatForest {
  readonly roots: Int32Array;
  readonly kind: Uint8Array;
  readonly feature: Int32Array;
  readonly threshold: Float64Array;
  readonly left: Int32Array;
  readonly right: Int32Array;
  readonly prediction: Float64Array;
  /** Leaf position among its tree's leaves in pre-order (Spark's leafCol value). */
  readonly leafIndex: Int32Array;
  private readonly catStart: Int32Array;
  private readonly cats: Float64Array;
  private readonly statsStart: Int32Array;
  private readonly stats: Float64Array;
  /** Largest feature index any split reads (-1 when every tree is a single leaf). */
  readonly maxFeature: number;

  /** `trees[t]` holds the node rows of tree t, in any order. */
  constructor(trees: readonly (readonly unknown[])[]) {
    const nodes: NodeRow[] = [];
    const roots: number[] = [];
    for (const [t, rawRows] of trees.entries()) {
      const rows = rawRows.map(nodeRow).sort((a, b) => a.id - b.id);
      if (rows.length === 0) throw new Error(`tree ${t} has no nodes`);
      rows.forEach((r, i) => {
        if (r.id !== i) throw new Error(`tree ${t}: node ids are not 0..${rows.length - 1} (found ${r.id} at position ${i})`);
      });
      roots.push(nodes.length);
      for (const r of rows) {
        const base = roots[roots.length - 1]!;
        const internal = r.leftChild !== -1;
        for (const c of internal ? [r.leftChild, r.rightChild] : []) {
          if (!(c > r.id && c < rows.length)) throw new Error(`tree ${t}: node ${r.id} has child ${c} outside the tree`);
        }
        nodes.push(internal ? { ...r, leftChild: base + r.leftChild, rightChild: base + r.rightChild } : r);
      }
    }
    const n = nodes.length;
    this.roots = Int32Array.from(roots);
    this.kind = new Uint8Array(n);
    this.feature = new Int32Array(n).fill(-1);
    this.threshold = new Float64Array(n);
    this.left = new Int32Array(n).fill(-1);
    this.right = new Int32Array(n).fill(-1);
    this.prediction = new Float64Array(n);
    this.leafIndex = new Int32Array(n).fill(-1);
    this.catStart = new Int32Array(n + 1);
    this.statsStart = new Int32Array(n + 1);
    const cats: number[] = [];
    const stats: number[] = [];
    let maxFeature = -1;
    nodes.forEach((r, i) => {
      this.prediction[i] = r.prediction;
      stats.push(...r.impurityStats);
      this.statsStart[i + 1] = stats.length;
      if (r.leftChild !== -1) {
        this.left[i] = r.leftChild;
        this.right[i] = r.rightChild;
        this.feature[i] = r.split.featureIndex;
        maxFeature = Math.max(maxFeature, r.split.featureIndex);
        this.setSplit(i, r.split, cats);
      }
      this.catStart[i + 1] = cats.length;
    });
    this.cats = Float64Array.from(cats);
    this.stats = Float64Array.from(stats);
    this.maxFeature = maxFeature;
    for (const root of this.roots) this.numberLeaves(root);
  }

  private setSplit(i: number, split: NodeRow['split'], cats: number[]): void {
    const { numCategories, leftCategoriesOrThreshold: values } = split;
    if (numCategories === -1) {
      if (values.length !== 1) throw new Error(`continuous split with ${values.length} thresholds`);
      this.kind[i] = CONTINUOUS;
      this.threshold[i] = values[0]!;
      return;
    }
    // Spark keeps whichever of the left set and its complement is smaller; the choice
    // decides where a value outside 0..numCategories-1 goes.
    if (values.length <= Math.floor(numCategories / 2)) {
      this.kind[i] = CATEGORIES_LEFT;
      cats.push(...values);
    } else {
      this.kind[i] = CATEGORIES_RIGHT;
      for (let c = 0; c < numCategories; c++) if (!values.includes(c)) cats.push(c);
    }
  }

  private numberLeaves(root: number): void {
    let next = 0;
    const stack = [root];
    while (stack.length) {
      const node = stack.pop()!;
      if (this.kind[node] === LEAF) this.leafIndex[node] = next++;
      else stack.push(this.right[node]!, this.left[node]!);
    }
  }

  get numTrees(): number {
    return this.roots.length;
  }

  /** The leaf that tree t sends the features to. */
  leafOf(t: number, x: Vector): number {
    const dense = x instanceof Float64Array ? x : undefined;
    let node = this.roots[t]!;
    for (;;) {
      const kind = this.kind[node];
      if (kind === LEAF) return node;
      const f = this.feature[node]!;
      const v = dense ? dense[f]! : vectorAt(x, f);
      let goLeft: boolean;
      if (kind === CONTINUOUS) goLeft = v <= this.threshold[node]!;
      else {
        let found = false;
        for (let k = this.catStart[node]!; k < this.catStart[node + 1]!; k++) {
          if (this.cats[k] === v) {
            found = true;
            break;
          }
        }
        goLeft = kind === CATEGORIES_LEFT ? found : !found;
      }
      node = goLeft ? this.left[node]! : this.right[node]!;
    }
  }

  /** A node's impurity statistics (class counts for classifiers; count, sum, sum of squares for variance). */
  statsOf(node: number): Float64Array {
    return this.stats.subarray(this.statsStart[node]!, this.statsStart[node + 1]!);
  }

  /** Classifier leaves carry one count per class; checked once at load so scoring never meets a short one. */
  requireLeafStats(numClasses: number): void {
    for (let node = 0; node < this.kind.length; node++) {
      const n = this.statsStart[node + 1]! - this.statsStart[node]!;
      if (this.kind[node] === LEAF && n !== numClasses) throw new Error(`a leaf has ${n} class counts for ${numClasses} classes`);
    }
  }

  /** Spark reads features by index without checking the size; a too-short vector fails at the split. */
  checkFeatures(x: Vector): void {
    const size = vectorSize(x);
    if (size <= this.maxFeature) throw new RowError(`features vector has size ${size}, the trees read feature ${this.maxFeature}`);
  }
}

/** leafCol for a single tree (a double) or an ensemble (a vector with one leaf index per tree). */
export function leafOutput(col: string, forest: FlatForest, single: boolean): ExtraOutput[] {
  if (!col) return [];
  if (single) return [{ col, type: 'double', compute: (x) => forest.leafIndex[forest.leafOf(0, x)]! }];
  return [
    {
      col,
      type: 'vector',
      size: forest.numTrees,
      compute(x) {
        const out = new Float64Array(forest.numTrees);
        for (let t = 0; t < out.length; t++) out[t] = forest.leafIndex[forest.leafOf(t, x)]!;
        return out;
      },
    },
  ];
}

/** A top-level metadata key such as numClasses / numFeatures / numTrees. */
export function metadataInt(ctx: StageContext, key: string): number {
  const v = ctx.metadata[key];
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new Error(`metadata has no integer "${key}"`);
  return v;
}

export function leafCol(ctx: StageContext): string {
  return ctx.params.optionalString('leafCol') ?? '';
}
