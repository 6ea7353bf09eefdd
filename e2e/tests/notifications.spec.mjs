// Browser tests for notifications, the Review Group's decisions and the
// statutory clocks: the cases list and a case page, notifying a new case,
// recording a decision in two steps, a rapid review through to its conversion
// into a local child safeguarding practice review, deadlines due and overdue,
// the working-day calendar and review-type settings, the calendar feed, and who
// may see which case and its protected details.
//
// Most tests run as the business manager. The demo's cases are Child R, T, M
// and S and Adult K, J and P; their real names ("Demo Subject R" and so on)
// are protected fields. Tests that change data make their own case, or undo
// what they did, so the demo cases stay as the other tests expect them.
import { test, expect, PEOPLE, storageStateFor } from './session.mjs';
import {
  expectErrorSummary,
  expectShellPage,
  followLink,
  navigationResponse,
} from './pages.mjs';
import { expectNoAxeViolations } from './axe.mjs';

test.use({ signedInAs: PEOPLE.businessManager });

/** The demo cases' pseudonyms. */
const DEMO_CASES = ['Child R', 'Child T', 'Child M', 'Adult K', 'Adult J', 'Adult P', 'Child S'];

/** The demo cases the police (Wealdshire Constabulary) are involved in, and those they are not. */
const POLICE_CASES = ['Child R', 'Child T', 'Child M', 'Adult J', 'Adult P'];
const NOT_POLICE_CASES = ['Child S', 'Adult K'];

const CHILD_CASE_REVIEW = 'Serious child safeguarding case (rapid review)';
const LOCAL_CSPR = 'Local child safeguarding practice review';
const NOTIFY_PANEL = 'Notify the national panel';
const COMPLETE_RAPID_REVIEW = 'Complete the rapid review and send it to the national panel';

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** Click a button by its accessible name and return the resulting page's response. */
function press(page, name) {
  return navigationResponse(page, () => page.getByRole('button', { name, exact: true }).click());
}

/** The server's date (UTC, as the server counts days) from a response's Date header. */
function serverToday(response) {
  const header = response.headers()['date'];
  const now = header ? new Date(header) : new Date();
  return now.toISOString().slice(0, 10);
}

/** "Thu 1 January 2026" (the calendar settings' format) as "2026-01-01". */
function isoFromLongDate(text) {
  const [, day, month, year] = text.trim().split(/\s+/);
  const index = MONTHS.indexOf(month);
  expect(index, `a month name in ${JSON.stringify(text)}`).toBeGreaterThanOrEqual(0);
  return `${year}-${String(index + 1).padStart(2, '0')}-${day.padStart(2, '0')}`;
}

/** A date as deadlines show it: "Tue 1 Dec 2026". */
function shortDate(date) {
  return (
    `${WEEKDAYS[date.getUTCDay()]} ${date.getUTCDate()} ` +
    `${MONTHS[date.getUTCMonth()].slice(0, 3)} ${date.getUTCFullYear()}`
  );
}

/** "2027-07-14" as the settings page shows it: "Wed 14 July 2027". */
function longDate(iso) {
  const date = new Date(`${iso}T00:00:00Z`);
  return (
    `${WEEKDAYS[date.getUTCDay()]} ${date.getUTCDate()} ` +
    `${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()}`
  );
}

/** The day `count` working days after `iso` (YYYY-MM-DD), skipping weekends and `closed` days. */
function addWorkingDays(iso, count, closed) {
  const date = new Date(`${iso}T00:00:00Z`);
  let added = 0;
  while (added < count) {
    date.setUTCDate(date.getUTCDate() + 1);
    const weekday = date.getUTCDay();
    if (weekday !== 0 && weekday !== 6 && !closed.has(date.toISOString().slice(0, 10))) {
      added += 1;
    }
  }
  return date;
}

/**
 * The days that are not working days, as the settings page lists them: this
 * year's and next year's bank holidays, and the partnership's closure days.
 */
async function nonWorkingDays(page) {
  await page.goto('/admin/calendar');
  await expect(page.locator('h1')).toHaveText('Working-day calendar');
  const days = new Set();
  for (const caption of ['Bank holidays', 'Closure days']) {
    const table = page.getByRole('table', { name: caption });
    if ((await table.count()) === 0) {
      continue;
    }
    for (const text of await table.locator('tbody tr td:first-child').allInnerTexts()) {
      days.add(isoFromLongDate(text));
    }
  }
  expect(days.size, 'bank holidays listed on the settings page').toBeGreaterThan(0);
  return days;
}

/** The table row whose text includes `text`, inside `scope`. */
function rowWith(scope, text) {
  return scope.locator('tbody tr', { hasText: text });
}

/** The link to a case in the cases list, by pseudonym. */
function caseLink(page, pseudonym) {
  return page
    .locator('main table tbody tr', {
      has: page.getByRole('cell', { name: pseudonym, exact: true }),
    })
    .locator('td:first-child a');
}

/** Open a demo case's page from the cases list; returns the case page's path. */
async function openCase(page, pseudonym) {
  await page.goto('/cases');
  const response = await followLink(page, caseLink(page, pseudonym));
  await expectShellPage(page, response, { heading: pseudonym });
  return new URL(page.url()).pathname;
}

/** A pseudonym no other test or demo case uses. */
function freshPseudonym(prefix) {
  return `${prefix} ${Date.now().toString(36).toUpperCase()}`;
}

/**
 * On the "Notify a case" form, fill in a child who died, became known to the
 * partnership on `awareOn`, with the police and children's services involved.
 */
async function fillChildDeath(page, { pseudonym, awareOn, realName }) {
  await page.locator('#subject_kind').check();
  await page.locator('#incident_kind').check();
  await page.locator('#aware_on').fill(awareOn);
  await page.locator('#pseudonym').fill(pseudonym);
  await page.locator('#age_band_child').selectOption('1 to 4');
  await page
    .locator('#summary')
    .fill(`${pseudonym} died in hospital with injuries the family could not explain.`);
  await page.locator('#referrer').fill('Police public protection unit');
  const partnership = page.locator('#partnership_ids');
  await expect(page.locator('label[for="partnership_ids"]')).toHaveText(
    "Fernbridge Children's Safeguarding Partnership",
  );
  await partnership.check();
  await page.getByLabel('Wealdshire Constabulary', { exact: true }).check();
  await page.getByLabel("Fernbridge Council Children's Services", { exact: true }).check();
  await page.locator('#police_investigation').check();
  await page.locator('#coroner').check();
  await page.locator('#subject_name').fill(realName);
}

test('the business manager sees Cases, Deadlines, Reviews, Actions and Settings in the navigation', async ({
  page,
}) => {
  const response = await page.goto('/');
  await expectShellPage(page, response, { heading: 'Dashboard' });
  const nav = page.getByRole('navigation', { name: 'Menu' });
  const links = nav.getByRole('link');
  await expect(links).toHaveText([
    'Dashboard',
    'Cases',
    'Deadlines',
    'Reviews',
    'Actions',
    'Learning',
    'Published learning',
    'Partnerships',
    'Agencies',
    'Groups',
    'People',
    'Audit trail',
    'Settings',
    'API',
  ]);
  await expect(nav.getByRole('link', { name: 'Cases' })).toHaveAttribute('href', '/cases');
  await expect(nav.getByRole('link', { name: 'Deadlines' })).toHaveAttribute('href', '/deadlines');
  await expect(nav.getByRole('link', { name: 'Settings' })).toHaveAttribute(
    'href',
    '/admin/calendar',
  );

  const cases = await followLink(page, nav.getByRole('link', { name: 'Cases' }));
  await expectShellPage(page, cases, { heading: 'Cases' });
  await expect(nav.getByRole('link', { name: 'Cases' })).toHaveAttribute('aria-current', 'page');
});

test('cases list: every demo case, linked by its reference', async ({ page }) => {
  const response = await page.goto('/cases');
  await expectShellPage(page, response, { heading: 'Cases' });
  const notify = page.getByRole('link', { name: 'Notify a case' });
  await expect(notify).toBeVisible();
  await expect(notify).toHaveAttribute('href', '/cases/new');

  for (const pseudonym of DEMO_CASES) {
    const link = caseLink(page, pseudonym);
    await expect(link, `a link to ${pseudonym}`).toHaveCount(1);
    await expect(link).toHaveText(/^N-\d{4}-\d{4}$/);
    await expect(link).toHaveAttribute('href', /^\/cases\/[0-9a-f-]{36}$/);
  }
  // The list never shows a real name.
  await expect(page.locator('main')).not.toContainText('Demo Subject');
});

test('a case page: summary, deadlines, decisions and the team forms', async ({ page }) => {
  await page.goto('/cases');
  const reference = (await caseLink(page, 'Child R').innerText()).trim();
  await openCase(page, 'Child R');
  await expect(page.locator('main .govuk-caption-l')).toHaveText(reference);

  const summary = page.locator('main .govuk-summary-list').first();
  await expect(summary).toContainText('Child, aged under 1');
  await expect(summary).toContainText('Died');
  await expect(page.locator('#subject-name')).toHaveText('Demo Subject R');

  const deadlines = page.getByRole('table', { name: 'Deadlines' });
  await expect(rowWith(deadlines, NOTIFY_PANEL)).toHaveCount(1);
  await expect(rowWith(deadlines, COMPLETE_RAPID_REVIEW)).toHaveCount(1);

  const decide = page.getByRole('link', { name: CHILD_CASE_REVIEW });
  await expect(decide).toHaveAttribute(
    'href',
    /^\/cases\/[0-9a-f-]{36}\/decisions\/new\?type=serious_child_case$/,
  );
  for (const field of ['#notified_on', '#notified_by', '#deadline_key', '#reason']) {
    await expect(page.locator(field)).toBeVisible();
  }
  await expect(page.getByRole('button', { name: 'Record notification' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Record reason' })).toBeVisible();
});

test('a case page: the empty notification and reason forms show their errors', async ({
  page,
}) => {
  await openCase(page, 'Child R');

  const notification = await press(page, 'Record notification');
  await expectShellPage(page, notification, { status: 422, heading: 'Child R' });
  await expectErrorSummary(page, [
    'Enter a real date in the form 2026-11-30',
    'Enter the notified by',
  ]);
  await expect(page.locator('#notified_on-error')).toBeVisible();
  await expect(page.locator('#notified_by-error')).toBeVisible();

  const reason = await press(page, 'Record reason');
  await expectShellPage(page, reason, { status: 422, heading: 'Child R' });
  await expectErrorSummary(page, ['Choose the deadline', 'Enter the reason']);
  await expect(page.locator('#deadline_key-error')).toBeVisible();
  await expect(page.locator('#reason-error')).toBeVisible();
  // Nothing was recorded.
  await expect(
    page.locator('.govuk-summary-list__row', { hasText: 'National panel notified' }).locator('dd'),
  ).toHaveText('Not yet');
});

test('notify a case: the empty form shows every error at once', async ({ page }) => {
  await page.goto('/cases');
  const form = await followLink(page, page.getByRole('link', { name: 'Notify a case' }));
  await expectShellPage(page, form, { heading: 'Notify a case' });
  await expect(page.locator('#age_band_child option')).toHaveText([
    'Choose',
    'under 1',
    '1 to 4',
    '5 to 9',
    '10 to 15',
    '16 to 17',
  ]);

  const empty = await press(page, 'Notify the case');
  await expectShellPage(page, empty, { status: 422, heading: 'Notify a case' });
  await expectErrorSummary(page, [
    'Choose whether the case is about a child or an adult',
    'Choose what happened',
    'Enter a real date in the form 2026-11-30',
    'Enter the pseudonym',
    'Enter what happened, in brief',
    'Enter the referrer',
    'Choose at least one partnership',
  ]);
  for (const field of [
    'subject_kind',
    'incident_kind',
    'aware_on',
    'summary',
    'pseudonym',
    'referrer',
    'partnership_ids',
  ]) {
    await expect(
      page.locator(`.govuk-error-summary a[href="#${field}"]`),
      `summary link for ${field}`,
    ).toBeVisible();
    await expect(page.locator(`#${field}-error`), `error message for ${field}`).toBeVisible();
  }
  await expect(page).toHaveTitle(/^Error: /);
});

test('notify a case: a date in the future is refused and the answers are kept', async ({
  page,
}) => {
  const form = await page.goto('/cases/new');
  const future = addWorkingDays(serverToday(form), 1, new Set()).toISOString().slice(0, 10);
  const pseudonym = freshPseudonym('Child F');
  await fillChildDeath(page, { pseudonym, awareOn: future, realName: 'Real Name Future' });

  const refused = await press(page, 'Notify the case');
  await expectShellPage(page, refused, { status: 422, heading: 'Notify a case' });
  await expectErrorSummary(page, [
    'The date the partnership became aware must be today or in the past',
  ]);
  await expect(page.locator('#aware_on-error')).toBeVisible();
  await expect(page.locator('#aware_on')).toHaveValue(future);
  await expect(page.locator('#pseudonym')).toHaveValue(pseudonym);
  await expect(page.locator('#subject_kind')).toBeChecked();
  await expect(page.locator('#partnership_ids')).toBeChecked();
  await expect(page.getByLabel('Wealdshire Constabulary', { exact: true })).toBeChecked();
});

test('a business manager takes a new notification through the checklist, the decision and a rapid review to a converted CSPR', async ({
  page,
}) => {
  // Many pages, each checked with axe.
  test.slow();
  const closed = await nonWorkingDays(page);

  // Notify the case: a child who died, known to the partnership today.
  await page.goto('/cases');
  const form = await followLink(page, page.getByRole('link', { name: 'Notify a case' }));
  await expectShellPage(page, form, { heading: 'Notify a case' });
  const today = serverToday(form);
  const pseudonym = freshPseudonym('Child Q');
  const realName = `Real Name ${pseudonym}`;
  await fillChildDeath(page, { pseudonym, awareOn: today, realName });
  const notified = await press(page, 'Notify the case');
  await expectShellPage(page, notified, { heading: pseudonym });
  await expect(page).toHaveURL(/\/cases\/[0-9a-f-]{36}$/);
  const casePath = new URL(page.url()).pathname;
  await expect(page.locator('main .govuk-caption-l')).toHaveText(/^N-\d{4}-\d{4}$/);
  await expect(page.locator('#subject-name')).toHaveText(realName);
  const agencies = page.locator('.govuk-summary-list__row', { hasText: 'Agencies involved' });
  await expect(agencies.locator('dd')).toHaveText(
    "Fernbridge Council Children's Services, Wealdshire Constabulary",
  );

  // The statutory clocks: 5 and 15 working days after the day the partnership became aware.
  const deadlines = page.getByRole('table', { name: 'Deadlines' });
  const notify = rowWith(deadlines, NOTIFY_PANEL);
  await expect(notify).toHaveCount(1);
  await expect(notify).toContainText(shortDate(addWorkingDays(today, 5, closed)));
  await expect(notify).toContainText('5 working days left');
  const complete = rowWith(deadlines, COMPLETE_RAPID_REVIEW);
  await expect(complete).toHaveCount(1);
  await expect(complete).toContainText(shortDate(addWorkingDays(today, 15, closed)));
  await expect(complete).toContainText('15 working days left');
  await expect(page.locator('main')).toContainText('The Review Group has not decided yet.');

  // The decision, step 1: the checklist.
  const checklist = await followLink(page, page.getByRole('link', { name: CHILD_CASE_REVIEW }));
  await expectShellPage(page, checklist, { heading: CHILD_CASE_REVIEW });
  await expect(page).toHaveURL(/\/decisions\/new\?type=serious_child_case$/);
  await page.locator('#answer_abuse_or_neglect').check();
  await page.locator('#answer_child_died').check();
  const recommended = await press(page, 'Continue');

  // Step 2: the recommendation and the Review Group's decision.
  await expectShellPage(page, recommended, { heading: CHILD_CASE_REVIEW });
  const recommendation = page.locator('#recommendation');
  await expect(recommendation).toContainText('Recommendation:');
  await expect(recommendation).toContainText('The criteria are met: a review is required');
  await expect(page.locator('#decided_on')).toHaveValue(today);
  await expect(page.locator('#group_id')).toBeVisible();
  await expect(page.locator('#hold_review')).toHaveAccessibleName(
    'Hold the review (start the rapid review)',
  );

  // Without a rationale: an error.
  await page.locator('#hold_review').check();
  const noRationale = await press(page, 'Record the decision');
  await expectShellPage(page, noRationale, { status: 422, heading: CHILD_CASE_REVIEW });
  await expectErrorSummary(page, ['Enter the rationale']);
  await expect(page.locator('.govuk-error-summary a[href="#rationale"]')).toBeVisible();
  await expect(page.locator('#rationale-error')).toBeVisible();
  await expect(page.locator('#recommendation')).toContainText(
    'The criteria are met: a review is required',
  );

  // "No review" against the recommendation needs a reason.
  await page.locator('#hold_review-no').check();
  await page.locator('#rationale').fill('Testing the override reason.');
  const noReason = await press(page, 'Record the decision');
  await expectShellPage(page, noReason, { status: 422, heading: CHILD_CASE_REVIEW });
  await expectErrorSummary(page, ['Give the reason for departing from the recommendation']);
  await expect(page.locator('.govuk-error-summary a[href="#override_reason"]')).toBeVisible();
  await expect(page.locator('#override_reason-error')).toBeVisible();

  // Hold the review: a rapid review starts.
  await page.locator('#hold_review').check();
  await page
    .locator('#rationale')
    .fill('Abuse or neglect is suspected and the child died: a rapid review is required.');
  await page.locator('#immediate_actions').fill('Siblings placed with grandparents.');
  const decided = await press(page, 'Record the decision');
  await expectShellPage(page, decided, { heading: 'Rapid review' });
  await expect(page).toHaveURL(/\/rapid-reviews\/[0-9a-f-]{36}$/);
  const rapidReviewPath = new URL(page.url()).pathname;
  await expect(page.locator('main .govuk-caption-l')).toHaveText(pseudonym);

  // The agencies involved owe summaries.
  const summaries = page.getByRole('table', { name: 'Agency summaries' });
  for (const agency of ['Wealdshire Constabulary', "Fernbridge Council Children's Services"]) {
    const row = rowWith(summaries, agency);
    await expect(row).toHaveCount(1);
    const record = row.getByRole('button', { name: `Record the summary from ${agency}` });
    await expect(record).toBeVisible();
  }

  // Mark the referral step done today.
  const steps = page.getByRole('table', { name: 'Steps of the rapid review' });
  const referralDate = page.locator('#on-referral');
  await expect(referralDate).toHaveValue(today);
  const referralRow = steps.locator('tbody tr', { has: referralDate });
  const referralName = (await referralRow.locator('td').first().innerText()).trim();
  const marked = await navigationResponse(page, () =>
    referralRow.getByRole('button', { name: /^Mark done/ }).click(),
  );
  await expectShellPage(page, marked, { heading: 'Rapid review' });
  await expect(page.locator('#on-referral')).toHaveCount(0);
  const doneRow = rowWith(steps, referralName);
  await expect(doneRow.locator('td').nth(2)).not.toHaveText('Not yet');

  // Recording an outcome without choosing one is an error.
  const noOutcome = await press(page, 'Record the outcome');
  await expectShellPage(page, noOutcome, { status: 422, heading: 'Rapid review' });
  await expect(page.locator('.govuk-error-summary')).toContainText('There is a problem');
  await expect(page.locator('.govuk-error-summary a[href="#outcome"]')).toBeVisible();
  await expect(page.locator('#outcome-error')).toBeVisible();

  // The statutory partners sign off a local CSPR.
  const localCspr = page.locator('input#outcome');
  await expect(localCspr).toHaveAttribute('value', 'local_cspr');
  await expect(localCspr).toHaveAccessibleName(LOCAL_CSPR);
  await localCspr.check();
  await expect(page.locator('#outcome_on')).toHaveValue(today);
  const outcome = await press(page, 'Record the outcome');
  await expectShellPage(page, outcome, { heading: 'Rapid review' });
  await expect(page).toHaveURL(new RegExp(`${rapidReviewPath}$`));
  await expect(page.locator('#recorded-outcome')).toHaveText(`Outcome: ${LOCAL_CSPR}`);

  // Converting without a type is an error.
  const noType = await press(page, 'Convert');
  await expectShellPage(page, noType, { status: 422, heading: 'Rapid review' });
  await expect(page.locator('.govuk-error-summary a[href="#review_type"]')).toBeVisible();
  await expect(page.locator('#review_type-error')).toBeVisible();

  // Convert it into a local CSPR.
  await page.locator('#review_type').selectOption('cspr_local');
  await expect(page.locator('#review_type option:checked')).toHaveText(LOCAL_CSPR);
  const converted = await press(page, 'Convert');
  await expectShellPage(page, converted, { heading: 'Rapid review' });
  await expect(page.locator('#converted')).toContainText(
    'This rapid review has been converted into a review',
  );
  await expect(page.locator('#review_type')).toHaveCount(0);

  // The case shows the decision, the rapid review and the converted review.
  const toCase = page.locator('#converted').getByRole('link', { name: 'case' });
  const back = await followLink(page, toCase);
  await expectShellPage(page, back, { heading: pseudonym });
  expect(new URL(page.url()).pathname).toBe(casePath);
  await expect(
    page.getByRole('heading', { name: `${CHILD_CASE_REVIEW}: Review` }),
  ).toBeVisible();
  await expect(page.getByRole('link', { name: 'Rapid review', exact: true })).toHaveAttribute(
    'href',
    rapidReviewPath,
  );
  const reviews = page.getByRole('table', { name: 'Reviews of this case' });
  const review = rowWith(reviews, LOCAL_CSPR);
  await expect(review).toHaveCount(1);
  await expect(review).toContainText('Converted from the rapid review');
});

test('recording the notification to the national panel meets its deadline', async ({ page }) => {
  const form = await page.goto('/cases/new');
  const today = serverToday(form);
  const pseudonym = freshPseudonym('Child N');
  await fillChildDeath(page, { pseudonym, awareOn: today, realName: `Real Name ${pseudonym}` });
  await press(page, 'Notify the case');
  await expect(page.locator('h1')).toHaveText(pseudonym);

  await page.locator('#notified_on').fill(today);
  await page.locator('#notified_by').fill('Head of safeguarding, children’s services');
  const recorded = await press(page, 'Record notification');
  await expectShellPage(page, recorded, { heading: pseudonym });
  const notify = rowWith(page.getByRole('table', { name: 'Deadlines' }), NOTIFY_PANEL);
  await expect(notify.locator('.govuk-tag')).toHaveText('Met');
  await expect(
    page.locator('.govuk-summary-list__row', { hasText: 'National panel notified' }).locator('dd'),
  ).toContainText('by Head of safeguarding');
});

test('a rapid review with overdue steps offers to record why they were missed', async ({
  page,
}) => {
  const casePath = await openCase(page, 'Child T');
  const rapid = await followLink(
    page,
    page.getByRole('link', { name: 'Rapid review', exact: true }),
  );
  await expectShellPage(page, rapid, { heading: 'Rapid review' });
  await expect(page.getByRole('link', { name: 'Back to Child T' })).toHaveAttribute(
    'href',
    casePath,
  );
  const steps = page.getByRole('table', { name: 'Steps of the rapid review' });
  await expect(steps.locator('.govuk-tag', { hasText: 'Overdue' }).first()).toBeVisible();
  await expect(steps.getByRole('button', { name: /^Record reason/ }).first()).toBeVisible();
  await expect(steps).toContainText(
    "Missed because: The school's summary arrived a day late after staff absence",
  );
  await expect(page.locator('#outcome')).toHaveAttribute('type', 'radio');
});

test('a finished rapid review shows its outcome and conversion', async ({ page }) => {
  await openCase(page, 'Child M');
  const rapid = await followLink(
    page,
    page.getByRole('link', { name: 'Rapid review', exact: true }),
  );
  await expectShellPage(page, rapid, { heading: 'Rapid review' });
  await expect(page.locator('#recorded-outcome')).toHaveText(`Outcome: ${LOCAL_CSPR}`);
  await expect(page.locator('#converted')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Convert' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: /^Mark done/ })).toHaveCount(0);
});

test('a recorded outcome leaves the outcome radios labelled', async ({ page }) => {
  // The recorded outcome and the first outcome radio once shared id="outcome",
  // which left the radio without an accessible name.
  await openCase(page, 'Child M');
  await followLink(page, page.getByRole('link', { name: 'Rapid review', exact: true }));
  await expect(page.locator('[id="outcome"]')).toHaveCount(1, { timeout: 1_000 });
  await expect(page.getByRole('radio', { name: LOCAL_CSPR })).toHaveCount(1, { timeout: 1_000 });
});

test('changing a case: the edit form, a field error, and saving', async ({ page }) => {
  await openCase(page, 'Child S');
  const edit = await followLink(page, page.getByRole('link', { name: 'Change the case details' }));
  await expectShellPage(page, edit, { heading: 'Change the case' });
  await expect(page.locator('#pseudonym')).toHaveValue('Child S');
  await page.locator('#referrer').fill('');
  const refused = await press(page, 'Save the changes');
  await expectShellPage(page, refused, { status: 422, heading: 'Change the case' });
  await expect(page.locator('.govuk-error-summary a[href="#referrer"]')).toBeVisible();
  await page.locator('#referrer').fill('School designated safeguarding lead');
  const saved = await press(page, 'Save the changes');
  await expectShellPage(page, saved, { heading: 'Child S' });
  await expect(page.locator('main')).toContainText('School designated safeguarding lead');
  // Put the demo case back as other tests expect it.
  await followLink(page, page.getByRole('link', { name: 'Change the case details' }));
  await page.locator('#referrer').fill('Police public protection unit');
  await press(page, 'Save the changes');
});

test('attaching a file to a case, and a refused type', async ({ page }) => {
  const path = await openCase(page, 'Child R');
  await page.locator('#file').setInputFiles({ name: 'notes.exe', mimeType: 'application/octet-stream', buffer: Buffer.from('MZ') });
  const refused = await press(page, 'Attach');
  await expectShellPage(page, refused, { status: 422, heading: 'Child R' });
  await expect(page.locator('.govuk-error-summary a[href="#file"]')).toBeVisible();
  await page.locator('#file').setInputFiles({ name: 'chronology.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.7 fictional chronology') });
  const accepted = await press(page, 'Attach');
  await expectShellPage(page, accepted, { heading: 'Child R' });
  expect(new URL(page.url()).pathname).toBe(path);
  await expect(page.locator('#attachments')).toContainText('chronology.pdf');
});

test('deadlines due and overdue, and a wider window', async ({ page }) => {
  const response = await page.goto('/deadlines');
  await expectShellPage(page, response, { heading: 'Deadlines due and overdue' });
  await expect(page.getByRole('heading', { name: /^Overdue \(\d+\)$/ })).toBeVisible();
  await expect(page.getByRole('heading', { name: /^Due soon \(\d+\)$/ })).toBeVisible();

  const overdue = page.getByRole('table', { name: 'Overdue' });
  await expect(overdue.getByRole('link', { name: 'Child T' }).first()).toBeVisible();
  const dueSoon = page.getByRole('table', { name: 'Due soon' });
  await expect(rowWith(dueSoon, 'Child R').first()).toContainText(NOTIFY_PANEL);
  await expect(page.locator('main')).not.toContainText('Demo Subject');

  await expect(page.locator('#window')).toHaveValue('10');
  await page.locator('#window').fill('20');
  const wider = await press(page, 'Update');
  await expectShellPage(page, wider, { heading: 'Deadlines due and overdue' });
  expect(new URL(page.url()).searchParams.get('window')).toBe('20');
  await expect(page.locator('#window')).toHaveValue('20');
  await expect(page.locator('main')).toContainText('Showing what is due within 20 working days.');
});

test('deadlines: a window that is not a number is an error inside the page', async ({ page }) => {
  // "abc" or an emptied field once failed extraction with a bare text/plain 400.
  await page.goto('/deadlines');
  await page.locator('#window').fill('abc');
  const response = await press(page, 'Update');
  expect(response.status()).toBeLessThan(500);
  await expect(page.locator('h1')).toHaveText('Deadlines due and overdue');
  await expect(page.locator('.govuk-error-summary a[href="#window"]')).toBeVisible();
  await expectNoAxeViolations(page);
});

test('settings: the working-day calendar refuses a file that is not GOV.UK’s', async ({
  page,
}) => {
  await page.goto('/');
  const settings = page.getByRole('navigation', { name: 'Menu' }).getByRole('link', {
    name: 'Settings',
  });
  const response = await followLink(page, settings);
  await expectShellPage(page, response, { heading: 'Working-day calendar' });
  await expect(settings).toHaveAttribute('aria-current', 'page');
  await expect(page.getByRole('table', { name: 'Bank holidays' }).locator('tbody tr').first())
    .toBeVisible();

  // Nothing chosen.
  const nothing = await press(page, 'Import');
  await expectShellPage(page, nothing, { status: 422, heading: 'Working-day calendar' });
  await expectErrorSummary(page, ["Choose GOV.UK's bank-holidays.json file"]);

  // A JSON file with a bad date and an event without a title.
  await page.locator('#file').setInputFiles({
    name: 'bank-holidays.json',
    mimeType: 'application/json',
    buffer: Buffer.from(
      JSON.stringify({
        'england-and-wales': {
          division: 'england-and-wales',
          events: [{ title: 'Not a day', date: '2029-13-01' }, { date: '2029-01-02' }],
        },
      }),
    ),
  });
  const refused = await press(page, 'Import');
  await expectShellPage(page, refused, { status: 422, heading: 'Working-day calendar' });
  await expectErrorSummary(page, [
    'england-and-wales.events[0].date: "2029-13-01" is not a date in the form YYYY-MM-DD',
    'england-and-wales.events[1].title: is missing',
  ]);
  await expect(page.locator('.govuk-error-summary a[href="#file"]').first()).toBeVisible();
  await expect(page.locator('#file-error')).toBeVisible();
  await expect(page.locator('.govuk-notification-banner')).toHaveCount(0);
});

test('settings: a closure day can be added and removed', async ({ page }) => {
  const response = await page.goto('/admin/calendar');
  await expectShellPage(page, response, { heading: 'Working-day calendar' });

  const empty = await press(page, 'Add closure day');
  await expectShellPage(page, empty, { status: 422, heading: 'Working-day calendar' });
  await expect(page.locator('.govuk-error-summary a[href="#day"]')).toBeVisible();
  await expect(page.locator('#day-error')).toBeVisible();

  // A day in the holiday data but far enough ahead not to move any test's deadlines.
  const year = Number(serverToday(response).slice(0, 4)) + 1;
  const day = `${year}-07-14`;
  const shown = longDate(day);
  await page.locator('#day').fill(day);
  await page.locator('#title').fill('Staff training day');
  const added = await press(page, 'Add closure day');
  await expectShellPage(page, added, { heading: 'Working-day calendar' });
  const closures = page.getByRole('table', { name: 'Closure days' });
  const row = rowWith(closures, shown);
  await expect(row).toContainText('Staff training day');

  const removed = await navigationResponse(page, () =>
    row.getByRole('button', { name: `Remove ${shown}` }).click(),
  );
  await expectShellPage(page, removed, { heading: 'Working-day calendar' });
  await expect(page.locator('main')).not.toContainText('Staff training day');
});

test('settings: review types and changing one', async ({ page }) => {
  await page.goto('/admin/calendar');
  const list = await followLink(
    page,
    page.getByRole('link', { name: 'review types, criteria and clocks' }),
  );
  await expectShellPage(page, list, { heading: 'Review types' });
  const types = page.getByRole('table', { name: 'Review types' });
  for (const link of await types.locator('tbody a').all()) {
    await expect(link).toHaveAttribute('href', /^\/admin\/review-types\/[a-z0-9_-]+$/);
  }
  const dhr = types.getByRole('link', { name: 'Domestic abuse related death review' });
  await expect(dhr).toHaveAttribute('href', '/admin/review-types/dhr');

  const edit = await followLink(page, dhr);
  await expectShellPage(page, edit, { heading: 'Change Domestic abuse related death review' });
  await expect(page.locator('#name')).toHaveValue('Domestic abuse related death review');
  await expect(page.locator('#report_months')).toHaveValue('6');

  // A clock that is not a number is refused and nothing changes.
  await page.locator('#report_months').fill('six');
  const refused = await press(page, 'Save');
  await expectShellPage(page, refused, { status: 422, heading: 'Change Domestic abuse related death review' });
  await expect(page.locator('.govuk-error-summary a[href="#report_months"]')).toBeVisible();
  await expect(page.locator('#report_months-error')).toBeVisible();

  // Saving the type unchanged goes back to the list, which still says 6 months.
  await page.goto('/admin/review-types/dhr');
  const saved = await press(page, 'Save');
  await expectShellPage(page, saved, { heading: 'Review types' });
  await expect(rowWith(page.getByRole('table', { name: 'Review types' }), 'Domestic abuse'))
    .toContainText('report within 6 months');
});

test('settings: the review-type pages are in the Settings section', async ({ page }) => {
  // These pages belong to Settings ("/admin/calendar"), which is marked current.
  for (const path of ['/admin/review-types', '/admin/review-types/dhr']) {
    await page.goto(path);
    await expect(
      page.getByRole('navigation', { name: 'Menu' }).getByRole('link', { name: 'Settings' }),
      `Settings is current on ${path}`,
    ).toHaveAttribute('aria-current', 'page', { timeout: 1_000 });
  }
});

test('your calendar feed: an address that serves the deadlines by pseudonym only', async ({
  page,
  playwright,
  baseURL,
}) => {
  await page.goto('/account');
  const link = page.getByRole('link', { name: 'Subscribe to your deadlines in a calendar app' });
  const shown = await followLink(page, link);
  await expectShellPage(page, shown, { heading: 'Your calendar feed' });

  const made = await navigationResponse(page, () =>
    page.getByRole('button', { name: /^Make (a|a new) feed address$/ }).click(),
  );
  await expectShellPage(page, made, { heading: 'Your calendar feed' });
  const address = (await page.locator('#feed-address').innerText()).trim();
  // The address uses the configured public_url, not the test server's address.
  expect(address).toMatch(/^https?:\/\/[^/]+\/calendar\/[^/\s]+\.ics$/);
  const feedPath = address.slice(address.indexOf('/calendar/'));

  // A calendar app (no cookies) reads the feed with the address alone.
  const app = await playwright.request.newContext({
    baseURL,
    storageState: { cookies: [], origins: [] },
  });
  try {
    const feed = await app.get(feedPath);
    expect(feed.status()).toBe(200);
    expect(feed.headers()['content-type'] ?? '').toContain('text/calendar');
    // Unfold the iCalendar lines (RFC 5545 folds long lines with CRLF and a space).
    const body = (await feed.text()).replace(/\r?\n[ \t]/g, '');
    expect(body).toContain('BEGIN:VCALENDAR');
    expect(body).toContain('END:VCALENDAR');
    expect(body).toContain('Child R');
    expect(body).toContain(NOTIFY_PANEL);
    // Protected real names never leave in the feed.
    expect(body).not.toContain('Demo Subject');
    expect(body).not.toContain('Real Name');

    // Stopping the feed makes the address useless.
    const stopped = await press(page, 'Stop the feed');
    await expectShellPage(page, stopped, { heading: 'Your calendar feed' });
    await expect(page.locator('main')).toContainText('You have no feed.');
    expect((await app.get(feedPath)).status()).toBe(404);
  } finally {
    await app.dispose();
  }
});

test.describe('the police agency lead', () => {
  test.use({ signedInAs: PEOPLE.policeLead });

  test('sees only the cases the police are involved in, without real names', async ({
    page,
    browser,
    baseURL,
  }) => {
    const response = await page.goto('/cases');
    await expectShellPage(page, response, { heading: 'Cases' });
    for (const pseudonym of POLICE_CASES) {
      await expect(caseLink(page, pseudonym), `${pseudonym} is listed`).toHaveCount(1);
    }
    for (const pseudonym of NOT_POLICE_CASES) {
      await expect(caseLink(page, pseudonym), `${pseudonym} is not listed`).toHaveCount(0);
    }
    // An agency lead cannot notify cases or record decisions.
    await expect(page.getByRole('link', { name: 'Notify a case' })).toHaveCount(0);

    const opened = await followLink(page, caseLink(page, 'Child R'));
    await expectShellPage(page, opened, { heading: 'Child R' });
    await expect(page.locator('#subject-name')).toHaveCount(0);
    await expect(page.locator('main')).not.toContainText('Demo Subject');
    await expect(page.getByRole('link', { name: CHILD_CASE_REVIEW })).toHaveCount(0);
    await expect(page.getByRole('button', { name: 'Record notification' })).toHaveCount(0);

    // A case the police are not involved in is not found, even by its address.
    const manager = await browser.newContext({
      baseURL,
      storageState: await storageStateFor(browser, baseURL, PEOPLE.businessManager),
    });
    let hiddenPath;
    try {
      const theirs = await manager.newPage();
      await theirs.goto('/cases');
      hiddenPath = await caseLink(theirs, 'Child S').getAttribute('href');
    } finally {
      await manager.close();
    }
    const hidden = await page.goto(hiddenPath);
    await expectShellPage(page, hidden, { status: 404, heading: 'Page not found' });
  });
});

test.describe('a practitioner', () => {
  test.use({ signedInAs: PEOPLE.practitioner });

  test('gets the 403 page for cases and deadlines', async ({ page }) => {
    await page.goto('/');
    await expect(
      page.getByRole('navigation', { name: 'Menu' }).getByRole('link', { name: 'Cases' }),
    ).toHaveCount(0);
    for (const path of ['/cases', '/deadlines']) {
      const response = await page.goto(path);
      await expectShellPage(page, response, {
        status: 403,
        heading: 'You do not have access to this page',
      });
    }
  });
});

test.describe('an executive', () => {
  test.use({ signedInAs: PEOPLE.executive });

  test('sees a case but not its protected real name', async ({ page }) => {
    const path = await openCase(page, 'Child R');
    await expect(page.locator('#subject-name')).toHaveCount(0);
    await expect(page.locator('main')).not.toContainText('Demo Subject');
    await expect(page.getByRole('link', { name: CHILD_CASE_REVIEW })).toHaveCount(0);
    // The decision pages are for those who manage cases.
    const decision = await page.goto(`${path}/decisions/new?type=serious_child_case`);
    await expectShellPage(page, decision, {
      status: 403,
      heading: 'You do not have access to this page',
    });
  });
});
