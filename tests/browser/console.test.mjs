// The web console in a real browser (Debian's chromium through playwright-core).
// Run by scripts/console-test.sh, which starts the gateway and passes:
//   GW_URL               the server's base URL (http://127.0.0.1:PORT)
//   GW_CONSUMER_TOKEN    a consumer with an sdc grant from KAZ and dp grants from the others
//   GW_OPERATOR_TOKEN    an operator
//   GW_COUNTRIES         the countries ingested ("KAZ KGZ ...")
//   GW_ARTIFACTS         where screenshots go
//   GW_CHROMIUM          the browser executable; GW_NO_SANDBOX=1 adds --no-sandbox (root)
// Prints one line per check and "console: N passed, M failed"; exit code 1 on a failure.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { chromium } from "playwright-core";

const url = process.env.GW_URL;
const consumerToken = process.env.GW_CONSUMER_TOKEN;
const operatorToken = process.env.GW_OPERATOR_TOKEN;
const countries = (process.env.GW_COUNTRIES || "").split(/\s+/).filter(Boolean);
const artifacts = process.env.GW_ARTIFACTS || ".";
if (!url || !consumerToken || !operatorToken) {
  console.error("console.test: GW_URL, GW_CONSUMER_TOKEN and GW_OPERATOR_TOKEN are required");
  process.exit(2);
}
const origin = new URL(url).origin;
const STEP_TIMEOUT_MS = 15000;
const TOTAL_TIMEOUT_MS = 240000;

// The whole run is bounded, whatever hangs.
const watchdog = setTimeout(() => {
  console.error(`console.test: not finished after ${TOTAL_TIMEOUT_MS / 1000} s`);
  process.exit(1);
}, TOTAL_TIMEOUT_MS);

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

let passed = 0;
let failed = 0;
let page;
async function step(name, fn) {
  if (failed) {
    console.log(`skip  ${name}`);
    return;
  }
  const t0 = Date.now();
  try {
    await fn();
    passed++;
    console.log(`ok    ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    failed++;
    console.log(`FAIL  ${name}: ${e.message.split("\n")[0]}`);
    console.log(e.stack);
    if (page) await page.screenshot({ path: path.join(artifacts, "failure.png"), fullPage: true }).catch(() => {});
  }
}

async function shot(name, fullPage = true) {
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage });
}

const args = ["--disable-dev-shm-usage", "--disable-gpu"];
if (process.env.GW_NO_SANDBOX === "1") args.push("--no-sandbox");
const browser = await chromium.launch({
  executablePath: process.env.GW_CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args,
  timeout: 60000,
});

const problems = []; // console errors, uncaught exceptions, requests elsewhere
try {
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, acceptDownloads: true });
  page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  page.on("pageerror", (e) => problems.push(`uncaught: ${e.message}`));
  page.on("console", (m) => {
    // A refused request logs an error: the wrong token (401) and the role probe (403) are expected.
    if (m.type() === "error" && !/status of 40[13]/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  page.on("request", (r) => {
    const u = r.url();
    if (!u.startsWith("blob:") && !u.startsWith("data:") && new URL(u).origin !== origin) problems.push(`request elsewhere: ${u}`);
    if (consumerToken && u.includes(consumerToken)) problems.push("a token appeared in a URL");
    if (operatorToken && u.includes(operatorToken)) problems.push("a token appeared in a URL");
  });

  await step("the console's files: types, CSP, 404", async () => {
    const index = await page.request.get(`${url}/console/`);
    assert(index.status() === 200, `GET /console/ is ${index.status()}`);
    assert(index.headers()["content-type"].startsWith("text/html"), "index.html is not text/html");
    assert(/default-src 'self'/.test(index.headers()["content-security-policy"] || ""), "no CSP default-src 'self'");
    const js = await page.request.get(`${url}/console/app.js`);
    assert(js.status() === 200 && js.headers()["content-type"].startsWith("text/javascript"), "app.js is not text/javascript");
    const css = await page.request.get(`${url}/console/style.css`);
    assert(css.headers()["content-type"].startsWith("text/css"), "style.css is not text/css");
    const missing = await page.request.get(`${url}/console/nothing-here.js`);
    assert(missing.status() === 404, `an unknown file is ${missing.status()}, not 404`);
    const html = await index.text();
    assert(!/<script(?![^>]*\bsrc=)[^>]*>/i.test(html), "index.html has an inline script");
  });

  await step("sign-in form: labelled, refuses a wrong token", async () => {
    await page.goto(`${url}/console/`);
    const token = page.getByLabel("Access token");
    await token.waitFor();
    assert(await token.evaluate((e) => document.activeElement === e), "the token field does not have the focus");
    await token.fill("not-a-real-token");
    await page.keyboard.press("Enter");
    await page.getByRole("alert").filter({ hasText: "not valid" }).waitFor();
  });

  await step("consumer signs in: token in sessionStorage only", async () => {
    await page.getByLabel("Access token").fill(consumerToken);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByText("Signed in as a consumer").waitFor();
    const stored = await page.evaluate(() => ({
      session: Object.values(sessionStorage),
      local: localStorage.length,
      cookie: document.cookie,
      href: location.href,
    }));
    assert(stored.session.includes(consumerToken), "the token is not in sessionStorage");
    assert(stored.local === 0 && stored.cookie === "", "something was put in localStorage or a cookie");
    assert(!stored.href.includes(consumerToken), "the token is in the URL");
    // The budget lists the dp countries' reference dates.
    await page.getByTestId("budget-table").waitFor();
  });

  await step("every control has a label", async () => {
    const unlabelled = await page.evaluate(() =>
      [...document.querySelectorAll("input, select, button")]
        .filter((e) => !e.closest("[hidden]"))
        .filter((e) => !(e.labels && e.labels.length) && !e.getAttribute("aria-label") && !e.textContent.trim())
        .map((e) => e.id || e.outerHTML.slice(0, 60)),
    );
    assert(unlabelled.length === 0, `unlabelled: ${unlabelled.join(", ")}`);
  });

  await step("keyboard: Tab reaches the form's button with a visible focus ring", async () => {
    await page.getByLabel("Reference date").focus();
    let reached = false;
    for (let i = 0; i < 60 && !reached; i++) {
      await page.keyboard.press("Tab");
      reached = await page.evaluate(() => document.activeElement && document.activeElement.id === "run-query");
    }
    assert(reached, "Tab never reached the Get table button");
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    assert(outline !== "none", "the focused button shows no outline");
  });

  await step("sdc table: origin by population type in Kazakhstan, suppressed cells marked", async () => {
    await page.getByLabel("Reference date").fill("2015-06-30");
    await page.getByLabel(/^Kazakhstan/).check();
    await page.getByLabel("Break down by (bars)").selectOption("coo");
    await page.getByLabel("Then by (stacked segments)").selectOption("pop_type");
    await page.getByTestId("cost").filter({ hasText: "No privacy budget is charged" }).waitFor();
    await page.getByRole("button", { name: "Get table" }).click();
    const tbl = page.getByTestId("result-table");
    await tbl.waitFor();
    await tbl.getByRole("row").filter({ hasText: "Afghanistan" }).first().waitFor();
    await tbl.getByRole("row").filter({ hasText: "Stateless" }).filter({ hasText: /\d/ }).first().waitFor();
    const suppressedRows = await tbl.locator("td.suppressed").count();
    assert(suppressedRows > 0, "no cell is marked suppressed in the table");
    const text = await tbl.innerText();
    assert(/suppressed/.test(text), "the table does not say suppressed");
    const chart = page.getByTestId("bar-chart");
    await chart.waitFor();
    const markers = await chart.locator('rect[data-status="Q"]').count();
    assert(markers === suppressedRows, `${markers} hatched markers for ${suppressedRows} suppressed cells`);
    const markerFill = await chart.locator('rect[data-status="Q"]').first().getAttribute("fill");
    assert(/^url\(#/.test(markerFill || ""), "a suppressed marker is not hatched");
    // A suppressed cell is never drawn as a zero-width bar.
    const zeroBars = await chart.locator('rect[width="0"]').count();
    assert(zeroBars === 0, "a bar of width 0 was drawn");
    assert(/suppressed/.test(await chart.textContent()), "the chart does not label suppressed bars");
    await shot("consumer-sdc-suppressed");
  });

  await step("download CSV with the token; header line", async () => {
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Download CSV" }).click(),
    ]);
    const file = await download.path();
    const body = await readFile(file, "utf8");
    const header = body.split(/\r?\n/)[0];
    assert(header === "coo,pop_type,coa,value,status", `CSV header is "${header}"`);
    assert(/^XXA,STA,KAZ,\d+,[AE]\r?$/m.test(body), "no published row (stateless persons) in the CSV");
    assert(/^AFG,REF,KAZ,,Q\r?$/m.test(body), "no suppressed row in the CSV");
    assert(download.suggestedFilename().endsWith(".csv"), `file name ${download.suggestedFilename()}`);
    await page.getByText(/^Saved aggregates_2015-06-30/).waitFor();
  });

  await step("dp table: cost shown and confirmed before asking; budget spent; repeat free", async () => {
    await page.getByLabel("Dates with data for you").selectOption({ label: "2015-12-31 — Kyrgyzstan" });
    assert((await page.getByLabel("Reference date").inputValue()) === "2015-12-31", "the date was not set");
    assert(await page.getByLabel(/^Kyrgyzstan/).isChecked(), "Kyrgyzstan is not ticked");
    assert(!(await page.getByLabel(/^Kazakhstan/).isChecked()), "Kazakhstan is still ticked");
    await page.getByLabel(/^Refugees \(REF\)/).check();
    await page.getByLabel("Then by (stacked segments)").selectOption("sex");
    await page.getByTestId("cost").filter({ hasText: "at most ε 0.5" }).waitFor();
    await page.getByRole("button", { name: "Get table" }).click();
    const yes = page.getByRole("button", { name: "Spend and get the table" });
    await yes.waitFor();
    assert(await yes.evaluate((e) => document.activeElement === e), "the confirmation does not take the focus");
    await yes.click();
    await page.getByTestId("result-table").getByText(/Kyrgyzstan/).first().waitFor();
    await page.getByText(/Cost of this answer/).waitFor();
    await page.getByTestId("budget-table").getByRole("row").filter({ hasText: "2015-12-31" }).filter({ hasText: "1.5 of 2" }).waitFor();
    // Asked again: the console knows it is free and asks nothing.
    await page.getByTestId("cost").filter({ hasText: "free" }).waitFor();
    await page.getByRole("button", { name: "Get table" }).click();
    await page.getByRole("status").filter({ hasText: /cells? for 2015-12-31/ }).waitFor();
    assert(!(await page.getByRole("button", { name: "Spend and get the table" }).isVisible()), "a repeat asked for confirmation");
    await page.getByTestId("budget-table").getByRole("row").filter({ hasText: "2015-12-31" }).filter({ hasText: "1.5 of 2" }).waitFor();
    await page.getByTestId("bar-chart").scrollIntoViewIfNeeded();
    await shot("consumer-dp-stacked", false);
  });

  await step("sign out forgets the token", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("Access token").waitFor();
    assert((await page.evaluate(() => sessionStorage.length)) === 0, "sessionStorage is not empty after sign-out");
  });

  await step("operator signs in: snapshots of every ingested country", async () => {
    await page.getByLabel("Access token").fill(operatorToken);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByText("Signed in as an operator").waitFor();
    for (const c of countries) {
      const block = page.getByTestId(`snapshots-${c}`);
      await block.waitFor();
      assert(/current/.test(await block.innerText()), `${c} has no current snapshot listed`);
    }
    await shot("operator-snapshots");
  });

  await step("operator: grants (keyboard tabs), budgets", async () => {
    await page.getByRole("tab", { name: "Snapshots" }).focus();
    await page.keyboard.press("ArrowRight");
    const grantsTab = page.getByRole("tab", { name: "Grants" });
    assert((await grantsTab.getAttribute("aria-selected")) === "true", "ArrowRight did not select Grants");
    const grants = page.getByTestId("grants-table");
    await grants.waitFor();
    assert((await grants.locator("tbody tr").count()) === 5, "not 5 grants");
    await grants.getByRole("row").filter({ hasText: "sdc" }).filter({ hasText: "Kazakhstan" }).waitFor();
    await shot("operator-grants");
    await page.getByRole("tab", { name: "Budgets" }).click();
    await page.getByTestId("budgets-table").getByRole("row").filter({ hasText: "unhcr" }).filter({ hasText: "2015-12-31" }).filter({ hasText: "0.5" }).first().waitFor();
    await shot("operator-budgets");
  });

  await step("operator: audit log verified, releases listed; keys", async () => {
    await page.getByRole("tab", { name: "Audit log" }).click();
    const status = page.getByTestId("audit-status");
    await status.waitFor();
    assert((await status.innerText()) === "verified", `audit status is "${await status.innerText()}"`);
    await page.getByTestId("audit-table").getByRole("row").filter({ hasText: "aggregate.release" }).first().waitFor();
    await page.getByTestId("audit-table").getByRole("row").filter({ hasText: "snapshot.commit" }).first().waitFor();
    await shot("operator-audit");
    await page.getByRole("tab", { name: "Keys" }).click();
    const keys = page.getByTestId("keys-table");
    await keys.waitFor();
    assert(/[0-9a-f]{16}/.test(await keys.innerText()), "no key fingerprint shown");
    await shot("operator-keys");
  });

  await step("no console errors, no request elsewhere, no token in a URL", async () => {
    assert(problems.length === 0, problems.join("; "));
  });
} finally {
  await browser.close().catch(() => {});
  clearTimeout(watchdog);
}

console.log(`console: ${passed} passed, ${failed} failed`);
console.log(`screenshots: ${artifacts}`);
process.exit(failed ? 1 : 0);
