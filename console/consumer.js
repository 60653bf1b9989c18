// The consumer's view: build a table (reference date, countries, population types,
// breakdown), see what it will cost, get it as a chart and a table, download it, and
// follow the privacy budget.
import { ApiError, codelists, getBlob, getJson, saveBlob } from "./api.js";
import { barChart } from "./chart.js";
import { $, clear, fmt, h, show, status, table } from "./dom.js";

export const DIMENSIONS = [
  { key: "coa", label: "Country of asylum" },
  { key: "coo", label: "Country of origin" },
  { key: "pop_type", label: "Population type" },
  { key: "sex", label: "Sex" },
  { key: "age", label: "Age band" },
  { key: "region", label: "Region" },
];
const DIM_LABEL = Object.fromEntries(DIMENSIONS.map((d) => [d.key, d.label]));
const DIM_PLURAL = { coa: "countries of asylum", coo: "countries of origin", pop_type: "population types", sex: "sexes", age: "age bands", region: "regions" };
// Dimensions whose code-list order is meaningful (bars keep it instead of sorting by size).
const ORDINAL = new Set(["pop_type", "sex", "age"]);
const STATUS_TEXT = { A: "normal", E: "perturbed", Q: "suppressed" };

const state = {
  lists: null,      // {dim -> Map(code -> name)}, {dim -> [codes in list order]}
  order: null,
  reporting: [],    // the reporting countries (from the regions code list)
  budgets: [],      // GET /v1/budget items
  received: new Set(), // "date|country|dims" tables received in this session (repeats are free)
  lastParams: null, // the query of the result on screen, for downloads
  initialised: false,
};

function nameOf(dim, code) {
  if (code === "_T") return "Total";
  const name = state.lists?.[dim]?.get(code);
  return name || code;
}

function countryName(code) {
  return nameOf("coa", code);
}

async function loadCodelists() {
  const raw = await codelists();
  const countries = new Map(raw.countries.map((c) => [c.alpha3, c.name]));
  const regions = new Map(raw.regions.map((r) => [r.code, r.name]));
  const pops = raw.pop_types.filter((p) => p.in_registers === "yes");
  state.lists = {
    coa: countries,
    coo: countries,
    region: regions,
    pop_type: new Map(raw.pop_types.map((p) => [p.code, p.name])),
    sex: new Map(raw.sex.map((x) => [x.code, x.name])),
    age: new Map(raw.age_bands.map((a) => [a.code, a.name])),
  };
  state.order = {
    pop_type: raw.pop_types.map((p) => p.code),
    sex: raw.sex.map((x) => x.code),
    age: raw.age_bands.map((a) => a.code),
  };
  // The reporting countries are the ones whose regions the lattice knows.
  state.reporting = [...new Set(raw.regions.map((r) => r.country))].sort();
  return pops;
}

function checkbox(name, value, label) {
  const id = `${name}-${value}`;
  return h("label", { for: id }, h("input", { type: "checkbox", id, name, value }), label);
}

function buildForm(pops) {
  const coa = clear($("coa-options"));
  for (const c of state.reporting) coa.append(checkbox("coa", c, `${countryName(c)} (${c})`));
  const pop = clear($("pop-options"));
  for (const p of pops) pop.append(checkbox("pop_type", p.code, `${p.name} (${p.code})`));
  for (const [id, none] of [["dim1", "— none: one total —"], ["dim2", "— none —"]]) {
    const sel = clear($(id));
    sel.append(h("option", { value: "" }, none));
    for (const d of DIMENSIONS) sel.append(h("option", { value: d.key }, d.label));
  }
  $("dim1").value = "coo";
  $("dim2").value = "";
}

function checked(name) {
  return [...document.querySelectorAll(`input[name="${name}"]:checked`)].map((i) => i.value);
}

// The query the form describes.
function formParams() {
  const by = [];
  for (const id of ["dim1", "dim2"]) {
    const v = $(id).value;
    if (v && !by.includes(v)) by.push(v);
  }
  return { ref_date: $("ref-date").value, by, coa: checked("coa"), pop_type: checked("pop_type") };
}

// The dimensions the gateway will break down: `by` plus every filtered one.
function brokenDown(params) {
  const dims = new Set(params.by);
  if (params.coa.length) dims.add("coa");
  if (params.pop_type.length) dims.add("pop_type");
  return [...dims].sort().join(",");
}

function tableKey(date, country, dims) {
  return `${date}|${country}|${dims}`;
}

// ---- budget -------------------------------------------------------------

async function loadBudget() {
  const body = $("budget-body");
  try {
    const data = await getJson("/v1/budget");
    state.budgets = data.budgets || [];
  } catch (e) {
    status(clear(body).appendChild(h("p", { class: "status-line" })), `The budget could not be read: ${e.message}`, true);
    return;
  }
  clear(body).append(
    table({
      testid: "budget-table",
      caption: "Budget per country and reference date (epsilon)",
      empty: "No differential-privacy grant covers you: your grants cost nothing (sdc), or there is no data yet.",
      rows: [...state.budgets].sort((a, b) => (a.ref_date + a.country).localeCompare(b.ref_date + b.country)),
      columns: [
        { label: "Country", value: (b) => `${countryName(b.country)} (${b.country})`, rowHeader: true },
        { label: "Reference date", value: (b) => b.ref_date },
        { label: "Spent", value: (b) => fmt(b.spent), num: true },
        { label: "Remaining", value: (b) => (b.budget === null ? "—" : `${fmt(b.remaining)} of ${fmt(b.budget)}`), num: true },
        { label: "ε per new table", value: (b) => fmt(b.epsilon_per_new_table ?? "—"), num: true },
        { label: "New tables left", value: (b) => fmt(b.new_tables_affordable ?? 0), num: true },
        { label: "Tables released", value: (b) => fmt(b.tables_released), num: true },
      ],
    }),
  );
  // Reference dates with data: a consumer cannot list snapshots, but each current
  // snapshot that a dp grant covers has a budget line.
  const sel = $("known-dates");
  const previous = sel.value;
  clear(sel).append(h("option", { value: "" }, "Choose a date…"));
  const seen = new Set();
  for (const b of [...state.budgets].sort((a, b) => (b.ref_date + a.country).localeCompare(a.ref_date + b.country))) {
    const v = `${b.ref_date}|${b.country}`;
    if (seen.has(v)) continue;
    seen.add(v);
    sel.append(h("option", { value: v }, `${b.ref_date} — ${countryName(b.country)}`));
  }
  if (seen.has(previous)) sel.value = previous;
  show($("known-dates-field"), seen.size > 0);
  updateCost();
}

function onKnownDate() {
  const v = $("known-dates").value;
  if (!v) return;
  const [date, country] = v.split("|");
  $("ref-date").value = date;
  for (const box of document.querySelectorAll('input[name="coa"]')) box.checked = box.value === country;
  updateCost();
}

// What a new table would cost, before asking: the dp budgets of the chosen countries at
// the chosen date. Returns {cost, lines, refused, repeat}.
function estimate(params) {
  if (!params.ref_date) return null;
  const dims = brokenDown(params);
  const items = state.budgets.filter(
    (b) => b.ref_date === params.ref_date && b.epsilon_per_new_table != null &&
      (params.coa.length === 0 || params.coa.includes(b.country)),
  );
  let cost = 0;
  const lines = [];
  let refused = false;
  let repeat = items.length > 0;
  for (const b of items) {
    const isRepeat = state.received.has(tableKey(params.ref_date, b.country, dims));
    repeat = repeat && isRepeat;
    if (!isRepeat) cost += b.epsilon_per_new_table;
    const short = b.remaining < b.epsilon_per_new_table;
    refused = refused || (short && !isRepeat);
    lines.push(
      `${countryName(b.country)}: ${isRepeat ? "free (you received this table in this session)" : `ε ${fmt(b.epsilon_per_new_table)}`}` +
        ` — ${fmt(b.remaining)} of ${fmt(b.budget)} left` + (short && !isRepeat ? " (not enough: a new table will be refused)" : ""),
    );
  }
  return { cost: Math.round(cost * 1e6) / 1e6, lines, refused, repeat, none: items.length === 0 };
}

function updateCost() {
  hideConfirm();
  const box = clear($("cost"));
  const e = estimate(formParams());
  if (!e) return;
  if (e.none) {
    box.append(h("p", {}, `No privacy budget is charged for ${$("ref-date").value}: your grants there cost nothing (sdc), or no country has data at that date.`));
    return;
  }
  box.append(
    h("p", {}, h("strong", {}, e.repeat ? "Cost: free." : `Cost of a new table: at most ε ${fmt(e.cost)}.`),
      " A table you already received is free and returns the same numbers."),
    h("ul", {}, e.lines.map((l) => h("li", {}, l))),
  );
}

// ---- asking ----------------------------------------------------------------

function hideConfirm() {
  show($("confirm"), false);
}

function onSubmit(event) {
  event.preventDefault();
  const params = formParams();
  if (!params.ref_date) {
    status($("query-status"), "Choose a reference date first.", true);
    $("ref-date").focus();
    return;
  }
  const e = estimate(params);
  if (e && !e.none && e.cost > 0) {
    $("confirm-text").textContent =
      `This new table costs at most ε ${fmt(e.cost)} of your privacy budget (${e.lines.join("; ")}). Get it?`;
    show($("confirm"), true);
    $("confirm-yes").focus();
    return;
  }
  runQuery(params);
}

async function runQuery(params) {
  hideConfirm();
  const results = $("results");
  results.setAttribute("aria-busy", "true");
  status($("query-status"), "Asking the gateway…");
  $("run-query").disabled = true;
  try {
    const data = await getJson("/v1/aggregates", params);
    state.lastParams = params;
    const dims = [...data.by].sort().join(",");
    for (const c of data.countries?.included || []) state.received.add(tableKey(data.ref_date, c, dims));
    renderResult(data, params);
    status($("query-status"), `${data.cells.length} cell${data.cells.length === 1 ? "" : "s"} for ${data.ref_date}.`);
  } catch (e) {
    show($("result-body"), false);
    status($("query-status"), explain(e), true);
  } finally {
    results.setAttribute("aria-busy", "false");
    $("run-query").disabled = false;
    loadBudget();
  }
}

function explain(e) {
  if (!(e instanceof ApiError)) return `Something went wrong: ${e.message}`;
  const prefix = {
    400: "The gateway cannot answer this table",
    403: "No grant covers this table",
    404: "No data",
    429: "Budget spent",
  }[e.status];
  return prefix ? `${prefix}: ${e.message}` : e.message;
}

// ---- the result --------------------------------------------------------------

function distinct(cells, dim) {
  return [...new Set(cells.map((c) => c[dim]))];
}

function orderCodes(dim, codes, totalOf) {
  if (ORDINAL.has(dim) && state.order[dim]) {
    const idx = (c) => (c === "_T" ? 1e9 : state.order[dim].indexOf(c));
    return [...codes].sort((a, b) => idx(a) - idx(b));
  }
  return [...codes].sort((a, b) => totalOf(b) - totalOf(a) || nameOf(dim, a).localeCompare(nameOf(dim, b)));
}

function renderResult(data, params) {
  const cells = data.cells || [];
  const dims = data.by || [];
  const varying = dims.filter((d) => distinct(cells, d).length > 1);
  const primary = [params.by[0], params.by[1]].find((d) => d && dims.includes(d)) || varying[0] || dims[0] || null;
  let seriesDims = dims.filter((d) => d !== primary && distinct(cells, d).length > 1);
  if (params.by[1] && seriesDims.includes(params.by[1])) seriesDims = [params.by[1], ...seriesDims.filter((d) => d !== params.by[1])];

  const catOf = (c) => (primary ? c[primary] : "_all");
  const serOf = (c) => seriesDims.map((d) => c[d]).join("|");
  const byCat = new Map();
  const catTotal = new Map();
  const serTotal = new Map();
  for (const c of cells) {
    const k = catOf(c);
    if (!byCat.has(k)) byCat.set(k, new Map());
    byCat.get(k).set(serOf(c), c);
    catTotal.set(k, (catTotal.get(k) || 0) + (c.value || 0));
    serTotal.set(serOf(c), (serTotal.get(serOf(c)) || 0) + (c.value || 0));
  }
  const catKeys = primary ? orderCodes(primary, [...byCat.keys()], (k) => catTotal.get(k) || 0) : ["_all"];
  const categories = catKeys.map((k) => ({ key: k, label: primary ? nameOf(primary, k) : "Total" }));
  let serKeys = [...serTotal.keys()];
  if (seriesDims.length === 1) serKeys = orderCodes(seriesDims[0], serKeys, (k) => serTotal.get(k) || 0);
  else serKeys.sort((a, b) => (serTotal.get(b) || 0) - (serTotal.get(a) || 0));
  const series = serKeys.map((k) => ({
    key: k,
    label: seriesDims.length ? seriesDims.map((d, i) => nameOf(d, k.split("|")[i])).join(" · ") : "Value",
  }));

  // Under dp a suppressed value is a noisy value below the grant's threshold; under
  // sdc it may also be a complementary suppression protecting such a cell.
  const mechanisms = new Set((data.sources || []).map((s) => s.mechanism));
  const suppressedLabel = mechanisms.size && [...mechanisms].every((m) => m === "dp") ? "<threshold" : "suppressed";

  // Caption
  const what = params.pop_type.length ? params.pop_type.map((p) => nameOf("pop_type", p)).join(", ") : "People";
  const byText = [primary, ...seriesDims].filter(Boolean).map((d) => DIM_LABEL[d].toLowerCase()).join(" and ");
  const where = (data.countries?.included || []).map(countryName).join(", ") || "no country";
  $("chart-caption").textContent = `${what}${byText ? ` by ${byText}` : ""} — ${where}, ${data.ref_date}`;

  // Summary
  const summary = clear($("result-summary"));
  const dl = h("dl", {});
  const row = (dt, ...dd) => dl.append(h("dt", {}, dt), h("dd", {}, ...dd));
  row("Countries included", where);
  for (const ex of data.countries?.excluded || []) row(`Left out: ${countryName(ex.country)}`, ex.reason);
  if (data.sources?.length) {
    row("Sources", data.sources.map((s) => `${countryName(s.country)} version ${s.version} (${s.mechanism})`).join("; "));
  }
  if (data.budget?.length) {
    row("Cost of this answer", data.budget.map((b) =>
      `${countryName(b.country)}: ${b.cost ? `ε ${fmt(b.cost)}` : "free (repeat)"}, ${fmt(b.remaining)} left`).join("; "));
  } else {
    row("Cost of this answer", "nothing (no differential-privacy grant involved)");
  }
  const suppressedCount = cells.filter((c) => c.value === null).length;
  if (suppressedCount) {
    row("Suppressed cells", `${suppressedCount}: shown hatched in the chart and as “suppressed” in the table; their value is withheld, not zero.`);
  }
  summary.append(dl);

  // Chart
  const chart = clear($("chart"));
  const legendBox = clear($("chart-legend"));
  if (!cells.length) {
    chart.append(h("p", { class: "help" }, "No cell of this table has a published value of at least 1."));
  } else {
    const { svg, legend, omitted } = barChart({
      categories,
      series,
      cell: (ck, sk) => byCat.get(ck)?.get(sk),
      suppressedLabel,
      titleId: "chart-caption",
      descId: "chart-desc",
      unit: DIM_PLURAL[primary] || "categories",
    });
    chart.append(svg, h("p", { id: "chart-desc", class: "help" },
      omitted ? `The chart draws the ${categories.length - omitted} largest; ${omitted} smaller ones and every figure are in the table below.`
        : "Every figure of the chart is also in the table below."));
    if (legend) legendBox.append(legend);
  }

  // Table: the chart's text alternative, in the chart's order.
  const catIndex = new Map(catKeys.map((k, i) => [k, i]));
  const serIndex = new Map(serKeys.map((k, i) => [k, i]));
  const rows = [...cells].sort((a, b) => catIndex.get(catOf(a)) - catIndex.get(catOf(b)) || serIndex.get(serOf(a)) - serIndex.get(serOf(b)));
  clear($("result-table")).append(
    table({
      testid: "result-table",
      region: true,
      caption: `Figures: ${$("chart-caption").textContent}`,
      rows,
      empty: "No cells.",
      columns: [
        ...dims.map((d, i) => ({ label: DIM_LABEL[d] || d, value: (c) => `${nameOf(d, c[d])}${c[d] !== "_T" && nameOf(d, c[d]) !== c[d] ? ` (${c[d]})` : ""}`, rowHeader: i === 0 })),
        { label: "Value", num: true, value: (c) => (c.value === null ? "suppressed" : fmt(c.value)), cellClass: (c) => (c.value === null ? "suppressed" : "") },
        { label: "Status", value: (c) => `${c.status} — ${STATUS_TEXT[c.status] || ""}` },
      ],
    }),
  );
  show($("result-body"), true);
  status($("download-status"), "");
}

// ---- downloads -----------------------------------------------------------

async function download(format) {
  const params = state.lastParams;
  if (!params) return;
  const name = `aggregates_${params.ref_date}_${params.by.join("-") || "total"}${format === "sdmx-csv" ? "_sdmx" : ""}.csv`;
  status($("download-status"), "Downloading…");
  try {
    // The same table again: a repeat, so it costs nothing.
    const blob = await getBlob("/v1/aggregates", { ...params, format }, {});
    saveBlob(blob, name);
    status($("download-status"), `Saved ${name}.`);
  } catch (e) {
    status($("download-status"), explain(e), true);
  }
}

// ---- wiring ----------------------------------------------------------------

export async function showConsumer() {
  if (!state.initialised) {
    const pops = await loadCodelists();
    buildForm(pops);
    const form = $("query-form");
    form.addEventListener("submit", onSubmit);
    form.addEventListener("change", (e) => {
      if (e.target.id === "known-dates") onKnownDate();
      else updateCost();
    });
    $("ref-date").addEventListener("input", updateCost);
    $("confirm-yes").addEventListener("click", () => runQuery(formParams()));
    $("confirm-no").addEventListener("click", () => {
      hideConfirm();
      $("run-query").focus();
    });
    $("download-csv").addEventListener("click", () => download("csv"));
    $("download-sdmx").addEventListener("click", () => download("sdmx-csv"));
    state.initialised = true;
  }
  await loadBudget();
}

// Forgets everything of the signed-out user.
export function resetConsumer() {
  state.budgets = [];
  state.received.clear();
  state.lastParams = null;
  show($("result-body"), false);
  clear($("budget-body"));
  clear($("cost"));
  hideConfirm();
  status($("query-status"), "Choose a reference date and a breakdown, then “Get table”.");
  if (state.initialised) {
    $("query-form").reset();
    $("dim1").value = "coo";
  }
}
