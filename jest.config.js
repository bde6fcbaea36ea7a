// Jest runs the TypeScript sources as native ES modules (the project is "type": "module").
// Type checking is done once by `tsc --noEmit` in `npm test`, so ts-jest only transpiles.
/** @type {import('jest').Config} */
export default {
  // onnxruntime-node creates typed arrays in the main realm: share those constructors with the test realm
  testEnvironment: '<rootDir>/test/support/ort-environment.cjs',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  testTimeout: 30000,
};
