import { loadCorpus } from './bench/corpus.js';
const corpus = await loadCorpus();
const texts = corpus.texts;
let chars = 0; for (const t of texts) chars += t.length;
const T = Int8Array.from({ length: 128 }, (_, c) => (c === 32 || (c >= 9 && c <= 13) ? -1 : c >= 65 && c <= 90 ? c + 32 : c));
const bufs = texts.map((t) => Buffer.from(t));
function a(text: string): number { let s = 0; for (let i = 0; i < text.length; i++) { const code = text.charCodeAt(i); const c = code < 128 ? T[code]! : code; s = (s + c) | 0; } return s; }
function b(text: string): number { let s = 0; let h = 0, block = 0, shift = 0; for (let i = 0; i < text.length; i++) { const code = text.charCodeAt(i); const c = code < 128 ? T[code]! : code; if (c === -1) { s = (s + h) | 0; h = 0; block = 0; shift = 0; continue; } block |= c << shift; shift += 8; if (shift === 32) { h = (Math.imul(h ^ Math.imul(block, 0xcc9e2d51), 5) + 0xe6546b64) | 0; block = 0; shift = 0; } } return s + h; }
function c(buf: Uint8Array): number { let s = 0; let h = 0, block = 0, shift = 0; for (let i = 0; i < buf.length; i++) { const code = buf[i]!; const c = code < 128 ? T[code]! : code; if (c === -1) { s = (s + h) | 0; h = 0; block = 0; shift = 0; continue; } block |= c << shift; shift += 8; if (shift === 32) { h = (Math.imul(h ^ Math.imul(block, 0xcc9e2d51), 5) + 0xe6546b64) | 0; block = 0; shift = 0; } } return s + h; }
for (let r = 0; r < 6; r++) {
  for (const [name, f] of [['chars', () => { let s = 0; for (const t of texts) s += a(t); return s; }], ['hash', () => { let s = 0; for (const t of texts) s += b(t); return s; }], ['bytes', () => { let s = 0; for (const t of bufs) s += c(t); return s; }]] as const) {
    const t0 = performance.now(); f(); const ms = performance.now() - t0;
    if (r > 2) console.log(name, ((ms * 1e6) / chars).toFixed(2), 'ns/char');
  }
}
