import type { StageFactory } from '../../pipeline/stage.js';

export const neuralStages: Record<string, StageFactory> = {};
