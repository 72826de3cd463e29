/**
 * Refusal reasons name files by the absolute paths the loader used; HTTP answers (/status,
 * /events) must not reveal the host's directory layout. A path inside a package is rewritten
 * relative to MODELS_DIR, anchored on the package's own folder name (`iris/stages/2_…`), so
 * the helper needs no knowledge of where MODELS_DIR lies; any other absolute path is masked.
 */

/** Absolute paths as they appear in reasons: up to whitespace, a colon, a quote or a bracket. */
const ABSOLUTE_PATH = /(?<![\w.~-])\/[^\s:'"()[\]]+/g;

/** `reason` with every absolute path made relative to MODELS_DIR (through `packageName`'s folder) or masked. */
export function relativeReason(reason: string, packageName: string): string {
  const anchor = `/${packageName}`;
  return reason.replace(ABSOLUTE_PATH, (path) => {
    const at = path.lastIndexOf(`${anchor}/`);
    if (at !== -1) return path.slice(at + 1);
    if (path.endsWith(anchor)) return packageName;
    return '<path outside MODELS_DIR>';
  });
}

/** A store refusal (`{name, reason, …}`) with its reason made relative. */
export function relativeRefusal<R extends { readonly name: string; readonly reason: string }>(refusal: R): R {
  return { ...refusal, reason: relativeReason(refusal.reason, refusal.name) };
}
