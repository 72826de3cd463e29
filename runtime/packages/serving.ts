import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { validateServing } from './schema-validators.js';
import { PackageError } from './errors.js';

/**
 * How a package is routed and rolled out (schemas/serving.schema.json): its own input
 * topic, its output topics, which version serves, and a canary or shadow version.
 */
export interface ServingSettings {
  description?: string;
  input_topic?: string;
  output_topics?: { predictions?: string; errors?: string };
  version_policy?: 'latest' | { pin: number };
  rollout?: {
    canary?: { version?: number; percent: number };
    shadow?: { version: number; topic?: string };
  };
}

export const SERVING_KEYS = ['input_topic', 'output_topics', 'version_policy', 'rollout'] as const;

/**
 * A package folder is either one version (flat: Spark's layout at its root) or holds
 * numbered version folders (`spam/1/`, `spam/2/`), as Triton and TF Serving lay them out.
 */
export type PackageLayout = { readonly kind: 'flat' } | { readonly kind: 'versioned'; readonly versions: readonly number[] };

const VERSION_FOLDER = /^[1-9][0-9]{0,9}$/;

export async function packageLayout(dir: string): Promise<PackageLayout> {
  const dirents = await readdir(dir, { withFileTypes: true });
  const versions = dirents
    .filter((d) => d.isDirectory() && VERSION_FOLDER.test(d.name) && Number(d.name) <= 2147483647)
    .map((d) => Number(d.name))
    .sort((a, b) => a - b);
  return versions.length > 0 ? { kind: 'versioned', versions } : { kind: 'flat' };
}

/**
 * The serving settings of a package. Flat: read from its config.json (a broken one gives
 * no settings here; the full load refuses it with the reason). Versioned: the optional
 * root config.json, which holds only serving keys, refused with the reason if invalid.
 */
export async function readServingSettings(dir: string, layout: PackageLayout): Promise<ServingSettings> {
  const file = join(dir, 'config.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return {};
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    if (layout.kind === 'flat') return {};
    throw new PackageError(`not valid JSON (${(e as Error).message})`, file);
  }
  if (layout.kind === 'flat') {
    if (parsed === null || typeof parsed !== 'object') return {};
    const picked = Object.fromEntries(SERVING_KEYS.filter((k) => k in parsed).map((k) => [k, (parsed as Record<string, unknown>)[k]]));
    return validateServing(picked) ? (picked as ServingSettings) : {};
  }
  if (!validateServing(parsed)) {
    const why = (validateServing.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
    throw new PackageError(`the root config.json of a versioned package holds only serving settings (schemas/serving.schema.json): ${why}`, file);
  }
  return parsed as ServingSettings;
}

/** Which loaded version does what for records that name no version. */
export interface ServingRoles {
  readonly primary: string | undefined;
  readonly canary?: { readonly version: string; readonly percent: number };
  readonly shadow?: { readonly version: string; readonly topic: string | undefined };
  /** Why a configured role is not in effect (a pinned or canary version that is not loaded). */
  readonly problems: readonly string[];
}

/**
 * Chooses the primary, canary and shadow versions among the loaded ones. `loaded` holds
 * version labels; in the versioned layout they are folder numbers. The latest valid
 * version serves unless a pin names another; a canary with no version is the latest, and
 * the primary is then the next valid version below it.
 */
export function servingRoles(settings: ServingSettings, layout: PackageLayout['kind'], loaded: readonly string[]): ServingRoles {
  if (loaded.length === 0) return { primary: undefined, problems: [] };
  if (layout === 'flat') {
    const configured = settings.rollout || (settings.version_policy && settings.version_policy !== 'latest');
    return { primary: loaded[0], problems: configured ? ['version_policy and rollout need numbered version folders; the one flat version serves'] : [] };
  }
  const problems: string[] = [];
  const numbers = loaded.map(Number).sort((a, b) => b - a);
  const has = (v: number): boolean => numbers.includes(v);
  const pin = typeof settings.version_policy === 'object' ? settings.version_policy.pin : undefined;
  if (pin !== undefined && !has(pin)) problems.push(`pinned version ${pin} is not loaded; the latest valid version serves`);
  const pinned = pin !== undefined && has(pin) ? pin : undefined;

  let canary: ServingRoles['canary'];
  let primary = pinned ?? numbers[0]!;
  const c = settings.rollout?.canary;
  if (c) {
    const wanted = c.version ?? numbers[0]!;
    const rest = numbers.filter((v) => v !== wanted);
    if (!has(wanted)) problems.push(`canary version ${wanted} is not loaded; no canary split`);
    else if (pinned === wanted) problems.push(`canary version ${wanted} is also the pinned version; no canary split`);
    else if (pinned === undefined && rest.length === 0) problems.push(`canary version ${wanted} is the only loaded version; no canary split`);
    else {
      primary = pinned ?? rest[0]!;
      canary = { version: String(wanted), percent: c.percent };
    }
  }
  let shadow: ServingRoles['shadow'];
  const s = settings.rollout?.shadow;
  if (s) {
    if (!has(s.version)) problems.push(`shadow version ${s.version} is not loaded; no shadow`);
    else if (s.version === primary) problems.push(`shadow version ${s.version} is the primary version; no shadow`);
    else shadow = { version: String(s.version), topic: s.topic };
  }
  return { primary: String(primary), ...(canary ? { canary } : {}), ...(shadow ? { shadow } : {}), problems };
}
