import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEPLOY, ROOT, effectiveConfig, execForm, inContext, ms, parseDockerfile, tcpPort, type EffectiveConfig, type Instruction } from './deploy-helpers.js';

/**
 * examples/deploy/Dockerfile, checked as text: CI has no Docker daemon, so
 * the image is never built there. What can be checked without building it is
 * checked here: the stages, the user, the init, the health check, a command
 * line the real CLI accepts, and that every file it copies from the context
 * exists and passes /.dockerignore. Whether the build itself succeeds is not.
 */

const DOCKERFILE = path.join(DEPLOY, 'Dockerfile');
const DOCKERIGNORE = path.join(ROOT, '.dockerignore');
/** `docker stop` sends SIGTERM and SIGKILLs this long after, unless given -t. */
const DOCKER_STOP_TIMEOUT_MS = 10_000;

const instructions = parseDockerfile(fs.readFileSync(DOCKERFILE, 'utf8'));
const stages = instructions.filter((i) => i.keyword === 'FROM');
const last = stages.length - 1;
const final = (keyword: string) => instructions.filter((i) => i.keyword === keyword && i.stage === last);

/** The exec-form array of the final stage's one `keyword` instruction. */
function finalExec(keyword: string): string[] {
  const found = final(keyword);
  expect(found, `one ${keyword} in the final stage`).toHaveLength(1);
  const exec = execForm((found[0] as Instruction).args);
  expect(exec, `${keyword} in exec form (JSON array), so that the signal reaches the process and not a shell`).not.toBeNull();
  return exec as string[];
}

describe('examples/deploy/Dockerfile', () => {
  let config: EffectiveConfig;

  beforeAll(async () => {
    config = await effectiveConfig(finalExec('CMD'));
  });

  it('is multi-stage: a named build stage runs npm ci and the build, the final stage copies from it and keeps production dependencies only', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const name = /\bAS\s+(\S+)$/i.exec((stages[0] as Instruction).args)?.[1];
    expect(name, 'the first stage is named (FROM ... AS build)').toBeDefined();
    const buildRuns = instructions.filter((i) => i.keyword === 'RUN' && i.stage < last).map((i) => i.args);
    expect(buildRuns.join('\n')).toMatch(/\bnpm ci\b/);
    expect(buildRuns.join('\n')).toMatch(/\bnpm run build\b/);
    expect(buildRuns.join('\n')).toMatch(/--omit=dev\b/);
    const fromBuild = final('COPY').filter((i) => i.flags.from === name);
    expect(fromBuild.map((i) => i.args.split(/\s+/)[0])).toEqual(expect.arrayContaining(['/app/node_modules', '/app/dist', '/app/package.json']));
  });

  it('runs as a user that is not root', () => {
    const users = final('USER');
    expect(users.length).toBeGreaterThan(0);
    const user = (users.at(-1) as Instruction).args.split(':')[0];
    expect(['root', '0', '']).not.toContain(user);
  });

  it('has an init as PID 1: tini, installed in the final stage, as the ENTRYPOINT', () => {
    expect(final('RUN').map((i) => i.args).join('\n')).toMatch(/apt-get install\b.*\btini\b/);
    const entrypoint = finalExec('ENTRYPOINT');
    expect(path.basename(entrypoint[0] ?? '')).toBe('tini');
    expect(entrypoint, 'no -g: the master alone gets SIGTERM and stops its workers in order').not.toContain('-g');
  });

  it('starts in the foreground with options the real CLI accepts, and stops within docker stop’s 10 s', () => {
    const cmd = finalExec('CMD');
    expect(cmd.slice(0, 3)).toEqual(['node', 'bin/rocket-cluster', 'start']);
    expect(cmd).not.toContain('--daemon');
    expect(cmd).not.toContain('-d');
    expect(ms(config, 'shutdownDelay') + ms(config, 'shutdownTimeout')).toBeLessThan(DOCKER_STOP_TIMEOUT_MS);
    expect(tcpPort((config.listen as string[])[0])).toBeGreaterThan(0);
  });

  it('checks health on /healthz of the admin port the CMD opens, with node (no curl in a slim image)', () => {
    const health = final('HEALTHCHECK');
    expect(health).toHaveLength(1);
    const exec = execForm((health[0] as Instruction).args.replace(/^CMD\s+/, ''));
    expect(exec?.[0]).toBe('node');
    expect(exec?.join(' ')).toContain(`http://127.0.0.1:${tcpPort(config.admin)}/healthz`);
    expect(final('EXPOSE').flatMap((i) => i.args.split(/\s+/)).map(Number)).toEqual(expect.arrayContaining([tcpPort(config.admin), tcpPort((config.listen as string[])[0])]));
  });

  it('copies from the build context only files that exist and that .dockerignore lets in', () => {
    const dockerignore = fs.readFileSync(DOCKERIGNORE, 'utf8');
    const sources = instructions.filter((i) => (i.keyword === 'COPY' || i.keyword === 'ADD') && i.flags.from === undefined).flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      expect(fs.existsSync(path.join(ROOT, source)), `${source} exists in the repository`).toBe(true);
      expect(inContext(dockerignore, source), `${source} is in the build context`).toBe(true);
    }
    // The app the CMD serves is in the context too, and what must stay out does.
    expect(inContext(dockerignore, path.relative(ROOT, String(config.app)))).toBe(true);
    for (const kept of ['node_modules', 'dist/cli/index.js', '.git', 'test/unit', 'examples/deploy/Dockerfile']) expect(inContext(dockerignore, kept), kept).toBe(false);
  });
});
