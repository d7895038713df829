import fs from 'node:fs';
import path from 'node:path';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Service } from 'kubernetes-models/v1';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { MasterMetrics } from '../../src/master/master-metrics.js';
import { DEPLOY, effectiveConfig, ms, parseManifests, tcpPort, yamlFiles, type EffectiveConfig, type ManifestDoc } from './deploy-helpers.js';

/**
 * examples/deploy/kubernetes/ against the official Kubernetes schemas (the
 * kubernetes-models package bundles them, compiled for ajv: no cluster, no
 * network), then the facts that tie the files to each other and to the code.
 * The schemas check types, required fields and enums; like the API server's
 * own OpenAPI schemas they allow unknown fields, so a misspelled field is
 * caught by the cross-file checks below that read it, not by the schema.
 */

const KUBERNETES = path.join(DEPLOY, 'kubernetes');

/** The schema of each kind the manifests use; a new kind needs its model here. */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'apps/v1 Deployment': Deployment,
  'v1 Service': Service,
  'v1 ConfigMap': ConfigMap,
  'policy/v1 PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2 HorizontalPodAutoscaler': HorizontalPodAutoscaler,
};

/** Validates one object against its kind's schema; throws with ajv's paths (`data/spec/...`). */
function validate(data: Record<string, unknown>): void {
  const key = `${String(data.apiVersion)} ${String(data.kind)}`;
  const Model = MODELS[key];
  if (Model === undefined) throw new Error(`no schema for ${key}: add its kubernetes-models class to MODELS`);
  new Model(data as never).validate();
}

/** Reads a nested field, failing with its path when a step is missing (a misspelled field lands here). */
function at(value: unknown, ...keys: (string | number)[]): unknown {
  let here = value;
  for (const [i, key] of keys.entries()) {
    if (here === null || typeof here !== 'object' || !(key in here)) throw new Error(`missing ${keys.slice(0, i + 1).join('.')}`);
    here = (here as Record<string | number, unknown>)[key];
  }
  return here;
}

const docs: ManifestDoc[] = yamlFiles(KUBERNETES).flatMap((file) => parseManifests(path.relative(DEPLOY, file), fs.readFileSync(file, 'utf8')));

function only(kind: string): Record<string, unknown> {
  const found = docs.filter((d) => d.data.kind === kind);
  expect(found.map((d) => `${d.file}#${d.index}`), `exactly one ${kind}`).toHaveLength(1);
  return (found[0] as ManifestDoc).data;
}

/** The name of an HPA's one `Pods` metric. */
function podsMetric(hpa: Record<string, unknown>): string {
  const pods = (at(hpa, 'spec', 'metrics') as Record<string, unknown>[]).filter((m) => m.type === 'Pods');
  expect(pods).toHaveLength(1);
  return String(at(pods[0], 'pods', 'metric', 'name'));
}

describe('examples/deploy/kubernetes: every document against the Kubernetes schemas', () => {
  it('finds the Deployment, Service, PodDisruptionBudget, HorizontalPodAutoscaler and the adapter ConfigMap', () => {
    expect(docs.map((d) => d.data.kind).sort()).toEqual(['ConfigMap', 'Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'Service']);
  });

  it.each(docs.map((d) => [`${d.file}#${d.index} (${String(d.data.kind)})`, d] as const))('%s is valid', (_, doc) => {
    expect(() => validate(doc.data)).not.toThrow();
  });

  it('the validator rejects what the API server would (it is not a no-op)', () => {
    const deployment = structuredClone(only('Deployment'));
    const container = at(deployment, 'spec', 'template', 'spec', 'containers', 0) as Record<string, unknown>;
    container.ports = [{ name: 'http', containerPort: '8080' }];
    expect(() => validate(deployment)).toThrow(/containerPort must be integer/);
    const hpa = structuredClone(only('HorizontalPodAutoscaler'));
    delete (hpa.spec as Record<string, unknown>).maxReplicas;
    expect(() => validate(hpa)).toThrow(/maxReplicas/);
    expect(() => validate({ apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject' })).toThrow(/no schema/);
  });
});

describe('examples/deploy/kubernetes: the files agree with each other and with rocket-cluster', () => {
  const deployment = only('Deployment');
  const pod = at(deployment, 'spec', 'template', 'spec') as Record<string, unknown>;
  const podLabels = at(deployment, 'spec', 'template', 'metadata', 'labels') as Record<string, string>;
  const containers = at(pod, 'containers') as Record<string, unknown>[];
  const container = containers[0] as Record<string, unknown>;
  const ports = new Map((at(container, 'ports') as { name: string; containerPort: number }[]).map((p) => [p.name, p.containerPort]));
  /** A probe's or Service's port, named or numbered, as a number. */
  const portNumber = (port: unknown) => (typeof port === 'string' ? ports.get(port) : port);
  let config: EffectiveConfig;

  beforeAll(async () => {
    config = await effectiveConfig(at(container, 'args') as string[]);
  });

  it('runs one container whose args the real CLI accepts: a foreground start, never --daemon', () => {
    expect(containers).toHaveLength(1);
    const args = at(container, 'args') as string[];
    expect(args.slice(0, 3)).toEqual(['node', 'bin/rocket-cluster', 'start']);
    expect(args).not.toContain('--daemon');
    expect(args).not.toContain('-d');
    // `command` would replace the image's ENTRYPOINT, tini.
    expect(container).not.toHaveProperty('command');
    expect(fs.existsSync(String(config.app))).toBe(true);
  });

  it('probes /readyz (readiness) and /healthz (liveness) on the port --admin listens on', () => {
    const admin = tcpPort(config.admin);
    expect(at(container, 'readinessProbe', 'httpGet', 'path')).toBe('/readyz');
    expect(at(container, 'livenessProbe', 'httpGet', 'path')).toBe('/healthz');
    expect(portNumber(at(container, 'readinessProbe', 'httpGet', 'port'))).toBe(admin);
    expect(portNumber(at(container, 'livenessProbe', 'httpGet', 'port'))).toBe(admin);
    expect(Number(at(deployment, 'spec', 'template', 'metadata', 'annotations', 'prometheus.io/port'))).toBe(admin);
  });

  it('gives a stop its whole time: terminationGracePeriodSeconds > --shutdown-delay + --shutdown-timeout', () => {
    const delay = ms(config, 'shutdownDelay');
    expect(delay, 'a shutdown delay, for endpoint removal to propagate').toBeGreaterThan(0);
    expect(Number(at(pod, 'terminationGracePeriodSeconds')) * 1000).toBeGreaterThan(delay + ms(config, 'shutdownTimeout'));
  });

  it('sizes the pool from limits.cpu: a CPU limit, and no worker count in the args', () => {
    expect(Number.parseFloat(String(at(container, 'resources', 'limits', 'cpu')))).toBeGreaterThan(0);
    const args = at(container, 'args') as string[];
    for (const flag of ['--workers', '-w', '--max-workers']) expect(args).not.toContain(flag);
    expect(config.minWorkers).toBe(1);
  });

  it('the Service, the PodDisruptionBudget and the Deployment select the pods the Deployment makes', () => {
    const service = only('Service');
    for (const selector of [at(service, 'spec', 'selector'), at(only('PodDisruptionBudget'), 'spec', 'selector', 'matchLabels'), at(deployment, 'spec', 'selector', 'matchLabels')]) {
      expect(Object.keys(selector as object).length).toBeGreaterThan(0);
      expect(podLabels).toMatchObject(selector as Record<string, string>);
    }
    const [servicePort] = at(service, 'spec', 'ports') as { targetPort: unknown }[];
    expect(portNumber(servicePort?.targetPort)).toBe(tcpPort((config.listen as string[])[0]));
  });

  it('the HPA scales the Deployment on the queue-depth gauge the master exports, and on CPU (requests set)', async () => {
    const hpa = only('HorizontalPodAutoscaler');
    expect(at(hpa, 'spec', 'scaleTargetRef')).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: at(deployment, 'metadata', 'name') });
    expect(Number(at(hpa, 'spec', 'minReplicas'))).toBeGreaterThanOrEqual(2); // the PDB lets one go, one still serves
    expect(deployment.spec).not.toHaveProperty('replicas');
    const metrics = at(hpa, 'spec', 'metrics') as Record<string, unknown>[];
    const name = podsMetric(hpa);
    expect(name).toBe('rocket_cluster_queue_depth');
    const registry = new MasterMetrics().registry;
    await expect(registry.getSingleMetric(name)?.get()).resolves.toMatchObject({ type: 'gauge' });
    registry.clear();
    const cpu = metrics.find((m) => m.type === 'Resource');
    expect(at(cpu, 'resource', 'name')).toBe('cpu');
    expect(at(container, 'resources', 'requests', 'cpu')).toBeDefined();
  });

  it('the Prometheus Adapter rule serves that metric per pod under the name the HPA asks for', () => {
    const adapter = parse(String(at(only('ConfigMap'), 'data', 'config.yaml'))) as unknown;
    const rules = at(adapter, 'rules') as Record<string, unknown>[];
    const hpaMetric = podsMetric(only('HorizontalPodAutoscaler'));
    const rule = rules.find((r) => at(r, 'name', 'as') === hpaMetric);
    expect(String(at(rule, 'seriesQuery'))).toMatch(new RegExp(`^'?${hpaMetric}\\{`));
    expect(new RegExp(String(at(rule, 'name', 'matches'))).test(hpaMetric)).toBe(true);
    expect(at(rule, 'resources', 'overrides')).toEqual({ namespace: { resource: 'namespace' }, pod: { resource: 'pod' } });
    expect(String(at(rule, 'metricsQuery'))).toContain('<<.GroupBy>>');
  });
});
