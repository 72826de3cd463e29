import type { StageFactory } from '../../pipeline/stage.js';

export const linearStages: Record<string, StageFactory> = {};
