// @ts-check
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'dist-bench/**', 'node_modules/**', 'coverage/**', 'examples/**', 'test/fixtures/**', 'bin/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      'no-console': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  // A Node internal (an underscore field or method of a Node object) is used
  // only through src/shared/node-internals/, where each is listed, probed and
  // contract-tested (docs/ARCHITECTURE.md, "Node internals").
  {
    ignores: ['src/shared/node-internals/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        ...['MemberExpression[computed=false][property.name=/^_/]', 'MemberExpression[computed=true][property.value=/^_/]', 'TSPropertySignature[key.name=/^_/]'].map(
          (selector) => ({ selector, message: 'Node internals only through src/shared/node-internals/ (docs/ARCHITECTURE.md, "Node internals")' }),
        ),
      ],
    },
  },
  // Layers only point down: shared <- config, logs, control <- master, worker, monitor <- cli, api.
  // Type-only imports count too (a type import upward is how the old cycles began).
  // Cycles inside a folder are caught by `madge --circular` in `npm run lint`.
  // The programmatic API (src/api) forks the master by its entry's path, never imports it.
  layer('shared', ['config', 'logs', 'control', 'master', 'worker', 'monitor', 'cli', 'api'], 'src/shared imports nothing outside itself'),
  layer('config', ['logs', 'control', 'master', 'worker', 'monitor', 'cli', 'api'], 'config imports only src/shared'),
  layer('logs', ['config', 'control', 'master', 'worker', 'monitor', 'cli', 'api'], 'logs imports only src/shared'),
  layer('control', ['config', 'logs', 'master', 'worker', 'monitor', 'cli', 'api'], 'control imports only src/shared'),
  layer('master', ['worker', 'monitor', 'cli', 'api'], 'the master meets workers and the monitor only through src/shared'),
  layer('worker', ['master', 'monitor', 'cli', 'api'], 'a worker meets the master only through src/shared'),
  layer('monitor', ['master', 'worker', 'cli', 'api'], 'the monitor meets the master only through src/shared'),
  layer('cli', ['api'], 'the CLI and the programmatic API are two front ends, side by side'),
  layer('api', ['logs', 'master', 'worker', 'monitor', 'cli'], 'the programmatic API imports src/shared, src/config and src/control only: it forks the master, never runs it in the caller'),
);

/**
 * Forbids the files of `src/<folder>` to import the named folders of `src/`.
 * @param {string} folder
 * @param {string[]} banned
 * @param {string} why
 */
function layer(folder, banned, why) {
  return {
    files: [`src/${folder}/**/*.ts`],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: [{ regex: `^(\\.\\./)+(${banned.join('|')})/`, message: `${why} (layers: docs/ARCHITECTURE.md)` }] },
      ],
    },
  };
}
