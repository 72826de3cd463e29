import type { BatchStats, ServingRole } from './messages.js';

export interface VersionCount {
  readonly name: string;
  readonly version: string;
  readonly role: ServingRole;
  records: number;
  predictions: number;
  errors: number;
}

/**
 * Committed records per package version and role since start, so /status can set a
 * canary or shadow version beside the primary. Fed once per committed slice.
 */
export class ServingCounts {
  private readonly counts = new Map<string, VersionCount>();

  observe(stats: BatchStats): void {
    for (const v of stats.versions.values()) {
      const key = `${v.name}@${v.version}/${v.role}`;
      let c = this.counts.get(key);
      if (!c) this.counts.set(key, (c = { name: v.name, version: v.version, role: v.role, records: 0, predictions: 0, errors: 0 }));
      c.records += v.records;
      c.predictions += v.predictions;
      c.errors += v.errors;
    }
  }

  /** One package's counts, by version and role. */
  of(name: string): VersionCount[] {
    return [...this.counts.values()].filter((c) => c.name === name).map((c) => ({ ...c }));
  }
}
