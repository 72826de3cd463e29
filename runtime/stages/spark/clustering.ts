import type { StageFactory } from '../../pipeline/stage.js';

export const clusteringStages: Record<string, StageFactory> = {};
