import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { InputMessage } from '../../../runtime/engine/messages.js';
import { planFor, type PlanRun } from '../../../runtime/engine/plan.js';
import { loadPackage, type ModelVersion } from '../../../runtime/packages/package.js';
import { builtinRegistry } from '../../../runtime/stages/index.js';
import type { JsonTextReader } from '../../../runtime/codecs/json-text-record.js';
import { jsonTextReaderOf } from '../../../runtime/stages/spark/fused-text.js';
import { loadMails } from '../../../scripts/examples/spam-corpus.js';
import { repoRoot } from '../../helpers/fixtures.js';

/**
 * The JSON text path (codecs/json-text-record.ts, plan.ts): a plain `{"id", "text"}` record is
 * read from its bytes straight into the fused text stage. Whatever it reads or leaves to the
 * general path, every output must be what the general path gives: the same run with
 * prediction records wanted (which keeps every record on the general path) is the reference.
 */

const topics = { predictions: 'predictions', errors: 'errors' };
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const limits = { maxMessageBytes: 64 * 1024, errorRawMaxBytes: 256 };
let model: ModelVersion;
let reader: JsonTextReader;
/** How many records the JSON path finished since the counter was last reset. */
let readDirectly = 0;

before(async () => {
  model = await loadPackage(join(repoRoot, 'model-packages', 'spam-text'), builtinRegistry());
  reader = jsonTextReaderOf(model.pipeline.executed[0])!;
  assert.ok(reader, 'the shipped spam-text package reads JSON text directly');
  const finish = reader.finish.bind(reader);
  (reader as { finish: () => ReturnType<typeof finish> }).finish = () => {
    readDirectly++;
    return finish();
  };
});
after(async () => model.pipeline.dispose());

const messagesOf = (values: (string | Buffer | null)[]): InputMessage[] =>
  values.map((v, i) => ({ topic: 'messages', partition: 0, offset: String(i), key: Buffer.from(`k${i}`), value: v === null ? null : Buffer.from(v), timestamp: '1700000000000' }));

/** The outputs that go to Kafka, with the run both ways. */
async function bothWays(values: (string | Buffer | null)[]): Promise<{ direct: PlanRun; general: PlanRun }> {
  const messages = messagesOf(values);
  const positions = messages.map((_, i) => 3 * i);
  const plan = planFor(model);
  const direct = await plan.run(messages, positions, topics, limits, false);
  const general = await plan.run(messages, positions, topics, limits, true);
  return { direct, general };
}

function assertSame({ direct, general }: { direct: PlanRun; general: PlanRun }, context: string): void {
  assert.deepEqual(direct.errorsByCode, general.errorsByCode, context);
  assert.deepEqual(direct.errors, general.errors, context);
  assert.deepEqual(direct.predictions, general.predictions, context);
}

const piece = fc.constantFrom(
  ' ', '  ', '\n', '\t', '\r', '\f', '\b', '\x0b', '\x00', '\x1f', '\u0085', '\u00a0', '\u2028',
  '"', '\\', '/', '"quoted"', 'back\\slash', 'a/b', 'http://x.y/z',
  'a', 'B', 'the', 'The', 'THE', "don't", 'you', 'free', 'FREE', 'money', 'click', 'k', '\u212a', 'é', 'straße', '😀', '\ud800', '_', '1', '-', '.',
);
const text = fc.oneof(fc.array(piece, { maxLength: 25 }).map((p) => p.join('')), fc.string({ maxLength: 20 }), fc.string({ unit: 'grapheme-ascii', maxLength: 40 }));
const id = fc.oneof(
  fc.string({ unit: fc.constantFrom('r', '1', '-', ' ', 'é', '"', '\\', '/'), maxLength: 6 }),
  fc.integer(),
  fc.constantFrom(0, -0, 1.5, 1e21, 12345678901234567, -1, 2 ** 53 + 2),
  fc.constant(null),
);

/** How a producer might write the record: plain JSON.stringify and the variations other encoders and hands make. */
const writers: ((id: unknown, text: unknown) => string)[] = [
  (i, t) => JSON.stringify({ id: i, text: t }),
  (i, t) => JSON.stringify({ text: t, id: i }),
  (i, t) => JSON.stringify({ id: i, text: t }, null, 2),
  // Python's json.dumps: ", " and ": ", non-ASCII as \u escapes; some encoders escape '/' too.
  (i, t) => JSON.stringify({ id: i, text: t }).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).replace(/,"/g, ', "').replace(/":/g, '": '),
  (i, t) => JSON.stringify({ id: i, text: t }).replace(/\//g, '\\/'),
  (i, t) => ` \r\n\t${JSON.stringify({ id: i, text: t })}\n `,
  (i, t) => JSON.stringify({ id: i, text: t, lang: 'en' }),
  (i, t) => `{"id":${JSON.stringify(i)},"text":${JSON.stringify(t)},"text":"again"}`,
  (i, t) => `{"id":${JSON.stringify(i)},"id":"twice","text":${JSON.stringify(t)}}`,
  (i, t) => JSON.stringify({ id: i, text: t }).slice(0, -1),
  (i, t) => `${JSON.stringify({ id: i, text: t })}x`,
  (i, t) => JSON.stringify({ id: i, text: t }).replace('"text"', '"te\\u0078t"'),
  (i, t) => `{"id":${JSON.stringify(i)},"text":${JSON.stringify(t)},}`,
  (i) => JSON.stringify({ id: i }),
  (i) => JSON.stringify({ id: i, text: null }),
  (i) => JSON.stringify({ id: i, text: ['a'] }),
  (_, t) => JSON.stringify({ text: t }),
  (i, t) => `{"id":${JSON.stringify(i)},"text":"${String(t)}"}`,
];

describe('the JSON text path gives what decoding the record first gives', () => {
  it('on generated records, written every which way', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(id, text, fc.nat(writers.length - 1)), { minLength: 1, maxLength: 12 }), async (records) => {
        const values = records.map(([i, t, w]) => writers[w]!(i, t));
        assertSame(await bothWays(values), JSON.stringify(values));
      }),
      { numRuns: 300 },
    );
  });

  it('on every SpamAssassin mail, and it reads every one JSON.stringify writes without a \\u escape itself', async () => {
    const mails = await loadMails();
    let nonAscii = 0;
    for (let start = 0; start < mails.length; start += 500) {
      const batch = mails.slice(start, start + 500);
      const values = batch.map((m, k) => JSON.stringify({ id: `m${start + k}`, text: m.text }));
      readDirectly = 0;
      const runs = await bothWays(values);
      // Texts JSON.stringify writes without \u escapes (no control character but \b \t \n \f \r,
      // no lone surrogate), within the size limit (a longer one is MESSAGE_TOO_LARGE).
      const plain = values.filter((v, k) => !/[\x00-\x07\x0b\x0e-\x1f]/.test(batch[k]!.text) && !LONE_SURROGATE.test(batch[k]!.text) && v.length <= limits.maxMessageBytes);
      nonAscii += plain.filter((v) => /[^\x00-\x7f]/.test(v)).length;
      assert.equal(readDirectly, plain.length, `mails ${start}..`);
      assertSame(runs, `mails ${start}..`);
    }
    assert.ok(nonAscii > 100, `mails with non-ASCII text read directly: ${nonAscii}`);
  });

  it('bad and odd records around plain ones: empty, null, oversized, not UTF-8, integer ids past 2^53', async () => {
    const values: (string | Buffer | null)[] = [
      '{"id":"a","text":"plain words here"}',
      null,
      '',
      Buffer.from([0x7b, 0xff, 0xfe, 0x7d]),
      `{"id":"big","text":"${'x '.repeat(40_000)}"}`,
      '{"id":123456789012345678901,"text":"an id past 2^53"}',
      '{"id":1234567890123456,"text":"sixteen digits"}',
      '{"id":-0,"text":"minus zero"}',
      '{"id":"b","text":""}',
      '{"id":"c","text":"   "}',
      '{"id":"d","text":"\\n\\nleading and trailing\\n\\n"}',
      '{"id":"e","text":"\\"the\\" \\\\the/ the\\/"}',
      '{"id":"f","text":"a\\u0020b"}',
      '{"id":"g","text":"tab\\tsep\\rcr\\fff\\bbs"}',
      '{"id":"h","text":"Straße ΟΔΟΣ \\"Été\\" \u212a 😀 \\/naïve\\/ é\\ttab"}',
      Buffer.concat([Buffer.from('{"id":"i","text":"ab'), Buffer.from([0xff]), Buffer.from(' cd"}')]),
      Buffer.concat([Buffer.from('{"id":"j","text":"ab '), Buffer.from([0xc3]), Buffer.from('"}')]),
      Buffer.concat([Buffer.from('{"id":"k","text":"x'), Buffer.from([0xe2, 0x82]), Buffer.from(' y"}')]),
      Buffer.concat([Buffer.from('{"id":"l","text":"over'), Buffer.from([0xc0, 0xaf]), Buffer.from('long"}')]),
      Buffer.concat([Buffer.from('{"id":"m","text":"surrogate '), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]),
      '{"id":"n","text":"caf\\u00e9 escaped"}',
    ];
    readDirectly = 0;
    const runs = await bothWays(values);
    assertSame(runs, 'odd records');
    assert.equal(readDirectly, 8, 'the plain records a, -0, b, c, d, e, g and h are read directly');
    assert.equal(runs.direct.predictions.length + runs.direct.errors.length, values.length);
  });
});
