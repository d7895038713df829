import { execFile, type ExecFileException } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { onCleanup } from '../helpers/cleanup.js';
import { homeEnv, newHome } from '../helpers/cluster.js';
import { ROOT } from '../helpers/paths.js';

/**
 * The package as a user gets it: `npm pack` of this checkout (its built dist/),
 * installed into a project of its own from the tarball, then used from an ES
 * module, a CommonJS script and TypeScript, each through the package's name
 * (its `exports` map), never a path into this repository.
 */

const TSC = path.join(ROOT, 'node_modules/typescript/bin/tsc');

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(file: string, args: readonly string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number }): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { cwd: options.cwd, env: options.env ?? process.env, timeout: options.timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error: ExecFileException | null, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
    onCleanup(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
  });
}

/** A tiny app and three consumers, as a user would write them. */
const FILES: Record<string, string> = {
  'app.mjs': `export default (req, res) => res.end(JSON.stringify({ pid: process.pid, url: req.url }));\n`,
  // The same steps from an ES module and from CommonJS: start, request, reload, scale, status, events, a bad option, stop.
  'steps.txt': `
  const cluster = await startCluster({ app: './app.mjs', listen: ['127.0.0.1:0'], workers: 1, logLevel: 'silent', name: NAME });
  const events = { worker: [], scale: [], reload: [] };
  for (const type of Object.keys(events)) cluster.on(type, (e) => events[type].push(e));
  cluster.on('error', (e) => { throw e; });
  const res = await fetch('http://' + cluster.addresses[0] + '/hi');
  const body = await res.json();
  const reload = await cluster.reload();
  const scale = await cluster.scale(2);
  const { status } = await cluster.status();
  const bad = await startCluster({ app: './app.mjs', workers: 0 }).catch((e) => e);
  const stop = await cluster.stop();
  console.log(JSON.stringify({
    address: cluster.addresses[0], status: res.status, url: body.url, reload, scale, workers: status.workers.length,
    events: { worker: events.worker.map((e) => e.event + (e.reason ? ':' + e.reason : '')), scale: events.scale, reload: events.reload.map((e) => e.phase) },
    bad: { isRocketError: bad instanceof RocketError, code: bad.code, message: bad.message }, stop,
  }));
`,
  'good.ts': `import { startCluster, RocketError, type Cluster, type ClusterOptions, type WorkerEvent } from 'rocket-cluster';

const options: ClusterOptions = { app: './app.mjs', listen: ['127.0.0.1:0', { address: 'unix:/tmp/x.sock', socketMode: '0660' }], workers: 2, logLevel: 'warn' };
const cluster: Cluster = await startCluster(options, { detached: false, execArgv: ['--import', 'tsx'] });
cluster.on('worker', (e: WorkerEvent) => {
  if (e.event === 'exited') console.log(e.pid, e.code, e.signal, e.reason.toUpperCase());
});
cluster.on('scale', (e) => console.log(e.kind, e.workers.toFixed(0), e.reason));
cluster.on('reload', (e) => console.log(e.phase, e.generation));
cluster.on('error', (e) => console.log(e.code, e instanceof RocketError));
const { generation }: { generation: number } = await cluster.reload();
const { status } = await cluster.status();
console.log(generation, status.workers[0]?.pid, cluster.addresses.join(), (await cluster.scale(3)).max);
const { code } = await cluster.stop();
console.log(code);
`,
  // Each line that must not compile names the error it must give, as a comment tsc's output is checked against.
  'bad.ts': `import { startCluster } from 'rocket-cluster';

const cluster = await startCluster({ app: './app.mjs', workers: 'two' }); // TS2322 workers
await startCluster({ app: 42 }); // TS2322 app (a path; optional since a static-only cluster needs none)
await startCluster({ app: './app.mjs', wrokers: 2 }); // TS2561 wrokers (did you mean 'workers'?)
cluster.on('worker', (e) => e.nope); // TS2339 nope
cluster.on('nosuch', () => {}); // TS2345 nosuch
const n: string = await cluster.scale(2); // TS2322 scale
`,
  'tsconfig.json': JSON.stringify(
    {
      compilerOptions: {
        target: 'ES2023',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        lib: ['ES2023', 'DOM'],
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        types: ['node'],
        typeRoots: [path.join(ROOT, 'node_modules/@types')],
      },
    },
    null,
    2,
  ),
  'tsconfig.good.json': JSON.stringify({ extends: './tsconfig.json', files: ['good.ts'] }),
  // Our declarations were checked by the clean run; here only the consumer's mistakes matter.
  'tsconfig.bad.json': JSON.stringify({ extends: './tsconfig.json', files: ['bad.ts'], compilerOptions: { skipLibCheck: true } }),
};

let project: string;

describe('the packed package, installed from its tarball', () => {
  beforeAll(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rocket-pack-'));
    onCleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
    const packed = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: ROOT, timeoutMs: 120_000 });
    expect(packed.code, packed.stderr).toBe(0);
    const [{ filename }] = JSON.parse(packed.stdout) as [{ filename: string }];
    project = path.join(dir, 'project');
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    // The dependencies come from the npm cache that `npm ci` filled; the registry is only asked what is missing.
    const installed = await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', path.join(dir, path.basename(filename))], { cwd: project, timeoutMs: 240_000 });
    expect(installed.code, installed.stderr).toBe(0);
    for (const [name, text] of Object.entries(FILES)) fs.writeFileSync(path.join(project, name), text);
    const steps = FILES['steps.txt']!;
    fs.writeFileSync(path.join(project, 'consumer.mjs'), `import { startCluster, RocketError } from 'rocket-cluster';\nconst NAME = 'pack-esm';\n${steps}`);
    fs.writeFileSync(path.join(project, 'consumer.cjs'), `const { startCluster, RocketError } = require('rocket-cluster');\nconst NAME = 'pack-cjs';\n(async () => {\n${steps}\n})();\n`);
  }, 400_000);

  it.each(['consumer.mjs', 'consumer.cjs'])('%s starts a cluster on port 0, serves a request, reloads, scales, reports, gets events and stops', async (file) => {
    const result = await run(process.execPath, [file], { cwd: project, env: { ...process.env, ...homeEnv(newHome()) }, timeoutMs: 60_000 });
    expect(result.code, result.stderr).toBe(0);
    // No warning either: require(esm) loads the package silently where it is on by default.
    expect(result.stderr).toBe('');
    const out = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(out.address).toMatch(/^127\.0\.0\.1:[1-9]\d*$/);
    // Reload: the new worker, ready before the old one retires; scale(2): one more; stop(): both leave.
    const workerEvents = (out.events as { worker: string[] }).worker;
    expect(workerEvents.slice(0, 4)).toEqual(['spawned', 'ready', 'exited:retired', 'spawned']);
    expect(workerEvents.filter((e) => e === 'exited:stopped')).toHaveLength(2);
    expect(out).toMatchObject({
      status: 200,
      url: '/hi',
      reload: { generation: 2, workers: 1 },
      scale: { min: 2, max: 2, workers: 2 },
      workers: 2,
      events: {
        scale: [{ kind: 'grow', workers: 2, reason: 'scale command' }],
        reload: ['started', 'done'],
      },
      bad: { isRocketError: true, code: 'RC_ERR_CONFIG_INVALID', message: 'workers 0: expected an integer from 1 to 256' },
      stop: { code: 0, signal: null },
    });
  });

  it('its types are real: a correct TypeScript consumer type-checks, and each deliberate mistake is reported where it is', async () => {
    const good = await run(process.execPath, [TSC, '-p', 'tsconfig.good.json', '--listFiles'], { cwd: project, timeoutMs: 120_000 });
    expect(good.stdout).not.toMatch(/error TS/);
    expect(good.code, good.stdout).toBe(0);
    // The types came from the installed package, through its `exports` map.
    expect(good.stdout).toContain(path.join(project, 'node_modules/rocket-cluster/dist/api/index.d.ts'));

    const bad = await run(process.execPath, [TSC, '-p', 'tsconfig.bad.json'], { cwd: project, timeoutMs: 120_000 });
    expect(bad.code).not.toBe(0);
    const reported = [...bad.stdout.matchAll(/^bad\.ts\((\d+),\d+\): error (TS\d+)/gm)].map((m) => `${m[1]} ${m[2]}`);
    const expected = FILES['bad.ts']!.split('\n').flatMap((line, i) => {
      const code = /\/\/ (TS\d+)/.exec(line)?.[1];
      return code ? [`${i + 1} ${code}`] : [];
    });
    expect(expected).toHaveLength(6);
    expect(reported, bad.stdout).toEqual(expected);
  }, 240_000);
});
