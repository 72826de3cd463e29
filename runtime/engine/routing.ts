import type { PackageView, Snapshot } from '../packages/store.js';
import { HEADER_MODEL, type InputMessage, type ServingRole } from './messages.js';
import { planFor, type OutputTopics, type ServingPlan } from './plan.js';

/** The runtime's own topics and the folder bindings the router needs besides the loaded packages. */
export interface RoutingContext {
  readonly defaultInputTopic: string;
  readonly predictionsTopic: string;
  readonly errorsTopic: string;
  /** Topic → package folder bound to it, loaded or not (so a record on it waits for that package). */
  readonly bindings: ReadonlyMap<string, string>;
}

/** Where one record goes: a plan and its topics, plus a shadow copy; or why it must wait. */
export type Route =
  | { readonly kind: 'serve'; readonly plan: ServingPlan; readonly role: ServingRole; readonly topics: OutputTopics; readonly shadow?: ShadowTarget }
  | { readonly kind: 'wait'; readonly reason: string; readonly model: string };

export interface ShadowTarget {
  readonly plan: ServingPlan;
  readonly topics: OutputTopics;
}

/** What the engine asks of routing: one decision per record. */
export interface RecordRouter {
  /** The model store's generation the routes were built from. */
  readonly generation: number;
  route(m: InputMessage): Route;
}

/**
 * Routes records to package versions, in order: the `mlstream-model` header (`name` or
 * `name@version`), the package bound to the record's topic, then the default package.
 * Within a package the canary split is a stable hash of the record key, so a key always
 * sees the same version. Built once per store generation; routing a record allocates
 * nothing: every route it returns was built with the router.
 */
export class Router implements RecordRouter {
  private readonly served = new Map<string, ServedPackage>();
  readonly generation: number;

  constructor(
    private readonly snapshot: Snapshot,
    private readonly context: RoutingContext,
  ) {
    this.generation = snapshot.generation;
    for (const pkg of snapshot.packages.values()) this.served.set(pkg.name, servedPackage(pkg, context));
  }

  route(m: InputMessage): Route {
    const header = headerValue(m.headers?.[HEADER_MODEL]);
    if (header !== undefined) {
      const at = header.lastIndexOf('@');
      const name = at > 0 ? header.slice(0, at) : header;
      const version = at > 0 ? header.slice(at + 1) : undefined;
      const pkg = this.served.get(name);
      if (!pkg) return wait(`package "${name}" (named by the ${HEADER_MODEL} header) is not loaded`, name);
      if (version === undefined) return pkg.choose(m);
      return pkg.pinned.get(version) ?? wait(`version ${version} of package "${name}" (named by the ${HEADER_MODEL} header) is not loaded`, header);
    }
    if (m.topic !== this.context.defaultInputTopic || this.context.bindings.has(m.topic)) {
      const bound = this.context.bindings.get(m.topic);
      if (bound === undefined) return wait(`no package is bound to topic "${m.topic}"`, '');
      const pkg = this.served.get(bound);
      return pkg ? pkg.choose(m) : wait(`package "${bound}" (bound to topic "${m.topic}") is not loaded`, bound);
    }
    const name = this.snapshot.defaultName;
    if (name === undefined) {
      return wait(
        `no default package for records without the ${HEADER_MODEL} header: MODEL_PIPELINE is unset and ` +
          `${this.snapshot.packages.size === 0 ? 'no package is loaded' : 'more than one package reads the default input topic'}`,
        '',
      );
    }
    const pkg = this.served.get(name);
    return pkg ? pkg.choose(m) : wait(`the default package "${name}" is not loaded`, name);
  }
}

interface ServedPackage {
  /** A route per loaded version, for records whose header names it; built once, so routing allocates nothing. */
  readonly pinned: ReadonlyMap<string, Route>;
  readonly topics: OutputTopics;
  choose(m: InputMessage): Route;
}

function servedPackage(pkg: PackageView, context: RoutingContext): ServedPackage {
  const versions = new Map([...pkg.versions].map(([label, model]) => [label, planFor(model)] as const));
  const topics: OutputTopics = {
    predictions: pkg.settings.output_topics?.predictions ?? context.predictionsTopic,
    errors: pkg.settings.output_topics?.errors ?? context.errorsTopic,
  };
  const { roles } = pkg;
  const primary = versions.get(roles.primary!)!;
  const canary = roles.canary ? { plan: versions.get(roles.canary.version)!, share: roles.canary.percent / 100 } : undefined;
  const shadowTopic = roles.shadow ? (roles.shadow.topic ?? shadowTopicFor(topics.predictions)) : undefined;
  const shadow: ShadowTarget | undefined = roles.shadow ? { plan: versions.get(roles.shadow.version)!, topics: { predictions: shadowTopic!, errors: shadowTopic! } } : undefined;
  const primaryRoute: Route = { kind: 'serve', plan: primary, role: 'primary', topics, ...(shadow ? { shadow } : {}) };
  const canaryRoute: Route | undefined = canary ? { kind: 'serve', plan: canary.plan, role: 'canary', topics, ...(shadow ? { shadow } : {}) } : undefined;
  return {
    pinned: new Map([...versions].map(([label, plan]) => [label, { kind: 'serve', plan, role: 'pinned', topics } as const])),
    topics,
    choose: canary ? (m) => (keyShare(m) < canary.share ? canaryRoute! : primaryRoute) : () => primaryRoute,
  };
}

/** Where a shadow version's outputs go unless the package names a topic. */
export function shadowTopicFor(predictionsTopic: string): string {
  return `${predictionsTopic}-shadow`;
}

function wait(reason: string, model: string): Route {
  return { kind: 'wait', reason, model };
}

function headerValue(v: Buffer | string | (Buffer | string)[] | undefined): string | undefined {
  if (v === undefined) return undefined;
  const one = Array.isArray(v) ? v[0] : v;
  if (one === undefined) return undefined;
  const s = (typeof one === 'string' ? one : one.toString('utf8')).trim();
  return s === '' ? undefined : s;
}

/**
 * A record's place in [0, 1) for the canary split: FNV-1a over its key, so one key always
 * lands on the same side. A record without a key is placed by its offset, which spreads
 * such records at the configured share but cannot keep them on one version.
 */
export function keyShare(m: InputMessage): number {
  let h = 0x811c9dc5;
  if (m.key && m.key.length > 0) {
    for (let i = 0; i < m.key.length; i++) h = Math.imul(h ^ m.key[i]!, 0x01000193);
  } else {
    const s = `${m.partition}/${m.offset}`;
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  }
  // FNV's low bits mix poorly for short keys; a final avalanche spreads them over [0, 1).
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return (h >>> 0) / 2 ** 32;
}
