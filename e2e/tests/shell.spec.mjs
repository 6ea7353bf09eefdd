// Browser tests for learnloop's web shell: every page renders inside the
// GOV.UK Frontend layout, shows the partnership team's name in the header,
// has exactly one h1 and passes axe (WCAG 2.2 AA rules).
import { test, expect } from '@playwright/test';
import { expectNoAxeViolations } from './axe.mjs';

// The demo partnership team's name, shown in the page header.
const TEAM_NAME = 'Fernbridge Safeguarding Partnerships';

/** Checks every shell page shares; `heading` is the expected h1 text. */
async function expectShellPage(page, response, { status = 200, heading } = {}) {
  expect(response, `no response for ${page.url()}`).not.toBeNull();
  expect(response.status(), `HTTP status of ${page.url()}`).toBe(status);
  const h1 = page.locator('h1');
  await expect(h1).toHaveCount(1);
  if (heading !== undefined) {
    await expect(h1).toHaveText(heading);
  }
  await expect(page.getByRole('banner')).toContainText(TEAM_NAME);
  await expectNoAxeViolations(page);
}

/** Click a link and return the main-frame navigation response it causes. */
async function followLink(page, link) {
  const navigation = page.waitForResponse(
    (response) =>
      response.request().isNavigationRequest() && response.frame() === page.mainFrame(),
  );
  await link.click();
  const response = await navigation;
  await page.waitForLoadState('load');
  return response;
}

/** Text of the first link in the main content's table, and the link. */
async function firstTableLink(page) {
  const link = page.locator('main table tbody a').first();
  await expect(link).toBeVisible();
  const name = (await link.innerText()).trim();
  expect(name, 'the first link in the table has text').not.toBe('');
  return { link, name };
}

test('dashboard', async ({ page }) => {
  const response = await page.goto('/');
  await expectShellPage(page, response, { heading: 'Dashboard' });
});

test('agencies list and an agency page', async ({ page }) => {
  const response = await page.goto('/agencies');
  await expectShellPage(page, response, { heading: 'Agencies' });
  await expect(page.locator('main table')).toBeVisible();

  const { link, name } = await firstTableLink(page);
  const agencyResponse = await followLink(page, link);
  await expectShellPage(page, agencyResponse, { heading: name });
});

test('groups list and a group page', async ({ page }) => {
  const response = await page.goto('/groups');
  await expectShellPage(page, response, { heading: 'Groups' });

  const { link, name } = await firstTableLink(page);
  const groupResponse = await followLink(page, link);
  await expectShellPage(page, groupResponse, { heading: name });
});

test('partnerships', async ({ page }) => {
  const response = await page.goto('/partnerships');
  await expectShellPage(page, response, { heading: 'Partnerships' });
});

test('API reference', async ({ page }) => {
  const response = await page.goto('/api/docs');
  await expectShellPage(page, response, { heading: 'API reference' });
});

test('unknown page is a 404 inside the shell', async ({ page }) => {
  const response = await page.goto('/no-such-page');
  await expectShellPage(page, response, { status: 404, heading: 'Page not found' });
});

test('every response for the dashboard carries x-request-id', async ({ page, baseURL }) => {
  const origin = new URL(baseURL).origin;
  const responses = [];
  page.on('response', (response) => {
    if (new URL(response.url()).origin === origin) {
      responses.push(response);
    }
  });
  await page.goto('/');
  await page.waitForLoadState('networkidle');

  expect(responses.length, 'responses from the server').toBeGreaterThan(0);
  const missing = [];
  for (const response of responses) {
    const headers = await response.allHeaders();
    if (!headers['x-request-id']) {
      missing.push(`${response.status()} ${response.url()}`);
    }
  }
  expect(missing, 'responses without an x-request-id header').toEqual([]);
});

test('GOV.UK Frontend JavaScript runs under the CSP', async ({ page }) => {
  const problems = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content.Security.Policy|GOV\.UK Frontend/i.test(message.text())) {
      problems.push(`console: ${message.text()}`);
    }
  });
  await page.goto('/');
  // js/app.mjs adds this class (the CSP forbids GOV.UK's inline snippet).
  await expect(page.locator('body')).toHaveClass(/\bgovuk-frontend-supported\b/);
  expect(problems).toEqual([]);
});

test('served stylesheet has no GDS Transport font', async ({ request }) => {
  const response = await request.get('/static/app.css');
  expect(response.status()).toBe(200);
  expect(response.headers()['content-type'] ?? '').toContain('text/css');
  const css = await response.text();
  expect(css).not.toContain('GDS Transport');
  expect(css).not.toContain('@font-face');
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('agencies list still works', async ({ page }) => {
    const response = await page.goto('/agencies');
    expect(response.status()).toBe(200);
    await expect(page.locator('h1')).toHaveText('Agencies');
    await expect(page.locator('main table')).toBeVisible();
    await expect(page.locator('main table tbody tr').first()).toBeVisible();
    // Nothing ran: app.mjs would have added this class.
    await expect(page.locator('body')).not.toHaveClass(/\bgovuk-frontend-supported\b/);
  });
});
