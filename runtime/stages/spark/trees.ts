import type { StageFactory } from '../../pipeline/stage.js';

export const treeStages: Record<string, StageFactory> = {};
