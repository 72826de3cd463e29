import { StageRegistry } from '../pipeline/registry.js';
import { registerSparkStages } from './spark/index.js';
import { remoteStages } from './remote.js';
import { ONNX_STAGE_CLASS, onnxModel } from './onnx.js';

/** A registry holding every built-in stage class. */
export function builtinRegistry(): StageRegistry {
  const registry = new StageRegistry();
  registerSparkStages(registry);
  for (const [className, factory] of Object.entries(remoteStages)) registry.register(className, factory);
  registry.register(ONNX_STAGE_CLASS, onnxModel);
  return registry;
}
