// Browser tests for a review's journey: a Safeguarding Adults Review (SAR)
// from the Review Group's decision to publication, as the people who run it,
// contribute to it, write it and read it.
//
// The business manager notifies a new adult case, records the decision to hold
// a SAR, appoints the demo reviewer, asks the police for an agency report,
// records a family member's involvement and marks stages done; the police lead
// sends the report; the independent reviewer, who sees only the reviews they
// are appointed to, adds a finding and a recommendation; the business manager
// completes the stages, is refused publication while the public text names the
// subject, then publishes clean text; an anonymous visitor reads it.
//
// Every page visited is checked with axe, error pages included. The steps
// share the review they make, so they run in order and stop at the first
// failure. The case has its own pseudonym, so the demo data stays as the other
// tests expect it.
import {
  test,
  expect,
  PEOPLE,
  DEMO_TOTP_SECRET,
  newAnonymousContext,
  storageStateFor,
  unusedCode,
} from './session.mjs';
import { expectErrorSummary, expectShellPage, followLink, navigationResponse } from './pages.mjs';

test.use({ signedInAs: PEOPLE.businessManager });

const SAR = 'Safeguarding adults review (Care Act s44)';
const POLICE = 'Wealdshire Constabulary';
const ADULT_SOCIAL_CARE = 'Fernbridge Council Adult Social Care';
const ADULTS_BOARD = 'Fernbridge Safeguarding Adults Board';
const REAL_NAME = 'Vesper Tamblin-Oakes';
const SURNAME = 'Tamblin-Oakes';
/** The demo review the reviewer was already appointed to, and one they were not. */
const REVIEWERS_DEMO_CASE = 'Adult D';
const OTHER_DEMO_CASE = 'Adult H';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** The server's date (UTC, as the server counts days) from a response's Date header. */
function serverToday(response) {
  const header = response.headers()['date'];
  const now = header ? new Date(header) : new Date();
  return now.toISOString().slice(0, 10);
}

/** `iso` (YYYY-MM-DD) plus `days` calendar days, as YYYY-MM-DD. */
function addDays(iso, days) {
  const date = new Date(`${iso}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

/** "2026-06-05" as the review pages show a date: "5 Jun 2026". */
function shownDate(iso) {
  const date = new Date(`${iso}T00:00:00Z`);
  return `${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()}`;
}

/** Click a button by its accessible name and return the resulting page's response. */
function press(scope, page, name) {
  return navigationResponse(page, () =>
    scope.getByRole('button', { name, exact: true }).click(),
  );
}

/**
 * A stage's "Mark done" button. Its accessible name is "Mark done" and the
 * stage's visually hidden name; Chromium puts a space between the two.
 */
function markDoneButton(scope, stage) {
  const escaped = stage.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return scope.getByRole('button', { name: new RegExp(`^Mark done\\s*: ${escaped}$`) });
}

/** The table row whose text includes `text`, inside `scope`. */
function rowWith(scope, text) {
  return scope.locator('tbody tr', { hasText: text });
}

/** The navigation between the parts of a review. */
function reviewTabs(page) {
  return page.getByRole('navigation', { name: 'Parts of this review' });
}

/** Follow one of the review's tabs and check the page it opens. */
async function openTab(page, label, heading) {
  const link = reviewTabs(page).getByRole('link', { name: label, exact: true });
  const response = await followLink(page, link);
  await expectShellPage(page, response, { heading });
  await expect(reviewTabs(page).getByRole('link', { name: label, exact: true })).toHaveAttribute(
    'aria-current',
    'page',
  );
  return response;
}

/** Run `use(page)` in a new browser context signed in as `email`; the context is closed after. */
async function asPerson(browser, baseURL, email, use) {
  const context = await browser.newContext({
    baseURL,
    storageState: await storageStateFor(browser, baseURL, email),
  });
  try {
    return await use(await context.newPage());
  } finally {
    await context.close();
  }
}

/** Open a review from the /reviews list by its title; returns the review's path. */
async function openFromList(page, title) {
  const list = await page.goto('/reviews');
  await expectShellPage(page, list, { heading: 'Reviews' });
  const link = page.locator('#reviews tbody').getByRole('link', { name: title, exact: true });
  await expect(link, `the reviews list links to ${title}`).toHaveCount(1);
  const response = await followLink(page, link);
  await expectShellPage(page, response, { heading: title });
  return new URL(page.url()).pathname;
}

/** The review list's "Case" column, one pseudonym per row. */
async function listedCases(page) {
  return (await page.locator('#reviews tbody tr td:nth-child(3)').allInnerTexts()).map((text) =>
    text.trim(),
  );
}

test.describe.serial('a safeguarding adults review from decision to publication', () => {
  // Shared by the steps.
  const suffix = Date.now().toString(36).toUpperCase();
  const pseudonym = `Adult V ${suffix}`;
  const reviewTitle = `${SAR}: ${pseudonym}`;
  const publicTitle = `Learning from a safeguarding adults review (${suffix})`;
  const cleanSummary =
    'A woman in her forties died after a long period of self-neglect. Several agencies ' +
    'knew part of the picture; nobody brought the concerns together. The review recommends ' +
    'a shared escalation route between the police and adult social care.';
  let today;
  let reviewPath;

  test('the business manager notifies an adult case and the Review Group decides to hold a SAR', async ({
    page,
  }) => {
    test.slow();
    const cases = await page.goto('/cases');
    await expectShellPage(page, cases, { heading: 'Cases' });
    const form = await followLink(page, page.getByRole('link', { name: 'Notify a case' }));
    await expectShellPage(page, form, { heading: 'Notify a case' });
    today = serverToday(form);

    await page.getByLabel('An adult', { exact: true }).check();
    await page.getByLabel('They died', { exact: true }).check();
    await page.getByLabel('Date the partnership became aware').fill(today);
    await page.getByLabel('Pseudonym').fill(pseudonym);
    await page.getByLabel('Age band (adult)').selectOption('25 to 64');
    await page
      .getByLabel('What happened, in brief')
      .fill(`${pseudonym} died at home after a long period of self-neglect.`);
    await page.getByLabel('Who referred it').fill('Police public protection unit');
    await page.getByLabel(ADULTS_BOARD, { exact: true }).check();
    await page.getByLabel(POLICE, { exact: true }).check();
    await page.getByLabel(ADULT_SOCIAL_CARE, { exact: true }).check();
    await page.getByLabel('Real name (optional)').fill(REAL_NAME);
    const notified = await press(page, page, 'Notify the case');
    await expectShellPage(page, notified, { heading: pseudonym });
    await expect(page).toHaveURL(/\/cases\/[0-9a-f-]{36}$/);
    const casePath = new URL(page.url()).pathname;
    await expect(page.locator('#subject-name')).toHaveText(REAL_NAME);
    await expect(
      page.locator('.govuk-summary-list__row', { hasText: 'Agencies involved' }).locator('dd'),
    ).toContainText(POLICE);

    // The decision, step 1: every criterion of a SAR is met.
    const checklist = await followLink(page, page.getByRole('link', { name: SAR, exact: true }));
    await expectShellPage(page, checklist, { heading: SAR });
    await expect(page).toHaveURL(/\/decisions\/new\?type=sar$/);
    const criteria = page.getByRole('group', { name: 'Which of the criteria are met?' });
    const boxes = criteria.getByRole('checkbox');
    await expect(boxes.first()).toBeVisible();
    for (const box of await boxes.all()) {
      await box.check();
    }
    const recommended = await press(page, page, 'Continue');

    // Step 2: the recommendation, and the Review Group confirms it.
    await expectShellPage(page, recommended, { heading: SAR });
    await expect(page.locator('#recommendation')).toContainText(
      'The criteria are met: a review is required',
    );
    await expect(page.getByLabel('Date of the meeting that decided (YYYY-MM-DD)')).toHaveValue(
      today,
    );
    await page.getByLabel('Hold the review', { exact: true }).check();
    await page
      .getByLabel('Rationale')
      .fill('The adult had care and support needs, died, and agencies did not work together.');
    const decided = await press(page, page, 'Record the decision');
    await expectShellPage(page, decided, { heading: pseudonym });
    expect(new URL(page.url()).pathname).toBe(casePath);
    await expect(page.getByRole('heading', { name: `${SAR}: Review` })).toBeVisible();

    // The case lists the review; follow it.
    const reviews = page.getByRole('table', { name: 'Reviews of this case' });
    const link = reviews.getByRole('link', { name: SAR, exact: true });
    await expect(link).toHaveCount(1);
    await expect(link).toHaveAttribute('href', /^\/reviews\/[0-9a-f-]{36}$/);
    const review = await followLink(page, link);
    await expectShellPage(page, review, { heading: reviewTitle });
    reviewPath = new URL(page.url()).pathname;
    await expect(reviewTabs(page).getByRole('link')).toHaveText([
      'Overview and stages',
      'People and contributions',
      'Voices',
      'Findings and recommendations',
      'Documents',
      'Publication',
    ]);
    await expect(page.locator('#review-stage')).toHaveText('Scoping');
  });

  test('the business manager appoints the reviewer, asks the police for a report, records the family and starts the stages', async ({
    page,
  }) => {
    test.slow();
    const overview = await page.goto(reviewPath);
    await expectShellPage(page, overview, { heading: reviewTitle });

    // People: appoint the demo reviewer, first without the conflict statement.
    await openTab(page, 'People and contributions', reviewTitle);
    await expect(page.locator('main')).toContainText('Nobody is appointed yet.');
    const accountSelect = page.getByLabel(/^Their learnloop account/);
    const account = accountSelect.locator('option', { hasText: `(${PEOPLE.reviewer})` });
    await expect(account).toHaveCount(1);
    const accountLabel = (await account.innerText()).trim();
    const reviewerName = accountLabel.slice(0, accountLabel.indexOf(' ('));
    const accessEnds = addDays(today, 60);
    await page.getByLabel('Role', { exact: true }).selectOption({ label: 'Independent reviewer' });
    await accountSelect.selectOption({ label: accountLabel });
    await page.getByLabel(/^Access ends on/).fill(accessEnds);
    const refused = await press(page, page, 'Appoint');
    await expectShellPage(page, refused, { status: 422, heading: reviewTitle });
    await expectErrorSummary(page, [
      "Enter the reviewer's declaration of any conflict of interest (or that there is none)",
    ]);
    await expect(page.locator('.govuk-error-summary a[href="#conflict_statement"]')).toBeVisible();
    await expect(page.locator('#conflict_statement-error')).toBeVisible();
    // The answers are kept.
    await expect(page.getByLabel('Role', { exact: true })).toHaveValue('reviewer');
    await expect(page.getByLabel(/^Access ends on/)).toHaveValue(accessEnds);
    await expect(page.locator('main')).toContainText('Nobody is appointed yet.');

    const statement =
      'No work for any Fernbridge agency in the last five years; no connection to the family.';
    await page
      .getByLabel('Declared conflicts of interest (or that there are none)')
      .fill(statement);
    await expect(accountSelect.locator('option:checked')).toHaveText(accountLabel);
    const appointed = await press(page, page, 'Appoint');
    await expectShellPage(page, appointed, { heading: reviewTitle });
    expect(new URL(page.url()).pathname).toBe(`${reviewPath}/people`);
    const people = page.getByRole('table', { name: 'People on the review' });
    const reviewerRow = rowWith(people, reviewerName);
    await expect(reviewerRow).toHaveCount(1);
    await expect(reviewerRow).toContainText('Independent reviewer');
    await expect(reviewerRow).toContainText(statement);
    await expect(reviewerRow).toContainText(`Access to this review until ${shownDate(accessEnds)}`);

    // Ask the police for an agency report due in 10 days.
    const due = addDays(today, 10);
    await page.getByLabel('Agency', { exact: true }).selectOption({ label: POLICE });
    await page.getByLabel('What is asked for').selectOption({ label: 'Agency report' });
    await page.getByLabel('Due on (YYYY-MM-DD)').fill(due);
    const asked = await press(page, page, 'Ask for it');
    await expectShellPage(page, asked, { heading: reviewTitle });
    const contributions = page.getByRole('table', { name: 'Agency contributions' });
    const policeRow = rowWith(contributions, POLICE);
    await expect(policeRow).toHaveCount(1);
    await expect(policeRow).toContainText('Agency report');
    await expect(policeRow).toContainText(shownDate(due));

    // Voices: a family member who took part.
    await openTab(page, 'Voices', reviewTitle);
    await expect(page.locator('main')).toContainText('No family members are recorded yet.');
    await page.getByLabel('Relationship to the child or adult').fill('Sister');
    await page.getByLabel('How they were invited').selectOption('Telephone');
    await expect(page.getByLabel('Invited on (YYYY-MM-DD)')).toHaveValue(today);
    await page.getByLabel('Took part', { exact: true }).check();
    const said = 'She kept saying she was fine, and everyone believed her.';
    await page.getByLabel('What they said (only with their consent)').fill(said);
    await page.getByLabel(/^They consented to what they said being recorded/).check();
    const familyForm = page.locator(`form[action="${reviewPath}/family"]`);
    const recorded = await press(familyForm, page, 'Record');
    await expectShellPage(page, recorded, { heading: reviewTitle });
    expect(new URL(page.url()).pathname).toBe(`${reviewPath}/voices`);
    const family = page.getByRole('table', { name: 'Family involvement' });
    const sister = rowWith(family, 'Sister');
    await expect(sister).toHaveCount(1);
    await expect(sister).toContainText(`Telephone, ${shownDate(today)}`);
    await expect(sister).toContainText('Took part');
    await expect(sister).toContainText(said);
    await expect(sister).toContainText('Consent recorded');

    // Overview: a required stage cannot be completed before the one ahead of it.
    await openTab(page, 'Overview and stages', reviewTitle);
    const stages = page.getByRole('table', { name: 'Stages of the review' });
    await expect(stages.getByLabel('Done on (YYYY-MM-DD)').first()).toHaveValue(today);
    const outOfOrder = await navigationResponse(page, () =>
      markDoneButton(stages, 'Terms of reference agreed').click(),
    );
    await expectShellPage(page, outOfOrder, { status: 422, heading: reviewTitle });
    await expectErrorSummary(page, [
      'Complete “Scoping” first: it is a required stage before “Terms of reference agreed”',
    ]);
    await expect(
      page.locator('.govuk-error-summary a[href="#on-terms_of_reference"]'),
    ).toBeVisible();
    await expect(page.locator('#on-terms_of_reference-error')).toContainText(
      'Complete “Scoping” first',
    );
    await expect(rowWith(stages, 'Terms of reference agreed').locator('td').nth(2)).toHaveText(
      'Not yet',
    );

    // In order, each done today.
    for (const name of ['Scoping', 'Terms of reference agreed', 'Independent reviewer appointed']) {
      const done = await navigationResponse(page, () => markDoneButton(stages, name).click());
      await expectShellPage(page, done, { heading: reviewTitle });
      expect(new URL(page.url()).pathname).toBe(reviewPath);
      const row = stages.locator('tbody tr', {
        has: page.getByRole('cell', { name, exact: true }),
      });
      await expect(row.locator('td').nth(2)).toHaveText(shownDate(today));
      await expect(row.getByRole('button', { name: /^Mark done/ })).toHaveCount(0);
    }
    await expect(page.locator('#review-stage')).toHaveText(
      'Information gathering (agency reports and chronologies)',
    );
  });

  test('the police lead sends the agency report', async ({ browser, baseURL }) => {
    test.slow();
    await asPerson(browser, baseURL, PEOPLE.policeLead, async (page) => {
      const path = await openFromList(page, reviewTitle);
      expect(path).toBe(reviewPath);
      await openTab(page, 'People and contributions', reviewTitle);
      // An agency lead does not appoint people or ask for contributions.
      await expect(page.getByRole('button', { name: 'Appoint' })).toHaveCount(0);
      await expect(page.getByRole('button', { name: 'Ask for it' })).toHaveCount(0);

      const contributions = page.getByRole('table', { name: 'Agency contributions' });
      const row = rowWith(contributions, POLICE);
      await expect(row).toHaveCount(1);
      await row.getByLabel(/^Upload the agency report/).setInputFiles({
        name: 'agency-report.pdf',
        mimeType: 'application/pdf',
        buffer: Buffer.from(
          '%PDF-1.4\n% Wealdshire Constabulary agency report for a fictional review.\n' +
            'Contacts with the adult: three welfare checks, no referral made.\n%%EOF\n',
        ),
      });
      const sent = await press(row, page, `Send the agency report from ${POLICE}`);
      await expectShellPage(page, sent, { heading: reviewTitle });
      expect(new URL(page.url()).pathname).toBe(`${reviewPath}/people`);
      const received = rowWith(page.getByRole('table', { name: 'Agency contributions' }), POLICE);
      await expect(received.locator('td').nth(3)).toHaveText(shownDate(today));
      await expect(received.locator('input[type="file"]')).toHaveCount(0);

      await openTab(page, 'Documents', reviewTitle);
      await expect(
        page.getByRole('heading', { name: `Agency report (Agency report, ${POLICE})` }),
      ).toBeVisible();
      await expect(
        page.getByRole('link', { name: 'Version 1: agency-report.pdf', exact: true }),
      ).toHaveAttribute('href', new RegExp(`^${reviewPath}/documents/[0-9a-f-]{36}$`));
    });
  });

  test('the independent reviewer sees only their reviews and adds a finding and a recommendation', async ({
    page,
    browser,
    baseURL,
  }) => {
    test.slow();
    // A review the business manager sees and the reviewer is not appointed to.
    const list = await page.goto('/reviews');
    await expectShellPage(page, list, { heading: 'Reviews' });
    const otherRow = page.locator('#reviews tbody tr', {
      has: page.getByRole('cell', { name: OTHER_DEMO_CASE, exact: true }),
    });
    await expect(otherRow).toHaveCount(1);
    const otherPath = await otherRow.getByRole('link').getAttribute('href');
    expect(otherPath).toMatch(/^\/reviews\/[0-9a-f-]{36}$/);

    await asPerson(browser, baseURL, PEOPLE.reviewer, async (page) => {
      const mine = await page.goto('/reviews');
      await expectShellPage(page, mine, { heading: 'Reviews' });
      expect((await listedCases(page)).sort()).toEqual([REVIEWERS_DEMO_CASE, pseudonym].sort());
      await expect(page.locator('#reviews')).not.toContainText(OTHER_DEMO_CASE);

      // Another review is not found, even by its address.
      const hidden = await page.goto(otherPath);
      await expectShellPage(page, hidden, { status: 404, heading: 'Page not found' });

      const path = await openFromList(page, reviewTitle);
      expect(path).toBe(reviewPath);
      // The reviewer does not see who the case is about.
      await expect(page.locator('main')).not.toContainText(REAL_NAME);

      await openTab(page, 'Findings and recommendations', reviewTitle);
      const kind = page.getByLabel('What it is');

      // A finding with a theme.
      const finding = 'Concerns were held separately by each agency';
      await kind.selectOption({ label: 'Finding' });
      await page.getByLabel('Title', { exact: true }).fill(finding);
      await page
        .getByLabel('Text', { exact: true })
        .fill('Each agency knew part of the picture and no meeting brought it together.');
      await page.getByLabel('Information sharing', { exact: true }).check();
      const added = await press(page, page, 'Add');
      await expectShellPage(page, added, { heading: reviewTitle });
      expect(new URL(page.url()).pathname).toBe(`${reviewPath}/content`);
      const findings = page.getByRole('list', { name: 'Findings', exact: true });
      await expect(findings.getByRole('listitem')).toHaveCount(1);
      await expect(findings).toContainText(finding);
      await expect(findings).toContainText('Information sharing');

      // A recommendation needs an agency to address.
      const recommendation = 'Agree a shared escalation route';
      await page.getByLabel('What it is').selectOption({ label: 'Recommendation' });
      await page.getByLabel('Title', { exact: true }).fill(recommendation);
      await page
        .getByLabel('Text', { exact: true })
        .fill('Police and adult social care should agree how practitioners escalate concerns.');
      await page.getByLabel('Multi-agency working', { exact: true }).check();
      const noAgency = await press(page, page, 'Add');
      await expectShellPage(page, noAgency, { status: 422, heading: reviewTitle });
      await expectErrorSummary(page, [
        'Choose at least one agency this recommendation is addressed to',
      ]);
      await expect(page.locator('.govuk-error-summary a[href="#agency_ids"]')).toBeVisible();
      await expect(page.locator('#agency_ids-error')).toBeVisible();
      await expect(page.getByLabel('What it is')).toHaveValue('recommendation');
      await expect(page.getByLabel('Title', { exact: true })).toHaveValue(recommendation);
      await expect(page.getByLabel('Multi-agency working', { exact: true })).toBeChecked();

      await page.getByLabel(POLICE, { exact: true }).check();
      await page.getByLabel(ADULT_SOCIAL_CARE, { exact: true }).check();
      const addressed = await press(page, page, 'Add');
      await expectShellPage(page, addressed, { heading: reviewTitle });
      const recommendations = page.getByRole('list', { name: 'Recommendations', exact: true });
      await expect(recommendations.getByRole('listitem')).toHaveCount(1);
      await expect(recommendations).toContainText(recommendation);
      await expect(recommendations).toContainText('Addressed to:');
      await expect(recommendations).toContainText(POLICE);
      await expect(recommendations).toContainText(ADULT_SOCIAL_CARE);
      await expect(recommendations).toContainText('Multi-agency working');
    });
  });

  test('the business manager completes the stages and publishes once the public text names nobody', async ({
    page,
  }) => {
    test.slow();
    const overview = await page.goto(reviewPath);
    await expectShellPage(page, overview, { heading: reviewTitle });

    // Every stage before publication, optional ones included, in order.
    const stages = page.getByRole('table', { name: 'Stages of the review' });
    const ids = await stages.locator('tbody tr').evaluateAll((rows) => rows.map((row) => row.id));
    const publicationAt = ids.indexOf('stage-publication');
    expect(publicationAt, 'a Publication stage').toBeGreaterThan(0);
    expect(ids).toContain('stage-sign_off');
    for (const id of ids.slice(0, publicationAt)) {
      const row = page.locator(`#${id}`);
      const button = row.getByRole('button', { name: /^Mark done/ });
      if ((await button.count()) === 0) {
        await expect(row.locator('td').nth(2)).not.toHaveText('Not yet');
        continue;
      }
      const done = await navigationResponse(page, () => button.click());
      await expectShellPage(page, done, { heading: reviewTitle });
      await expect(page.locator(`#${id} td`).nth(2)).toHaveText(shownDate(today));
    }
    await expect(page.locator('#review-stage')).toHaveText('Publication');
    await expect(page.locator('#stage-publication td').nth(2)).toHaveText('Not yet');
    // Publication is not marked done by hand.
    await expect(
      page.locator('#stage-publication').getByRole('button', { name: /^Mark done/ }),
    ).toHaveCount(0);

    // Public text that names the subject: saved as a draft, and flagged.
    await openTab(page, 'Publication', reviewTitle);
    const namingSummary = `${cleanSummary} Ms ${SURNAME}'s sister was interviewed.`;
    await page.getByLabel('Public title', { exact: true }).fill(publicTitle);
    await page.getByLabel('Public summary', { exact: true }).fill(namingSummary);
    await page
      .getByLabel(/^Public report/)
      .fill(
        'The review looked at the year before her death.\n\nAgencies each held part of the picture.',
      );
    const saved = await press(page, page, 'Save and check');
    await expectShellPage(page, saved, { heading: reviewTitle });
    expect(new URL(page.url()).pathname).toBe(`${reviewPath}/publication`);
    const where = `a name (“${SURNAME}”) in the public summary at character ${
      namingSummary.indexOf(SURNAME) + 1
    }`;
    const findings = page.locator('#anonymisation-findings');
    await expect(findings).toContainText('The public text identifies someone');
    await expect(findings.getByRole('listitem')).toHaveText([where]);

    // Publishing it is refused, naming what was found.
    await page.getByLabel(/^I read the public text as a motivated intruder would/).check();
    await page
      .getByLabel('Code from your authenticator app')
      .fill(await unusedCode(PEOPLE.businessManager, DEMO_TOTP_SECRET));
    const refused = await press(page, page, 'Publish');
    await expectShellPage(page, refused, { status: 422, heading: reviewTitle });
    await expectErrorSummary(page, [`Remove ${where} before publishing`]);
    await expect(page.locator('.govuk-error-summary a[href="#public_summary"]')).toBeVisible();
    await expect(page.locator('#published-panel')).toHaveCount(0);
    await expect(page.locator('#review-published')).toHaveCount(0);

    // Clean text, checked, then published with a fresh code.
    await page.getByLabel('Public summary', { exact: true }).fill(cleanSummary);
    const cleaned = await press(page, page, 'Save and check');
    await expectShellPage(page, cleaned, { heading: reviewTitle });
    await expect(page.locator('#anonymisation-findings')).toHaveCount(0);
    await expect(page.locator('#anonymisation-clear')).toContainText('Checked');
    await page.getByLabel(/^I read the public text as a motivated intruder would/).check();
    await page
      .getByLabel('Code from your authenticator app')
      .fill(await unusedCode(PEOPLE.businessManager, DEMO_TOTP_SECRET));
    const published = await press(page, page, 'Publish');
    await expectShellPage(page, published, { heading: reviewTitle });
    expect(new URL(page.url()).pathname).toBe(`${reviewPath}/publication`);
    const panel = page.locator('#published-panel');
    await expect(panel.getByRole('heading', { name: 'Published' })).toBeVisible();
    await expect(panel.getByRole('link', { name: 'public learning page' })).toHaveAttribute(
      'href',
      `/learning${reviewPath}`,
    );
    await expect(page.locator('#review-published')).toHaveText(shownDate(today));
    // What is public is frozen as published: a change waits for the next publication.
    await expect(page.locator('#publication-state')).toContainText('Public text as published');
    await expect(page.getByRole('button', { name: 'Publish', exact: true })).toHaveCount(0);
    await expect(page.getByRole('button', { name: 'Publish again', exact: true })).toBeVisible();

    await openTab(page, 'Overview and stages', reviewTitle);
    await expect(page.locator('#stage-publication td').nth(2)).toHaveText(shownDate(today));
  });

  test('an anonymous visitor reads the published review', async ({ browser, baseURL }) => {
    const context = await newAnonymousContext(browser, baseURL);
    try {
      const page = await context.newPage();
      const list = await page.goto('/learning');
      await expectShellPage(page, list, { heading: 'Published reviews and learning' });
      const link = page
        .locator('#published-reviews')
        .getByRole('link', { name: publicTitle, exact: true });
      await expect(link).toHaveAttribute('href', `/learning${reviewPath}`);

      const shown = await followLink(page, link);
      await expectShellPage(page, shown, { heading: publicTitle });
      expect(new URL(page.url()).pathname).toBe(`/learning${reviewPath}`);
      await expect(page.locator('main .govuk-caption-l')).toHaveText(SAR);
      await expect(page.locator('main')).toContainText(cleanSummary);
      await expect(page.locator('main')).toContainText('Agencies each held part of the picture.');
      await expect(page.locator('main')).not.toContainText(SURNAME);
      await expect(page.locator('main')).not.toContainText(pseudonym);
    } finally {
      await context.close();
    }
  });
});
