import { defineConfig } from 'vitest/config';

// Two projects: pure logic (fast, no processes) and integration (real master,
// workers and monitor on port 0). Integration files run one at a time because
// the machine has two cores shared by servers and clients.
export default defineConfig({
  test: {
    projects: [
      {
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'] },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          setupFiles: ['test/setup-integration.ts'],
          fileParallelism: false,
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
    ],
  },
});
