/**
 * What one package load may touch, and for how long. Every path the loader builds from a
 * package's own metadata (stage folders from `stageUids`, nested pipelines, data and model
 * files) goes through a scope: it must resolve, after symlinks, inside the package's real
 * folder; nested saved objects may not contain themselves or nest without end; and the
 * load stops at the next file or stage once its AbortSignal fires (the store bounds each
 * load in time that way). Refusals name the path as the package writes it, never what a
 * file holds.
 */
import { realpath } from 'node:fs/promises';
import { relative, sep } from 'node:path';
import { PackageError } from './errors.js';

/** Nested saved objects deeper than this are refused (real Spark exports nest one or two). */
export const MAX_OBJECT_NESTING = 8;

export class LoadScope {
  private constructor(
    readonly root: string,
    readonly signal: AbortSignal | undefined,
    /** Real paths of the saved objects being loaded, outermost first. */
    private readonly chain: readonly string[],
  ) {}

  /** A scope rooted at the package folder `dir` (resolved through symlinks). */
  static async open(dir: string, signal?: AbortSignal): Promise<LoadScope> {
    const root = await realpath(dir).catch(() => {
      throw new PackageError('package folder does not exist', dir);
    });
    return new LoadScope(root, signal, [root]);
  }

  /** The real path of `path`; refused when it leads outside the package. Missing paths resolve to null. */
  async inside(path: string): Promise<string | null> {
    this.checkpoint(path);
    let real: string;
    try {
      real = await realpath(path);
    } catch {
      return null;
    }
    if (real !== this.root && !real.startsWith(this.root + sep)) throw new PackageError('resolves outside the package', path);
    return real;
  }

  /** The scope for a nested saved object in `dir`: refused when it is one of its own ancestors or nests too deep. */
  async enter(dir: string): Promise<LoadScope> {
    const real = await this.inside(dir);
    if (real === null) throw new PackageError('folder is missing', dir);
    if (this.chain.includes(real)) {
      const outer = relative(this.root, real) || '.';
      throw new PackageError(`a stage folder leads back to a saved object that contains it (${outer}), which would load forever`, dir);
    }
    if (this.chain.length > MAX_OBJECT_NESTING) throw new PackageError(`saved objects nested deeper than ${MAX_OBJECT_NESTING}`, dir);
    return new LoadScope(this.root, this.signal, [...this.chain, real]);
  }

  /** Stops the load when its signal has fired; called between files and stages. */
  checkpoint(where: string): void {
    if (!this.signal?.aborted) return;
    const reason = this.signal.reason instanceof Error ? this.signal.reason.message : String(this.signal.reason ?? 'aborted');
    throw new PackageError(`loading stopped: ${reason}`, where);
  }
}

/**
 * A stage uid becomes a folder name (`stages/<i>_<uid>`): one holding a path separator,
 * `..` or NUL could name a folder anywhere, so it refuses the package before any lookup.
 */
export function checkStageUid(uid: string, index: number, file: string): void {
  if (uid.length === 0 || /[/\\\0]/.test(uid) || uid.includes('..')) {
    throw new PackageError(`stage ${index}'s uid ${JSON.stringify(uid)} is not a plain name (no "/", "\\", ".." or NUL allowed)`, file);
  }
}
