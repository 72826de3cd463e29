import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadMails } from '../examples/spam-corpus.js';

/**
 * The Python row's interpreter and model. Debian's python3 with python3-sklearn and
 * python3-kafka — installed here with apt-get when they are missing and the bench runs as
 * root — trains the scikit-learn classifier on the same mails before anything is timed.
 * Throws, naming what is missing, when that cannot be done: the row then reports it.
 */
export const PYTHON = '/usr/bin/python3';

export async function preparePython(root: string, work: string, log: (msg: string) => void): Promise<{ python: string; script: string; model: string }> {
  if (!haveModules()) {
    if (process.getuid?.() !== 0) throw new Error(`${PYTHON} lacks sklearn or kafka; install python3-sklearn and python3-kafka (apt-get) or run the bench as root`);
    log('installing python3-sklearn and python3-kafka with apt-get');
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore' });
    execFileSync('apt-get', ['install', '-y', '-qq', 'python3-sklearn', 'python3-kafka'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (!haveModules()) throw new Error('apt-get installed python3-sklearn and python3-kafka, but python3 still cannot import them');
  }
  const script = join(root, 'scripts/bench/sklearn_pipe.py');
  const mails = join(work, 'mails.jsonl');
  const model = join(work, 'sklearn-model.pickle');
  writeFileSync(mails, (await loadMails()).map((m) => JSON.stringify({ text: m.text, label: m.label })).join('\n'));
  log('training the scikit-learn classifier');
  execFileSync(PYTHON, [script, 'train', mails, model], { stdio: ['ignore', 'ignore', 'inherit'] });
  return { python: PYTHON, script, model };
}

function haveModules(): boolean {
  return spawnSync(PYTHON, ['-c', 'import sklearn, kafka'], { stdio: 'ignore' }).status === 0;
}
