// Accessibility check shared by the browser tests.
//
// @axe-core/playwright injects axe-core through the DevTools protocol, so it
// works on pages served with a strict Content-Security-Policy (no inline
// scripts) without weakening the policy.
import AxeBuilder from '@axe-core/playwright';
import { expect } from '@playwright/test';

export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

/**
 * One readable line per failing element: rule id, impact, help text and the
 * element's selector(s).
 */
export function describeViolations(violations) {
  const lines = [];
  for (const violation of violations) {
    for (const node of violation.nodes) {
      const target = node.target
        .map((selector) => (Array.isArray(selector) ? selector.join(' >> ') : selector))
        .join(', ');
      lines.push(`${violation.id} [${violation.impact ?? 'unknown'}] ${violation.help}: ${target}`);
    }
  }
  return lines;
}

/**
 * Run axe on the current page (WCAG 2.0/2.1/2.2 A and AA rules) and fail the
 * test with a list of the violations if there are any.
 *
 * Options: `exclude` (CSS selectors to leave out) and `disableRules` (axe rule
 * ids); use them sparingly and say why at the call site.
 */
export async function expectNoAxeViolations(page, { exclude = [], disableRules = [] } = {}) {
  let builder = new AxeBuilder({ page }).withTags(AXE_TAGS);
  for (const selector of exclude) {
    builder = builder.exclude(selector);
  }
  if (disableRules.length > 0) {
    builder = builder.disableRules(disableRules);
  }
  const results = await builder.analyze();
  const found = describeViolations(results.violations);
  expect(
    found,
    `axe found ${results.violations.length} accessibility rule violation(s) on ${page.url()}:\n` +
      found.map((line) => `  - ${line}`).join('\n'),
  ).toEqual([]);
  return results;
}
