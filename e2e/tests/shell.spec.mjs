// Browser tests for learnloop's web shell, signed in as the business manager
// (who can see every page, including People and the Audit trail, but cannot
// manage people): every page renders inside the GOV.UK Frontend layout, shows
// the partnership team's name in the header, has exactly one h1 and passes
// axe (WCAG 2.2 AA rules).
import { test, expect, PEOPLE, stepUp } from './session.mjs';
import {
  expectShellPage,
  firstTableLink,
  followLink,
  navigationResponse,
} from './pages.mjs';
import { expectNoAxeViolations } from './axe.mjs';

test.use({ signedInAs: PEOPLE.businessManager });

test('dashboard', async ({ page }) => {
  const response = await page.goto('/');
  await expectShellPage(page, response, { heading: 'Dashboard' });
  // Signed in: the header offers the account page and signing out.
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
});

test('partnerships', async ({ page }) => {
  const response = await page.goto('/partnerships');
  await expectShellPage(page, response, { heading: 'Partnerships' });
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

test('your account', async ({ page }) => {
  const response = await page.goto('/account');
  await expectShellPage(page, response, { heading: 'Your account' });
  await expect(page.locator('main')).toContainText(PEOPLE.businessManager);
});

test('the account link in the header opens your account', async ({ page }) => {
  await page.goto('/');
  const response = await followLink(page, page.getByRole('link', { name: /: your account$/ }));
  expect(response.status()).toBe(200);
  await expect(page.locator('h1')).toHaveText('Your account');
});

test('your API tokens: create one, use it on the API, revoke it', async ({
  page,
  playwright,
  baseURL,
}) => {
  await page.goto('/account');
  const manage = page.getByRole('link', { name: 'Manage your API tokens' });
  const listed = await followLink(page, manage);
  await expectShellPage(page, listed, { heading: 'Your API tokens' });

  // Creating a token asks for the authenticator code again (remembered for 5 minutes).
  await stepUp(page, PEOPLE.businessManager, '/account/tokens');
  const label = `e2e token ${Date.now()}`;
  await page.locator('#label').fill(label);
  await page.locator('#days').fill('0');
  const refused = await followLink(page, page.getByRole('button', { name: 'Create token' }));
  await expectShellPage(page, refused, { status: 422, heading: 'Your API tokens' });
  await expect(page.locator('.govuk-error-summary a[href="#days"]')).toBeVisible();
  await expect(page.locator('#days-error')).toBeVisible();

  await page.locator('#days').fill('1');
  const created = await followLink(page, page.getByRole('button', { name: 'Create token' }));
  await expectShellPage(page, created, { heading: 'Your API tokens' });
  const secret = (await page.locator('#new-token').innerText()).trim();
  expect(secret).not.toBe('');
  const row = page.locator('main table tbody tr', { hasText: label });
  await expect(row).toContainText('Active');

  // A program with the token (and no cookies) can use the API as this person...
  const api = await playwright.request.newContext({
    baseURL,
    storageState: { cookies: [], origins: [] },
  });
  try {
    const bearer = { authorization: `Bearer ${secret}` };
    expect((await api.get('/api/v1/agencies', { headers: bearer })).status()).toBe(200);

    // ... until it is revoked.
    await followLink(page, row.getByRole('button', { name: /^Revoke/ }));
    await expect(page.locator('h1')).toHaveText('Your API tokens');
    await expect(page.locator('main table tbody tr', { hasText: label })).toContainText('Revoked');
    await expectNoAxeViolations(page);
    expect((await api.get('/api/v1/agencies', { headers: bearer })).status()).toBe(401);
  } finally {
    await api.dispose();
  }
});

test('people list and a person page, without the management forms', async ({ page }) => {
  const response = await page.goto('/admin/people');
  await expectShellPage(page, response, { heading: 'People' });
  // The business manager sees people but cannot manage them.
  await expect(page.getByRole('link', { name: 'Add a person' })).toHaveCount(0);

  const { link, name } = await firstTableLink(page);
  const personResponse = await followLink(page, link);
  await expectShellPage(page, personResponse, { heading: name });
  await expect(page.getByRole('heading', { name: 'Roles' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Add a role' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Issue a password reset link' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Disable this account' })).toHaveCount(0);
});

test('audit trail, and its filter form with a bad date', async ({ page }) => {
  const response = await page.goto('/admin/audit');
  await expectShellPage(page, response, { heading: 'Audit trail' });
  await expect(page.locator('main table tbody tr').first()).toBeVisible();
  for (const field of ['#person', '#action', '#from', '#to']) {
    await expect(page.locator(field)).toBeVisible();
  }

  await page.locator('#from').fill('not-a-date');
  const filtered = await followLink(page, page.getByRole('button', { name: 'Filter' }));
  expect(new URL(page.url()).searchParams.get('from')).toBe('not-a-date');
  expect(filtered.status()).toBeLessThan(500);
  const summary = page.locator('.govuk-error-summary');
  await expect(summary).toBeVisible();
  await expect(summary).toContainText('There is a problem');
  await expect(summary.locator('a[href="#from"]')).toBeVisible();
  await expect(page.locator('#from-error')).toBeVisible();
  await expect(page.locator('#from')).toHaveValue('not-a-date');
  await expectNoAxeViolations(page);
});

test('audit trail filter by action', async ({ page }) => {
  await page.goto('/admin/audit');
  await page.locator('#action').fill('sign_in');
  await followLink(page, page.getByRole('button', { name: 'Filter' }));
  await expect(page.locator('.govuk-error-summary')).toHaveCount(0);
  const actions = page.locator('main table tbody tr td:nth-child(5)');
  await expect(actions.first()).toBeVisible();
  for (const action of await actions.allInnerTexts()) {
    expect(action).toMatch(/^sign_in/);
  }
  await expectNoAxeViolations(page);
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
  await expect(page.locator('h1')).toHaveText('Dashboard');

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
  await expect(page.locator('h1')).toHaveText('Dashboard');
  // js/app.mjs adds this class (the CSP forbids GOV.UK's inline snippet).
  await expect(page.locator('body')).toHaveClass(/\bgovuk-frontend-supported\b/);
  expect(problems).toEqual([]);
});

test.describe('static assets', () => {
  // Served to anyone: no need to sign in.
  test.use({ signedInAs: undefined });

  test('served stylesheet has no GDS Transport font', async ({ request }) => {
    const response = await request.get('/static/app.css');
    expect(response.status()).toBe(200);
    expect(response.headers()['content-type'] ?? '').toContain('text/css');
    const css = await response.text();
    expect(css).not.toContain('GDS Transport');
    expect(css).not.toContain('@font-face');
  });
});

test.describe('without JavaScript', () => {
  // The session cookie comes from a sign-in with JavaScript on; the pages
  // themselves must work without it.
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

  test('the audit filter form submits', async ({ page }) => {
    await page.goto('/admin/audit');
    await page.locator('#from').fill('not-a-date');
    const response = await navigationResponse(page, () =>
      page.getByRole('button', { name: 'Filter' }).click(),
    );
    expect(response.status()).toBeLessThan(500);
    await expect(page.locator('.govuk-error-summary')).toContainText('There is a problem');
  });
});
