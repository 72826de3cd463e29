import { StageRegistry } from '../pipeline/registry.js';
import { registerSparkStages } from './spark/index.js';

/** A registry holding every built-in stage class. */
export function builtinRegistry(): StageRegistry {
  const registry = new StageRegistry();
  registerSparkStages(registry);
  return registry;
}
