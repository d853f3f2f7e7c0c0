// Browser test of the console against a running platform (./glm up): Playwright (playwright-core)
// drives the machine's Chromium; axe-core scans every page. Prints "ok <step>" per step and a
// closing "N passed, M failed" line; exits non-zero on any failure.
//
// Environment: GATEWAY_URL, ADMIN_TOKEN (the gateway's admin token), MODEL, CHROMIUM
// (default /usr/bin/chromium), SCREENSHOT_DIR (where the zh/en screenshots go; optional).
import { readFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const GATEWAY = process.env.GATEWAY_URL;
const ADMIN_TOKEN = process.env.ADMIN_TOKEN;
const MODEL = process.env.MODEL || 'glm-demo';
const SHOTS = process.env.SCREENSHOT_DIR || '';
const CONSOLE_URL = `${GATEWAY}/console/`;
if (!GATEWAY || !ADMIN_TOKEN) {
  console.error('GATEWAY_URL and ADMIN_TOKEN are required');
  process.exit(2);
}
if (SHOTS) mkdirSync(SHOTS, { recursive: true });

let passed = 0;
let failed = 0;
async function step(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    passed++;
    console.log(`ok ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e && e.stack ? e.stack : e}`);
    throw e;
  }
}
function check(cond, message) {
  if (!cond) throw new Error(message);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  chromiumSandbox: false,
  // the machine notes' flags; Playwright adds --headless and a fresh temporary --user-data-dir
  args: [
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});

/** Console errors per page; `allow` lists the ones a step expects (a refused call it shows). */
const consoleErrors = [];
let allow = [];
async function newPage(locale, viewport = { width: 1280, height: 860 }) {
  const context = await browser.newContext({ locale, viewport, colorScheme: 'light' });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: GATEWAY });
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const text = `${m.text()} @ ${m.location()?.url ?? ''}`;
    if (allow.some((re) => re.test(text))) return;
    consoleErrors.push(`[${locale}] ${page.url()}: ${text}`);
  });
  page.on('pageerror', (e) => consoleErrors.push(`[${locale}] ${page.url()}: uncaught ${e.message}`));
  return page;
}

/** axe-core on the current page: no serious or critical violation. */
async function axe(page, label) {
  await page.evaluate(AXE);
  const r = await page.evaluate(() =>
    // eslint-disable-next-line no-undef
    axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } }),
  );
  const bad = r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  check(
    bad.length === 0,
    `axe on ${label}: ${bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`).join('; ')}`,
  );
  console.log(
    `  axe ${label}: ${r.passes.length} rules pass, ${r.violations.length} minor/moderate` +
      (r.violations.length ? ` (${r.violations.map((v) => `${v.id}: ${v.impact}`).join(', ')})` : ''),
  );
  return r.violations.length;
}

async function shot(page, name) {
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: false });
}

function noErrors(where) {
  check(consoleErrors.length === 0, `browser console errors ${where}:\n  ${consoleErrors.join('\n  ')}`);
}

async function goto(page, hash) {
  await page.goto(`${CONSOLE_URL}${hash}`);
  await page.waitForLoadState('networkidle');
}

async function loginAdmin(page) {
  await goto(page, '');
  await page.getByTestId('login-secret').fill(ADMIN_TOKEN);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('nav-tenants').waitFor();
}

const stamp = Date.now().toString(36);
const tenantName = `e2e-${stamp}`;
let tenantId = '';
let apiKey = '';
let keyId = '';
let callTokens = 0;

try {
  const admin = await newPage('en-US');

  await step('login page (en): keyboard sign-in as admin', async () => {
    const index = await admin.goto(CONSOLE_URL);
    check(
      (index.headers()['content-security-policy'] || '').includes("script-src 'self'"),
      'the console is served with its content security policy (the browser enforces it below)',
    );
    await admin.waitForLoadState('networkidle');
    check((await admin.locator('h1').innerText()) === 'Sign in', 'the login page is in English for an en browser');
    await axe(admin, 'login (en)');
    await shot(admin, 'login-en');
    // keyboard only: tab to the token field, type, Enter
    let focused = '';
    for (let i = 0; i < 12 && focused !== 'login-secret'; i++) {
      await admin.keyboard.press('Tab');
      focused = await admin.evaluate(() => document.activeElement?.getAttribute('data-testid') ?? '');
    }
    check(focused === 'login-secret', 'the token field is reachable with Tab');
    await admin.keyboard.type(ADMIN_TOKEN);
    await admin.keyboard.press('Enter');
    await admin.getByTestId('nav-tenants').waitFor();
  });

  await step('admin creates a tenant with limits', async () => {
    await admin.getByTestId('tenant-name').fill(tenantName);
    await admin.getByLabel('Requests / min').first().fill('600');
    await admin.getByTestId('tenant-create').click();
    await admin.getByTestId('tenants-ok').filter({ hasText: tenantName }).waitFor();
    const row = admin.getByTestId('tenants-table').locator('tr', { hasText: tenantName });
    await row.waitFor();
    tenantId = (await row.locator('td.mono').innerText()).trim();
    check(tenantId.length > 0, 'the new tenant has an id');
    check((await row.innerText()).includes('600'), 'the tenant shows its limit');
    await axe(admin, 'tenants');
    await shot(admin, 'tenants-en');
  });

  await step('admin tops the tenant up', async () => {
    await admin.getByTestId('nav-billing').click();
    await admin.getByTestId('billing-table').waitFor();
    await admin.locator(`#topup-${tenantId}`).fill('10');
    await admin.locator('tr', { hasText: tenantName }).getByRole('button', { name: 'Top up' }).click();
    await admin.locator('tr', { hasText: tenantName }).getByText('10.000000 CNY').first().waitFor();
    await axe(admin, 'balances');
    await shot(admin, 'balances-en');
  });

  await step('admin creates a key: the secret is shown once, with a copy button', async () => {
    await goto(admin, `#/keys?tenant=${tenantId}`);
    await admin.getByTestId('key-name').fill('e2e key');
    await admin.getByTestId('key-create').click();
    const secret = admin.getByTestId('secret-value');
    await secret.waitFor();
    apiKey = await secret.inputValue();
    check(/^[^.]+\.[^.]+$/.test(apiKey), `the new key looks like <id>.<secret>: ${apiKey.length} chars`);
    keyId = apiKey.split('.')[0];
    await admin.getByTestId('secret-panel').getByRole('button', { name: 'Copy' }).click();
    await admin.getByText('Copied to the clipboard.').waitFor();
    check((await admin.evaluate(() => navigator.clipboard.readText())) === apiKey, 'the copy button copies the key');
    await axe(admin, 'keys with the new secret');
    await shot(admin, 'keys-secret-en');
    await admin.getByTestId('secret-done').click();
    await admin.getByTestId('secret-panel').waitFor({ state: 'detached' });
    const secretPart = apiKey.split('.')[1];
    check(!(await admin.content()).includes(secretPart), 'the secret is gone from the page once dismissed');
    await admin.reload();
    await admin.locator(`tr[data-key-id="${keyId}"]`).waitFor();
    check(!(await admin.content()).includes(secretPart), 'the secret is never shown again');
  });

  await step('workers page shows the worker from WatchLoad', async () => {
    await admin.getByTestId('nav-workers').click();
    const table = admin.getByTestId('workers-table');
    await table.waitFor();
    const text = await table.innerText();
    check(text.includes(MODEL) && text.includes('READY'), `workers table: ${text}`);
    await axe(admin, 'workers');
    await shot(admin, 'workers-en');
  });

  const tenant = await newPage('en-US');
  let answer = '';
  await step('tenant signs in with the key and streams a chat in the playground', async () => {
    await goto(tenant, '');
    await tenant.getByText('Tenant (API key)').click();
    await tenant.getByTestId('login-secret').fill(apiKey);
    await tenant.getByTestId('login-submit').click();
    await tenant.getByTestId('balance').filter({ hasText: '10.000000 CNY' }).waitFor();
    await tenant.getByTestId('nav-playground').click();
    await tenant.getByTestId('play-model').waitFor();
    check((await tenant.getByTestId('play-model').inputValue()) === MODEL, 'the model picker offers the model');
    await tenant.getByTestId('play-max-tokens').fill('24');
    await tenant.getByTestId('play-message').fill('Hello from the console');
    const response = tenant.waitForResponse((r) => r.url().endsWith('/v1/chat/completions'));
    await tenant.getByTestId('play-send').click();
    const r = await response;
    check(r.status() === 200, `chat status ${r.status()}`);
    check((r.headers()['content-type'] || '').startsWith('text/event-stream'), 'the answer is streamed (SSE)');
    const meta = tenant.getByTestId('play-meta');
    await meta.filter({ hasText: 'Usage:' }).waitFor({ timeout: 120_000 });
    const m = /Usage: (\d+) prompt \+ (\d+) completion tokens/.exec(await meta.innerText());
    check(m, `usage line: ${await meta.innerText()}`);
    callTokens = Number(m[1]) + Number(m[2]);
    check(Number(m[2]) > 0, 'the model produced tokens');
    answer = await tenant.locator('.turn-assistant .text').last().innerText();
    check(answer.length > 0, 'the streamed answer is on the page');
    const code = await tenant.getByTestId('play-code').inputValue();
    check(code.includes('/v1/chat/completions') && code.includes('$GLM_API_KEY') && !code.includes(apiKey), 'curl uses a key placeholder');
    await tenant.getByRole('tab', { name: 'Python (openai)' }).click();
    check((await tenant.getByTestId('play-code').inputValue()).includes('from openai import OpenAI'), 'Python code');
    await tenant.getByRole('tab', { name: 'Python (openai)' }).press('ArrowRight');
    check((await tenant.getByTestId('play-code').inputValue()).includes("import OpenAI from 'openai'"), 'JS code, reached with the arrow key');
    await axe(tenant, 'playground');
    await shot(tenant, 'playground-en');
  });

  await step("the tenant's usage chart shows that call's tokens", async () => {
    await tenant.getByTestId('nav-overview').click();
    const total = tenant.getByTestId('total-tokens');
    const deadline = Date.now() + 90_000;
    let seen = '';
    while (Date.now() < deadline) {
      await total.waitFor();
      seen = (await total.innerText()).replace(/,/g, '');
      if (Number(seen) === callTokens) break;
      await tenant.waitForTimeout(1500);
      await tenant.getByTestId('usage-refresh').click();
      await tenant.waitForLoadState('networkidle');
    }
    check(Number(seen) === callTokens, `usage shows ${seen} tokens, the call used ${callTokens}`);
    const label = await tenant.getByTestId('chart-tokens').getAttribute('aria-label');
    check(label.includes(String(callTokens)), `chart label: ${label}`);
    const svgText = await tenant.getByTestId('chart-tokens').locator('svg').innerHTML();
    check(svgText.includes(MODEL), 'the chart draws a series for the model');
    await axe(tenant, 'tenant usage');
    await shot(tenant, 'usage-tenant-en');
  });

  await step('admin usage page: charts and CSV export', async () => {
    await admin.getByTestId('nav-usage').click();
    await admin.getByTestId('usage-table').waitFor();
    check((await admin.getByTestId('usage-table').innerText()).includes(tenantName), 'the tenant is in the usage table');
    const download = admin.waitForEvent('download');
    await admin.getByTestId('usage-csv').click();
    const d = await download;
    const path = await d.path();
    const csv = readFileSync(path, 'utf8');
    check(csv.startsWith('date,tenant,key_id,model,requests'), 'CSV header');
    check(csv.includes(`,${tenantId},${keyId},${MODEL},1,`), `CSV has the call: ${csv}`);
    await axe(admin, 'admin usage');
    await shot(admin, 'usage-admin-en');
  });

  await step('revoking the key makes the next playground call fail with a visible message', async () => {
    // the tenant is on the playground, ready to send, when the admin revokes its key
    await tenant.getByTestId('nav-playground').click();
    await tenant.getByTestId('play-model').locator(`option[value="${MODEL}"]`).waitFor({ state: 'attached' });
    await goto(admin, `#/keys?tenant=${tenantId}`);
    const row = admin.locator(`tr[data-key-id="${keyId}"]`);
    await row.getByTestId('key-revoke').click();
    await row.getByTestId('key-revoke-confirm').click();
    await row.getByTestId('key-status').filter({ hasText: 'revoked' }).waitFor();
    await shot(admin, 'keys-en');
    // the gateway drops its cached principal when the REVOKED key event arrives over Kafka
    // (seconds on a loaded machine): wait, outside the browser, until it refuses the key
    const deadline = Date.now() + 60_000;
    let status = 0;
    while (Date.now() < deadline) {
      status = (await fetch(`${GATEWAY}/v1/models`, { headers: { Authorization: `Bearer ${apiKey}` } })).status;
      if (status === 401) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    check(status === 401, `the gateway still accepts the revoked key after 60 s (${status})`);
    await tenant.getByTestId('play-message').fill('Am I still allowed?');
    allow = [/status of 401/];
    await tenant.getByTestId('play-send').click();
    const err = tenant.getByTestId('play-error');
    await err.waitFor();
    const text = await err.innerText();
    check(/401/.test(text), `the playground shows the refusal: ${text}`);
    check((await err.getAttribute('role')) === 'alert', 'the refusal is announced (role=alert)');
    await tenant.waitForTimeout(300);
    allow = [];
  });

  await step('no browser console errors on any page (en)', async () => noErrors('in the en run'));

  // the same pages in Chinese (the browser asks for zh), for the screenshots and a second axe pass
  const zh = await newPage('zh-CN');
  await step('Chinese first when the browser asks for it; every page in zh', async () => {
    await goto(zh, '');
    check((await zh.locator('h1').innerText()) === '登录', 'the login page is in Chinese for a zh browser');
    check((await zh.evaluate(() => document.documentElement.lang)) === 'zh-CN', 'html lang is zh-CN');
    await axe(zh, 'login (zh)');
    await shot(zh, 'login-zh');
    await zh.getByTestId('login-secret').fill(ADMIN_TOKEN);
    await zh.getByTestId('login-submit').click();
    for (const [page, name] of [
      ['tenants', 'tenants'],
      [`keys?tenant=${tenantId}`, 'keys'],
      ['billing', 'balances'],
      ['usage', 'usage-admin'],
      ['workers', 'workers'],
    ]) {
      await goto(zh, `#/${page}`);
      await zh.locator('table').first().waitFor();
      await axe(zh, `${name} (zh)`);
      await shot(zh, `${name}-zh`);
    }
    await zh.getByTestId('lang').selectOption('en');
    check((await zh.locator('h1').innerText()) === 'Workers', 'the language switch changes the page');
    await zh.getByTestId('lang').selectOption('zh');
    await zh.getByTestId('logout').click();
    // a tenant of the demo data (the key was revoked above): the key from ./glm up
    if (process.env.DEMO_API_KEY) {
      await zh.getByText('租户（API 密钥）').click();
      await zh.getByTestId('login-secret').fill(process.env.DEMO_API_KEY);
      await zh.getByTestId('login-submit').click();
      await zh.getByTestId('balance').waitFor();
      await zh.waitForLoadState('networkidle');
      await axe(zh, 'tenant usage (zh)');
      await shot(zh, 'usage-tenant-zh');
      await zh.getByTestId('nav-playground').click();
      await zh.getByTestId('play-model').waitFor();
      await zh.getByTestId('play-message').fill('你好');
      await zh.getByTestId('play-max-tokens').fill('12');
      await zh.getByTestId('play-send').click();
      await zh.getByTestId('play-meta').filter({ hasText: '用量' }).waitFor({ timeout: 120_000 });
      await axe(zh, 'playground (zh)');
      await shot(zh, 'playground-zh');
    }
  });

  await step('phone width: no page scrolls sideways', async () => {
    const phone = await newPage('en-US', { width: 390, height: 844 });
    await loginAdmin(phone);
    for (const page of ['tenants', `keys?tenant=${tenantId}`, 'billing', 'usage', 'workers']) {
      await goto(phone, `#/${page}`);
      await phone.locator('h1').waitFor();
      const [sw, cw] = await phone.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
      check(sw <= cw, `#/${page} is ${sw}px wide at ${cw}px`);
    }
    await goto(phone, '#/usage');
    await phone.getByTestId('total-tokens').waitFor();
    await shot(phone, 'usage-admin-phone-en');
  });

  await step('no browser console errors on any page (zh, phone)', async () => noErrors('in the zh and phone runs'));
} catch {
  // the failing step printed itself
} finally {
  await browser.close();
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
}
