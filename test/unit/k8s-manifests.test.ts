import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { PersistentVolumeClaim, Service } from 'kubernetes-models/v1';
import { parse } from 'yaml';
import { CONFIG_ENTRIES } from '../../runtime/config.js';
import { repoRoot } from '../helpers/fixtures.js';

/*
 * No cluster runs here, so the manifests in deploy/k8s are checked against the Kubernetes
 * API's own OpenAPI schemas (kubernetes-models compiles them; @kubernetes-models/keda does
 * the same for KEDA's CRDs), then against each other and the runtime's settings: the names
 * one object uses for another, the port the probes and the Service reach, the env variables.
 */

const dir = join(repoRoot, 'deploy/k8s');
const read = (file: string): any => parse(readFileSync(join(dir, file), 'utf8'));
const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'v1/Service': Service,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
};

const kustomization = read('kustomization.yaml') as { resources: string[] };
const objects = kustomization.resources.map((file) => ({ file, doc: read(file) as { apiVersion: string; kind: string; metadata: { name: string } } }));
const byKind = (kind: string): any => objects.find((o) => o.doc.kind === kind)!.doc;

test('the kustomization lists every manifest in deploy/k8s, and each is valid against its Kubernetes (or KEDA) API schema', () => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort();
  assert.deepEqual([...kustomization.resources].sort(), files);
  for (const { file, doc } of objects) {
    const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
    assert.ok(Model, `${file}: ${doc.apiVersion} ${doc.kind} is one of the kinds checked`);
    assert.doesNotThrow(() => new Model(doc).validate(), `${file} matches the ${doc.kind} schema`);
  }
  assert.deepEqual(objects.map((o) => o.doc.kind).sort(), ['Deployment', 'PersistentVolumeClaim', 'ScaledObject', 'Service']);
});

test('the schema check refuses a broken Deployment (a port as text, a probe without a port)', () => {
  const broken = structuredClone(byKind('Deployment'));
  broken.spec.template.spec.containers[0].ports[0].containerPort = 'eighty';
  assert.throws(() => new Deployment(broken).validate(), /containerPort must be integer/);
  const noPort = structuredClone(byKind('Deployment'));
  delete noPort.spec.template.spec.containers[0].readinessProbe.httpGet.port;
  assert.throws(() => new Deployment(noPort).validate(), /httpGet must have required property port/);
});

test('probes reach /healthz and /readyz on the port HTTP_PORT opens, and the Service targets that port on the Deployment\'s pods', () => {
  const deployment = byKind('Deployment');
  const service = byKind('Service');
  const pod = deployment.spec.template;
  const container = pod.spec.containers[0];
  const env = Object.fromEntries(container.env.filter((e: { value?: string }) => e.value !== undefined).map((e: { name: string; value: string }) => [e.name, e.value]));
  const http = container.ports.find((p: { name: string }) => p.name === 'http');
  assert.equal(String(http.containerPort), env.HTTP_PORT);
  assert.equal(container.livenessProbe.httpGet.path, '/healthz');
  assert.equal(container.readinessProbe.httpGet.path, '/readyz');
  for (const probe of [container.livenessProbe, container.readinessProbe]) assert.equal(probe.httpGet.port, 'http');
  assert.deepEqual(deployment.spec.selector.matchLabels, service.spec.selector);
  for (const [k, v] of Object.entries(service.spec.selector)) assert.equal(pod.metadata.labels[k], v, `pod label ${k}`);
  assert.equal(service.spec.ports[0].targetPort, 'http');
});

test('every replica mounts the models claim at MODELS_DIR, and the claim can be mounted by many nodes at once', () => {
  const deployment = byKind('Deployment');
  const claim = byKind('PersistentVolumeClaim');
  const container = deployment.spec.template.spec.containers[0];
  const env = Object.fromEntries(container.env.map((e: { name: string; value?: string }) => [e.name, e.value]));
  const mount = container.volumeMounts.find((m: { name: string }) => m.name === 'models');
  assert.equal(mount.mountPath, env.MODELS_DIR);
  const volume = deployment.spec.template.spec.volumes.find((v: { name: string }) => v.name === 'models');
  assert.equal(volume.persistentVolumeClaim.claimName, claim.metadata.name);
  assert.deepEqual(claim.spec.accessModes, ['ReadWriteMany']);
  const known = new Set(Object.values(CONFIG_ENTRIES).map((e) => e.env));
  for (const name of Object.keys(env)) assert.ok(known.has(name), `${name} is a runtime setting`);
});

test('the KEDA ScaledObject scales the Deployment on the lag of the runtime\'s own consumer group and input topic', () => {
  const deployment = byKind('Deployment');
  const scaled = byKind('ScaledObject');
  const env = Object.fromEntries(deployment.spec.template.spec.containers[0].env.map((e: { name: string; value?: string }) => [e.name, e.value]));
  assert.equal(scaled.spec.scaleTargetRef.name, deployment.metadata.name);
  const [trigger] = scaled.spec.triggers;
  assert.equal(trigger.type, 'kafka');
  assert.equal(trigger.metadata.consumerGroup, env.KAFKA_GROUP_ID);
  assert.equal(trigger.metadata.topic, env.KAFKA_INCOMING_MSG_TOPIC);
  assert.equal(trigger.metadata.bootstrapServers, env.KAFKA_BOOTSTRAP_SERVER);
  assert.ok(Number(trigger.metadata.lagThreshold) > 0);
  assert.ok(scaled.spec.minReplicaCount >= 1, 'one replica always answers');
  const graceMs = deployment.spec.template.spec.terminationGracePeriodSeconds * 1000;
  assert.ok(graceMs > Number(env.KAFKA_DELIVERY_TIMEOUT_MS), 'a scaled-down replica may finish delivering its slice before it is killed');
  assert.ok(existsSync(join(repoRoot, 'Dockerfile')), 'the image the Deployment names is built from the Dockerfile');
});
