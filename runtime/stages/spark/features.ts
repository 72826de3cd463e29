import type { StageFactory } from '../../pipeline/stage.js';

export const featureStages: Record<string, StageFactory> = {};
