import { spawnSync } from 'node:child_process';
import { runAutocannon } from './autocannon.js';
import type { Generator, GeneratorName } from './types.js';
import { runWrk } from './wrk.js';

/** wrk when it is on PATH (or asked for), else autocannon, which is a devDependency. */
export function pickGenerator(wanted: 'auto' | GeneratorName): Generator {
  const haveWrk = spawnSync('wrk', ['--version'], { stdio: 'ignore' }).error === undefined;
  if (wanted === 'wrk' && !haveWrk) throw new Error('--generator wrk: wrk is not installed (Debian: apt-get install wrk)');
  const name: GeneratorName = wanted === 'auto' ? (haveWrk ? 'wrk' : 'autocannon') : wanted;
  return { name, run: name === 'wrk' ? runWrk : runAutocannon };
}
