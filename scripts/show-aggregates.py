#!/usr/bin/env python3
"""Prints a /v1/aggregates JSON answer (on stdin) as a small table; used by scripts/demo.sh."""
import json
import sys

r = json.load(sys.stdin)
if "error" in r:
    print("   ->", r["error"]["code"] + ":", r["error"]["message"])
    sys.exit()
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
included = ", ".join(r["countries"]["included"]) or "none"
excluded = "; ".join(f"{e['country']} ({e['reason']})" for e in r["countries"]["excluded"]) or "none"
print(f"   countries included: {included} | excluded: {excluded}")
print("   sources: " + ", ".join(f"{s['country']} v{s['version']} ({s['mechanism']})" for s in r["sources"]))
for b in r.get("budget", []):
    print(f"   budget {b['country']}: this answer cost {b['cost']}, spent {b['spent']}, remaining {b['remaining']}")
