// Checks and navigation helpers shared by the page tests.
import { expect } from '@playwright/test';
import { expectNoAxeViolations } from './axe.mjs';

/** The demo partnership team's name, shown in the page header. */
export const TEAM_NAME = 'Fernbridge Safeguarding Partnerships';

/**
 * Checks every page in the shell shares: the HTTP status, exactly one h1 (with
 * the text `heading` if given), the team name in the header, and no axe
 * violations.
 */
export async function expectShellPage(page, response, { status = 200, heading } = {}) {
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

/**
 * Run `action` (a click or a form submission) and return the main-frame
 * navigation response it causes, once the new page has loaded. After a
 * redirect this is the final page's response.
 */
export async function navigationResponse(page, action) {
  const navigation = page.waitForResponse(
    (response) =>
      response.request().isNavigationRequest() &&
      response.frame() === page.mainFrame() &&
      !(response.status() >= 300 && response.status() < 400),
  );
  await action();
  const response = await navigation;
  await page.waitForLoadState('load');
  return response;
}

/** Click a link or button and return the navigation response it causes. */
export function followLink(page, locator) {
  return navigationResponse(page, () => locator.click());
}

/** Text of the first link in the main content's table, and the link. */
export async function firstTableLink(page) {
  const link = page.locator('main table tbody a').first();
  await expect(link).toBeVisible();
  const name = (await link.innerText()).trim();
  expect(name, 'the first link in the table has text').not.toBe('');
  return { link, name };
}

/** The GOV.UK error summary, checked to list exactly `messages` (in order). */
export async function expectErrorSummary(page, messages) {
  const summary = page.locator('.govuk-error-summary');
  await expect(summary).toBeVisible();
  await expect(summary.locator('.govuk-error-summary__title')).toHaveText('There is a problem');
  await expect(summary.locator('.govuk-error-summary__list li')).toHaveText(messages);
}
