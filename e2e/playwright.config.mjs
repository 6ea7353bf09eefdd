// Playwright configuration for learnloop's browser and accessibility tests.
//
// The server is NOT started here: the calling script starts learnloop first
// and passes its address in LEARNLOOP_E2E_BASE_URL, for example
//   LEARNLOOP_E2E_BASE_URL=http://127.0.0.1:8080 \
//     npx playwright test --config e2e/playwright.config.mjs
//
// The browser is Debian's chromium (scripts/install-browser). Never run
// `npx playwright install`; set PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 for npm.
import { defineConfig } from '@playwright/test';

const baseURL = process.env.LEARNLOOP_E2E_BASE_URL;
if (!baseURL) {
  throw new Error(
    'LEARNLOOP_E2E_BASE_URL is not set: start learnloop and set it to the server address, ' +
      'e.g. http://127.0.0.1:8080',
  );
}

export default defineConfig({
  testDir: './tests',
  // Relative to this file: keeps results in the repository's gitignored /test-results.
  outputDir: '../test-results',
  workers: 1,
  fullyParallel: false,
  retries: 0,
  forbidOnly: Boolean(process.env.CI),
  reporter: 'list',
  timeout: 30_000,
  expect: { timeout: 5_000 },
  use: {
    baseURL,
    browserName: 'chromium',
    locale: 'en-GB',
    timezoneId: 'Europe/London',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
});
