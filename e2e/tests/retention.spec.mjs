// Browser tests for the retention schedule (Settings): the summary list of periods, changing
// one on its own page (a refused value, then saving), and axe on every page.
import { test, expect, PEOPLE } from './session.mjs';
import { expectErrorSummary, expectShellPage, followLink, navigationResponse } from './pages.mjs';

test.use({ signedInAs: PEOPLE.businessManager });

/** The summary list row whose key is exactly `label`. */
function row(page, label) {
  return page
    .locator('.govuk-summary-list__row')
    .filter({ has: page.locator('dt', { hasText: new RegExp(`^${label}$`) }) });
}

function press(page, name) {
  return navigationResponse(page, () => page.getByRole('button', { name, exact: true }).click());
}

test('settings: the retention schedule, reached from the other settings', async ({ page }) => {
  await page.goto('/admin/calendar');
  const shown = await followLink(page, page.getByRole('link', { name: 'retention', exact: true }));
  await expectShellPage(page, shown, { heading: 'Retention' });
  await expect(row(page, 'Sessions')).toContainText('90 days after the session was last used');
  await expect(row(page, 'Unfinished action tracker imports')).toContainText('1 day');
  const cases = row(page, 'Case records and their reviews');
  await expect(cases).toContainText("7 years after the case's reviews closed");
  await expect(cases).toContainText('retention hold');
  await expect(
    page.getByRole('navigation', { name: 'Menu' }).getByRole('link', { name: 'Settings' }),
  ).toHaveAttribute('aria-current', 'page');
});

test('settings: changing a retention period', async ({ page }) => {
  await page.goto('/admin/retention');
  const change = row(page, 'Case records and their reviews').getByRole('link', {
    name: 'Change how long to keep case records and their reviews',
  });
  await expect(change).toHaveAttribute('href', '/admin/retention/cases');
  const heading = 'How long to keep case records and their reviews';
  const form = await followLink(page, change);
  await expectShellPage(page, form, { heading });
  await expect(page.locator('#period')).toHaveValue('7');
  await expect(page.locator('#period-hint')).toContainText('The default is 7 years');

  // Nothing is kept for no time: refused, with the error linked from the summary.
  await page.locator('#period').fill('0');
  const refused = await press(page, 'Save');
  await expectShellPage(page, refused, { status: 422, heading });
  await expectErrorSummary(page, ['Enter a whole number of years from 1 to 100']);
  await expect(page.locator('.govuk-error-summary a[href="#period"]')).toBeVisible();
  await expect(page.locator('#period-error')).toBeVisible();
  await expect(page.locator('#period')).toHaveValue('0');

  // Saving the period unchanged goes back to the schedule, which still says 7 years.
  await page.locator('#period').fill('7');
  const saved = await press(page, 'Save');
  await expectShellPage(page, saved, { heading: 'Retention' });
  await expect(row(page, 'Case records and their reviews')).toContainText('7 years');
});

test.describe('as an executive', () => {
  test.use({ signedInAs: PEOPLE.executive });

  test('settings: the retention schedule is not offered', async ({ page }) => {
    const response = await page.goto('/admin/retention');
    expect(response.status()).toBe(403);
  });
});
