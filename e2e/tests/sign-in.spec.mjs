// Browser tests for signing in and out: the sign-in form and its errors, the
// second factor, signing out, what anonymous visitors see, and a page a
// signed-in person may not open. Each person signs in at most once here, so no
// test waits for a fresh TOTP step.
import {
  test,
  expect,
  PEOPLE,
  DEMO_PASSWORD,
  totp,
  submitPassword,
  submitSecondFactor,
  signIn,
} from './session.mjs';
import { expectErrorSummary, expectShellPage, navigationResponse } from './pages.mjs';
import { expectNoAxeViolations } from './axe.mjs';

test('the TOTP helper matches the RFC 6238 SHA-1 test vectors', () => {
  // RFC 6238 appendix B: the ASCII secret "12345678901234567890", last 6 of 8 digits.
  const secret = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
  const vectors = [
    [59, '287082'],
    [1111111109, '081804'],
    [1111111111, '050471'],
    [1234567890, '005924'],
    [2000000000, '279037'],
    [20000000000, '353130'],
  ];
  for (const [seconds, code] of vectors) {
    expect(totp(secret, new Date(seconds * 1000)), `code at ${seconds} s`).toBe(code);
  }
});

test.describe('anonymous visitors', () => {
  test('the dashboard redirects to the sign-in page', async ({ page, request }) => {
    const direct = await request.get('/', { maxRedirects: 0 });
    expect(direct.status()).toBeGreaterThanOrEqual(300);
    expect(direct.status()).toBeLessThan(400);
    expect(new URL(direct.headers().location, 'http://x').pathname).toBe('/sign-in');

    await page.goto('/');
    await expect(page).toHaveURL(/\/sign-in$/);
    await expect(page.locator('h1')).toHaveText('Sign in');
  });

  test('other pages redirect to the sign-in page too', async ({ page }) => {
    for (const path of ['/agencies', '/admin/people', '/admin/audit', '/account']) {
      await page.goto(path);
      await expect(page, `${path} redirects`).toHaveURL(/\/sign-in$/);
    }
  });

  test('sign-in page', async ({ page }) => {
    const response = await page.goto('/sign-in');
    await expectShellPage(page, response, { heading: 'Sign in' });
    await expect(page.locator('#email')).toBeVisible();
    await expect(page.locator('#password')).toHaveAttribute('type', 'password');
    await expect(page.getByRole('button', { name: 'Sign out' })).toHaveCount(0);
  });

  test('submitting the empty sign-in form shows both errors', async ({ page }) => {
    await page.goto('/sign-in');
    const response = await navigationResponse(page, () =>
      page.getByRole('button', { name: 'Continue', exact: true }).click(),
    );
    await expectShellPage(page, response, { heading: 'Sign in' });
    await expectErrorSummary(page, ['Enter your email address', 'Enter your password']);
    await expect(page.locator('#email-error')).toContainText('Enter your email address');
    await expect(page.locator('#password-error')).toContainText('Enter your password');
    // The summary's links move focus to the fields.
    await page.locator('.govuk-error-summary a[href="#password"]').click();
    await expect(page.locator('#password')).toBeFocused();
  });

  test('a wrong password shows an error and keeps the email address', async ({ page }) => {
    await page.goto('/sign-in');
    await page.locator('#email').fill(PEOPLE.businessManager);
    await page.locator('#password').fill('not the password');
    const response = await navigationResponse(page, () =>
      page.getByRole('button', { name: 'Continue', exact: true }).click(),
    );
    await expectShellPage(page, response, { status: 200, heading: 'Sign in' });
    await expectErrorSummary(page, ['Enter a correct email address and password']);
    await expect(page.locator('#email')).toHaveValue(PEOPLE.businessManager);
    await expect(page.locator('#password')).toHaveValue('');
  });

  test('an unknown password reset link is a 404 page', async ({ page }) => {
    const response = await page.goto('/password-reset/no-such-token');
    // The server's message ("This link has expired or has been used...") is not shown:
    // the error page shows its generic "Page not found" text for every 404.
    await expectShellPage(page, response, { status: 404, heading: 'Page not found' });
  });

  test('the API reference is public', async ({ page }) => {
    const response = await page.goto('/api/docs');
    await expectShellPage(page, response, { heading: 'API reference' });
  });
});

test('sign in with a password and a security code, then sign out', async ({ page }) => {
  const email = PEOPLE.policeLead;
  await submitPassword(page, email, DEMO_PASSWORD);
  await expect(page).toHaveURL(/\/sign-in\/second-factor$/);
  await expectShellPage(page, await page.reload(), { heading: 'Enter your security code' });

  await submitSecondFactor(page, email);
  await expect(page).toHaveURL(/\/$/);
  await expect(page.locator('h1')).toHaveText('Dashboard');
  await expectNoAxeViolations(page);

  // The signed-in person stays signed in from page to page.
  await page.goto('/agencies');
  await expect(page.locator('h1')).toHaveText('Agencies');

  const signedOut = await navigationResponse(page, () =>
    page.getByRole('button', { name: 'Sign out' }).click(),
  );
  expect(signedOut.status()).toBe(200);
  await expect(page).toHaveURL(/\/sign-in$/);
  await expect(page.locator('h1')).toHaveText('Sign in');

  // The session has ended: signed-in pages send the visitor back to sign in.
  await page.goto('/agencies');
  await expect(page).toHaveURL(/\/sign-in$/);
});

test('a wrong security code shows an error, and the right one then works', async ({ page }) => {
  const email = PEOPLE.practitioner;
  await submitPassword(page, email, DEMO_PASSWORD);
  await expect(page.locator('h1')).toHaveText('Enter your security code');

  // Not a code for this step or either neighbour (nor a recovery code).
  const wrong = totp('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
  await page.locator('#code').fill(wrong);
  const response = await navigationResponse(page, () =>
    page.getByRole('button', { name: 'Continue', exact: true }).click(),
  );
  await expectShellPage(page, response, { heading: 'Enter your security code' });
  await expectErrorSummary(page, [
    'The code is not right or has been used: enter the current code',
  ]);
  await expect(page.locator('#code-error')).toBeVisible();

  await submitSecondFactor(page, email);
  await expect(page.locator('h1')).toHaveText('Dashboard');
});

test('an independent reviewer sees the dashboard but gets a 403 page for agencies', async ({
  page,
}) => {
  await signIn(page, PEOPLE.reviewer);
  await expectShellPage(page, await page.reload(), { heading: 'Dashboard' });

  const response = await page.goto('/agencies');
  await expectShellPage(page, response, {
    status: 403,
    heading: 'You do not have access to this page',
  });
  // The error page quotes the request id for the partnership team.
  const requestId = await page.locator('.app-request-id').innerText();
  expect(requestId.trim()).not.toBe('');
  await expect(page.locator('main')).toContainText(requestId.trim());
});
