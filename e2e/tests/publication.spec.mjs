// Browser test for publishing a learning item: only through its own page, after
// the anonymisation check, the motivated-intruder confirmation and the
// authenticator code. The business manager records a lesson (the form has no
// "publish" tick box), opens "Check and publish", is refused without the
// confirmation, publishes with it and a fresh code, and an anonymous visitor
// then finds the lesson on the public learning page. Every page is checked
// with axe, the refusal included. The lesson's words ("wombat") appear in no
// other test's searches.
import { test, expect, PEOPLE, DEMO_TOTP_SECRET, newAnonymousContext, unusedCode } from './session.mjs';
import { expectErrorSummary, expectShellPage, followLink, navigationResponse } from './pages.mjs';

test.use({ signedInAs: PEOPLE.businessManager });

const TITLE = 'Wombat homes need a second look';
const LESSON = 'Wombat: when a home visit is refused twice, arrange a joint visit.';

function press(page, name) {
  return navigationResponse(page, () =>
    page.getByRole('button', { name, exact: true }).click(),
  );
}

test('the business manager publishes a lesson through its check', async ({ page, browser, baseURL }) => {
  const form = await page.goto('/learning-items/new');
  await expectShellPage(page, form, { heading: 'New learning item' });
  await page.getByLabel('Title', { exact: true }).fill(TITLE);
  await page.getByLabel('The lesson, in plain words').fill(LESSON);
  await page.getByLabel('Where it comes from').selectOption('practitioner_feedback');
  const created = await press(page, 'Record the learning');
  await expectShellPage(page, created, { heading: TITLE });
  await expect(page.locator('.govuk-caption-l')).toContainText('restricted');

  const publishPage = await followLink(page, page.getByRole('link', { name: 'Check and publish' }));
  await expectShellPage(page, publishPage, { heading: TITLE });
  await expect(page.locator('#anonymisation-clear')).toContainText('Checked');

  // Without the motivated-intruder confirmation: refused, naming it.
  await page
    .getByLabel('Code from your authenticator app')
    .fill(await unusedCode(PEOPLE.businessManager, DEMO_TOTP_SECRET));
  const refused = await press(page, 'Publish');
  await expectShellPage(page, refused, { status: 422, heading: TITLE });
  await expectErrorSummary(page, [
    'Confirm that you read the learning as a motivated intruder would, and nothing identifies anyone',
  ]);

  await page.getByLabel(/^I read the learning as a motivated intruder would/).check();
  await page
    .getByLabel('Code from your authenticator app')
    .fill(await unusedCode(PEOPLE.businessManager, DEMO_TOTP_SECRET));
  const published = await press(page, 'Publish');
  await expectShellPage(page, published, { heading: TITLE });
  await expect(page.locator('.govuk-caption-l')).not.toContainText('restricted');
  await expect(page.getByRole('link', { name: 'Check and publish' })).toHaveCount(0);

  const context = await newAnonymousContext(browser, baseURL);
  try {
    const visitor = await context.newPage();
    const found = await visitor.goto('/learning?q=wombat');
    await expectShellPage(visitor, found, { heading: 'Published reviews and learning' });
    await expect(visitor.locator('main')).toContainText(TITLE);
  } finally {
    await context.close();
  }
});
