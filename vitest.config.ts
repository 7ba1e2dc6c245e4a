import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

// Tests import the package by name ('php-session-engine'); this condition resolves it to the
// TypeScript sources instead of dist/, so no build step is needed before testing.
const conditions = ['php-session-engine-source', ...defaultServerConditions];

/**
 * The suites that decode sessions against PHP's expectations (conformance scenarios, the PHP
 * harness, fuzz and property tests, the engine and user-handler suites). The whole suite runs with
 * lazy $_SESSION decoding (the default); these run a second time eagerly (issue #16: every
 * conformance scenario, fuzz and property test passes on both paths).
 */
const DECODING_SUITES = [
  'spec/conformance/**/*.test.ts',
  'spec/serializers/**/*.test.ts',
  'spec/php/**/*.test.ts',
  'spec/engine/**/*.test.ts',
  'spec/user/**/*.test.ts',
  'spec/regressions/**/*.test.ts',
  'spec/value/**/*.test.ts',
  'spec/files/**/*.test.ts',
];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: conditions } },
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    projects: [
      { extends: true, test: { name: 'lazy', include: ['spec/**/*.test.ts'] } },
      { extends: true, test: { name: 'eager', include: DECODING_SUITES, env: { PHP_SESSION_ENGINE_LAZY_DECODE: '0' } } },
    ],
  },
});
