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
  // Layers only point down: shared <- config, logs, control <- master, worker, monitor <- cli.
  // Type-only imports count too (a type import upward is how the old cycles began).
  // Cycles inside a folder are caught by `madge --circular` in `npm run lint`.
  layer('shared', ['config', 'logs', 'control', 'master', 'worker', 'monitor', 'cli'], 'src/shared imports nothing outside itself'),
  layer('config', ['logs', 'control', 'master', 'worker', 'monitor', 'cli'], 'config imports only src/shared'),
  layer('logs', ['config', 'control', 'master', 'worker', 'monitor', 'cli'], 'logs imports only src/shared'),
  layer('control', ['config', 'logs', 'master', 'worker', 'monitor', 'cli'], 'control imports only src/shared'),
  layer('master', ['worker', 'monitor', 'cli'], 'the master meets workers and the monitor only through src/shared'),
  layer('worker', ['master', 'monitor', 'cli'], 'a worker meets the master only through src/shared'),
  layer('monitor', ['master', 'worker', 'cli'], 'the monitor meets the master only through src/shared'),
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
