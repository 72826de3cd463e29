import type { Stage } from './stage.js';

/**
 * Chooses, once per package version, where adjacent stages run as one fused stage. A stage
 * offers a fused implementation of itself and its successors (`Stage.fuseWith`) when their
 * params allow it; the offer is taken only when the columns the fused stage no longer writes
 * are read by no later stage and are not among the package's outputs. Everything else keeps
 * the general stages, so fusion changes speed, never results.
 */
export function fuseStages(active: readonly Stage[], outputCols: ReadonlySet<string>): Stage[] {
  const executed: Stage[] = [];
  for (let i = 0; i < active.length; ) {
    const offer = active[i]!.fuseWith?.(active.slice(i + 1));
    if (offer && offer.count >= 2 && i + offer.count <= active.length && dropsOnlyUnused(active, i, offer.count, offer.stage, outputCols)) {
      executed.push(offer.stage);
      i += offer.count;
    } else {
      executed.push(active[i]!);
      i++;
    }
  }
  return executed;
}

function dropsOnlyUnused(active: readonly Stage[], start: number, count: number, fused: Stage, outputCols: ReadonlySet<string>): boolean {
  const written = new Set(fused.outputCols);
  const dropped = active
    .slice(start, start + count)
    .flatMap((s) => s.outputCols)
    .filter((c) => !written.has(c));
  // inputCols lists every column a stage may read, a superset of what columnsFor picks.
  const readLater = new Set(active.slice(start + count).flatMap((s) => s.inputCols));
  return dropped.every((c) => !readLater.has(c) && !outputCols.has(c));
}
