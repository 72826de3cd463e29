import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ParamReader, type SparkMetadata } from '../../../runtime/packages/spark-format.js';
import type { Frame } from '../../../runtime/pipeline/frame.js';
import { buildFrame, parseInputSchema } from '../../../runtime/pipeline/input-schema.js';
import type { Stage, StageContext } from '../../../runtime/pipeline/stage.js';
import { compileJavaRegex, javaFindAll, javaSplit } from '../../../runtime/stages/spark/java-regex.js';
import { javaLocaleLowerCase, textStages } from '../../../runtime/stages/spark/text.js';

const ML = 'org.apache.spark.ml.feature.';

function context(cls: string, paramMap: Record<string, unknown>, extra: Partial<SparkMetadata> = {}): StageContext {
  const metadata: SparkMetadata = { class: ML + cls, uid: `${cls}_test`, sparkVersion: '3.5.1', paramMap, ...extra };
  return { dir: '/nowhere', metadata, params: new ParamReader(metadata, 'test'), readData: async () => [], loadNested: async () => [] };
}

async function stage(cls: string, paramMap: Record<string, unknown>, extra?: Partial<SparkMetadata>): Promise<Stage> {
  return textStages[ML + cls]!(context(cls, paramMap, extra));
}

async function run(s: Stage, records: Record<string, unknown>[], schema: Record<string, string>): Promise<Frame> {
  const frame = buildFrame(records, parseInputSchema(schema));
  await s.transform(frame);
  return frame;
}

async function tokens(s: Stage, texts: (string | null)[]): Promise<(string[] | null)[]> {
  const frame = await run(s, texts.map((text) => ({ text })), { text: 'STRING?' });
  return frame.getTyped(s.outputCols[0]!, 'strings').values;
}

describe('Java regex translation', () => {
  const split = (p: string, s: string) => javaSplit(s, compileJavaRegex(p));
  const find = (p: string, s: string) => javaFindAll(s, compileJavaRegex(p));

  it('splits like Pattern.split: leading empty kept, trailing dropped, no match gives the input', () => {
    assert.deepEqual(split('\\s', ' a  b  '), ['', 'a', '', 'b']);
    assert.deepEqual(split('\\s', ''), ['']);
    assert.deepEqual(split('\\s', '   '), []);
    assert.deepEqual(split('x', 'abc'), ['abc']);
    assert.deepEqual(split('', 'abc'), ['a', 'b', 'c']);
  });

  it('keeps \\s, \\w, \\d and POSIX classes ASCII-only', () => {
    assert.deepEqual(split('\\s+', 'a\u00a0b c'), ['a\u00a0b', 'c']);
    assert.deepEqual(find('\\w+', 'naïve_1 café'), ['na', 've_1', 'caf']);
    assert.deepEqual(find('\\d+', '12\u0663'), ['12']);
    assert.deepEqual(split('[\\s\\p{Punct}]+', 'a, b. c!'), ['a', 'b', 'c']);
  });

  it('keeps \\b Unicode-aware, as Java 8–17 do, so \\b\\w+\\b skips words with accents', () => {
    assert.deepEqual(find('\\b\\w+\\b', 'plain café'), ['plain']);
  });

  it('translates Java-only syntax: intersections, quoting, inline flags, possessive and atomic groups', () => {
    assert.deepEqual(find('[a-z&&[^aeiou]]+', 'hello'), ['h', 'll']);
    assert.deepEqual(find('\\Qa.b\\E', 'a.b axb'), ['a.b']);
    assert.deepEqual(find('(?i)ab', 'ab AB Ab'), ['ab', 'AB', 'Ab']);
    assert.deepEqual(find('(?i)é', 'é É'), ['é'], 'CASE_INSENSITIVE alone is ASCII-only');
    assert.deepEqual(find('x*+x', 'xxx'), []);
    assert.deepEqual(find('(?>a|ab)c', 'abc ac'), ['ac']);
    assert.deepEqual(find('(a)(b)\\2', 'abb ab'), ['abb']);
    assert.deepEqual(find('[]a]+', ']a]b'), [']a]']);
    assert.deepEqual(find('\\x41\\u0042\\0103', 'ABC'), ['ABC']);
  });

  it('matches "." and "$" with Java line terminators', () => {
    assert.deepEqual(find('.+', 'a\u0085b'), ['a', 'b']);
    assert.deepEqual(find('a$', 'a\r\n'), ['a']);
  });

  it('refuses what it cannot translate faithfully', () => {
    assert.throws(() => compileJavaRegex('\\p{InGreek}'), /blocks/);
    assert.throws(() => compileJavaRegex('(?m)^a'), /MULTILINE/);
    assert.throws(() => compileJavaRegex('\\y'), /illegal escape/);
  });
});

describe('Tokenizer', () => {
  it('lower-cases and splits on each single ASCII whitespace character', async () => {
    const t = await stage('Tokenizer', { inputCol: 'text', outputCol: 'words' });
    assert.deepEqual(await tokens(t, ['Hello  World ', ' Lead', '', 'no\u00a0break\ttab']), [
      ['hello', '', 'world'],
      ['', 'lead'],
      [''],
      ['no\u00a0break', 'tab'],
    ]);
  });

  it('fails only the row holding a null', async () => {
    const t = await stage('Tokenizer', { inputCol: 'text', outputCol: 'words' });
    const frame = await run(t, [{ text: 'a' }, { text: null }], { text: 'STRING?' });
    assert.equal(frame.rejections.length, 1);
    assert.equal(frame.rejections[0]!.row, 1);
    assert.equal(frame.rejections[0]!.code, 'PIPELINE_ERROR');
  });
});

describe('RegexTokenizer', () => {
  it('uses Spark defaults: \\s+ gaps, lower-case, tokens of length >= 1', async () => {
    const t = await stage('RegexTokenizer', { inputCol: 'text', outputCol: 'w' });
    assert.deepEqual(await tokens(t, ['  Foo   BAR ']), [['foo', 'bar']]);
  });

  it('drops tokens shorter than minTokenLength and can keep case', async () => {
    const t = await stage('RegexTokenizer', { inputCol: 'text', outputCol: 'w', pattern: '\\W', minTokenLength: 2, toLowercase: false });
    assert.deepEqual(await tokens(t, ["Don't Stop, a B!"]), [['Don', 'Stop']]);
  });

  it('collects matches when gaps is false', async () => {
    const t = await stage('RegexTokenizer', { inputCol: 'text', outputCol: 'w', pattern: '\\d+|[a-z]+', gaps: false });
    assert.deepEqual(await tokens(t, ['ab12-CD 3']), [['ab', '12', 'cd', '3']]);
  });

  it('keeps empty tokens when minTokenLength is 0', async () => {
    const t = await stage('RegexTokenizer', { inputCol: 'text', outputCol: 'w', pattern: ',', minTokenLength: 0 });
    assert.deepEqual(await tokens(t, [',a,,b,,']), [['', 'a', '', 'b']]);
  });
});

describe('StopWordsRemover', () => {
  const schema = { words: 'ARRAY<STRING>' };
  const filter = async (params: Record<string, unknown>, words: string[][], extra?: Partial<SparkMetadata>) => {
    const s = await stage('StopWordsRemover', { inputCol: 'words', outputCol: 'f', ...params }, extra);
    return (await run(s, words.map((w) => ({ words: w })), schema)).getTyped('f', 'strings').values;
  };

  it('filters case-insensitively by default with the English list (pre-2.4 saves record none)', async () => {
    assert.deepEqual(await filter({}, [['The', 'cat', 'IS', "Won't", 'here']], { sparkVersion: '2.3.2' }), [['cat']]);
  });

  it('compares exactly when caseSensitive', async () => {
    assert.deepEqual(await filter({ stopWords: ['The'], caseSensitive: true }, [['The', 'the', 'THE']]), [['the', 'THE']]);
  });

  it('folds with Turkish rules only for the bare "tr" locale, as new Locale(value) does', async () => {
    assert.equal(javaLocaleLowerCase('tr')('I'), 'ı');
    assert.equal(javaLocaleLowerCase('tr_TR')('I'), 'i');
    assert.equal(javaLocaleLowerCase('et_EE')('İ'), 'i̇');
    assert.deepEqual(await filter({ stopWords: ['ırmak'], locale: 'tr' }, [['IRMAK', 'irmak']]), [['irmak']]);
    assert.deepEqual(await filter({ stopWords: ['ırmak'], locale: 'en_US' }, [['IRMAK', 'irmak']]), [['IRMAK', 'irmak']]);
  });

  it('handles several columns in one stage', async () => {
    const s = await stage('StopWordsRemover', { inputCols: ['a', 'b'], outputCols: ['fa', 'fb'], stopWords: ['x'] });
    const frame = await run(s, [{ a: ['x', 'y'], b: ['X', 'z'] }], { a: 'ARRAY<STRING>', b: 'ARRAY<STRING>' });
    assert.deepEqual(frame.getTyped('fa', 'strings').values, [['y']]);
    assert.deepEqual(frame.getTyped('fb', 'strings').values, [['z']]);
  });
});

describe('NGram', () => {
  it('joins n consecutive tokens with a space; fewer than n tokens give none', async () => {
    const s = await stage('NGram', { inputCol: 'w', outputCol: 'g', n: 3 });
    const frame = await run(s, [{ w: ['a', 'b', 'c', 'd'] }, { w: ['a', 'b'] }, { w: [] }], { w: 'ARRAY<STRING>' });
    assert.deepEqual(frame.getTyped('g', 'strings').values, [['a b c', 'b c d'], [], []]);
  });

  it('defaults to bigrams', async () => {
    const s = await stage('NGram', { inputCol: 'w', outputCol: 'g' }, { sparkVersion: '2.3.2' });
    const frame = await run(s, [{ w: ['to', 'be', 'or'] }], { w: 'ARRAY<STRING>' });
    assert.deepEqual(frame.getTyped('g', 'strings').values, [['to be', 'be or']]);
  });
});
