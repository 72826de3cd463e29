import type { StageRegistry } from '../../pipeline/registry.js';
import type { StageFactory } from '../../pipeline/stage.js';
import { bayesStages } from './bayes.js';
import { bisectingKMeansStages } from './bisecting-kmeans.js';
import { factorizationMachineStages } from './factorization-machines.js';
import { clusteringStages } from './clustering.js';
import { catalogueFeatureStages } from './feature-catalogue.js';
import { featureStages } from './features.js';
import { formulaStages } from './formula.js';
import { fpmStages } from './fpm.js';
import { gaussianMixtureStages } from './gaussian-mixture.js';
import { indexerStages } from './indexers.js';
import { isotonicStages } from './isotonic.js';
import { ldaStages } from './lda.js';
import { linearStages } from './linear.js';
import { neuralStages } from './neural.js';
import { oneVsRestStages } from './one-vs-rest.js';
import { sqlStages } from './sql-transformer.js';
import { slicingStages } from './slicing.js';
import { recommendationStages } from './recommendation.js';
import { survivalStages } from './survival.js';
import { textStages } from './text.js';
import { treeStages } from './trees.js';
import { tuningStages } from './tuning.js';

/** Every built-in Spark stage family, by fully qualified JVM class name. */
const families: Record<string, StageFactory>[] = [
  textStages,
  indexerStages,
  featureStages,
  linearStages,
  bayesStages,
  treeStages,
  clusteringStages,
  neuralStages,
  catalogueFeatureStages,
  tuningStages,
  formulaStages,
  sqlStages,
  slicingStages,
  oneVsRestStages,
  isotonicStages,
  recommendationStages,
  fpmStages,
  factorizationMachineStages,
  survivalStages,
  gaussianMixtureStages,
  bisectingKMeansStages,
  ldaStages,
];

export function registerSparkStages(registry: StageRegistry): void {
  for (const family of families) {
    for (const [className, factory] of Object.entries(family)) registry.register(className, factory);
  }
}
