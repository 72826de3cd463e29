import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hostAllowed } from '../../runtime/http/guard.js';
import { relativeReason } from '../../runtime/http/relative-paths.js';
import { hostRefusal } from '../../runtime/stages/remote-hosts.js';

test('Host names: IP literals (with ports, IPv6 in brackets) and localhost pass; other names only when allowed; no Host fails', () => {
  for (const h of ['127.0.0.1:8080', '10.1.2.3', '[::1]:8080', '[fe80::1]', 'localhost:80', 'LOCALHOST']) assert.ok(hostAllowed(h, []), h);
  for (const h of ['attacker.example', 'attacker.example:8080', '127.0.0.1.nip.io', 'localhost.attacker.example']) assert.ok(!hostAllowed(h, []), h);
  assert.ok(hostAllowed('Runtime:8080', ['runtime']));
  assert.ok(hostAllowed('anything.example', ['*']));
  assert.ok(!hostAllowed(undefined, ['*']));
});

test('refusal reasons name files relative to MODELS_DIR through the package folder, and mask other absolute paths', () => {
  assert.equal(
    relativeReason('/srv/models/iris/stages/2_NB/data/part-0.parquet: parquet footer claims 30000000 rows', 'iris'),
    'iris/stages/2_NB/data/part-0.parquet: parquet footer claims 30000000 rows',
  );
  assert.equal(relativeReason('/home/iris/models/iris/3/config.json: not valid JSON', 'iris'), 'iris/3/config.json: not valid JSON');
  assert.equal(relativeReason('/srv/models/iris: package folder does not exist', 'iris'), 'iris: package folder does not exist');
  assert.equal(relativeReason('cannot load (/usr/lib/x.so missing)', 'iris'), 'cannot load (<path outside MODELS_DIR> missing)');
  assert.equal(relativeReason('stage 0 (a/b) has no folder', 'iris'), 'stage 0 (a/b) has no folder');
});

test('remote hosts: exact names from the allowlist, IPv6 in brackets, * for any; anything else is refused by name', () => {
  assert.equal(hostRefusal('http://127.0.0.1:8501/v1', ['127.0.0.1']), undefined);
  assert.equal(hostRefusal('http://[::1]:8080', ['::1']), undefined);
  assert.equal(hostRefusal('https://Models.Internal/x', ['models.internal']), undefined);
  assert.equal(hostRefusal('http://169.254.169.254/latest', ['*']), undefined);
  assert.match(hostRefusal('http://169.254.169.254/latest', ['localhost', '127.0.0.1', '::1']) ?? '', /host "169\.254\.169\.254" is not one the runtime allows/);
  assert.match(hostRefusal('http://127.0.0.1.evil.example/', ['127.0.0.1']) ?? '', /not one the runtime allows/);
});
