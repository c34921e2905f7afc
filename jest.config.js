// One jest config, three projects: unit tests sit next to the code and need no
// servers; integration tests (test/*.int.test.ts) and end-to-end tests
// (tests/e2e) talk to the real stack whose addresses come from the environment.
const transform = { '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { target: 'es2022' } }] };
// Workspace packages from their TypeScript sources, not their compiled dist/ (package.json "exports").
const testEnvironmentOptions = { customExportConditions: ['@dispatch/source', 'node', 'node-addons'] };
// ESM-only dependencies, compiled to CommonJS for jest like our own code (jest's require of ESM needs
// --experimental-vm-modules); Node runs them natively (require(esm)).
const transformIgnorePatterns = ['/node_modules/(?!(\\.pnpm/)?(cockatiel|jose|node-pg-migrate)[@/])'];

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      displayName: 'unit',
      transform,
      transformIgnorePatterns,
      testEnvironment: 'node',
      testEnvironmentOptions,
      testMatch: ['<rootDir>/{packages,services,tools}/**/src/**/*.test.ts', '<rootDir>/tools/**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '\\.int\\.test\\.ts$'],
    },
    {
      displayName: 'integration',
      transform,
      transformIgnorePatterns,
      testEnvironment: 'node',
      testEnvironmentOptions,
      testMatch: ['<rootDir>/{packages,services,tools}/*/test/**/*.int.test.ts'],
      setupFilesAfterEnv: ['<rootDir>/jest.setup-integration.js'],
    },
    {
      displayName: 'e2e',
      transform,
      transformIgnorePatterns,
      testEnvironment: 'node',
      testEnvironmentOptions,
      testMatch: ['<rootDir>/tests/e2e/**/*.test.ts'],
      setupFilesAfterEnv: ['<rootDir>/jest.setup-e2e.js'],
    },
  ],
};
