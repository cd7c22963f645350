// mocha runs the TypeScript tests through tsx; test files mirror the source tree.
module.exports = {
  require: ['tsx/cjs', './test/support/mocha-hooks.ts'],
  extension: ['ts'],
  spec: ['test/**/*.test.ts'],
  timeout: 30000,
  exit: true,
  reporter: 'spec',
};
