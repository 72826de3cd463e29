/**
 * A plugin (loaded with `--plugin`) whose one stage class, `mlstream.test.SlowStage`, waits
 * `delayMs` per batch without blocking the event loop — a stand-in for a remote model
 * server or an inference worker thread. Tests append it to a real package to make slices slow.
 */
import type { StageRegistry } from '../../runtime/pipeline/registry.js';

export const SLOW_STAGE_CLASS = 'mlstream.test.SlowStage';

export function register(registry: StageRegistry): void {
  registry.register(SLOW_STAGE_CLASS, (ctx) => {
    const delayMs = ctx.params.number('delayMs');
    return {
      uid: ctx.metadata.uid,
      className: SLOW_STAGE_CLASS,
      inputCols: [],
      outputCols: [],
      transform: () => new Promise<void>((resolve) => setTimeout(resolve, delayMs)),
    };
  });
}
