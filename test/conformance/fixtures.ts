import { fixtureFolders } from './runner.js';
import type { FixtureSpec } from './types.js';
import { edgeCaseVariants } from './variants.js';

/**
 * How each folder of ../shared/fixtures/spark is served and checked. A folder with
 * `sample/expected-*.csv` (Spark's own outputs) needs no entry: its config is derived from
 * `sample/schema-*.json`. A folder with no entry and no Spark outputs is only loaded.
 */

/** A deterministic pseudo-random sequence in [0, 1), so synthetic records never change. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const range = <T>(n: number, f: (k: number) => T): T[] => Array.from({ length: n }, (_, k) => f(k));

const KAPPA_SAMPLE = {
  file: 'kappa-youtube-cv-lr/sample/YoutubeCommentsDataSet-first1500.csv',
  columns: { comment_clean: 'Comment' },
  label: 'Sentiment',
};
const KAPPA_CONFIG = { input_schema: { comment_clean: 'STRING' }, output_labels: { '0': 'positive', '1': 'neutral', '2': 'negative' } };

const QHUNG_SAMPLE = { columns: { tokenize: 'content' } };
const QHUNG_NOTE = 'unlabelled sample (label meaning not stated in the repo)';
const QHUNG_CONFIG = { input_schema: { tokenize: 'STRING' } };

/** The Spark docs' Word2Vec example sentences (the hydro models' vocabulary), plus unseen words. */
const W2V_SENTENCES = ['Hi I heard about Spark', 'I wish Java could use case classes', 'Logistic regression models are neat', 'Spark is neat', 'nothing here is known'];

/**
 * The vectors Spark printed for the example's three sentences (vectorSize 3, minCount 0), as
 * recorded in public copies of Word2VecExample.scala: the hydro models are that example.
 */
const W2V_SPARK = [
  [0.03173386193811894, 0.009443491697311401, 0.024377789348363876],
  [0.025682436302304268, 0.0314303718706859, -0.01815584538105343],
  [0.022586782276630402, -0.01601201295852661, 0.05122732147574425],
];

/**
 * The Spark docs' Pipeline example (Tokenizer → HashingTF(1000) → LogisticRegression(maxIter
 * 10, regParam 0.01)), which the hydro21 model was trained from: its training documents with
 * their labels, then test documents with P(label 0) as Spark printed them running the same
 * example, recorded in the comments of two public copies of it (a Spark 1.6 run; a 2.x run
 * whose fourth training document reads "hadoop reduce", a different word in the same place).
 * Separately trained models of one pipeline agree to ~1e-13, and with no hash collisions
 * among these few words neither the hash function nor the word changes the numbers.
 */
const SPARK_DOCS: readonly (readonly [text: string, label?: string, p0?: number])[] = [
  ['a b c d e spark', '1'],
  ['b d', '0'],
  ['spark f g h', '1'],
  ['hadoop mapreduce', '0'],
  ['spark i j k', undefined, 0.5406433544851448],
  ['l m n', undefined, 0.9334382627383266],
  ['mapreduce spark', undefined, 0.7799076868203906],
  ['apache hadoop', undefined, 0.9768636139518305],
  ['spark a', undefined, 0.15041430048068416],
  ['spark hadoop spark'],
];

const HEADLINES = [
  'Bitcoin and ethereum prices jump as crypto exchanges report record trading volume',
  'Stock markets rally after the central bank holds interest rates and bond yields fall',
  'The striker scored twice as the team won the league final in extra time',
  'Rising temperatures melt glaciers as climate scientists warn about carbon emissions',
  'The company reported quarterly revenue above analyst expectations and raised guidance',
  'A new study links daily exercise and a healthy diet to lower risk of heart disease',
  'The senate passed the bill after a long debate as the president promised a veto',
  'Police arrested two suspects after an armed robbery and a shooting downtown',
  'Universities announce scholarships for students as schools reopen for the new term',
  'The pope addressed thousands of pilgrims gathered for prayer at the cathedral',
  'The film premiere drew celebrities and music stars to the red carpet',
];

const WILLKENT_DOMAINS = ['reuters.com', 'youtube.com', 'theguardian.com', 'bbc.com', 'apnews.com', 'aljazeera.com', 'twitter.com', 'cnn.com', 'nytimes.com'];

const NIKOLA_COLUMNS = [
  ...['HighBP', 'HighChol', 'CholCheck', 'BMI', 'Smoker', 'Stroke', 'HeartDiseaseorAttack', 'PhysActivity', 'Fruits', 'Veggies', 'HvyAlcoholConsump'],
  ...['AnyHealthcare', 'NoDocbcCost', 'GenHlth', 'MentHlth', 'PhysHlth', 'DiffWalk', 'Sex', 'Age', 'Education', 'Income'],
];
const NIKOLA_DT_CONFIG = { input_schema: { scaledFeatures: 'VECTOR' }, output_labels: { '0': 'no diabetes', '1': 'prediabetes', '2': 'diabetes' } };

/** A BRFSS-like respondent: binary answers, BMI 15–50, 1–5 health, 0–30 days, age group 1–13… */
function nikolaRecord(i: number): Record<string, number> {
  const r = seeded(7000 + i);
  const scale: Record<string, [number, number]> = { BMI: [15, 50], GenHlth: [1, 5], MentHlth: [0, 30], PhysHlth: [0, 30], Age: [1, 13], Education: [1, 6], Income: [1, 8] };
  return Object.fromEntries(NIKOLA_COLUMNS.map((c) => {
    const [lo, hi] = scale[c] ?? [0, 1];
    return [c, lo + Math.floor(r() * (hi - lo + 1))];
  }));
}

export const FIXTURES: readonly FixtureSpec[] = [
  {
    name: 'hydro21-dct',
    config: { input_schema: { features: 'VECTOR' } },
    note: "the Spark docs' DCT example vectors and the outputs Spark printed for them (the folder has no fitted state)",
  },
  {
    name: 'sree-movielens-als',
    config: { input_schema: { userId: 'INTEGER', movieId: 'INTEGER' } },
    float32: true,
    note: 'ratings equal to the float32 values Spark computed',
  },
  {
    name: 'bbb1991-nslkdd-vecslicer-names-rf',
    config: { input_schema: { indexed_features: 'VECTOR' }, output_labels: { '0': 'normal', '1': 'attack' } },
    refusal: /VectorSlicer \S+ selects features by name, but no earlier stage names the features of column "indexed_features", so it cannot resolve 44 of them: flag_SF, protocol_type_tcp/,
    note: 'the 44 names live in the attributes of an input column the folder does not record',
  },
  {
    name: 'chalanis-lyrics-tfidf-lr',
    config: { input_schema: { lyrics: 'STRING' }, output_labels: { '0': 'pop', '1': 'country', '2': 'blues', '3': 'rock', '4': 'jazz', '5': 'reggae', '6': 'hip hop' } },
    sample: { file: 'chalanis-lyrics-tfidf-lr/sample/Student_dataset.csv', columns: { lyrics: 'lyrics' }, label: 'genre', dropEmpty: true },
    note: 'the CSV ends in ~28,000 empty padding lines, dropped',
  },
  {
    name: 'colo07-word2vec-single',
    config: { input_schema: { buyed_products: 'ARRAY<STRING>' } },
    transformer: { output: 'product_embeddings', size: 5 },
    note: '`ARRAY<STRING>` input (product ids, some unseen)',
    synthetic: { rows: 40, record: (i) => ({ buyed_products: range(1 + (i % 7), (k) => String((i * 13 + k * 7) % 130)) }) },
  },
  {
    name: 'diegoami-spam-hashingtf-lr',
    config: { input_schema: { message: 'STRING' }, output_labels: { '0': 'ham', '1': 'spam' } },
    sample: { file: 'diegoami-spam-hashingtf-lr/sample/spam_out.csv', columns: { message: 'message' }, label: 'label', rawLabels: true },
    minAccuracy: 0.95,
    note: 'the 5572 messages it was trained and tested on',
  },
  {
    name: 'hydro21-strindexer-scaler-rf-idx2str',
    config: { input_schema: { features: 'VECTOR' }, output_labels: { '0': 'no', '1': 'yes' } },
    note: '`VECTOR` (31) input, dense and sparse; IndexToString agrees with the labels',
    synthetic: {
      rows: 60,
      record: (i) => {
        const r = seeded(100 + i);
        const dense = range(31, () => (r() < 0.4 ? 0 : Math.round(r() * 800) / 100));
        if (i % 2 === 0) return { features: dense };
        const indices = dense.flatMap((v, k) => (v === 0 ? [] : [k]));
        return { features: { size: 31, indices, values: indices.map((k) => dense[k]!) } };
      },
    },
  },
  {
    name: 'hydro21-tok-hashingtf-lr',
    config: { input_schema: { text: 'STRING' }, output_labels: { '0': '0', '1': '1' } },
    synthetic: {
      rows: SPARK_DOCS.length,
      record: (i) => ({ text: SPARK_DOCS[i]![0] }),
      label: (i) => SPARK_DOCS[i]![1],
      spark: (i) => {
        const p0 = SPARK_DOCS[i]![2];
        return p0 === undefined ? undefined : { prediction: p0 > 0.5 ? '0' : '1', probability: { '0': p0, '1': 1 - p0 } };
      },
    },
    minAccuracy: 1,
    note: "the Spark docs' Pipeline example: accuracy over its 4 training documents; matches: the outputs Spark printed for 5 test documents",
  },
  {
    name: 'hydro21-vecindexer-dt-idx2str',
    config: { input_schema: { features: 'VECTOR' }, output_labels: { '0': '1.0', '1': '0.0' } },
    synthetic: {
      rows: 60,
      record: (i) => {
        const r = seeded(200 + i);
        return { features: [Math.round(r() * 1000) / 100, Math.round(r() * 1000) / 100, Math.round(r() * 1000) / 100, [1, 4, 4.1][i % 3]!, [5, 7][i % 2]!] };
      },
    },
    note: '`VECTOR` (5) input; features 3 and 4 take only values VectorIndexerModel saw',
  },
  {
    name: 'hydro21-word2vec',
    config: { input_schema: { text: 'ARRAY<STRING>' } },
    transformer: { output: 'result', size: 3, spark: W2V_SPARK },
    note: "`ARRAY<STRING>` input; matches: the docs example's vectors as Spark printed them; both data layouts agree",
    synthetic: { rows: W2V_SENTENCES.length, record: (i) => ({ text: W2V_SENTENCES[i]!.split(' ') }) },
  },
  {
    name: 'hydro22-word2vec',
    config: { input_schema: { text: 'ARRAY<STRING>' } },
    transformer: { output: 'result', size: 3, spark: W2V_SPARK },
    note: "`ARRAY<STRING>` input; matches: the docs example's vectors as Spark printed them; both data layouts agree",
    synthetic: { rows: W2V_SENTENCES.length, record: (i) => ({ text: W2V_SENTENCES[i]!.split(' ') }) },
  },
  {
    name: 'jaswanth-parking-ohe-linreg',
    config: {
      input_schema: {
        'Violation County': 'STRING',
        'Violation In Front Of Or Opposite': 'STRING',
        'Violation Code': 'DOUBLE',
        'Violation Location': 'DOUBLE',
        'Violation Hour': 'DOUBLE',
        month: 'DOUBLE',
        date: 'DOUBLE',
      },
    },
    synthetic: {
      rows: 60,
      record: (i) => ({
        'Violation County': ['NY', 'K', 'Q', 'BX', 'R'][i % 5],
        'Violation In Front Of Or Opposite': ['F', 'O', 'I'][i % 3],
        'Violation Code': (i * 7) % 99,
        'Violation Location': (i * 37) % 994,
        'Violation Hour': i % 24,
        month: 1 + (i % 12),
        date: 1 + (i % 31),
      }),
    },
    note: 'numeric inputs are category indices below OneHotEncoderModel categorySizes',
  },
  { name: 'kappa-youtube-cv-dt', config: KAPPA_CONFIG, sample: KAPPA_SAMPLE, note: 'raw comments: the repo’s cleaning step is not part of the model' },
  { name: 'kappa-youtube-cv-lr', config: KAPPA_CONFIG, sample: KAPPA_SAMPLE, note: 'raw comments: the repo’s cleaning step is not part of the model' },
  { name: 'kappa-youtube-cv-nb', config: KAPPA_CONFIG, sample: KAPPA_SAMPLE, note: 'raw comments: the repo’s cleaning step is not part of the model' },
  { name: 'kappa-youtube-cv-rf', config: KAPPA_CONFIG, sample: KAPPA_SAMPLE, note: 'raw comments: the repo’s cleaning step is not part of the model' },
  {
    name: 'kgv-news-cv-nb',
    config: {
      input_schema: { description: 'STRING' },
      output_labels: Object.fromEntries(
        ['cryptocurrency', 'Finance', 'Sports', 'environment', 'Business', 'Health', 'Politics', 'Crime', 'Education', 'Religion', 'Entertainment'].map((l, i) => [String(i), l]),
      ),
    },
    synthetic: { rows: HEADLINES.length, record: (i) => ({ description: HEADLINES[i] }) },
    note: 'one hand-written headline per category',
  },
  {
    name: 'mdh266-twitter-ngram-cv-lr',
    config: { input_schema: { tokens: 'ARRAY<STRING>' } },
    refusal: /NGram.*reads "stemmed", which neither the input schema nor an earlier stage provides/,
  },
  {
    name: 'nikola-health-dt-single',
    config: NIKOLA_DT_CONFIG,
    note: 'a single saved model; `VECTOR` (21) input',
    synthetic: { rows: 60, record: (i) => ({ scaledFeatures: range(21, seeded(300 + i)) }) },
  },
  {
    name: 'nikola-health-minmax-pipeline',
    config: { input_schema: Object.fromEntries(NIKOLA_COLUMNS.map((c) => [c, 'DOUBLE'])) },
    transformer: { output: 'scaledFeatures', size: 21, chainTo: { fixture: 'nikola-health-dt-single', config: NIKOLA_DT_CONFIG } },
    synthetic: { rows: 60, record: nikolaRecord },
  },
  {
    name: 'novo-twitter-tfidf-lr',
    config: { input_schema: { 'Tweet content': 'STRING' }, output_labels: { '0': 'Negative', '1': 'Positive', '2': 'Neutral', '3': 'Irrelevant' } },
    sample: {
      file: 'novo-twitter-tfidf-lr/sample/twitter_validation.csv',
      header: ['id', 'entity', 'sentiment', 'text'],
      multiLine: true,
      columns: { 'Tweet content': 'text' },
      label: 'sentiment',
    },
    note: "the repo's validation file (quoted tweets span lines)",
  },
  { name: 'qhung-vi-tfidf-lr', config: QHUNG_CONFIG, sample: { ...QHUNG_SAMPLE, file: 'qhung-vi-tfidf-lr/sample/data.csv' }, note: QHUNG_NOTE },
  {
    name: 'qhung-vi-tfidf-nb-stale-dirs',
    config: QHUNG_CONFIG,
    sample: { ...QHUNG_SAMPLE, file: 'qhung-vi-tfidf-nb-stale-dirs/sample/data.csv' },
    note: `${QHUNG_NOTE}; stale stage folders ignored`,
  },
  {
    name: 'willkent-reddit-ohe-rf',
    config: {
      input_schema: { domain: 'STRING', hour: 'STRING', day: 'STRING', ...Object.fromEntries(range(20, (k) => k + 1).map((k) => [`T_${k}`, 'DOUBLE'])) },
      output_labels: { '0': '[0,5)', '1': '[5,25)', '2': '[25,∞)' },
    },
    synthetic: {
      rows: 60,
      record: (i) => {
        const r = seeded(400 + i);
        const weights = range(20, () => r() ** 4);
        const sum = weights.reduce((a, b) => a + b, 0);
        return {
          domain: i % 10 === 9 ? 'not-a-trained-domain.example' : WILLKENT_DOMAINS[i % WILLKENT_DOMAINS.length],
          hour: String(i % 24),
          day: String(1 + (i % 7)),
          ...Object.fromEntries(weights.map((w, k) => [`T_${k + 1}`, w / sum])),
        };
      },
    },
    skippedRows: 6,
    note: 'every 10th domain is unseen',
  },
  {
    name: 'yelp-lr-single',
    config: { input_schema: { features: 'VECTOR' }, output_labels: { '0': 'negative', '1': 'positive' } },
    note: 'a single saved model; sparse `VECTOR` (262144) input',
    synthetic: {
      rows: 60,
      record: (i) => {
        const r = seeded(500 + i);
        const indices = [...new Set(range(5 + (i % 30), () => Math.floor(r() * 262144)))].sort((a, b) => a - b);
        return { features: { size: 262144, indices, values: indices.map(() => Math.round(r() * 500) / 100) } };
      },
    },
  },
  {
    name: 'yelp-python-pipeline-custom-stages',
    config: { input_schema: { text: 'STRING' } },
    refusal: /Python-only stages.*TextCleaner.*Stemmer/,
  },
];

export function specFor(folder: string): FixtureSpec {
  return FIXTURES.find((f) => f.name === folder) ?? { name: folder };
}

/** Every fixture folder present, then the edge cases built from them: what the suite runs. */
export function allSpecs(): FixtureSpec[] {
  return [...fixtureFolders().map(specFor), ...edgeCaseVariants];
}
