import type { StageFactory } from '../../pipeline/stage.js';

export const bayesStages: Record<string, StageFactory> = {};
