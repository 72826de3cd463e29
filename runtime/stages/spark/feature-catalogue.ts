import type { StageFactory } from '../../pipeline/stage.js';
import { featureHasherStages } from './feature-hasher.js';
import { legacyOneHotStages } from './legacy-one-hot.js';
import { lshStages } from './lsh.js';
import { robustScalerStages } from './robust-scaler.js';
import { selectorStages } from './selectors.js';
import { targetEncoderStages } from './target-encoder.js';
import { vectorTransformStages } from './vector-transforms.js';

/**
 * The feature classes added for the whole-catalogue issue (17b): signal and polynomial
 * transforms, hashing, robust scaling, the 3.1+ selectors, target encoding, the LSH
 * models and the 2.x OneHotEncoder transformer, one family per file.
 */
export const catalogueFeatureStages: Record<string, StageFactory> = {
  ...vectorTransformStages,
  ...featureHasherStages,
  ...robustScalerStages,
  ...selectorStages,
  ...targetEncoderStages,
  ...lshStages,
  ...legacyOneHotStages,
};
