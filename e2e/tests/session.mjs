// Signing in from the browser tests: the demo people, an RFC 6238 TOTP
// generator, and helpers that sign a page in or hand a test a signed-in
// browser context.
//
// The server accepts each TOTP code once per person per 30-second step (replay
// protection) and uses the real clock in e2e, so this module remembers the last
// step it used for each email address and, when a second code is needed in the
// same step, waits for the next step. To keep the suite fast, each person signs
// in once per worker: `test.use({ signedInAs: EMAIL })` reuses that session.
import { createHmac } from 'node:crypto';
import { test as base, expect } from '@playwright/test';

/** Every demo person's password. */
export const DEMO_PASSWORD = 'fernbridge demo only';
/** Every demo person's confirmed TOTP secret (base32). */
export const DEMO_TOTP_SECRET = 'FERNBRIDGEDEMOTOTPSECRET2345AAAA';

/** The demo people, by role. */
export const PEOPLE = {
  businessManager: 'business.manager@fernbridge.example',
  admin: 'admin@fernbridge.example',
  policeLead: 'police.lead@fernbridge.example',
  practitioner: 'practitioner@fernbridge.example',
  reviewer: 'reviewer@fernbridge.example',
  executive: 'executive@fernbridge.example',
};

const STEP_SECONDS = 30;
const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** Decode RFC 4648 base32 (case-insensitive; spaces, hyphens and padding ignored). */
export function base32Decode(text) {
  const clean = text.replace(/[\s=-]/g, '').toUpperCase();
  const bytes = [];
  let buffer = 0;
  let bits = 0;
  for (const character of clean) {
    const index = BASE32_ALPHABET.indexOf(character);
    if (index < 0) {
      throw new Error(`not a base32 character: ${JSON.stringify(character)}`);
    }
    buffer = (buffer << 5) | index;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((buffer >>> bits) & 0xff);
      buffer &= (1 << bits) - 1;
    }
  }
  return Buffer.from(bytes);
}

/** The 30-second TOTP step that `date` falls in. */
export function stepAt(date = new Date()) {
  return Math.floor(date.getTime() / 1000 / STEP_SECONDS);
}

/** RFC 4226 HOTP: HMAC-SHA1 of the 8-byte big-endian counter, dynamic truncation, 6 digits. */
export function hotp(key, counter) {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', key).update(message).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 1_000_000).padStart(6, '0');
}

/** RFC 6238 TOTP (SHA-1, 6 digits, 30-second step) for a base32 secret at `date`. */
export function totp(secretBase32, date = new Date()) {
  return hotp(base32Decode(secretBase32), stepAt(date));
}

/** The last TOTP step used for each email address, in this worker. */
const lastStepUsed = new Map();

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Give the running test (if any) `ms` more time, for a wait it did not choose. */
function extendTimeout(ms) {
  try {
    const info = base.info();
    if (info.timeout > 0) {
      info.setTimeout(info.timeout + ms);
    }
  } catch {
    // Not inside a test: nothing to extend.
  }
}

/** The key `lastStepUsed` keeps a person's steps under, for a clock `offsetMs` ahead. */
function stepKey(email, offsetMs) {
  return offsetMs ? `${email} at +${offsetMs}ms` : email;
}

/**
 * A TOTP code for `email` that has not been used yet: if this worker already
 * used the current step for that person, wait until the next step begins.
 * Records the step as used.
 *
 * `offsetMs` is how far the server's clock is ahead of the real one (the e2e
 * server's clock can be moved by whole days): the code is the one for that
 * time. Steps used at different offsets are remembered apart.
 */
export async function unusedCode(email, secretBase32, { offsetMs = 0 } = {}) {
  const key = stepKey(email, offsetMs);
  const last = lastStepUsed.get(key);
  if (last !== undefined && stepAt(new Date(Date.now() + offsetMs)) <= last) {
    // A little past the boundary, so the server's clock is in the new step too.
    const wait = (last + 1) * STEP_SECONDS * 1000 - (Date.now() + offsetMs) + 250;
    extendTimeout(wait);
    await sleep(wait);
  }
  const now = new Date(Date.now() + offsetMs);
  lastStepUsed.set(key, stepAt(now));
  return totp(secretBase32, now);
}

/** Mark the current step as used for `email` (e.g. the server refused a replayed code). */
function markCurrentStepUsed(email, offsetMs = 0) {
  const key = stepKey(email, offsetMs);
  const current = stepAt(new Date(Date.now() + offsetMs));
  lastStepUsed.set(key, Math.max(lastStepUsed.get(key) ?? -Infinity, current));
}

/**
 * Fill in and submit the sign-in form (the page must not be signed in).
 * Leaves the page wherever the server sends it.
 */
export async function submitPassword(page, email, password = DEMO_PASSWORD) {
  await page.goto('/sign-in');
  await page.locator('#email').fill(email);
  await page.locator('#password').fill(password);
  const posted = page.waitForResponse(
    (response) =>
      response.request().method() === 'POST' && new URL(response.url()).pathname === '/sign-in',
  );
  await page.getByRole('button', { name: 'Continue', exact: true }).click();
  const response = await posted;
  // A 403 here means the server refused the browser's own form (CSRF or
  // same-origin check): say what the browser sent, which is what to look at.
  if (response.status() === 403) {
    const headers = await response.request().allHeaders();
    throw new Error(
      `the server refused the sign-in form (403) for ${email}; the browser sent ` +
        `Origin: ${headers.origin ?? '(none)'}, ` +
        `Sec-Fetch-Site: ${headers['sec-fetch-site'] ?? '(none)'}, ` +
        `Referer: ${headers.referer ?? '(none)'}, ` +
        `Cookie: ${headers.cookie ? 'yes' : '(none)'}`,
    );
  }
}

/**
 * On the "Enter your security code" page, enter a fresh code for `email`.
 * If the server says the code was used (another worker or an earlier run of
 * this one used the step), wait for the next step and try once more.
 * `offsetMs`: how far the server's clock is ahead of the real one.
 */
export async function submitSecondFactor(
  page,
  email,
  secret = DEMO_TOTP_SECRET,
  { offsetMs = 0 } = {},
) {
  for (let attempt = 1; ; attempt += 1) {
    await page.locator('#code').fill(await unusedCode(email, secret, { offsetMs }));
    const posted = page.waitForResponse(
      (response) =>
        response.request().method() === 'POST' &&
        new URL(response.url()).pathname === '/sign-in/second-factor',
    );
    await page.getByRole('button', { name: 'Continue', exact: true }).click();
    const response = await posted;
    const replayed =
      response.status() === 200 && (await response.text()).includes('has been used');
    if (!replayed || attempt >= 2) {
      return;
    }
    await page.waitForLoadState('load');
    markCurrentStepUsed(email, offsetMs);
  }
}

/**
 * Sign `page` in as `email` with the password and the second factor, and
 * check it lands on the dashboard. `offsetMs`: how far the server's clock is
 * ahead of the real one (its TOTP codes are those for its own time).
 */
export async function signIn(
  page,
  email,
  { password = DEMO_PASSWORD, secret = DEMO_TOTP_SECRET, offsetMs = 0 } = {},
) {
  await submitPassword(page, email, password);
  await expect(page).toHaveURL(/\/sign-in\/second-factor$/);
  await expect(page.locator('h1')).toHaveText('Enter your security code');
  await submitSecondFactor(page, email, secret, { offsetMs });
  await expect(page).toHaveURL(/\/$/);
  await expect(page.locator('h1')).toHaveText('Dashboard');
}

/**
 * Step up in `page`'s session: open "Enter your authenticator code" (which
 * exports and new API tokens ask for first, and remember for 5 minutes), give
 * a fresh code for `email`, and wait to be sent back to `next` (a path on this
 * site). `beforeSubmit` runs on the step-up page (for example an axe check).
 */
export async function stepUp(
  page,
  email,
  next,
  { secret = DEMO_TOTP_SECRET, beforeSubmit = async () => {} } = {},
) {
  await page.goto(`/step-up?next=${encodeURIComponent(next)}`);
  await expect(page.locator('h1')).toHaveText('Enter your authenticator code');
  await beforeSubmit();
  await page.locator('#code').fill(await unusedCode(email, secret));
  await page.getByRole('button', { name: 'Continue', exact: true }).click();
  await page.waitForURL((url) => `${url.pathname}${url.search}` === next);
}

/**
 * A new browser context that is not signed in, with JavaScript on. Inside a
 * test, `browser.newContext()` inherits the test's options, including a
 * signed-in `storageState`; these are set explicitly so it does not.
 */
export function newAnonymousContext(browser, baseURL, options = {}) {
  return browser.newContext({
    baseURL,
    storageState: { cookies: [], origins: [] },
    javaScriptEnabled: true,
    ...options,
  });
}

/** Signed-in storage states (cookies), one sign-in per person per worker. */
const storageStates = new Map();

/**
 * A storage state signed in as `email`, made once per worker in a throwaway
 * context. Do not sign out of it (that ends the shared session): tests that
 * sign out sign in for themselves.
 */
export function storageStateFor(browser, baseURL, email) {
  if (!storageStates.has(email)) {
    const made = (async () => {
      const context = await newAnonymousContext(browser, baseURL);
      try {
        const page = await context.newPage();
        await signIn(page, email);
        return await context.storageState();
      } finally {
        await context.close();
      }
    })();
    made.catch(() => storageStates.delete(email));
    storageStates.set(email, made);
  }
  return storageStates.get(email);
}

/**
 * Playwright's `test` with one more option, `signedInAs`: an email address
 * whose shared signed-in session every context in the test starts with.
 *   test.use({ signedInAs: PEOPLE.businessManager });
 */
export const test = base.extend({
  signedInAs: [undefined, { option: true }],
  storageState: async ({ signedInAs, storageState, browser, baseURL }, use) => {
    await use(signedInAs ? await storageStateFor(browser, baseURL, signedInAs) : storageState);
  },
});

export { expect };
