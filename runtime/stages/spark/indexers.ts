import type { StageFactory } from '../../pipeline/stage.js';

export const indexerStages: Record<string, StageFactory> = {};
