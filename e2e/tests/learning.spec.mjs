// Browser tests for the learning loop: a lesson from a review finding taken
// from identified to evaluated, its 7-minute briefing, the loop's measures and
// the learning library, as the people who record it, pass it on and read it.
//
// The business manager reads the loop's measures on the dashboard, opens the
// demo SAR "Adult D", looks at the earlier learning like one of its findings
// and records that finding as a learning item (refused once without its
// lesson). The item cannot be embedded before it is disseminated; a
// dissemination without an audience is refused, a full one is recorded; the
// police lead confirms the learning was passed on in the police; the business
// manager records evidence that it is embedded and, once the missing
// Kirkpatrick level is given, of its impact; then reads the briefing, downloads
// it as .docx and sees the measures move. Last, the library: found by a word of
// its lesson, searches full of operators answered without a server error, the
// themes by year, and what a practitioner and an anonymous visitor may find
// (nothing restricted).
//
// Every page visited is checked with axe, error pages included. The steps
// share the item they make, so they run in order and stop at the first
// failure. The new item is restricted (not published), so the demo's public
// learning stays as the other tests expect it.
import { stat, readFile } from 'node:fs/promises';
import { test, expect, PEOPLE, newAnonymousContext, stepUp, storageStateFor } from './session.mjs';
import { expectErrorSummary, expectShellPage, followLink, navigationResponse } from './pages.mjs';
import { expectNoAxeViolations } from './axe.mjs';

test.use({ signedInAs: PEOPLE.businessManager });

const DEMO_CASE = 'Adult D';
/** One of the demo SAR's findings (crates/core/src/demo/reviews.rs). */
const FINDING = 'Concerns were held separately by each agency';
const POLICE = 'Wealdshire Constabulary';
const ADULT_SOCIAL_CARE = 'Fernbridge Council Adult Social Care';
const SEVEN_MINUTE_BRIEFING = '7-minute briefing';
const STAGE_LABELS = ['identified', 'disseminated', 'embedded', 'evaluated'];
/** A demo learning item, not published, about information (crates/core/src/demo/learning.rs). */
const RESTRICTED_DEMO_ITEM = 'Sharing information about missed appointments';
/** How many results the library page shows at most, and the public page. */
const LIBRARY_LIMIT = 50;
const PUBLIC_LIMIT = 30;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** The server's date (UTC, as the server counts days) from a response's Date header. */
function serverToday(response) {
  const header = response.headers()['date'];
  const now = header ? new Date(header) : new Date();
  return now.toISOString().slice(0, 10);
}

/** "2026-06-05" as the learning pages show a date: "5 Jun 2026". */
function shownDate(iso) {
  const date = new Date(`${iso}T00:00:00Z`);
  return `${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()}`;
}

/** Text for a regular expression that matches `text` literally. */
function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Click a button by its accessible name and return the resulting page's response. */
function press(scope, page, name) {
  return navigationResponse(page, () =>
    scope.getByRole('button', { name, exact: true }).click(),
  );
}

/** A link in the service's menu. */
function menuLink(page, name) {
  return page.getByRole('navigation', { name: 'Menu' }).getByRole('link', { name, exact: true });
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

/** A summary list's value for `key`, inside `scope`. */
function summaryValue(scope, key) {
  return scope
    .locator('.govuk-summary-list__row', {
      has: scope.page().locator('dt', { hasText: new RegExp(`^\\s*${escapeRegExp(key)}\\s*$`) }),
    })
    .locator('dd');
}

/**
 * The loop's measures as the dashboard and the learning list show them: the
 * number of items at each stage (checked to link to the list filtered by it),
 * "Never evaluated" and the three medians.
 */
async function loopMeasures(page) {
  const stages = page.locator('#loop-stages li');
  await expect(stages.locator('.app-stat__label')).toHaveText(STAGE_LABELS);
  const counts = {};
  for (const [index, label] of STAGE_LABELS.entries()) {
    const link = stages.nth(index).getByRole('link');
    await expect(link).toHaveAttribute('href', `/learning-items?stage=${label}`);
    const value = (await link.locator('.app-stat__value').innerText()).trim();
    expect(value, `the count of ${label} items`).toMatch(/^\d+$/);
    counts[label] = Number(value);
  }
  const measures = page.locator('#loop-measures');
  for (const key of [
    'Median time from identified to disseminated',
    '… to embedded',
    '… to evaluated',
  ]) {
    await expect(summaryValue(measures, key), key).toHaveText(/^\d+ days$/);
  }
  const never = (await page.locator('#never-evaluated').innerText()).trim();
  expect(never, '"Never evaluated" is a percentage').toMatch(/^\d+%$/);
  return { counts, never };
}

/** "Never evaluated" as the server works it out: the share not evaluated, rounded down. */
function neverEvaluated(counts) {
  const total = STAGE_LABELS.reduce((sum, label) => sum + counts[label], 0);
  return `${Math.floor(((total - counts.evaluated) * 100) / total)}%`;
}

/** The `li` of a review's entry list whose own title (not a nested link) is `title`. */
async function entryItem(list, title) {
  const items = list.locator(':scope > li');
  const titles = (await items.locator(':scope > strong').allInnerTexts()).map((t) => t.trim());
  const index = titles.indexOf(title);
  expect(index, `an entry titled ${title} among ${titles.join('; ')}`).toBeGreaterThanOrEqual(0);
  return items.nth(index);
}

/** The learning item page's stage, as its "Now:" tag shows it. */
function currentStage(page) {
  return page.locator('#current-stage .govuk-tag');
}

/** The form on the learning item page whose submit button is `name`. */
function formWithButton(page, name) {
  return page.locator('main form', {
    has: page.getByRole('button', { name, exact: true }),
  });
}

/** The library's or the public page's results: title, whether restricted, and the link. */
async function results(page) {
  const items = page.locator('#results > li');
  const found = [];
  for (const item of await items.all()) {
    const title = (await item.locator('h3').innerText()).trim();
    const link = item.locator('h3 a');
    found.push({
      title,
      href: (await link.count()) > 0 ? await link.getAttribute('href') : null,
      restricted:
        (await item.locator('.govuk-tag', { hasText: /^\s*Restricted\s*$/ }).count()) > 0,
    });
  }
  const count = (await page.locator('#result-count').innerText()).trim();
  expect(count, 'the result count').toMatch(new RegExp(`^${found.length} results?\\b`));
  return found;
}

/** Search the library (the page must show its form) and return the response. */
async function searchLibrary(page, words) {
  const form = page.locator('main form[action="/library"]');
  await form.getByLabel('Search for', { exact: true }).fill(words);
  return press(form, page, 'Search');
}

test.describe.serial('a lesson from a finding, around the learning loop, into the library', () => {
  // Shared by the steps.
  const suffix = Date.now().toString(36).toUpperCase();
  const audience = `Adult social care and police front-line teams (${suffix})`;
  const embeddedEvidence =
    `The information sharing procedure now names who calls the agencies together (${suffix}).`;
  const impactEvidence =
    `Survey of 40 practitioners three months on: 31 called or asked for a meeting (${suffix}).`;
  let before;
  let today;
  let reviewPath;
  let itemPath;
  let title;
  let lesson;
  let themes;

  test('the business manager reads the loop measures and records a finding as a learning item', async ({
    page,
  }) => {
    const dashboard = await page.goto('/');
    await expectShellPage(page, dashboard, { heading: 'Dashboard' });
    today = serverToday(dashboard);
    await expect(page.getByRole('heading', { name: 'The learning loop' })).toBeVisible();
    before = await loopMeasures(page);
    expect(
      STAGE_LABELS.every((label) => before.counts[label] > 0),
      `the demo has learning in every stage: ${JSON.stringify(before.counts)}`,
    ).toBe(true);
    expect(before.never).toBe(neverEvaluated(before.counts));

    // The demo SAR, from the reviews list.
    const list = await followLink(page, menuLink(page, 'Reviews'));
    await expectShellPage(page, list, { heading: 'Reviews' });
    const row = page.locator('#reviews tbody tr', {
      has: page.getByRole('cell', { name: DEMO_CASE, exact: true }),
    });
    await expect(row).toHaveCount(1);
    const reviewLink = row.getByRole('link');
    const reviewTitle = (await reviewLink.innerText()).trim();
    const overview = await followLink(page, reviewLink);
    await expectShellPage(page, overview, { heading: reviewTitle });
    reviewPath = new URL(page.url()).pathname;
    expect(reviewPath).toMatch(/^\/reviews\/[0-9a-f-]{36}$/);
    const content = await followLink(
      page,
      page
        .getByRole('navigation', { name: 'Parts of this review' })
        .getByRole('link', { name: 'Findings and recommendations', exact: true }),
    );
    await expectShellPage(page, content, { heading: reviewTitle });
    expect(new URL(page.url()).pathname).toBe(`${reviewPath}/content`);

    // The finding, with the earlier learning like it behind a closed details element.
    const findings = page.getByRole('list', { name: 'Findings', exact: true });
    const finding = await entryItem(findings, FINDING);
    lesson = (await finding.locator(':scope > p.govuk-body').innerText()).trim();
    expect(lesson, 'the finding has a text').not.toBe('');
    themes = (await finding.locator(':scope > p .govuk-tag').allInnerTexts()).map((t) => t.trim());
    expect(themes.length, 'the finding has themes').toBeGreaterThan(0);

    const details = finding.locator('details.govuk-details');
    await expect(details).toHaveCount(1);
    const summary = details.locator('summary');
    await expect(summary).toHaveText(
      new RegExp(
        `^\\s*Earlier learning like this \\(\\d+\\)\\s*:\\s*${escapeRegExp(FINDING)}\\s*$`,
      ),
    );
    const shown = Number(/\((\d+)\)/.exec(await summary.innerText())[1]);
    expect(shown, 'some earlier learning is like the finding').toBeGreaterThan(0);
    const earlier = details.locator('.govuk-details__text a');
    await expect(details).not.toHaveAttribute('open', /.*/);
    await expect(earlier.first()).toBeHidden();
    await summary.click();
    await expect(details).toHaveAttribute('open', /.*/);
    await expect(earlier).toHaveCount(shown);
    for (const link of await earlier.all()) {
      await expect(link).toBeVisible();
      await expect(link).toHaveAttribute(
        'href',
        /^\/(learning-items\/[0-9a-f-]{36}|library\?q=\S+)$/,
      );
    }
    // Open, the page is still accessible.
    await expectNoAxeViolations(page);

    // Recorded as a learning item: the form comes filled in from the finding.
    const record = finding.getByRole('link', {
      name: new RegExp(`^Record this as a learning item\\s*: ${escapeRegExp(FINDING)}$`),
    });
    const recordHref = await record.getAttribute('href');
    expect(recordHref).toMatch(/^\/learning-items\/new\?entry=[0-9a-f-]{36}$/);
    const entryId = recordHref.split('=').pop();
    const form = await followLink(page, record);
    await expectShellPage(page, form, { heading: 'New learning item' });
    const titleField = page.getByLabel('Title', { exact: true });
    const lessonField = page.getByLabel('The lesson, in plain words');
    const sourceField = page.getByLabel('Where it comes from');
    const checkedThemes = page.locator('#themes input[type="checkbox"]:checked');
    const expectPrefilled = async () => {
      await expect(titleField).toHaveValue(FINDING);
      await expect(sourceField.locator('option:checked')).toHaveText('A review finding');
      await expect(page.locator('input[type="hidden"][name="source_entry_id"]')).toHaveValue(
        entryId,
      );
      await expect(checkedThemes).toHaveCount(themes.length);
      for (const theme of themes) {
        await expect(page.getByLabel(theme, { exact: true })).toBeChecked();
      }
      // The case's agencies, the police among them.
      await expect(page.getByLabel(POLICE, { exact: true })).toBeChecked();
      // Publishing is its own page, with the check and the second factor: no tick box here.
      await expect(page.getByLabel(/^Publish it/)).toHaveCount(0);
    };
    await expectPrefilled();
    await expect(lessonField).toHaveValue(lesson);

    // Without the lesson: refused, naming it, keeping the rest.
    await lessonField.fill('');
    const refused = await press(page, page, 'Record the learning');
    await expectShellPage(page, refused, { status: 422, heading: 'New learning item' });
    await expectErrorSummary(page, ['Enter the lesson']);
    await expect(page.locator('.govuk-error-summary a[href="#lesson"]')).toBeVisible();
    await expect(page.locator('#lesson-error')).toContainText('Enter the lesson');
    await expectPrefilled();
    await expect(lessonField).toHaveValue('');

    await lessonField.fill(lesson);
    const created = await press(page, page, 'Record the learning');
    await expectShellPage(page, created, { heading: FINDING });
    await expect(page).toHaveURL(/\/learning-items\/[0-9a-f-]{36}$/);
    itemPath = new URL(page.url()).pathname;
    title = FINDING;
    await expect(page.locator('main .govuk-caption-l')).toHaveText('A review finding · restricted');
    await expect(page.locator('main .govuk-body-l')).toHaveText(lesson);
    await expect(summaryValue(page.locator('main'), 'Themes')).toHaveText(themes.join(', '));
    await expect(page.getByRole('link', { name: 'The review it came from' })).toHaveAttribute(
      'href',
      `${reviewPath}/content`,
    );
    await expect(currentStage(page)).toHaveText('Identified');
    await expect(page.locator('#loop > li')).toHaveText([
      `Identified: ${shownDate(today)}`,
      'Disseminated: not yet',
      'Embedded: not yet',
      'Evaluated: not yet',
    ]);
    await expect(page.locator('main')).toContainText('Not disseminated yet.');
    await expect(page.locator('main')).toContainText('No evidence recorded yet.');
    // The library holds earlier learning like it.
    await expect(page.getByRole('heading', { name: 'Earlier learning like this' })).toBeVisible();
    await expect(page.locator('#similar > li').first()).toBeVisible();
    for (const href of await page.locator('#similar > li > a').evaluateAll((links) =>
      links.map((link) => link.getAttribute('href')),
    )) {
      expect(href, 'an item is not like itself').not.toBe(itemPath);
    }
  });

  test('the business manager cannot embed it before it is disseminated, then disseminates it', async ({
    page,
  }) => {
    const opened = await page.goto(itemPath);
    await expectShellPage(page, opened, { heading: title });

    // Evidence that it is embedded, first: refused, whatever the evidence.
    const embedded = formWithButton(page, 'Record evidence it is embedded');
    await embedded
      .getByLabel('Kind of evidence')
      .selectOption({ label: 'Policy or procedure changed' });
    await embedded.getByLabel('The evidence', { exact: true }).fill(embeddedEvidence);
    const early = await press(embedded, page, 'Record evidence it is embedded');
    await expectShellPage(page, early, { status: 422, heading: title });
    await expectErrorSummary(page, [
      'Record how the learning was disseminated before it can be embedded',
    ]);
    await expect(page.locator('.govuk-error-summary a[href="#embedded_stage"]')).toBeVisible();
    await expect(page.locator('#embedded_stage')).toContainText(
      'Record how the learning was disseminated before it can be embedded',
    );
    await expect(currentStage(page)).toHaveText('Identified');
    await expect(page.locator('#evidence')).toHaveCount(0);

    // A dissemination without its audience: refused, naming it, keeping the rest.
    const dissemination = formWithButton(page, 'Record the dissemination');
    await dissemination.getByLabel('Channel').selectOption({ label: SEVEN_MINUTE_BRIEFING });
    const held = dissemination.getByLabel('Date (YYYY-MM-DD)');
    await expect(held, 'the date is today unless changed').toHaveValue(today);
    await held.fill(today);
    await dissemination.getByLabel('How many people it reached').fill('40');
    await dissemination.getByLabel(POLICE, { exact: true }).check();
    await dissemination.getByLabel(ADULT_SOCIAL_CARE, { exact: true }).check();
    const noAudience = await press(dissemination, page, 'Record the dissemination');
    await expectShellPage(page, noAudience, { status: 422, heading: title });
    await expectErrorSummary(page, ['Enter the audience']);
    await expect(page.locator('.govuk-error-summary a[href="#audience"]')).toBeVisible();
    await expect(page.locator('#audience-error')).toContainText('Enter the audience');
    await expect(dissemination.getByLabel('Channel').locator('option:checked')).toHaveText(
      SEVEN_MINUTE_BRIEFING,
    );
    await expect(dissemination.getByLabel('How many people it reached')).toHaveValue('40');
    await expect(dissemination.getByLabel(POLICE, { exact: true })).toBeChecked();
    await expect(dissemination.getByLabel(ADULT_SOCIAL_CARE, { exact: true })).toBeChecked();
    await expect(currentStage(page)).toHaveText('Identified');
    await expect(page.locator('main')).toContainText('Not disseminated yet.');

    await dissemination.getByLabel('Audience', { exact: true }).fill(audience);
    const recorded = await press(dissemination, page, 'Record the dissemination');
    await expectShellPage(page, recorded, { heading: title });
    expect(new URL(page.url()).pathname).toBe(itemPath);
    await expect(currentStage(page)).toHaveText('Disseminated');
    await expect(page.locator('#loop > li').nth(1)).toHaveText(
      `Disseminated: ${shownDate(today)}`,
    );
    const card = page.locator('main .govuk-summary-card');
    await expect(card).toHaveCount(1);
    await expect(card.locator('.govuk-summary-card__title')).toHaveText(
      `${SEVEN_MINUTE_BRIEFING}, ${shownDate(today)}`,
    );
    await expect(card).toContainText(`${audience}: 40 people.`);
    const reached = card.locator('li');
    await expect(reached).toHaveCount(2);
    for (const agency of [POLICE, ADULT_SOCIAL_CARE]) {
      const row = reached.filter({ hasText: agency });
      await expect(row).toContainText(`${agency}: not yet confirmed`);
    }
  });

  test('the police lead confirms the learning was passed on in the police', async ({
    browser,
    baseURL,
  }) => {
    await asPerson(browser, baseURL, PEOPLE.policeLead, async (page) => {
      const opened = await page.goto(itemPath);
      await expectShellPage(page, opened, { heading: title });
      // An agency lead does not record disseminations or evidence.
      await expect(page.getByRole('button', { name: 'Record the dissemination' })).toHaveCount(0);
      await expect(
        page.getByRole('button', { name: 'Record evidence it is embedded' }),
      ).toHaveCount(0);

      const card = page.locator('main .govuk-summary-card');
      const police = card.locator('li', { hasText: POLICE });
      const others = card.locator('li', { hasText: ADULT_SOCIAL_CARE });
      // Only for their own agency.
      await expect(card.getByRole('button', { name: /^Confirm passed on/ })).toHaveCount(1);
      await expect(others.getByRole('button')).toHaveCount(0);
      const confirm = police.getByRole('button', {
        name: new RegExp(`^Confirm passed on\\s+in ${escapeRegExp(POLICE)}$`),
      });
      await expect(confirm).toBeVisible();
      const confirmed = await navigationResponse(page, () => confirm.click());
      await expectShellPage(page, confirmed, { heading: title });
      expect(new URL(page.url()).pathname).toBe(itemPath);
      await expect(page.locator('main .govuk-summary-card li', { hasText: POLICE })).toHaveText(
        `${POLICE}: passed on, confirmed ${shownDate(today)}`,
      );
      await expect(
        page.locator('main .govuk-summary-card li', { hasText: ADULT_SOCIAL_CARE }),
      ).toHaveText(`${ADULT_SOCIAL_CARE}: not yet confirmed`);
      await expect(page.getByRole('button', { name: /^Confirm passed on/ })).toHaveCount(0);
      // Confirming is not disseminating again: the stage is as it was.
      await expect(currentStage(page)).toHaveText('Disseminated');
    });
  });

  test('the business manager records it embedded and, with the Kirkpatrick level, evaluated; then reads the briefing', async ({
    page,
  }) => {
    const opened = await page.goto(itemPath);
    await expectShellPage(page, opened, { heading: title });
    await expect(page.locator('main .govuk-summary-card li', { hasText: POLICE })).toHaveText(
      `${POLICE}: passed on, confirmed ${shownDate(today)}`,
    );

    const embedded = formWithButton(page, 'Record evidence it is embedded');
    await embedded
      .getByLabel('Kind of evidence')
      .selectOption({ label: 'Policy or procedure changed' });
    await embedded.getByLabel('The evidence', { exact: true }).fill(embeddedEvidence);
    await expect(embedded.getByLabel('Date (YYYY-MM-DD)')).toHaveValue(today);
    const isEmbedded = await press(embedded, page, 'Record evidence it is embedded');
    await expectShellPage(page, isEmbedded, { heading: title });
    expect(new URL(page.url()).pathname).toBe(itemPath);
    await expect(currentStage(page)).toHaveText('Embedded');
    await expect(page.locator('#loop > li').nth(2)).toHaveText(`Embedded: ${shownDate(today)}`);
    const evidence = page.locator('#evidence tbody tr');
    await expect(evidence).toHaveCount(1);
    await expect(evidence.first().locator('td')).toHaveText([
      'Embedded',
      `Policy or procedure changed: ${embeddedEvidence}`,
      shownDate(today),
    ]);

    // A training evaluation without its level: refused, naming the level.
    const impact = formWithButton(page, 'Record evidence of impact');
    const level = impact.getByLabel(/^Kirkpatrick level/);
    await impact
      .getByLabel('Kind of evidence')
      .selectOption({ label: 'Training evaluation (Kirkpatrick)' });
    await impact.getByLabel('The evidence', { exact: true }).fill(impactEvidence);
    await expect(level.locator('option:checked')).toHaveText('Not a training evaluation');
    const noLevel = await press(impact, page, 'Record evidence of impact');
    await expectShellPage(page, noLevel, { status: 422, heading: title });
    await expectErrorSummary(page, ['Choose the Kirkpatrick level the evaluation reached']);
    await expect(
      page.locator('.govuk-error-summary a[href="#evaluated_kirkpatrick_level"]'),
    ).toBeVisible();
    await expect(page.locator('#evaluated_kirkpatrick_level-error')).toContainText(
      'Choose the Kirkpatrick level the evaluation reached',
    );
    await expect(impact.getByLabel('Kind of evidence').locator('option:checked')).toHaveText(
      'Training evaluation (Kirkpatrick)',
    );
    await expect(impact.getByLabel('The evidence', { exact: true })).toHaveValue(impactEvidence);
    await expect(currentStage(page)).toHaveText('Embedded');

    await level.selectOption({ label: '3' });
    const evaluated = await press(impact, page, 'Record evidence of impact');
    await expectShellPage(page, evaluated, { heading: title });
    expect(new URL(page.url()).pathname).toBe(itemPath);
    await expect(currentStage(page)).toHaveText('Evaluated');
    await expect(page.locator('#loop > li')).toHaveText([
      `Identified: ${shownDate(today)}`,
      `Disseminated: ${shownDate(today)}`,
      `Embedded: ${shownDate(today)}`,
      `Evaluated: ${shownDate(today)}`,
    ]);
    await expect(evidence).toHaveCount(2);
    await expect(evidence.nth(1).locator('td')).toHaveText([
      'Evaluated',
      `Training evaluation (Kirkpatrick) (Kirkpatrick level 3): ${impactEvidence}`,
      shownDate(today),
    ]);

    // The 7-minute briefing: six numbered parts, and a Word document to edit.
    const briefing = await followLink(
      page,
      page.getByRole('link', { name: '7-minute briefing', exact: true }),
    );
    await expectShellPage(page, briefing, { heading: title });
    expect(new URL(page.url()).pathname).toBe(`${itemPath}/briefing`);
    await expect(page.locator('main .govuk-caption-l')).toHaveText('7-minute briefing');
    await expect(page.locator('main section h2')).toHaveText([
      '1. The case in brief',
      '2. Why it matters',
      '3. What we learned',
      '4. What to do differently',
      '5. Questions for supervision',
      '6. Where to find more',
    ]);
    const sections = page.locator('main section');
    await expect(sections).toHaveCount(6);
    for (const section of await sections.all()) {
      await expect(section.locator('p, li').first()).not.toBeEmpty();
    }
    await expect(page.getByRole('region', { name: '3. What we learned' })).toContainText(lesson);
    await expect(page.getByRole('link', { name: 'Back', exact: true })).toHaveAttribute(
      'href',
      itemPath,
    );

    const docx = page.getByRole('link', { name: 'Download as a Word document (.docx) to edit' });
    await expect(docx).toHaveAttribute('href', `${itemPath}/briefing.docx`);
    // A download asks for the authenticator code again first, then comes back here.
    await stepUp(page, PEOPLE.businessManager, `${itemPath}/briefing`, {
      beforeSubmit: () => expectNoAxeViolations(page),
    });
    const downloading = page.waitForEvent('download');
    await docx.click();
    const download = await downloading;
    expect(download.suggestedFilename()).toMatch(/\.docx$/);
    expect(await download.failure()).toBeNull();
    const file = await download.path();
    expect((await stat(file)).size, 'the .docx file has content').toBeGreaterThan(0);
    // A .docx is a zip archive.
    expect((await readFile(file)).subarray(0, 2).toString('latin1')).toBe('PK');
    // Still on the briefing: a download is not a navigation.
    expect(new URL(page.url()).pathname).toBe(`${itemPath}/briefing`);
  });

  test('the loop measures count the item as evaluated, and the list filtered by stage shows it', async ({
    page,
  }) => {
    const dashboard = await page.goto('/');
    await expectShellPage(page, dashboard, { heading: 'Dashboard' });
    const after = await loopMeasures(page);
    // The new item went from identified to evaluated: only the evaluated count moved.
    expect(after.counts).toEqual({ ...before.counts, evaluated: before.counts.evaluated + 1 });
    expect(after.never).toBe(neverEvaluated(after.counts));

    // The learning list shows the same measures.
    const list = await followLink(page, menuLink(page, 'Learning'));
    await expectShellPage(page, list, { heading: 'Learning' });
    expect(await loopMeasures(page)).toEqual(after);

    await page.getByLabel('Stage', { exact: true }).selectOption({ label: 'Evaluated' });
    const filtered = await press(page.locator('main'), page, 'Filter');
    await expectShellPage(page, filtered, { heading: 'Learning' });
    expect(new URL(page.url()).searchParams.get('stage')).toBe('evaluated');
    await expect(page.getByLabel('Stage', { exact: true })).toHaveValue('evaluated');
    const rows = page.locator('#learning-items tbody tr');
    await expect(rows).toHaveCount(after.counts.evaluated);
    for (const stage of await rows.locator('td:nth-child(4)').allInnerTexts()) {
      expect(stage.trim()).toBe('Evaluated');
    }
    const row = rows.filter({ has: page.locator(`a[href="${itemPath}"]`) });
    await expect(row).toHaveCount(1);
    await expect(row.getByRole('link')).toHaveText(title);
    await expect(row.locator('td').nth(1)).toHaveText('A review finding');
    await expect(row.locator('td').nth(2)).toHaveText(shownDate(today));
    await expect(row.locator('.govuk-tag')).toHaveText('Restricted');
  });

  test('the library finds the item, survives search operators, shows themes by year and hides restricted learning', async ({
    page,
    browser,
    baseURL,
  }) => {
    test.slow();
    const list = await page.goto('/learning-items');
    await expectShellPage(page, list, { heading: 'Learning' });
    const library = await followLink(page, page.getByRole('link', { name: 'Search the library' }));
    await expectShellPage(page, library, { heading: 'Learning library' });
    await expect(page.locator('#results')).toHaveCount(0);

    // A word of the item's lesson (not of its title) finds it, marked restricted.
    const titleWords = title.toLowerCase().split(/[^a-z]+/);
    const word = lesson
      .split(/[^A-Za-z]+/)
      .filter((w) => w.length >= 5 && !titleWords.includes(w.toLowerCase()))
      .sort((a, b) => b.length - a.length)[0];
    expect(word, `a word of the lesson: ${lesson}`).toBeTruthy();
    const found = await searchLibrary(page, word);
    await expectShellPage(page, found, { heading: 'Learning library' });
    expect(new URL(page.url()).searchParams.get('q')).toBe(word);
    await expect(page.getByLabel('Search for', { exact: true })).toHaveValue(word);
    const byWord = await results(page);
    const mine = byWord.filter((hit) => hit.href === itemPath);
    expect(mine, `the item among the results for "${word}"`).toHaveLength(1);
    expect(mine[0]).toEqual({ title, href: itemPath, restricted: true });
    const opened = await followLink(
      page,
      page.locator('#results').locator(`a[href="${itemPath}"]`),
    );
    await expectShellPage(page, opened, { heading: title });
    await expect(currentStage(page)).toHaveText('Evaluated');

    // Search operators are words like any other: an answer, never a server error.
    const back = await page.goto('/library');
    await expectShellPage(page, back, { heading: 'Learning library' });
    const operators = '"unclosed (NEAR* -x';
    const odd = await searchLibrary(page, operators);
    expect([200, 400], `the status for ${operators}`).toContain(odd.status());
    await expectShellPage(page, odd, { status: odd.status(), heading: 'Learning library' });
    await expect(page.getByLabel('Search for', { exact: true })).toHaveValue(operators);
    if (odd.status() === 400) {
      await expect(page.locator('.govuk-error-summary')).toBeVisible();
      await expect(page.locator('#q-error')).toBeVisible();
    } else {
      await results(page);
    }
    // Nothing but operators: no words to search for, and the page says so.
    const onlyOperators = '"( NEAR* - )" OR';
    const empty = await searchLibrary(page, onlyOperators);
    await expectShellPage(page, empty, { status: 400, heading: 'Learning library' });
    await expectErrorSummary(page, ['Enter one or more words to search for']);
    await expect(page.locator('.govuk-error-summary a[href="#q"]')).toBeVisible();
    await expect(page.locator('#q-error')).toContainText('Enter one or more words to search for');
    await expect(page.getByLabel('Search for', { exact: true })).toHaveValue(onlyOperators);

    // Themes by year, and a theme's learning from there.
    const themesPage = await followLink(
      page,
      page.locator('main').getByRole('link', { name: 'Themes by year' }),
    );
    await expectShellPage(page, themesPage, { heading: 'Themes by year' });
    const table = page.locator('#themes-by-year');
    const headers = (await table.locator('thead th').allInnerTexts()).map((t) => t.trim());
    expect(headers[0]).toBe('Theme');
    expect(headers.at(-1)).toBe('All');
    expect(headers.length, 'at least one year').toBeGreaterThan(2);
    for (const year of headers.slice(1, -1)) {
      expect(year).toMatch(/^\d{4}$/);
    }
    const themeRow = table.locator('tbody tr', {
      has: page.getByRole('rowheader', { name: themes[0], exact: true }),
    });
    await expect(themeRow).toHaveCount(1);
    const numbers = (await themeRow.locator('td').allInnerTexts()).map((n) => Number(n.trim()));
    expect(numbers.length).toBe(headers.length - 1);
    const total = numbers.pop();
    expect(numbers.reduce((sum, n) => sum + n, 0), `the ${themes[0]} row adds up`).toBe(total);
    expect(total).toBeGreaterThan(0);
    const byTheme = await followLink(page, themeRow.getByRole('link', { name: themes[0] }));
    await expectShellPage(page, byTheme, { heading: 'Learning library' });
    await expect(page.getByLabel('Theme', { exact: true }).locator('option:checked')).toHaveText(
      themes[0],
    );
    expect((await results(page)).length).toBeGreaterThan(0);

    // What the business manager finds for "information", restricted and not.
    const everything = await page.goto('/library');
    await expectShellPage(page, everything, { heading: 'Learning library' });
    const searched = await searchLibrary(page, 'information');
    await expectShellPage(page, searched, { heading: 'Learning library' });
    const all = await results(page);
    const publicTitles = all.filter((hit) => !hit.restricted).map((hit) => hit.title);
    const restrictedOnly = new Set(
      all
        .filter((hit) => hit.restricted && !publicTitles.includes(hit.title))
        .map((hit) => hit.title),
    );
    expect(
      [...restrictedOnly],
      'the business manager sees restricted learning about information',
    ).toContain(RESTRICTED_DEMO_ITEM);
    expect(publicTitles.length, 'and published learning about it').toBeGreaterThan(0);
    const complete = all.length < LIBRARY_LIMIT;

    // A practitioner finds only the published learning.
    await asPerson(browser, baseURL, PEOPLE.practitioner, async (practitioner) => {
      const opened = await practitioner.goto('/library');
      await expectShellPage(practitioner, opened, { heading: 'Learning library' });
      const response = await searchLibrary(practitioner, 'information');
      await expectShellPage(practitioner, response, { heading: 'Learning library' });
      const hits = await results(practitioner);
      expect(hits.length, 'the practitioner finds published learning').toBeGreaterThan(0);
      await expect(
        practitioner.locator('#results .govuk-tag', { hasText: 'Restricted' }),
      ).toHaveCount(0);
      for (const hit of hits) {
        expect(hit.restricted, `${hit.title} is not restricted`).toBe(false);
        expect(restrictedOnly.has(hit.title), `${hit.title} is not restricted learning`).toBe(
          false,
        );
      }
      if (complete) {
        expect(hits.map((hit) => hit.title).sort()).toEqual([...publicTitles].sort());
      }

      // Nor the new, restricted item: not by its lesson, not by its address.
      const byLesson = await searchLibrary(practitioner, word);
      await expectShellPage(practitioner, byLesson, { heading: 'Learning library' });
      expect((await results(practitioner)).map((hit) => hit.href)).not.toContain(itemPath);
      const hidden = await practitioner.goto(itemPath);
      await expectShellPage(practitioner, hidden, { status: 404, heading: 'Page not found' });
    });

    // An anonymous visitor searches the published learning.
    const context = await newAnonymousContext(browser, baseURL);
    try {
      const visitor = await context.newPage();
      const learning = await visitor.goto('/learning');
      await expectShellPage(visitor, learning, { heading: 'Published reviews and learning' });
      await expect(visitor.locator('#results')).toHaveCount(0);
      const form = visitor.locator('main form[action="/learning"]');
      await form.getByLabel('Search published learning').fill('information');
      const response = await press(form, visitor, 'Search');
      await expectShellPage(visitor, response, { heading: 'Published reviews and learning' });
      expect(new URL(visitor.url()).pathname).toBe('/learning');
      expect(new URL(visitor.url()).searchParams.get('q')).toBe('information');
      await expect(visitor.locator('#result-count')).toHaveText(/ for “information”$/);
      const hits = await results(visitor);
      expect(hits.length, 'the visitor finds published learning').toBeGreaterThan(0);
      await expect(visitor.locator('#results')).not.toContainText('Restricted');
      for (const hit of hits) {
        expect(hit.href, 'public results link nowhere inside the service').toBeNull();
        expect(restrictedOnly.has(hit.title), `${hit.title} is not restricted learning`).toBe(
          false,
        );
        if (complete) {
          expect(publicTitles, `${hit.title} is published learning`).toContain(hit.title);
        }
      }
      if (complete && publicTitles.length <= PUBLIC_LIMIT) {
        expect(hits.map((hit) => hit.title).sort()).toEqual([...publicTitles].sort());
      }

      // The same address, typed in.
      const direct = await visitor.goto('/learning?q=information');
      await expectShellPage(visitor, direct, { heading: 'Published reviews and learning' });
      expect((await results(visitor)).map((hit) => hit.title)).toEqual(
        hits.map((hit) => hit.title),
      );
    } finally {
      await context.close();
    }
  });
});
