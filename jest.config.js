// @ts-check
const { pathsToModuleNameMapper } = require('ts-jest');
const { compilerOptions } = require('./tsconfig.base.json');

// Type-checking is `npm run typecheck`'s job; ts-jest only transpiles so the suites start fast.
// jose ships ES modules only; jest's CommonJS runtime needs them rewritten (Node itself loads them).
const transform = {
  '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
  '/node_modules/jose/.+\\.js$': [
    'babel-jest',
    { babelrc: false, configFile: false, plugins: ['@babel/plugin-transform-modules-commonjs'] },
  ],
};
const transformIgnorePatterns = ['/node_modules/(?!jose/)'];
const moduleNameMapper = pathsToModuleNameMapper(compilerOptions.paths, { prefix: '<rootDir>/' });
// Node, plus stopping whatever processes a test file's failed hooks left running.
const testEnvironment = '<rootDir>/libs/process/jest-environment.ts';

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      displayName: 'unit',
      testEnvironment,
      rootDir: '.',
      testMatch: ['<rootDir>/libs/**/*.spec.ts', '<rootDir>/services/**/*.spec.ts'],
      transform,
      transformIgnorePatterns,
      moduleNameMapper,
    },
    {
      displayName: 'e2e',
      testEnvironment,
      rootDir: '.',
      testMatch: ['<rootDir>/e2e/**/*.e2e-spec.ts', '<rootDir>/services/**/*.e2e-spec.ts'],
      transform,
      transformIgnorePatterns,
      moduleNameMapper,
      slowTestThreshold: 60,
    },
  ],
};
