// Browser tests for actions and action plans: the tracker, a plan from its
// creation to the assurance check a year after sign-off, an agency's update
// with evidence, importing a tracker and exporting one.
//
// The business manager reads the dashboard's action counts, filters the
// tracker, reads the outbox, makes a plan overseen by the Practice Improvement
// group and adds a police action to it; the police lead completes the action
// with an evidence file; the business manager signs off the action and the
// plan. The server's clock then moves a year on (the e2e server reads a number
// of days from the file in LEARNLOOP_E2E_CLOCK_FILE at every request) so the
// assurance check falls due, and the business manager records it. Back at the
// real date, the business manager imports a tracker (refused while a row has
// a problem, then accepted) and downloads the tracker as .xlsx and CSV.
//
// Every page visited is checked with axe, error pages included. The steps
// share the plan and the action they make, so they run in order and stop at
// the first failure. The clock file is put back to 0 after the tests, whatever
// happens, because the other specs run on the same server after this one.
import { writeFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import {
  test,
  expect,
  PEOPLE,
  newAnonymousContext,
  signIn,
  stepUp,
  storageStateFor,
} from './session.mjs';
import { expectNoAxeViolations } from './axe.mjs';
import { expectErrorSummary, expectShellPage, followLink, navigationResponse } from './pages.mjs';

test.use({ signedInAs: PEOPLE.businessManager });

const POLICE = 'Wealdshire Constabulary';
const POLICE_LEAD = 'Jude Merriman';
const ADULT_SOCIAL_CARE = 'Fernbridge Council Adult Social Care';
const PRACTICE_IMPROVEMENT = 'Practice Improvement';
const AUDIT_FINDING = 'Audit finding';
const DAY_MS = 86_400_000;
/** How far the clock moves for the assurance check: a year and a day. */
const YEAR_ON_DAYS = 366;

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

/** Move the server's clock `days` days on from the real time (0 puts it back). */
function setServerClock(days) {
  const file = process.env.LEARNLOOP_E2E_CLOCK_FILE;
  if (!file) {
    throw new Error('LEARNLOOP_E2E_CLOCK_FILE is not set: run the browser tests with scripts/e2e');
  }
  writeFileSync(file, `${days}\n`);
}

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

/** `iso` plus `months` calendar months, kept in the month it lands in (31 Jan + 1 = 28/29 Feb). */
function addMonths(iso, months) {
  const [year, month, day] = iso.split('-').map(Number);
  const target = new Date(Date.UTC(year, month - 1 + months, 1));
  const lastDay = new Date(
    Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0),
  ).getUTCDate();
  target.setUTCDate(Math.min(day, lastDay));
  return target.toISOString().slice(0, 10);
}

/** "2026-06-05" as the action pages show a date in full: "5 June 2026". */
function longDate(iso) {
  const date = new Date(`${iso}T00:00:00Z`);
  return `${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()}`;
}

/** Click a button by its accessible name and return the resulting page's response. */
function press(scope, page, name) {
  return navigationResponse(page, () =>
    scope.getByRole('button', { name, exact: true }).click(),
  );
}

/** A summary list's value for `key`, inside `scope`. */
function summaryValue(scope, key) {
  return scope
    .locator('.govuk-summary-list__row', {
      has: scope.page().locator('dt', { hasText: new RegExp(`^\\s*${key}\\s*$`) }),
    })
    .locator('dd');
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

/** The tracker's "N actions." count. */
async function trackerTotal(page) {
  const text = await page.locator('#action-count').innerText();
  const match = /^(\d+) actions?\./.exec(text.trim());
  expect(match, `the tracker's count: ${text}`).not.toBeNull();
  return Number(match[1]);
}

/** A CSV file for the import, from rows of cells (none needs quoting). */
function csv(rows) {
  return {
    name: 'tracker.csv',
    mimeType: 'text/csv',
    buffer: Buffer.from(rows.map((row) => row.join(',')).join('\r\n') + '\r\n'),
  };
}

test.describe.serial('an action plan from its actions to the assurance check a year on', () => {
  // Shared by the steps.
  const suffix = Date.now().toString(36).toUpperCase();
  const planTitle = `E2E plan ${suffix}`;
  const description =
    `Brief every response officer on the neglect screening tool (${suffix}) ` +
    'and check 20 incident records a month for its use.';
  const outcome = 'Officers recognise neglect at domestic incidents and refer it.';
  const successEvidence = 'Monthly dip sample of 20 incident records; 90% show the tool used.';
  const narrative = 'All 212 response officers attended the briefing; the register is attached.';
  const evidenceText = 'Attendance register: 212 of 212 response officers briefed.\n';
  let today;
  let planPath;
  let actionPath;
  let reference;

  test.afterAll(() => {
    // Whatever happened, the specs after this one run at the real date.
    setServerClock(0);
  });

  test('the business manager reads the action counts, the tracker and the outbox', async ({
    page,
  }) => {
    const dashboard = await page.goto('/');
    await expectShellPage(page, dashboard, { heading: 'Dashboard' });
    const counts = page.locator('#action-counts');
    await expect(counts.locator('li')).toHaveCount(4);
    await expect(counts.locator('.app-stat__label')).toHaveText([
      'red',
      'amber',
      'green',
      'complete',
    ]);
    const red = counts.getByRole('link', { name: /red$/ });
    await expect(red).toHaveAttribute('href', '/actions?rag=red');
    const redCount = Number(await red.locator('.app-stat__value').innerText());
    expect(redCount, 'the demo has red actions').toBeGreaterThan(0);

    const byAgency = page.getByRole('table', { name: 'Actions by owner agency and RAG' });
    await expect(byAgency.locator('thead th')).toHaveText([
      'Agency',
      'Red',
      'Amber',
      'Green',
      'Complete',
    ]);
    const policeRow = byAgency.locator('tbody tr', {
      has: page.getByRole('rowheader', { name: POLICE, exact: true }),
    });
    await expect(policeRow).toHaveCount(1);
    await expect(policeRow.getByRole('link', { name: POLICE })).toHaveAttribute(
      'href',
      /^\/actions\?agency=[0-9a-f-]{36}$/,
    );
    // Each column of the table adds up to the count above it.
    const redColumn = await byAgency.locator('tbody tr td:nth-of-type(1)').allInnerTexts();
    expect(redColumn.reduce((sum, n) => sum + Number(n), 0)).toBe(redCount);

    // The tracker, filtered to red actions: only red tags, as many as the dashboard counts.
    const tracker = await followLink(
      page,
      page.getByRole('link', { name: 'Actions', exact: true }).first(),
    );
    await expectShellPage(page, tracker, { heading: 'Actions' });
    await expect(page.getByRole('link', { name: 'Excel (.xlsx)' })).toHaveAttribute(
      'href',
      /^\/actions\/export\.xlsx\?/,
    );
    await expect(page.getByRole('link', { name: 'CSV', exact: true })).toHaveAttribute(
      'href',
      /^\/actions\/export\.csv\?/,
    );
    await page.getByLabel('RAG', { exact: true }).selectOption({ label: 'Red' });
    const filtered = await press(page, page, 'Filter');
    await expectShellPage(page, filtered, { heading: 'Actions' });
    expect(new URL(page.url()).searchParams.get('rag')).toBe('red');
    await expect(page.getByLabel('RAG', { exact: true })).toHaveValue('red');
    expect(await trackerTotal(page)).toBe(redCount);
    const tags = page.locator('#actions tbody .govuk-tag');
    await expect(tags).toHaveCount(Math.min(redCount, 50));
    for (const tag of await tags.all()) {
      await expect(tag).toHaveText('Red');
      await expect(tag).toHaveClass(/\bgovuk-tag--red\b/);
    }
    // The downloads keep the filter.
    await expect(page.getByRole('link', { name: 'Excel (.xlsx)' })).toHaveAttribute(
      'href',
      '/actions/export.xlsx?rag=red',
    );

    // The outbox: the demo's reminders, escalations and digests.
    const outbox = await page.goto('/admin/outbox');
    await expectShellPage(page, outbox, { heading: 'Outbox' });
    await expect(page.locator('main')).toContainText(
      /Reminders, escalations and weekly digests about actions: \d+ in all\./,
    );
    const kinds = new Set(
      (await page.locator('#outbox tbody tr td:nth-child(2)').allInnerTexts()).map((k) => k.trim()),
    );
    expect([...kinds]).toEqual(expect.arrayContaining(['escalation', 'digest']));
    expect(
      kinds.has('overdue') || kinds.has('due soon'),
      `a reminder among the kinds queued: ${[...kinds].join(', ')}`,
    ).toBe(true);
  });

  test('the business manager makes a plan and adds a police action to it', async ({ page }) => {
    const plans = await page.goto('/action-plans');
    await expectShellPage(page, plans, { heading: 'Action plans' });
    const form = await followLink(page, page.getByRole('button', { name: 'New action plan' }));
    await expectShellPage(page, form, { heading: 'New action plan' });
    today = serverToday(form);
    await page.getByLabel('Title', { exact: true }).fill(planTitle);
    await page.getByLabel('Where its actions come from').selectOption({ label: AUDIT_FINDING });
    await page
      .getByLabel('Overseeing group (signs off the plan)')
      .selectOption({ label: PRACTICE_IMPROVEMENT });
    const created = await press(page, page, 'Create the plan');
    await expectShellPage(page, created, { heading: planTitle });
    await expect(page).toHaveURL(/\/action-plans\/[0-9a-f-]{36}$/);
    planPath = new URL(page.url()).pathname;
    await expect(page.locator('#plan-state')).toHaveText('Active');
    await expect(summaryValue(page.locator('main'), 'Overseen by')).toHaveText(
      PRACTICE_IMPROVEMENT,
    );
    await expect(page.locator('main')).toContainText('No actions yet.');
    await expect(page.locator('main')).toContainText(
      'An assurance check is scheduled when the plan is signed off.',
    );

    // The new action, from the plan: the plan is chosen already.
    const newAction = await followLink(
      page,
      page.getByRole('link', { name: 'Add an action to this plan' }),
    );
    await expectShellPage(page, newAction, { heading: 'New action' });
    const planId = planPath.split('/').pop();
    await expect(page).toHaveURL(new RegExp(`/actions/new\\?plan=${planId}$`));
    await expect(page.getByLabel('Action plan', { exact: true })).toHaveValue(planId);

    // Everything but the description: refused, naming it, keeping the rest.
    const due = addDays(today, 20);
    await page.getByLabel('Where it comes from').selectOption({ label: AUDIT_FINDING });
    await page.getByLabel('Owner agency').selectOption({ label: POLICE });
    await page
      .getByLabel('Lead person (gets the reminders)')
      .selectOption({ label: `${POLICE_LEAD} (${PEOPLE.policeLead})` });
    await page.getByLabel('Due on (YYYY-MM-DD)').fill(due);
    await page.getByLabel('What will be different').fill(outcome);
    await page.getByLabel('How success will be evidenced').fill(successEvidence);
    await page.getByLabel('Neglect', { exact: true }).check();
    const refused = await press(page, page, 'Add the action');
    await expectShellPage(page, refused, { status: 422, heading: 'New action' });
    await expectErrorSummary(page, ['Enter the description']);
    await expect(page.locator('.govuk-error-summary a[href="#description"]')).toBeVisible();
    await expect(page.locator('#description-error')).toContainText('Enter the description');
    await expect(page.getByLabel('Action plan', { exact: true })).toHaveValue(planId);
    await expect(page.getByLabel('Owner agency').locator('option:checked')).toHaveText(POLICE);
    await expect(page.getByLabel('Due on (YYYY-MM-DD)')).toHaveValue(due);
    await expect(page.getByLabel('What will be different')).toHaveValue(outcome);
    await expect(page.getByLabel('Neglect', { exact: true })).toBeChecked();

    const describe = page.getByLabel(/^What will be done/);
    await describe.fill(description);
    const added = await navigationResponse(page, () =>
      page.getByRole('button', { name: 'Add the action', exact: true }).click(),
    );
    await expect(page).toHaveURL(/\/actions\/[0-9a-f-]{36}$/);
    actionPath = new URL(page.url()).pathname;
    const heading = (await page.locator('h1').innerText()).trim();
    expect(heading).toMatch(/^Action \S+$/);
    reference = heading.slice('Action '.length);
    await expectShellPage(page, added, { heading: `Action ${reference}` });
    await expect(page.locator('main .govuk-caption-l')).toHaveText(AUDIT_FINDING);
    await expect(page.locator('main .govuk-body-l')).toHaveText(description);
    const main = page.locator('main');
    await expect(summaryValue(main, 'Owner')).toHaveText(`${POLICE}; lead: ${POLICE_LEAD}`);
    await expect(summaryValue(main, 'Due')).toHaveText(longDate(due));
    await expect(summaryValue(main, 'What will be different')).toHaveText(outcome);
    await expect(summaryValue(main, 'How success will be evidenced')).toHaveText(successEvidence);
    await expect(summaryValue(main, 'Themes')).toHaveText('Neglect');
    await expect(page.locator('#action-rag')).toContainText('Not started');
    await expect(summaryValue(main, 'Action plan').getByRole('link')).toHaveText(planTitle);
    // Creating it is its first update.
    await expect(page.locator('#updates > li')).toHaveCount(1);
    await expect(page.locator('#updates > li h3')).toContainText(': Not started');
    await expect(page.locator('#updates > li')).toContainText('Action agreed.');
    // Not completed yet: nothing to sign off.
    await expect(page.getByRole('button', { name: 'Sign off this action' })).toHaveCount(0);

    // The plan lists it.
    const plan = await followLink(page, summaryValue(main, 'Action plan').getByRole('link'));
    await expectShellPage(page, plan, { heading: planTitle });
    const row = page.locator('#plan-actions tbody tr');
    await expect(row).toHaveCount(1);
    await expect(row.getByRole('link')).toHaveText(reference);
    await expect(row.getByRole('link')).toHaveAttribute('href', actionPath);
    await expect(row).toContainText(POLICE);
  });

  test('the police lead completes the action with an evidence file', async ({
    browser,
    baseURL,
  }) => {
    await asPerson(browser, baseURL, PEOPLE.policeLead, async (page) => {
      const tracker = await page.goto('/actions');
      await expectShellPage(page, tracker, { heading: 'Actions' });
      await expect(page.locator('main')).toContainText('You see the actions your agency owns.');
      // Only their agency's actions.
      for (const owner of await page.locator('#actions tbody tr td:nth-child(2)').allInnerTexts()) {
        expect(owner.split('\n')[0].trim()).toBe(POLICE);
      }
      const link = page
        .locator('#actions tbody')
        .getByRole('link', { name: reference, exact: true });
      await expect(link).toHaveCount(1);
      await expect(link).toHaveAttribute('href', actionPath);
      const opened = await followLink(page, link);
      await expectShellPage(page, opened, { heading: `Action ${reference}` });

      await page.getByLabel('Status', { exact: true }).selectOption({ label: 'Completed' });
      await page.getByLabel('What has happened since the last update').fill(narrative);
      await page.getByLabel(/^Evidence \(optional/).setInputFiles({
        name: 'attendance.txt',
        mimeType: 'text/plain',
        buffer: Buffer.from(evidenceText),
      });
      const saved = await press(page, page, 'Save the update');
      await expectShellPage(page, saved, { heading: `Action ${reference}` });
      expect(new URL(page.url()).pathname).toBe(actionPath);
      await expect(page.locator('#action-rag')).toHaveText(/^\s*Complete\s+Completed\s*$/);

      // The newest first, above the one made when the action was agreed.
      const updates = page.locator('#updates > li');
      await expect(updates).toHaveCount(2);
      await expect(updates.nth(1)).toContainText('Action agreed.');
      await expect(updates.first().locator('h3')).toContainText(': Completed');
      await expect(updates.first()).toContainText(narrative);
      await expect(updates.first()).toContainText(`By ${POLICE_LEAD}`);
      const evidence = updates
        .first()
        .getByRole('link', { name: 'Evidence: attendance.txt', exact: true });
      await expect(evidence).toHaveAttribute(
        'href',
        new RegExp(`^${actionPath}/evidence/[0-9a-f-]{36}$`),
      );
      // The file comes back as it was sent.
      const file = await page.request.get(await evidence.getAttribute('href'));
      expect(file.status()).toBe(200);
      expect(file.headers()['content-disposition']).toContain('attendance.txt');
      expect(await file.text()).toBe(evidenceText);
    });
  });

  test('the business manager signs off the action and then the plan', async ({ page }) => {
    const opened = await page.goto(actionPath);
    await expectShellPage(page, opened, { heading: `Action ${reference}` });
    await expect(page.locator('#updates')).toContainText('Evidence: attendance.txt');
    const signed = await press(page, page, 'Sign off this action');
    await expectShellPage(page, signed, { heading: `Action ${reference}` });
    expect(new URL(page.url()).pathname).toBe(actionPath);
    await expect(page.locator('#signed-off')).toHaveText(longDate(today));
    await expect(page.getByRole('button', { name: 'Sign off this action' })).toHaveCount(0);

    const plan = await followLink(
      page,
      summaryValue(page.locator('main'), 'Action plan').getByRole('link'),
    );
    await expectShellPage(page, plan, { heading: planTitle });
    await expect(page.locator('#plan-actions tbody tr .govuk-tag')).toHaveText('Complete');
    const planSigned = await press(page, page, 'Sign off the plan');
    await expectShellPage(page, planSigned, { heading: planTitle });
    expect(new URL(page.url()).pathname).toBe(planPath);
    await expect(page.locator('#plan-state')).toContainText('Signed off');
    await expect(page.locator('#plan-state')).toContainText(longDate(today));
    await expect(page.getByRole('button', { name: 'Sign off the plan' })).toHaveCount(0);

    // The assurance check: a year on, not due yet.
    const cards = page.locator('main .govuk-summary-card');
    await expect(cards).toHaveCount(1);
    await expect(cards.locator('.govuk-summary-card__title')).toHaveText(
      `Assurance check due ${longDate(addMonths(today, 12))}`,
    );
    await expect(cards).toContainText('Not due yet.');
    await expect(cards.getByRole('button', { name: 'Record the check' })).toHaveCount(0);

    // The plans list shows it signed off.
    const list = await page.goto('/action-plans');
    await expectShellPage(page, list, { heading: 'Action plans' });
    const row = page.locator('#plans tbody tr', {
      has: page.getByRole('link', { name: planTitle, exact: true }),
    });
    await expect(row).toHaveCount(1);
    await expect(row.locator('td').nth(1)).toContainText('Signed off');
    await expect(row.locator('td').nth(2)).toHaveText('1 Complete');
  });

  test('a year on, the business manager records the assurance check', async ({
    browser,
    baseURL,
  }) => {
    test.slow();
    const offsetMs = YEAR_ON_DAYS * DAY_MS;
    // The shared session is left alone (it would idle out at the moved clock):
    // a new sign-in, with the code for the server's time.
    setServerClock(YEAR_ON_DAYS);
    const context = await newAnonymousContext(browser, baseURL);
    try {
      const page = await context.newPage();
      await signIn(page, PEOPLE.businessManager, { offsetMs });
      const opened = await page.goto(planPath);
      await expectShellPage(page, opened, { heading: planTitle });
      const card = page.locator('main .govuk-summary-card');
      await expect(card).toHaveCount(1);
      await expect(card.locator('.govuk-tag')).toHaveText('Due now');
      await expect(card).not.toContainText('Not due yet.');

      // Nothing chosen: every field is named.
      const refused = await press(card, page, 'Record the check');
      await expectShellPage(page, refused, { status: 422, heading: planTitle });
      await expectErrorSummary(page, [
        'Choose whether the learning is embedded',
        'Choose the kind of evidence',
        'Enter the evidence',
        'Enter the judgement',
      ]);
      for (const field of ['embedded', 'evidence_kind', 'evidence', 'judgement']) {
        await expect(page.locator(`.govuk-error-summary a[href="#${field}"]`)).toBeVisible();
        await expect(page.locator(`#${field}`)).toBeVisible();
      }

      const evidence = 'Re-audit of 40 incident records: 37 used the neglect screening tool.';
      const judgement = 'The learning is embedded: the tool is used in nine cases in ten.';
      const form = page.locator('main .govuk-summary-card form');
      await form
        .getByRole('group', { name: 'Is the learning embedded?' })
        .getByLabel('Embedded', { exact: true })
        .check();
      await form.getByLabel('Kind of evidence').selectOption({ label: 'Re-audit' });
      await form.getByLabel('The evidence', { exact: true }).fill(evidence);
      await form.getByLabel('Judgement', { exact: true }).fill(judgement);
      const recorded = await press(form, page, 'Record the check');
      await expectShellPage(page, recorded, { heading: planTitle });
      expect(new URL(page.url()).pathname).toBe(planPath);
      const done = page.locator('main .govuk-summary-card');
      await expect(done.locator('.govuk-tag')).toHaveCount(0);
      await expect(done.getByRole('button', { name: 'Record the check' })).toHaveCount(0);
      await expect(summaryValue(done, 'Recorded')).toHaveText(
        `${longDate(addDays(today, YEAR_ON_DAYS))}: Embedded`,
      );
      await expect(summaryValue(done, 'Evidence')).toHaveText(`Re-audit: ${evidence}`);
      await expect(summaryValue(done, 'Judgement')).toHaveText(judgement);
    } finally {
      await context.close();
      setServerClock(0);
    }
  });

  test('the business manager imports a tracker once every row is right', async ({ page }) => {
    const before = await page.goto('/actions');
    await expectShellPage(page, before, { heading: 'Actions' });
    const totalBefore = await trackerTotal(page);

    const upload = await followLink(page, page.getByRole('link', { name: 'Import a tracker' }));
    await expectShellPage(page, upload, { heading: 'Import an action tracker' });

    // No file.
    const noFile = await press(page, page, 'Upload');
    await expectShellPage(page, noFile, { status: 422, heading: 'Import an action tracker' });
    await expectErrorSummary(page, ['Choose an Excel (.xlsx) or CSV file']);
    await expect(page.locator('.govuk-error-summary a[href="#file"]')).toBeVisible();

    const imported = `Import check ${suffix}: audit the use of the adult neglect screening tool.`;
    const lead = 'adults.lead@fernbridge.example';
    const headings = ['Action', 'Agency', 'Due', 'Lead'];

    // A row naming an agency that does not exist.
    await page.getByLabel('The tracker').setInputFiles(
      csv([headings, [imported, 'no-such-agency', '2027-03-31', lead]]),
    );
    const mapping = await press(page, page, 'Upload');
    await expectShellPage(page, mapping, { heading: 'Import an action tracker' });
    await expect(page.locator('main')).toContainText('tracker.csv: 1 row.');
    // The mapping is suggested from the headings.
    for (const [label, heading] of [
      ['Action (SMART description)', 'Action'],
      ['Owner agency (code or name)', 'Agency'],
      ['Due date', 'Due'],
      ["Lead's email address (optional)", 'Lead'],
    ]) {
      await expect(
        page.getByLabel(label, { exact: true }).locator('option:checked'),
        `the column suggested for ${label}`,
      ).toHaveText(heading);
    }
    const badPreview = await press(page, page, 'Preview');
    await expectShellPage(page, badPreview, { heading: 'Import an action tracker' });
    await expect(page.locator('#import-summary')).toHaveText('0 rows ready; 1 with problems.');
    const badRow = page.locator('#import-preview tbody tr');
    await expect(badRow).toHaveCount(1);
    await expect(badRow.locator('td').nth(0)).toHaveText('2');
    await expect(badRow.locator('td').nth(1)).toHaveText(imported);
    await expect(badRow.locator('td').nth(2).locator('li')).toHaveText([
      'Row 2, column “Agency”: “no-such-agency” is not an agency here (use its code or name)',
    ]);
    await expect(page.getByRole('button', { name: /^Import/ })).toHaveCount(0);
    await expect(page.locator('main')).toContainText(
      'Correct the file and upload it again: nothing is imported while any row has a problem.',
    );

    // The corrected file.
    const again = await followLink(page, page.getByRole('link', { name: 'Upload again' }));
    await expectShellPage(page, again, { heading: 'Import an action tracker' });
    await page.getByLabel('The tracker').setInputFiles(
      csv([headings, [imported, 'fbc-adults', '2027-03-31', lead]]),
    );
    const remapped = await press(page, page, 'Upload');
    await expectShellPage(page, remapped, { heading: 'Import an action tracker' });
    const goodPreview = await press(page, page, 'Preview');
    await expectShellPage(page, goodPreview, { heading: 'Import an action tracker' });
    await expect(page.locator('#import-summary')).toHaveText('1 row ready; 0 with problems.');
    const goodRow = page.locator('#import-preview tbody tr');
    await expect(goodRow).toHaveCount(1);
    await expect(goodRow.locator('td').nth(2)).toHaveText('Ready');
    const done = await press(page, page, 'Import 1 action');
    await expectShellPage(page, done, { heading: 'Actions' });
    expect(new URL(page.url()).pathname).toBe('/actions');
    expect(await trackerTotal(page)).toBe(totalBefore + 1);

    // It is in the tracker: raised directly, owned by adult social care.
    await page.getByLabel('Source', { exact: true }).selectOption({ label: 'Raised directly' });
    await page.getByLabel('Owner agency').selectOption({ label: ADULT_SOCIAL_CARE });
    const filtered = await press(page, page, 'Filter');
    await expectShellPage(page, filtered, { heading: 'Actions' });
    const row = page.locator('#actions tbody tr', { hasText: imported });
    await expect(row).toHaveCount(1);
    await expect(row.locator('td').nth(1)).toContainText(ADULT_SOCIAL_CARE);
    await expect(row.locator('td').nth(2)).toHaveText('31 Mar 2027');
  });

  test('the business manager downloads the tracker as a spreadsheet and as CSV', async ({
    page,
  }) => {
    // A download asks for the authenticator code again first (remembered for 5 minutes).
    await stepUp(page, PEOPLE.businessManager, '/actions', {
      beforeSubmit: () => expectNoAxeViolations(page),
    });
    const tracker = await page.goto('/actions');
    await expectShellPage(page, tracker, { heading: 'Actions' });
    const total = await trackerTotal(page);

    const xlsxLink = page.getByRole('link', { name: 'Excel (.xlsx)' });
    const downloading = page.waitForEvent('download');
    await xlsxLink.click();
    const download = await downloading;
    expect(download.suggestedFilename()).toMatch(/\.xlsx$/);
    expect(await download.failure()).toBeNull();
    const size = (await stat(await download.path())).size;
    expect(size, 'the .xlsx file has content').toBeGreaterThan(0);
    // Still on the tracker: a download is not a navigation.
    expect(new URL(page.url()).pathname).toBe('/actions');

    // The same rows as CSV, with the page's session.
    const csvFile = await page.request.get(
      await page.getByRole('link', { name: 'CSV', exact: true }).getAttribute('href'),
    );
    expect(csvFile.status()).toBe(200);
    expect(csvFile.headers()['content-type']).toMatch(/^text\/csv/);
    expect(csvFile.headers()['content-disposition']).toMatch(/filename="[^"]+\.csv"/);
    const text = await csvFile.text();
    const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/).filter((line) => line !== '');
    expect(lines[0]).toMatch(/^Reference,Description,Owner agency,Lead email,Due date,Status,RAG,/);
    expect(text).toContain(description);
    expect(text).toContain(`Import check ${suffix}`);
    // One line an action, when no description spans lines.
    if (!/"[^"]*\n/.test(text)) {
      expect(lines.length - 1).toBe(total);
    }
  });
});
