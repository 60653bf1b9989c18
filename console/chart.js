// A horizontal bar chart drawn as SVG, stacked when there is more than one series.
// Suppressed cells (status Q, value null) are never drawn as zero: each gets a hatched
// marker after the bar and the bar's label says so. The same figures are always shown
// in a table next to the chart, which is the chart's text alternative.
import { h, s, fmt } from "./dom.js";

// Colours with at least 3:1 contrast on white, distinguishable without relying on hue alone
// (the table carries every figure).
export const PALETTE = ["#0b4f8a", "#c05600", "#1e7a46", "#8e3b8e", "#2b7bb0", "#a4161a", "#5a5a5a", "#6f6300"];
const HATCH_INK = "#2f3540";

let chartCounter = 0;

function hatchPattern(id) {
  return s(
    "pattern",
    { id, patternUnits: "userSpaceOnUse", width: 6, height: 6, patternTransform: "rotate(45)" },
    s("rect", { width: 6, height: 6, fill: "#ffffff" }),
    s("line", { x1: 0, y1: 0, x2: 0, y2: 6, stroke: HATCH_INK, "stroke-width": 2.5 }),
  );
}

function niceStep(max) {
  const rough = max / 5;
  const p = Math.pow(10, Math.floor(Math.log10(rough)));
  for (const m of [1, 2, 5, 10]) if (m * p >= rough) return m * p;
  return 10 * p;
}

function truncate(label, maxChars) {
  return label.length > maxChars ? label.slice(0, maxChars - 1) + "…" : label;
}

// categories: [{key, label}] in display order; series: [{key, label}] in stack order;
// cell(categoryKey, seriesKey) -> {value, status} or undefined;
// suppressedLabel: what a Q marker says ("< threshold" or "suppressed").
// Long charts (more than maxBars categories) draw the largest maxBars categories with a
// published value and one hatched row counting those whose values are all suppressed
// (under dp, mostly empty cells whose noise came out between 1 and the threshold); every
// cell stays in the table. Returns {svg, legend, omitted}.
export function barChart({ categories, series, cell, suppressedLabel, titleId, descId, maxBars = 30, unit = "categories" }) {
  const id = `chart${++chartCounter}`;
  const stacked = series.length > 1;
  const color = (i) => PALETTE[i % PALETTE.length];

  const totals = categories.map((c) => {
    let known = 0;
    let suppressed = 0;
    let any = false;
    for (const se of series) {
      const v = cell(c.key, se.key);
      if (!v) continue;
      if (v.value === null || v.value === undefined) suppressed++;
      else {
        known += v.value;
        any = true;
      }
    }
    return { known, suppressed, any };
  });

  // Which categories get a bar of their own.
  let shown = categories.map((c, i) => i);
  let onlySuppressed = 0;
  let omitted = 0;
  if (categories.length > maxBars) {
    shown = [];
    categories.forEach((c, i) => {
      if (!totals[i].any) onlySuppressed++;
      else if (shown.length < maxBars) shown.push(i);
      else omitted++;
    });
  }
  const rows = shown.length + (onlySuppressed ? 1 : 0);

  const width = 860;
  const rowH = 26;
  const barH = 18;
  const markerW = 12;
  const maxLabelChars = 34;
  const longest = Math.max(10, ...shown.map((i) => Math.min(categories[i].label.length, maxLabelChars)));
  const labelW = Math.min(250, Math.max(70, Math.round(longest * 6.8) + 12));
  const rightPad = 150;
  const top = 26;
  const plotW = width - labelW - rightPad;
  const height = top + rows * rowH + 8;

  const maxKnown = Math.max(0, ...shown.map((i) => totals[i].known));
  const step = maxKnown > 0 ? niceStep(maxKnown) : 1;
  const domainMax = maxKnown > 0 ? Math.ceil(maxKnown / step) * step : 5;
  const scale = plotW / domainMax;

  const hatchId = `${id}-hatch`;
  const svg = s("svg", {
    xmlns: "http://www.w3.org/2000/svg",
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: "img",
    "aria-labelledby": titleId,
    "aria-describedby": descId,
    "data-testid": "bar-chart",
  });
  svg.append(s("defs", {}, hatchPattern(hatchId)));

  // Axis: ticks and grid lines.
  const axis = s("g", { class: "axis", "aria-hidden": "true" });
  for (let t = 0; t <= domainMax + 1e-9; t += step) {
    const x = labelW + t * scale;
    axis.append(s("line", { x1: x, x2: x, y1: top - 4, y2: height - 6, stroke: t === 0 ? "#6b7482" : "#dde2ea", "stroke-width": 1 }));
    axis.append(s("text", { x, y: top - 9, "text-anchor": "middle" }, fmt(t)));
  }
  svg.append(axis);

  shown.forEach((i, row) => {
    const c = categories[i];
    const y = top + row * rowH + (rowH - barH) / 2;
    const g = s("g", { class: "bar", "data-category": c.key });
    g.append(
      s("text", { x: labelW - 8, y: y + barH / 2 + 4, "text-anchor": "end" }, truncate(c.label, maxLabelChars),
        c.label.length > maxLabelChars ? s("title", {}, c.label) : null),
    );
    let x = labelW;
    const markers = [];
    series.forEach((se, si) => {
      const v = cell(c.key, se.key);
      if (!v) return;
      const name = stacked ? `${c.label} · ${se.label}` : c.label;
      if (v.value === null || v.value === undefined) {
        markers.push({ name, si });
        return;
      }
      const w = Math.max(v.value * scale, 0);
      g.append(
        s("rect", { x, y, width: w, height: barH, fill: color(si), stroke: "#ffffff", "stroke-width": stacked ? 1 : 0, "data-status": v.status },
          s("title", {}, `${name}: ${fmt(v.value)}${v.status === "E" ? " (perturbed)" : ""}`)),
      );
      x += w;
    });
    for (const marker of markers) {
      g.append(
        s("rect", {
          x: x + 1, y, width: markerW, height: barH, fill: `url(#${hatchId})`,
          stroke: stacked ? color(marker.si) : HATCH_INK, "stroke-width": 1.5,
          class: "bar-suppressed", "data-status": "Q",
        }, s("title", {}, `${marker.name}: suppressed (${suppressedLabel}); not zero`)),
      );
      x += markerW + 2;
    }
    const t = totals[i];
    let label = t.any ? fmt(t.known) : "";
    if (t.suppressed) label += (label ? " + " : "") + (t.suppressed > 1 && stacked ? `${t.suppressed} × ` : "") + suppressedLabel;
    g.append(s("text", { x: x + 5, y: y + barH / 2 + 4, class: t.suppressed ? "label-suppressed" : null }, label));
    svg.append(g);
  });

  if (onlySuppressed) {
    const y = top + shown.length * rowH + (rowH - barH) / 2;
    const text = `${onlySuppressed} other ${unit}: every value suppressed (in the table)`;
    svg.append(
      s("g", { class: "bar bar-others" },
        s("text", { x: labelW - 8, y: y + barH / 2 + 4, "text-anchor": "end" }, `${onlySuppressed} others`),
        s("rect", { x: labelW + 1, y, width: markerW, height: barH, fill: `url(#${hatchId})`, stroke: HATCH_INK, "stroke-width": 1.5, class: "bar-suppressed-group" },
          s("title", {}, text)),
        s("text", { x: labelW + markerW + 6, y: y + barH / 2 + 4 }, text)),
    );
  }

  // Legend: an HTML list, so that it reflows and reads as text.
  const items = [];
  if (stacked) {
    series.forEach((se, si) =>
      items.push(h("li", {}, s("svg", { width: 14, height: 14, "aria-hidden": "true" }, s("rect", { width: 14, height: 14, fill: color(si) })), se.label)),
    );
  }
  if (totals.some((t) => t.suppressed)) {
    const legendHatch = `${id}-legend-hatch`;
    items.push(
      h("li", {},
        s("svg", { width: 14, height: 14, "aria-hidden": "true" }, s("defs", {}, hatchPattern(legendHatch)),
          s("rect", { x: 0.75, y: 0.75, width: 12.5, height: 12.5, fill: `url(#${legendHatch})`, stroke: HATCH_INK, "stroke-width": 1.5 })),
        suppressedLabel === "<threshold" ? "suppressed, below the threshold: value withheld, not zero" : "suppressed: value withheld, not zero"),
    );
  }
  const legend = items.length ? h("ul", { class: "legend", "aria-label": "Legend" }, items) : null;
  return { svg, legend, omitted };
}
