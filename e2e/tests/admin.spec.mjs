// Browser tests for the system administrator's pages, and the whole journey of
// a new person: added by the administrator, given a one-time password reset
// link, setting a password, enrolling a second factor and saving recovery
// codes, then reaching the dashboard.
import {
  test,
  expect,
  PEOPLE,
  newAnonymousContext,
  submitPassword,
  unusedCode,
} from './session.mjs';
import {
  expectErrorSummary,
  expectShellPage,
  firstTableLink,
  followLink,
  navigationResponse,
} from './pages.mjs';
import { expectNoAxeViolations } from './axe.mjs';

test.use({ signedInAs: PEOPLE.admin });

/** The person the journey test adds, for the test after it (same worker only). */
let newcomerAccount;

/** Every field in `fields` has an error message, linked from the error summary. */
async function expectFieldErrors(page, fields) {
  const summary = page.locator('.govuk-error-summary');
  await expect(summary).toContainText('There is a problem');
  for (const field of fields) {
    await expect(summary.locator(`a[href="#${field}"]`), `summary link for ${field}`).toBeVisible();
    await expect(page.locator(`#${field}-error`), `error message for ${field}`).toBeVisible();
  }
}

/** Choose the first real agency in the #agency_id select; returns its value. */
async function chooseFirstAgency(page) {
  const agency = await page
    .locator('#agency_id option')
    .evaluateAll((options) => options.map((option) => option.value).find((value) => value !== ''));
  expect(agency, 'an agency to choose').toBeTruthy();
  await page.locator('#agency_id').selectOption(agency);
  return agency;
}

/** Click a button by its accessible name and return the resulting page's response. */
function press(page, name) {
  return navigationResponse(page, () => page.getByRole('button', { name, exact: true }).click());
}

test('people list offers "Add a person"', async ({ page }) => {
  const response = await page.goto('/admin/people');
  await expectShellPage(page, response, { heading: 'People' });
  const add = page.getByRole('link', { name: 'Add a person' });
  await expect(add).toBeVisible();
  await expect(add).toHaveAttribute('href', '/admin/people/new');
});

test('add a person: submitting the empty form shows every error at once', async ({ page }) => {
  const response = await page.goto('/admin/people/new');
  await expectShellPage(page, response, { heading: 'Add a person' });
  await expect(page.getByRole('link', { name: 'All people' })).toBeVisible();

  const empty = await press(page, 'Add person');
  await expectShellPage(page, empty, { heading: 'Add a person' });
  await expectErrorSummary(page, [
    'Enter the name',
    'Enter an email address in the correct format, like name@example.org',
    "Choose the person's agency",
    'Choose a role',
  ]);
  await expectFieldErrors(page, ['name', 'email', 'agency_id', 'role']);
});

test('a person page offers roles, a reset link and disabling', async ({ page }) => {
  await page.goto('/admin/people');
  const { link, name } = await firstTableLink(page);
  const response = await followLink(page, link);
  await expectShellPage(page, response, { heading: name });
  await expect(page.getByRole('heading', { name: 'Add a role' })).toBeVisible();
  await expect(page.locator('#role')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Add role' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Issue a password reset link' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Disable this account' })).toBeVisible();
});

test('adding a role with nothing chosen shows an error', async ({ page }) => {
  await page.goto('/admin/people');
  await followLink(page, page.locator('main table tbody a').first());
  const response = await press(page, 'Add role');
  expect(response.status()).toBeLessThan(500);
  await expect(page.locator('.govuk-error-summary')).toContainText('There is a problem');
  await expect(page.locator('.govuk-error-summary a[href="#role"]')).toBeVisible();
  await expectNoAxeViolations(page);
});

test('a browser test signs in with a second factor', async ({ page, browser, baseURL }) => {
  // Enrolment, recovery codes and a possible wait for a fresh TOTP step.
  test.slow();
  const name = 'Test Newcomer';
  const email = `newcomer+${Date.now()}@fernbridge.example`;
  const password = 'lantern orchard copper meadow';

  // The administrator adds the person.
  await page.goto('/admin/people/new');
  await page.locator('#name').fill(name);
  await page.locator('#email').fill(email);
  await chooseFirstAgency(page);
  await page.locator('#role').selectOption('executive');
  const added = await press(page, 'Add person');
  await expectShellPage(page, added, { heading: name });
  await expect(page).toHaveURL(/\/admin\/people\/[^/]+$/);
  const personPath = new URL(page.url()).pathname;
  await expect(page.locator('main')).toContainText(email);

  // ... and issues a one-time password reset link.
  const issued = await press(page, 'Issue a password reset link');
  await expectShellPage(page, issued, { heading: name });
  const link = (await page.locator('#reset-link').innerText()).trim();
  // The link uses the configured public_url, not the test server's address.
  expect(link).toMatch(/^https?:\/\/[^/]+\/password-reset\/\S+$/);
  const resetPath = link.slice(link.indexOf('/password-reset/'));

  // The newcomer, in a browser that is not signed in, sets a password...
  const newcomer = await newAnonymousContext(browser, baseURL);
  try {
    const their = await newcomer.newPage();
    const form = await their.goto(resetPath);
    await expectShellPage(their, form, { heading: 'Set your password' });
    await their.locator('#password').fill(password);
    const set = await press(their, 'Set password');
    await expectShellPage(their, set, { heading: 'Your password is set' });

    // ... signs in, and is asked to set up a second factor.
    await submitPassword(their, email, password);
    await expect(their).toHaveURL(/\/sign-in\/second-factor$/);
    await expectShellPage(their, await their.reload(), { heading: 'Set up your second factor' });
    const qr = their.getByRole('img', { name: /QR code/ });
    await expect(qr).toBeVisible();
    await expect(qr.locator('svg')).toBeVisible();
    const secret = (await their.locator('#totp-secret').innerText()).trim();
    expect(secret).toMatch(/^[A-Z2-7]+=*$/);

    await their.locator('#code').fill(await unusedCode(email, secret));
    const enrolled = await press(their, 'Continue');
    await expectShellPage(their, enrolled, { heading: 'Save your recovery codes' });
    const codes = their.locator('#recovery-codes li');
    await expect(codes).toHaveCount(10);
    const texts = (await codes.allInnerTexts()).map((text) => text.trim());
    expect(new Set(texts).size, 'recovery codes are all different').toBe(10);

    const onwards = their.getByRole('link', { name: 'Continue to the dashboard' });
    const dashboard = await followLink(their, onwards);
    await expectShellPage(their, dashboard, { heading: 'Dashboard' });
    await expect(their.getByRole('link', { name: /: your account$/ })).toContainText(name);
  } finally {
    await newcomer.close();
  }

  // The reset link worked once: it is no use a second time.
  const reused = await page.goto(resetPath);
  expect(reused.status()).toBe(404);

  newcomerAccount = { name, email, password, personPath };
});

test('disabling an account stops its sign-in', async ({ page, browser, baseURL }) => {
  test.skip(!newcomerAccount, 'needs the newcomer from the test before');
  const { name, email, password, personPath } = newcomerAccount;

  await page.goto(personPath);
  const disabled = await press(page, 'Disable this account');
  await expectShellPage(page, disabled, { heading: name });
  const status = page.locator('.govuk-summary-list__row', { hasText: 'Status' });
  await expect(status.locator('dd')).toHaveText('Disabled');
  await expect(page.getByRole('button', { name: 'Enable this account' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Disable this account' })).toHaveCount(0);

  const context = await newAnonymousContext(browser, baseURL);
  try {
    const their = await context.newPage();
    await submitPassword(their, email, password);
    await expect(their).toHaveURL(/\/sign-in$/);
    await expectErrorSummary(their, ['Enter a correct email address and password']);
  } finally {
    await context.close();
  }
});
