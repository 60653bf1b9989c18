#!/usr/bin/env python3
"""Prints a receipt (JSON file) in one line; used by scripts/demo.sh."""
import json
import sys

r = json.load(open(sys.argv[1]))
rows = ", ".join(str(e["row"]) for e in r.get("rejected", []))
if r.get("status") == "committed":
    line = f"committed version {r['version']}: {r['in_stock']} in stock, {r.get('expired', 0)} expired"
    line += f", {len(r['rejected'])} rows rejected" + (f" ({rows})" if rows else "")
elif "error" in r:
    line = f"rejected: {r['error'].get('message', '')}"
else:
    line = f"rejected: {len(r.get('rejected', []))} invalid rows ({rows}); nothing stored"
print(line)
