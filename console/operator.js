// The operator's views: snapshots with their receipts, grants in force, budgets spent,
// the audit log with the verification of its hash chain, and the keys.
import { codelists, getJson } from "./api.js";
import { $, clear, fmt, h, show, status, table } from "./dom.js";

const VIEWS = ["snapshots", "grants", "budgets", "audit", "keys"];
const AUDIT_PAGE = 100;
const state = { initialised: false, countries: new Map(), loaded: new Set(), auditAfter: null, auditTotal: 0 };

function countryName(code) {
  return state.countries.get(code) || code;
}

function yesNo(b) {
  return b ? h("span", { class: "badge ok" }, "current") : h("span", { class: "badge neutral" }, "superseded");
}

function shortHash(hex) {
  if (!hex) return "";
  const s = String(hex);
  return h("span", { class: "mono", title: s }, s.length > 23 ? `${s.slice(0, 23)}…` : s);
}

function json(v) {
  return h("pre", {}, JSON.stringify(v, null, 2));
}

// ---- snapshots -----------------------------------------------------------

async function loadSnapshots() {
  const body = clear($("snapshots-body"));
  const data = await getJson("/v1/snapshots");
  const snaps = data.snapshots || [];
  const byCountry = new Map();
  for (const s of snaps) {
    if (!byCountry.has(s.country)) byCountry.set(s.country, []);
    byCountry.get(s.country).push(s);
  }
  const countries = [...byCountry.keys()].sort();
  status($("snapshots-status"),
    snaps.length ? `${snaps.length} version${snaps.length === 1 ? "" : "s"} from ${countries.length} countr${countries.length === 1 ? "y" : "ies"}.` : "No snapshot has been committed yet.");
  for (const c of countries) {
    const rows = byCountry.get(c).sort((a, b) => b.ref_date.localeCompare(a.ref_date) || b.version - a.version);
    body.append(
      h("section", { class: "country-block", "data-testid": `snapshots-${c}`, "aria-labelledby": `snap-h-${c}` },
        h("h3", { id: `snap-h-${c}` }, `${countryName(c)} (${c})`),
        h("div", { class: "table-scroll" },
          table({
            rows,
            columns: [
              { label: "Reference date", value: (s) => s.ref_date, rowHeader: true },
              { label: "Version", value: (s) => fmt(s.version), num: true },
              { label: "State", value: (s) => yesNo(s.current) },
              { label: "Profile", value: (s) => s.profile },
              { label: "Committed (UTC)", value: (s) => s.created_at, cellClass: () => "nowrap" },
              { label: "Rows", value: (s) => fmt(s.receipt?.rows), num: true },
              { label: "Accepted", value: (s) => fmt(s.receipt?.accepted), num: true },
              { label: "Rejected", value: (s) => fmt(Array.isArray(s.receipt?.rejected) ? s.receipt.rejected.length : s.receipt?.rejected), num: true },
              { label: "In stock", value: (s) => fmt(s.receipt?.in_stock), num: true },
              { label: "Digest", value: (s) => shortHash(s.digest) },
            ],
          }),
        ),
        h("details", {},
          h("summary", {}, `Receipts (${rows.length})`),
          rows.map((s) => [h("h4", {}, `Version ${s.version}, ${s.ref_date}`), json(s.receipt)])),
      ),
    );
  }
}

// ---- grants ----------------------------------------------------------------

async function loadGrants() {
  const data = await getJson("/v1/grants");
  const grants = data.grants || [];
  status($("grants-status"), grants.length ? `${grants.length} grant${grants.length === 1 ? "" : "s"} in force.` : "No grant is in force: nothing is shared.");
  const mech = (g) => h("span", { class: `badge ${g.mechanism === "none" ? "bad" : "neutral"}` }, g.mechanism);
  clear($("grants-body")).append(
    table({
      testid: "grants-table",
      caption: "Effective grants (expired ones are not applied and not listed)",
      rows: [...grants].sort((a, b) => (a.country + a.consumer).localeCompare(b.country + b.consumer)),
      columns: [
        { label: "Country", value: (g) => `${countryName(g.country)} (${g.country})`, rowHeader: true },
        { label: "Consumer", value: (g) => g.consumer },
        { label: "Population types", value: (g) => g.pop_types.join(", ") },
        { label: "Dimensions", value: (g) => g.dimensions.join(", ") },
        { label: "Mechanism", value: mech },
        { label: "ε per table", value: (g) => fmt(g.epsilon ?? "—"), num: true },
        { label: "Budget", value: (g) => fmt(g.budget ?? "—"), num: true },
        { label: "Threshold", value: (g) => fmt(g.threshold ?? "—"), num: true },
        { label: "Rounding", value: (g) => fmt(g.rounding ?? "—"), num: true },
        { label: "Expires", value: (g) => g.expires || "—" },
        { label: "Policy file", value: (g) => g.source || "" },
      ],
    }),
  );
}

// ---- budgets -------------------------------------------------------------

async function loadBudgets() {
  const data = await getJson("/v1/budget");
  const items = data.budgets || [];
  const cap = data.snapshot_epsilon_cap;
  status($("budgets-status"),
    `${items.length} budget line${items.length === 1 ? "" : "s"}. ` +
      (cap === null || cap === undefined ? "No cap on what all consumers together may spend per snapshot." : `All consumers together may spend at most ε ${fmt(cap)} per country and reference date.`));
  clear($("budgets-body")).append(
    table({
      testid: "budgets-table",
      caption: "Differential-privacy budgets per consumer, country and reference date (epsilon)",
      rows: [...items].sort((a, b) => (a.consumer + a.country + a.ref_date).localeCompare(b.consumer + b.country + b.ref_date)),
      columns: [
        { label: "Consumer", value: (b) => b.consumer, rowHeader: true },
        { label: "Country", value: (b) => `${countryName(b.country)} (${b.country})` },
        { label: "Reference date", value: (b) => b.ref_date },
        { label: "Spent", value: (b) => fmt(b.spent), num: true },
        { label: "Tables released", value: (b) => fmt(b.tables_released), num: true },
        { label: "Budget", value: (b) => fmt(b.budget ?? "—"), num: true },
        { label: "Remaining", value: (b) => fmt(b.remaining), num: true },
        { label: "ε per new table", value: (b) => fmt(b.epsilon_per_new_table ?? "—"), num: true },
        { label: "New tables left", value: (b) => fmt(b.new_tables_affordable ?? 0), num: true },
      ],
    }),
  );
}

// ---- audit -----------------------------------------------------------------

function renderVerification(v) {
  const box = $("audit-verification");
  box.classList.toggle("ok", v.status === "verified");
  box.classList.toggle("bad", v.status !== "verified");
  clear(box);
  if (v.status === "verified") {
    box.append(
      h("strong", { "data-testid": "audit-status" }, "verified"),
      `: the hash chain of all ${fmt(v.entries)} entries is intact` +
        (v.head ? `; head #${v.head.seq} ` : "."),
      v.head ? shortHash(v.head.hash) : "",
    );
  } else {
    box.append(
      h("strong", { "data-testid": "audit-status" }, "broken"),
      `: entry #${v.first_broken_seq}: ${v.problem}. ${fmt(v.entries)} entries before it are intact. ` +
        "Compare with a backup and run gateway audit verify on the server.",
    );
  }
}

async function loadAudit(after) {
  const v = await getJson("/v1/audit/verify");
  renderVerification(v);
  state.auditTotal = v.status === "verified" ? v.entries : Math.max(v.entries, v.first_broken_seq || 0);
  // Newest page first by default.
  if (after === undefined || after === null) after = Math.max(0, state.auditTotal - AUDIT_PAGE);
  state.auditAfter = after;
  const data = await getJson("/v1/audit", { after, limit: AUDIT_PAGE });
  const entries = (data.entries || []).slice().reverse();
  const first = entries.length ? entries[entries.length - 1].seq : after;
  const last = entries.length ? entries[0].seq : after;
  clear($("audit-body")).append(
    table({
      testid: "audit-table",
      caption: entries.length ? `Entries ${first} to ${last}, newest first` : "No entries",
      rows: entries,
      columns: [
        { label: "#", value: (e) => fmt(e.seq), num: true, rowHeader: true },
        { label: "Time (UTC)", value: (e) => e.ts, cellClass: () => "nowrap" },
        { label: "Kind", value: (e) => e.kind },
        { label: "Actor", value: (e) => e.actor },
        { label: "Detail", value: (e) => h("code", {}, JSON.stringify(e.detail)) },
        { label: "Hash", value: (e) => shortHash(e.hash) },
      ],
    }),
  );
  $("audit-older").disabled = after <= 0;
  $("audit-newer").disabled = after + AUDIT_PAGE >= state.auditTotal;
}

// ---- keys ------------------------------------------------------------------

async function loadKeys() {
  const data = await getJson("/v1/keys", {}, { token: null });
  const rows = [];
  for (const [owner, v] of Object.entries(data)) {
    for (const k of Array.isArray(v) ? v : [v]) {
      if (k && typeof k === "object") rows.push({ owner: k.country ? `${owner}: ${countryName(k.country)}` : owner, ...k });
    }
  }
  status($("keys-status"), "Answers are signed with the gateway key; clients verify them with this public key (docs/api.md).");
  clear($("keys-body")).append(
    table({
      testid: "keys-table",
      caption: "Key fingerprints (keyid: the first 16 hex digits of SHA-256 of the raw public key)",
      rows,
      columns: [
        { label: "Key", value: (k) => k.owner, rowHeader: true },
        { label: "Fingerprint (keyid)", value: (k) => h("span", { class: "mono" }, k.keyid || "") },
        { label: "Public key (base64)", value: (k) => h("span", { class: "mono" }, k.public_key || "") },
      ],
    }),
  );
}

// ---- tabs --------------------------------------------------------------------

const LOADERS = { snapshots: loadSnapshots, grants: loadGrants, budgets: loadBudgets, audit: () => loadAudit(), keys: loadKeys };

async function load(view) {
  const line = $(`${view}-status`) || $("audit-verification");
  const panel = $(`panel-${view}`);
  panel.setAttribute("aria-busy", "true");
  try {
    await LOADERS[view]();
    state.loaded.add(view);
  } catch (e) {
    status(line, `Could not load: ${e.message}`, true);
  } finally {
    panel.setAttribute("aria-busy", "false");
  }
}

function select(view, focus = false) {
  for (const v of VIEWS) {
    const tab = $(`tab-${v}`);
    const on = v === view;
    tab.setAttribute("aria-selected", on ? "true" : "false");
    tab.tabIndex = on ? 0 : -1;
    show($(`panel-${v}`), on);
    if (on && focus) tab.focus();
  }
  if (!state.loaded.has(view)) load(view);
}

function onTabKey(e) {
  const i = VIEWS.indexOf(e.target.id.replace("tab-", ""));
  if (i < 0) return;
  let next = null;
  if (e.key === "ArrowRight") next = VIEWS[(i + 1) % VIEWS.length];
  else if (e.key === "ArrowLeft") next = VIEWS[(i + VIEWS.length - 1) % VIEWS.length];
  else if (e.key === "Home") next = VIEWS[0];
  else if (e.key === "End") next = VIEWS[VIEWS.length - 1];
  if (next) {
    e.preventDefault();
    select(next, true);
  }
}

export async function showOperator() {
  if (!state.initialised) {
    try {
      const lists = await codelists();
      state.countries = new Map(lists.countries.map((c) => [c.alpha3, c.name]));
    } catch (e) {
      /* names are a nicety: codes still show */
    }
    for (const v of VIEWS) $(`tab-${v}`).addEventListener("click", () => select(v));
    $("operator-tabs").addEventListener("keydown", onTabKey);
    for (const b of document.querySelectorAll("#operator-view .refresh")) {
      b.addEventListener("click", () => load(b.dataset.view));
    }
    $("audit-older").addEventListener("click", () => loadAudit(Math.max(0, state.auditAfter - AUDIT_PAGE)).catch((e) => status($("audit-verification"), e.message, true)));
    $("audit-newer").addEventListener("click", () => loadAudit(state.auditAfter + AUDIT_PAGE).catch((e) => status($("audit-verification"), e.message, true)));
    state.initialised = true;
  }
  state.loaded.clear();
  select("snapshots");
}

export function resetOperator() {
  state.loaded.clear();
  for (const id of ["snapshots-body", "grants-body", "budgets-body", "audit-body", "keys-body", "audit-verification"]) clear($(id));
}
