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
for c in r["cells"]:
    value = "-" if c["value"] is None else c["value"]
    print("   " + "  ".join(f"{c[d]:>8}" for d in by) + f"  {value:>8}  {c['status']:>6}")
included = ", ".join(r["countries"]["included"]) or "none"
excluded = "; ".join(f"{e['country']} ({e['reason']})" for e in r["countries"]["excluded"]) or "none"
print(f"   countries included: {included} | excluded: {excluded}")
print("   sources: " + ", ".join(f"{s['country']} v{s['version']} ({s['mechanism']})" for s in r["sources"]))
