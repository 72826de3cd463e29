// The edit step the patch-*.mjs scripts share: each `[from, to]` pair replaces `from`, which
// must occur exactly once in the file (otherwise the librdkafka source is not the one the
// patch was written for, and the process exits 1 naming the file, so build.sh stops).
import { readFileSync, writeFileSync } from 'node:fs';

export function patchFile(path, edits, name) {
  let source = readFileSync(path, 'utf8');
  for (const [from, to] of edits) {
    const at = source.indexOf(from);
    if (at < 0 || source.indexOf(from, at + 1) >= 0) {
      process.stderr.write(`${name}: expected code not found exactly once in ${path}:\n${from}\n`);
      process.exit(1);
    }
    source = source.slice(0, at) + to + source.slice(at + from.length);
  }
  writeFileSync(path, source);
}
