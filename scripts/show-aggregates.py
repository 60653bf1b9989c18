#!/usr/bin/env python3
"""Prints a gateway JSON answer (on stdin) as a small table; used by scripts/demo.sh.

Understands /v1/aggregates answers, the UNHCR-style envelopes of /v1/unhcr/* and /v1/budget.
"""
import json
import sys

r = json.load(sys.stdin)
if "error" in r:
    print("   ->", r["error"]["code"] + ":", r["error"]["message"])
    sys.exit()


def show(value):
    return "<5 (Q)" if value is None else str(value)


if "budgets" in r:
    print(f"   {'consumer':<10}{'country':<9}{'ref_date':<12}{'spent':>7}{'budget':>8}{'remaining':>11}  new tables left")
    for b in r["budgets"]:
        budget = "-" if b["budget"] is None else b["budget"]
        print(f"   {b['consumer']:<10}{b['country']:<9}{b['ref_date']:<12}{b['spent']:>7}{budget:>8}"
              f"{b['remaining']:>11}  {b.get('new_tables_affordable', 0)}")
    sys.exit()

if "items" in r:
    fields = ["refugees", "asylum_seekers", "stateless"]
    print(f"   {'year':<6}{'country of asylum':<20}" + "".join(f"{f:>16}" for f in fields))
    for item in r["items"]:
        print(f"   {item['year']:<6}{item['coa_name'][:19]:<20}" + "".join(f"{show(item[f]):>16}" for f in fields))
else:
    by = r["by"]
    print("   " + "  ".join(f"{d:>8}" for d in by) + "     value  status")
    cells = r["cells"]
    hidden = [c for c in cells if c["value"] is None]
    # Under dp most cells of a wide table are below the threshold; list them only when few.
    shown = cells if len(hidden) <= 8 else [c for c in cells if c["value"] is not None]
    for c in shown:
        value = "-" if c["value"] is None else c["value"]
        print("   " + "  ".join(f"{c[d]:>8}" for d in by) + f"  {value:>8}  {c['status']:>6}")
    if len(shown) < len(cells):
        print(f"   ... and {len(hidden)} cells below the threshold or suppressed (status Q), not listed here")
    print("   sources: " + ", ".join(f"{s['country']} v{s['version']} ({s['mechanism']})" for s in r["sources"]))
included = ", ".join(r["countries"]["included"]) or "none"
excluded = "; ".join(f"{e['country']} ({e['reason']})" for e in r["countries"]["excluded"]) or "none"
print(f"   countries included: {included} | excluded: {excluded}")
for b in r.get("budget", []):
    print(f"   budget {b['country']}: this answer cost {b['cost']}, {b['remaining']} remains")
