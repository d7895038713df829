import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERRORS, RocketError, isErrorCode } from '../../src/shared/errors.js';

describe('error table', () => {
  it('lists exactly the codes docs/ERRORS.md documents', () => {
    const doc = fs.readFileSync(new URL('../../docs/ERRORS.md', import.meta.url), 'utf8');
    const documented = [...doc.matchAll(/^\| `(RC_ERR_[A-Z_]+)` \|/gm)].map((m) => m[1]).sort();
    expect(documented).toEqual(Object.keys(ERRORS).sort());
  });

  it('codes follow RC_ERR_<AREA>_<WHAT>', () => {
    for (const code of Object.keys(ERRORS)) expect(code).toMatch(/^RC_ERR_[A-Z]+_[A-Z_]+$/);
  });

  it('crosses IPC as {code, message}', () => {
    const e = new RocketError('RC_ERR_APP_LOAD', 'cannot load app x.js: boom');
    expect(JSON.parse(JSON.stringify(e))).toEqual({ code: 'RC_ERR_APP_LOAD', message: 'cannot load app x.js: boom' });
    expect(isErrorCode('RC_ERR_APP_LOAD')).toBe(true);
    expect(isErrorCode('nope')).toBe(false);
  });
});
