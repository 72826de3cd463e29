import { resolve } from 'node:path';
import { CONFIG_ENTRIES } from '../config.js';
import { PackageError } from '../packages/errors.js';
import { loadPackage } from '../packages/package.js';
import { builtinRegistry } from '../stages/index.js';
import { loadPlugins, PluginError } from '../pipeline/plugins.js';

/** `mlstream validate <dir>`: the loader's own checks, reported for a person. Exit 1 when refused. */
export async function validateCommand(dir: string, opts: { json?: boolean; plugin?: string[] }): Promise<number> {
  const path = resolve(dir);
  try {
    // The same allowlist `serve` would apply, from the same variable.
    const remoteAllowedHosts = (process.env[CONFIG_ENTRIES.remoteAllowedHosts.env] || CONFIG_ENTRIES.remoteAllowedHosts.default).split(',').map((h) => h.trim()).filter(Boolean);
    const registry = builtinRegistry({ remoteAllowedHosts });
    await loadPlugins(opts.plugin ?? [], registry);
    const model = await loadPackage(path, registry);
    const report = {
      ok: true,
      package: model.name,
      version: model.version,
      inputs: model.fields.map((f) => `${f.name}: ${f.type}${f.nullable ? '?' : ''}`),
      stages: model.pipeline.stages.map((s) => ({ uid: s.uid, class: s.className, active: model.pipeline.active.includes(s) })),
      prediction: model.pipeline.outputs?.predictionCol ?? model.pipeline.featureCol,
      featureStagesOnly: !model.pipeline.outputs,
      probability: model.pipeline.outputs?.probabilityCol ?? null,
    };
    await model.pipeline.dispose();
    if (opts.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    else {
      process.stdout.write(`OK ${report.package} (version ${report.version})\n`);
      process.stdout.write(`  inputs: ${report.inputs.join(', ')}\n`);
      for (const s of report.stages) process.stdout.write(`  ${s.active ? '•' : '-'} ${s.class} ${s.uid}${s.active ? '' : ' (skipped: its input column is absent)'}\n`);
      const from = report.featureStagesOnly ? `the last column, "${report.prediction}" (feature stages only)` : `"${report.prediction}"`;
      process.stdout.write(`  prediction from ${from}${report.probability ? `, probability from "${report.probability}"` : ''}\n`);
    }
    return 0;
  } catch (e) {
    const reason = e instanceof PackageError || e instanceof PluginError ? e.message : `unexpected error: ${(e as Error).message}`;
    if (opts.json) process.stdout.write(JSON.stringify({ ok: false, package: path, reason }, null, 2) + '\n');
    else process.stderr.write(`REFUSED ${path}\n  ${reason}\n`);
    return 1;
  }
}
