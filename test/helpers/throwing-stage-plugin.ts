/**
 * A plugin (loaded with `--plugin`) whose stage class, `mlstream.test.ThrowingStage`,
 * throws a plain Error — not one of the runtime's own — whenever its batch holds a row
 * whose `column` is above `above`: a stand-in for a buggy user stage.
 */
import type { StageRegistry } from '../../runtime/pipeline/registry.js';

export const THROWING_STAGE_CLASS = 'mlstream.test.ThrowingStage';

export function register(registry: StageRegistry): void {
  registry.register(THROWING_STAGE_CLASS, (ctx) => {
    const column = ctx.params.string('column');
    const above = ctx.params.number('above');
    return {
      uid: ctx.metadata.uid,
      className: THROWING_STAGE_CLASS,
      inputCols: [column],
      outputCols: [],
      transform: (frame) => {
        const values = frame.getTyped(column, 'double').values;
        for (let i = 0; i < frame.length; i++) if (values[i]! > above) throw new Error(`refusing ${column} = ${values[i]} (a deliberate bug)`);
      },
    };
  });
}
