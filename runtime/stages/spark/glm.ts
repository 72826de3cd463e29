import { ErrorCodes } from '../../errors.js';
import type { StageContext, StageFactory } from '../../pipeline/stage.js';
import { scorerFromVector } from './linear-scorer.js';
import { eachRow, requireSize } from './predictors.js';
import { vectorFromStruct } from './udt.js';

/**
 * GeneralizedLinearRegressionModel: eta = w·x + b + offset, prediction = family.project(
 * link.unlink(eta)), with the family/link resolution of Spark's FamilyAndLink.
 */

const EPSILON = 1e-16;

type Project = (mu: number) => number;

const gaussianProject: Project = (mu) => (mu === -Infinity ? -Number.MAX_VALUE : mu === Infinity ? Number.MAX_VALUE : mu);
const binomialProject: Project = (mu) => (mu < EPSILON ? EPSILON : mu > 1.0 - EPSILON ? 1.0 - EPSILON : mu);
const tweedieProject: Project = (mu) => (mu < EPSILON ? EPSILON : mu === Infinity || mu === -Infinity ? Number.MAX_VALUE : mu);

type Unlink = (eta: number) => number;

const identity: Unlink = (eta) => eta;
const log: Unlink = (eta) => Math.exp(eta);
const inverse: Unlink = (eta) => 1.0 / eta;
const sqrt: Unlink = (eta) => eta * eta;
const logit: Unlink = (eta) => 1.0 / (1.0 + Math.exp(-1.0 * eta));
const probit: Unlink = (eta) => 0.5 * erfc(-eta / Math.SQRT2);
const cloglog: Unlink = (eta) => 1.0 - Math.exp(-1.0 * Math.exp(eta));
const power = (p: number): Unlink => (p === 0 ? log : (eta) => Math.pow(eta, 1.0 / p));

const LINKS: Record<string, Unlink> = { identity, log, inverse, sqrt, logit, probit, cloglog };

interface Family {
  readonly project: Project;
  readonly defaultLink: Unlink;
}

function family(name: string, variancePower: number): Family {
  switch (name) {
    case 'gaussian':
      return { project: gaussianProject, defaultLink: identity };
    case 'binomial':
      return { project: binomialProject, defaultLink: logit };
    case 'poisson':
      return { project: tweedieProject, defaultLink: log };
    case 'gamma':
      return { project: tweedieProject, defaultLink: inverse };
    case 'tweedie':
      if (variancePower === 0) return family('gaussian', 0);
      if (variancePower === 1) return family('poisson', 0);
      if (variancePower === 2) return family('gamma', 0);
      return { project: tweedieProject, defaultLink: power(1.0 - variancePower) };
    default:
      throw new Error(`unknown GLM family "${name}"`);
  }
}

function tweedieLink(linkPower: number): Unlink {
  if (linkPower === 0) return log;
  if (linkPower === 1) return identity;
  if (linkPower === -1) return inverse;
  if (linkPower === 0.5) return sqrt;
  return power(linkPower);
}

/** The fitted-value function of the saved params, as Spark's FamilyAndLink.apply resolves it. */
export function glmFitted(ctx: StageContext): (eta: number) => number {
  const { params } = ctx;
  const name = params.string('family', 'gaussian').toLowerCase();
  const fam = family(name, params.number('variancePower', 0.0));
  let unlink = fam.defaultLink;
  if (name === 'tweedie' && params.has('linkPower')) unlink = tweedieLink(params.number('linkPower'));
  if (name !== 'tweedie' && params.has('link')) {
    const link = LINKS[params.string('link').toLowerCase()];
    if (!link) throw new Error(`unknown GLM link "${params.string('link')}"`);
    unlink = link;
  }
  return (eta) => fam.project(unlink(eta));
}

export const generalizedLinearRegression: StageFactory = async (ctx) => {
  const rows = await ctx.readData();
  if (rows.length !== 1) throw new Error(`data/ holds ${rows.length} rows, expected 1`);
  const scorer = scorerFromVector(vectorFromStruct(rows[0]!.coefficients), Number(rows[0]!.intercept));
  const fitted = glmFitted(ctx);
  const featuresCol = ctx.params.string('featuresCol', 'features');
  const predictionCol = ctx.params.string('predictionCol', 'prediction');
  const offsetCol = ctx.params.optionalString('offsetCol') ?? '';
  const linkCol = ctx.params.optionalString('linkPredictionCol') ?? '';
  const uid = ctx.metadata.uid;
  return {
    uid,
    className: ctx.metadata.class,
    inputCols: offsetCol ? [featuresCol, offsetCol] : [featuresCol],
    outputCols: [predictionCol, linkCol].filter((c) => c !== ''),
    ...(predictionCol ? { modelOutputs: { predictionCol } } : {}),
    transform(frame) {
      const n = frame.length;
      const offsets = offsetCol ? frame.getTyped(offsetCol, 'double') : undefined;
      const preds = new Float64Array(n).fill(NaN);
      const etas = new Float64Array(n).fill(NaN);
      eachRow(frame, featuresCol, uid, (i, x) => {
        requireSize(x, scorer.numFeatures);
        if (offsets?.nulls?.[i]) {
          frame.reject(i, ErrorCodes.PIPELINE_ERROR, `offset column "${offsetCol}" is null`, uid);
          return;
        }
        etas[i] = scorer.score1(x) + (offsets ? offsets.values[i]! : 0.0);
        preds[i] = fitted(etas[i]!);
      });
      if (predictionCol) frame.set(predictionCol, { type: 'double', values: preds });
      if (linkCol) frame.set(linkCol, { type: 'double', values: etas });
    },
  };
};

const LOG_GAMMA_HALF = 0.5 * Math.log(Math.PI);

/** Commons Math's Erf.erfc (which breeze's Gaussian cdf uses): regularized Q(1/2, x²). */
export function erfc(x: number): number {
  if (Math.abs(x) > 40) return x > 0 ? 0 : 2;
  const q = regularizedGammaQHalf(x * x);
  return x < 0 ? 2 - q : q;
}

function regularizedGammaQHalf(x: number): number {
  const a = 0.5;
  if (Number.isNaN(x)) return NaN;
  if (x === 0) return 1.0;
  const scale = Math.exp(-x + a * Math.log(x) - LOG_GAMMA_HALF);
  if (x < a + 1.0) {
    let n = 0;
    let term = 1.0 / a;
    let sum = term;
    while (Math.abs(term / sum) > 1e-15 && n < 10000 && sum < Infinity) {
      n += 1;
      term *= x / (a + n);
      sum += term;
    }
    return 1.0 - (sum === Infinity ? 1.0 : scale * sum);
  }
  // Modified Lentz evaluation of the continued fraction, as in Commons Math's ContinuedFraction.
  const small = 1e-50;
  const cfA = (k: number): number => 2.0 * k + 1.0 - a + x;
  const cfB = (k: number): number => k * (a - k);
  let hPrev = cfA(0);
  if (Math.abs(hPrev) <= small) hPrev = small;
  let dPrev = 0.0;
  let cPrev = hPrev;
  let h = hPrev;
  for (let k = 1; k < 10000; k++) {
    const ak = cfA(k);
    const bk = cfB(k);
    let d = ak + bk * dPrev;
    if (Math.abs(d) <= small) d = small;
    let c = ak + bk / cPrev;
    if (Math.abs(c) <= small) c = small;
    d = 1 / d;
    const delta = c * d;
    h = hPrev * delta;
    if (Math.abs(delta - 1.0) < 1e-15) break;
    dPrev = d;
    cPrev = c;
    hPrev = h;
  }
  return scale * (1.0 / h);
}
