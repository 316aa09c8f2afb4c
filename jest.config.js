// @ts-check
const { pathsToModuleNameMapper } = require('ts-jest');
const { compilerOptions } = require('./tsconfig.base.json');

// Type-checking is `npm run typecheck`'s job; ts-jest only transpiles so the suites start fast.
const transform = { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] };
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
      moduleNameMapper,
    },
    {
      displayName: 'e2e',
      testEnvironment,
      rootDir: '.',
      testMatch: ['<rootDir>/e2e/**/*.e2e-spec.ts', '<rootDir>/services/**/*.e2e-spec.ts'],
      transform,
      moduleNameMapper,
      slowTestThreshold: 60,
    },
  ],
};
