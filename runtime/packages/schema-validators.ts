/**
 * Validators of the package files' fixed JSON Schemas: a package's config.json, its serving
 * settings, and the metadata line of every saved Spark object. Run from source, they are
 * compiled when this module is first imported. `npm run build` replaces this module in dist/
 * with the code Ajv generates for the same schemas and options (scripts/bundle.mjs), because
 * compiling them took about 55 ms of every start, on the main thread and again on each pool
 * worker; test/unit/build.test.ts checks that both give the same verdicts and errors.
 */
import { Ajv, type Options, type ValidateFunction } from 'ajv';
import configSchema from '../../schemas/config.schema.json' with { type: 'json' };
import metadataSchema from '../../schemas/stage-metadata.schema.json' with { type: 'json' };
import servingSchema from '../../schemas/serving.schema.json' with { type: 'json' };

/** The Ajv instance holding the three schemas; the build asks it for standalone source (`code`). */
export function packageSchemas(code?: Options['code']): Ajv {
  return new Ajv({ allErrors: true, strict: false, validateSchema: false, ...(code ? { code } : {}) })
    .addSchema(servingSchema)
    .addSchema(configSchema)
    .addSchema(metadataSchema);
}

/** Each validator this module exports, by the `$id` of the schema it checks: what the build generates. */
export const VALIDATORS = {
  validateConfig: configSchema.$id,
  validateServing: servingSchema.$id,
  validateMetadata: metadataSchema.$id,
} as const;

const schemas = packageSchemas();
const compiled = (id: string): ValidateFunction => schemas.getSchema(id)!;

export const validateConfig = compiled(VALIDATORS.validateConfig);
export const validateServing = compiled(VALIDATORS.validateServing);
export const validateMetadata = compiled(VALIDATORS.validateMetadata);
