/**
 * An example plugin: a model stage class `example.KeywordModel` that predicts 1 when a
 * text column contains any of its keywords. Serve a package that uses it with
 * `mlstream serve --plugin ./playground/plugins/keyword-model.ts`.
 *
 * A package names the class in its metadata, like any Spark stage:
 *   metadata/part-00000: {"class":"example.KeywordModel","uid":"kw_1",
 *                         "paramMap":{"inputCol":"text","keywords":["free","winner"]}}
 */
import type { StageRegistry } from '../../runtime/pipeline/registry.js';
import type { StageFactory } from '../../runtime/pipeline/stage.js';

const keywordModel: StageFactory = (ctx) => {
  const input = ctx.params.string('inputCol');
  const keywords = new Set(ctx.params.strings('keywords').map((k) => k.toLowerCase()));
  const predictionCol = ctx.params.string('predictionCol', 'prediction');
  const probabilityCol = ctx.params.string('probabilityCol', 'probability');
  return {
    uid: ctx.metadata.uid,
    className: ctx.metadata.class,
    inputCols: [input],
    outputCols: [predictionCol, probabilityCol],
    modelOutputs: { predictionCol, probabilityCol, numClasses: 2 },
    transform(frame) {
      const texts = frame.getTyped(input, 'string').values;
      const prediction = new Float64Array(texts.length);
      const probability = new Array<Float64Array>(texts.length);
      for (let i = 0; i < texts.length; i++) {
        const words = (texts[i] ?? '').toLowerCase().split(/\W+/);
        const hits = words.filter((w) => keywords.has(w)).length;
        const p = hits === 0 ? 0 : 1 - 0.5 ** hits;
        prediction[i] = hits > 0 ? 1 : 0;
        probability[i] = Float64Array.of(1 - p, p);
      }
      frame.set(predictionCol, { type: 'double', values: prediction });
      frame.set(probabilityCol, { type: 'vector', size: 2, values: probability });
    },
  };
};

export function register(registry: StageRegistry): void {
  registry.register('example.KeywordModel', keywordModel);
}
