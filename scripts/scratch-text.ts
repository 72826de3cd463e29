import { processBatch } from '../runtime/engine/batch.js';
import { loadPackage } from '../runtime/packages/package.js';
import { builtinRegistry } from '../runtime/stages/index.js';
import { inputMessage, loadCorpus } from './bench/corpus.js';
const corpus = await loadCorpus();
const model = await loadPackage('model-packages/spam-text', builtinRegistry());
const N = 6046;
const messages = Array.from({ length: N }, (_, i) => { const m = inputMessage(corpus, i); return { topic: 'b', partition: 0, offset: String(i), key: Buffer.from(m.key), value: m.value, timestamp: '0' }; });
let bytes = 0; for (const t of corpus.texts) bytes += t.length;
console.log('mails', corpus.mails, 'avg chars', bytes / corpus.mails);
const LIMITS = { maxMessageBytes: 1024 * 1024, errorRawMaxBytes: 4096 };
for (let round = 0; round < Number(process.env.ROUNDS ?? 8); round++) {
  const stage = new Map<string, number>();
  const t0 = performance.now(); const c0 = process.cpuUsage();
  for (let s = 0; s < N; s += 250) {
    const r = await processBatch(messages.slice(s, s + 250), model, LIMITS);
    for (const [u, t] of r.stats.stageMs) stage.set(u, (stage.get(u) ?? 0) + t);
  }
  const ms = performance.now() - t0; const cpu = process.cpuUsage(c0);
  console.log(`round ${round}: ${(ms * 1000 / N).toFixed(1)} us/rec wall, cpu ${((cpu.user + cpu.system) / N).toFixed(1)}`, [...stage].map(([u, t]) => `${u.slice(0, 20)} ${(t * 1000 / N).toFixed(1)}`).join(' | '));
}
