import { StageRegistry } from '../pipeline/registry.js';
import { registerSparkStages } from './spark/index.js';
import { remoteStageFactories } from './remote.js';
import { ONNX_STAGE_CLASS, onnxModel } from './onnx.js';

export interface BuiltinOptions {
  /** Hosts remote stages may call (REMOTE_ALLOWED_HOSTS); default loopback. */
  readonly remoteAllowedHosts?: readonly string[];
}

/** A registry holding every built-in stage class. */
export function builtinRegistry(options: BuiltinOptions = {}): StageRegistry {
  const registry = new StageRegistry();
  registerSparkStages(registry);
  for (const [className, factory] of Object.entries(remoteStageFactories(options.remoteAllowedHosts))) registry.register(className, factory);
  registry.register(ONNX_STAGE_CLASS, onnxModel);
  return registry;
}
