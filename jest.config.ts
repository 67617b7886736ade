import type { Config } from 'jest';

// Tests run on the TypeScript sources (swc strips types; `tsc -b` is the type checker).
// Workspace packages resolve to their sources so a test never depends on a stale build.
const config: Config = {
  testEnvironment: 'node',
  roots: ['<rootDir>/packages'],
  testMatch: ['**/test/**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  moduleNameMapper: {
    '^@fasmcov/(fas|tracer|instrument|report)$': '<rootDir>/packages/$1/src/index.ts',
  },
  testTimeout: 120_000,
  maxWorkers: 2,
};

export default config;
