import { lstat, readdir, realpath } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { PackageError } from './errors.js';

/** Limits that refuse an absurd package before anything in it is read into memory. */
export const PACKAGE_LIMITS = {
  maxFiles: 20_000,
  maxTotalBytes: 2 * 1024 * 1024 * 1024,
  maxDepth: 32,
} as const;

/**
 * Walks a package folder before it is loaded: every path must stay inside it (a symlink
 * may point only within the package), and the file count and total size are bounded.
 */
export async function checkPackageTree(dir: string, signal?: AbortSignal): Promise<void> {
  const root = await realpath(dir).catch(() => {
    throw new PackageError('package folder does not exist', dir);
  });
  let files = 0;
  let bytes = 0;
  const walk = async (path: string, depth: number): Promise<void> => {
    if (depth > PACKAGE_LIMITS.maxDepth) throw new PackageError(`folders nested deeper than ${PACKAGE_LIMITS.maxDepth}`, path);
    if (signal?.aborted) throw new PackageError('loading stopped while listing the package', path);
    for (const d of await readdir(path, { withFileTypes: true })) {
      const child = join(path, d.name);
      if (d.isSymbolicLink()) {
        const target = await realpath(child).catch(() => null);
        if (target === null) throw new PackageError('symbolic link to nothing', child);
        if (target !== root && !target.startsWith(root + sep)) throw new PackageError('symbolic link leads outside the package', child);
      }
      const info = await lstat(child);
      if (info.isDirectory()) await walk(child, depth + 1);
      else {
        files++;
        bytes += info.size;
        if (files > PACKAGE_LIMITS.maxFiles) throw new PackageError(`more than ${PACKAGE_LIMITS.maxFiles} files`, dir);
        if (bytes > PACKAGE_LIMITS.maxTotalBytes) throw new PackageError(`more than ${PACKAGE_LIMITS.maxTotalBytes} bytes in all`, child);
      }
    }
  };
  await walk(root, 0);
}
