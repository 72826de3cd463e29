// `node scripts/bundle.mjs OUT` (run by scripts/build.sh after tsc): replaces each entry point of
// the compiled runtime in OUT with one file holding it and every module it imports, so a start
// reads, resolves and links one module instead of some 400 (the runtime's own ~120 and its
// dependencies' CommonJS files). Node's module loader was half of the time from spawning
// `mlstream serve` to its first prediction (docs/performance.md, "Start-up").
//
// Each bundle is written over its entry, and every `import.meta.url` inside it is rewritten to
// the URL its module had in the unbundled tree, so the paths the runtime derives from it (the
// pool worker's script, the dashboard's files, createRequire's resolution) are unchanged. The
// modules the runtime loads only on demand, and kafkajs, stay outside: kafkajs because the
// runtime swaps its record encoder through Node's require cache (kafka/kafkajs-records.ts).
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { build } from 'esbuild';

const ENTRIES = ['runtime/cli.js', 'runtime/engine/pool-worker.js', 'runtime/stages/onnx-worker.js'];
/** Loaded on demand (runtime/lazy.ts, dynamic imports) or patched at run time: never inlined. */
const EXTERNAL = ['kafkajs', 'pg', 'prom-client', 'protobufjs', 'onnxruntime-node', 'pino-pretty', 'tsx', 'tsx/*', '@confluentinc/kafka-javascript'];
// The CommonJS dependencies inlined into an ES module still call `require` for Node's built-ins.
const BANNER = "import { createRequire as __mlstreamRequire } from 'node:module'; const require = __mlstreamRequire(import.meta.url);";

const out = resolve(process.argv[2] ?? 'dist');

/** Rewrites `import.meta.url` in a compiled module of OUT to its own URL, relative to the bundle it lands in. */
function ownUrls(entryFile) {
  return {
    name: 'own-import-meta-url',
    setup(b) {
      b.onLoad({ filter: /\.js$/ }, async (args) => {
        if (!args.path.startsWith(out + sep)) return undefined;
        const source = await readFile(args.path, 'utf8');
        if (!source.includes('import.meta.url')) return undefined;
        const own = relative(dirname(entryFile), args.path).split(sep).join('/');
        return { contents: source.replaceAll('import.meta.url', `new URL(${JSON.stringify(own)}, import.meta.url).href`), loader: 'js', resolveDir: dirname(args.path) };
      });
    },
  };
}

for (const entry of ENTRIES) {
  const file = join(out, entry);
  const result = await build({
    entryPoints: [file],
    bundle: true,
    write: false,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: EXTERNAL,
    banner: { js: BANNER },
    plugins: [ownUrls(file)],
    logLevel: 'warning',
  });
  await writeFile(file, result.outputFiles[0].contents);
}
