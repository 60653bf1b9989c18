// Small DOM helpers. Text always goes in as text nodes (never innerHTML), so nothing
// the API returns can become markup.

export const $ = (id) => document.getElementById(id);

// h("td", {class: "num"}, "12") -> <td class="num">12</td>. Attributes: class, dataset
// via "data-*", boolean true sets an empty attribute, false/null/undefined skip it,
// functions under "on*" become listeners.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

const SVG_NS = "http://www.w3.org/2000/svg";
export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") {
      el.addEventListener(k.slice(2), v);
    } else {
      el.setAttribute(k, v === true ? "" : String(v));
    }
  }
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function show(el, visible) {
  el.hidden = !visible;
}

const numberFormat = new Intl.NumberFormat("en-GB");
export function fmt(n) {
  return n === null || n === undefined ? "" : typeof n === "number" ? numberFormat.format(n) : String(n);
}

// A table from column definitions [{label, value: row => text|Node, num: bool}] and rows.
// region: a long table scrolls in a focusable region of its own (keyboard-scrollable).
export function table({ caption, columns, rows, testid, empty = "Nothing to show.", region = false }) {
  if (!rows.length) return h("p", { class: "help" }, empty);
  const t = h(
    "table",
    { "data-testid": testid },
    caption ? h("caption", {}, caption) : null,
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col", class: c.num ? "num" : null }, c.label)))),
    h(
      "tbody",
      {},
      rows.map((r) =>
        h(
          "tr",
          {},
          columns.map((c, i) => {
            const v = c.value(r);
            const cls = [c.num ? "num" : "", c.cellClass ? c.cellClass(r) || "" : ""].join(" ").trim();
            const attrs = { class: cls || null };
            return i === 0 && c.rowHeader ? h("th", { scope: "row", ...attrs }, v) : h("td", attrs, v);
          }),
        ),
      ),
    ),
  );
  if (!region || rows.length <= 25) return t;
  return h("div", { class: "table-region", role: "region", tabindex: "0", "aria-label": caption || "Table" }, t);
}

// Sets a status line's text and whether it reports an error.
export function status(el, text, isError = false) {
  el.textContent = text;
  el.classList.toggle("error", isError);
}
