import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

/** What `node --cpu-prof` writes: a sampled call tree. */
interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }>;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  readonly name: string;
  /** Repository-relative file, "(native)" for V8 and native code; absent for areas. */
  readonly file?: string;
  /** Share of the busy (non-idle) samples spent in the function itself. */
  readonly selfShare: number;
}

export interface ProfileSummary {
  readonly busyMs: number;
  readonly top: readonly ProfileEntry[];
  readonly byArea: readonly ProfileEntry[];
  /** Per profiled thread (one file each): busy time within its work window, and the window's length. */
  readonly threads: readonly ThreadLoad[];
}

export interface ThreadLoad {
  /** The thread's largest area of work, which names it in words (the main thread runs kafkajs, a pool worker the stages). */
  readonly mostly: string;
  readonly busyMs: number;
  readonly windowMs: number;
  /** The thread's own busy time by area (shares of its busy time), largest first. */
  readonly areas: readonly ProfileEntry[];
}

/** Where a function lives, in words a reader of the table knows. */
function area(url: string, functionName: string): string {
  if (functionName === '(garbage collector)') return 'garbage collection';
  if (url.includes('/node_modules/kafkajs/')) return 'kafkajs (protocol, fetch, produce)';
  if (url.includes('/runtime/stages/')) return 'model stages';
  if (url.includes('/runtime/pipeline/')) return 'pipeline (frame)';
  if (url.includes('/runtime/engine/') || url.includes('/runtime/codecs/')) return 'engine (decode, outputs)';
  if (url.includes('/runtime/kafka/')) return 'runner';
  if (url.includes('/node_modules/ajv/') || (url === '' && functionName === 'validate')) return 'AJV validation';
  if (url.startsWith('node:')) return 'Node core (streams, sockets, buffers)';
  if (url.includes('/node_modules/')) return 'other dependencies';
  if (url === '') return functionName.startsWith('(') ? `V8 ${functionName}` : 'native builtins (JSON, strings, regex)';
  return 'other';
}

/** Code that runs only for records from Kafka (the package's warm-up run at load does not decode). */
const ENGINE = /\/runtime\/(engine|codecs)\//;
/** Code a worker thread (ONNX) runs for batches. */
const STAGES = /\/runtime\/(pipeline|stages)\//;

/**
 * The samples from the first to the last one taken in record-processing code, so start-up
 * (module loading, package load) and shutdown do not count. A thread that never runs the
 * engine (an ONNX worker) is windowed by its stage code; one that runs neither (tsx's
 * loader thread) counts not at all.
 */
function workWindow(urls: readonly string[]): [number, number] {
  const span = (re: RegExp): [number, number] => {
    let from = -1;
    let to = -2;
    urls.forEach((url, i) => {
      if (!re.test(url)) return;
      if (from < 0) from = i;
      to = i;
    });
    return [from < 0 ? 1 : from, to];
  };
  const engine = span(ENGINE);
  return engine[1] >= 0 ? engine : span(STAGES);
}

/**
 * The module a line of a bundled file came from. `npm run build` bundles each entry point of
 * dist/ (scripts/bundle.mjs), and esbuild opens each inlined module with a comment naming
 * its path (`// .dist-123/runtime/stages/spark/fused-text.js`, `// node_modules/ajv/…`), so
 * a frame in a bundle is put back in its module by the last such comment above its line.
 */
class BundleModules {
  /** Per bundle file: the line of each module comment, ascending, and that module's path. */
  private readonly byFile = new Map<string, { lines: number[]; paths: string[] }>();

  constructor(private readonly root: string) {}

  /** The frame's URL, or its module's where the URL is a bundle of this repository's dist/. */
  url(url: string, lineNumber: number): string {
    if (!url.startsWith('file://') || !url.includes('/dist/')) return url;
    const { lines, paths } = this.markers(url.slice('file://'.length));
    let k = -1;
    for (let lo = 0, hi = lines.length - 1; lo <= hi; ) {
      const mid = (lo + hi) >> 1;
      if (lines[mid]! <= lineNumber) {
        k = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return k < 0 ? url : `file://${join(this.root, paths[k]!)}`;
  }

  private markers(file: string): { lines: number[]; paths: string[] } {
    let found = this.byFile.get(file);
    if (found) return found;
    found = { lines: [], paths: [] };
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      // A file gone since the run: its frames keep their own URL.
    }
    text.split('\n').forEach((line, i) => {
      const m = /^\/\/ ((?:\.dist-\d+\/|dist\/|node_modules\/)\S+\.(?:[cm]?js|json))$/.exec(line);
      if (m) {
        found!.lines.push(i);
        found!.paths.push(m[1]!.replace(/^\.dist-\d+\//, 'dist/'));
      }
    });
    this.byFile.set(file, found);
    return found;
  }
}

/**
 * Sums self time per function and per area over every profile in `dir` — one per thread:
 * the main thread, tsx's loader thread, ONNX worker threads — idle excluded.
 */
export function summarizeProfile(dir: string, root: string, topN = 15): ProfileSummary {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length === 0) throw new Error(`no .cpuprofile in ${dir}`);
  const selfMs = new Map<string, number>();
  const areaMs = new Map<string, number>();
  let busy = 0;
  const threads: ThreadLoad[] = [];
  const modules = new BundleModules(root);
  for (const file of files) {
    let threadBusy = 0;
    let windowMs = 0;
    const threadAreas = new Map<string, number>();
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    const byId = new Map(profile.nodes.map((n) => [n.id, { ...n.callFrame, url: modules.url(n.callFrame.url, n.callFrame.lineNumber) }]));
    const [from, to] = workWindow(profile.samples.map((id) => byId.get(id)!.url));
    profile.samples.forEach((id, i) => {
      if (i < from || i > to) return;
      const ms = (profile.timeDeltas[i] ?? 0) / 1000;
      windowMs += ms;
      const frame = byId.get(id)!;
      if (frame.functionName === '(idle)') return;
      busy += ms;
      threadBusy += ms;
      const where = frame.url ? relative(root, frame.url.replace(/^file:\/\//, '')) : '(native)';
      const name = `${frame.functionName || '(anonymous)'}\t${where}`;
      selfMs.set(name, (selfMs.get(name) ?? 0) + ms);
      const a = area(frame.url, frame.functionName);
      areaMs.set(a, (areaMs.get(a) ?? 0) + ms);
      threadAreas.set(a, (threadAreas.get(a) ?? 0) + ms);
    });
    const mostly = [...threadAreas].sort((x, y) => y[1] - x[1])[0]?.[0];
    const areas = [...threadAreas].sort((x, y) => y[1] - x[1]).map(([name, ms]) => ({ name, selfShare: ms / threadBusy }));
    if (mostly && threadBusy > 0) threads.push({ mostly, busyMs: threadBusy, windowMs, areas });
  }
  const ranked = (m: Map<string, number>, n: number): ProfileEntry[] =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([key, ms]) => {
      const [name, file] = key.split('\t');
      return { name: name!, ...(file ? { file } : {}), selfShare: ms / busy };
    });
  return { busyMs: busy, top: ranked(selfMs, topN), byArea: ranked(areaMs, 12), threads: threads.sort((a, b) => b.busyMs - a.busyMs) };
}
