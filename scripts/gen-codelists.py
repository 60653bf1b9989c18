#!/usr/bin/env python3
"""Regenerates schemas/codelists/{countries,regions}.tsv from Debian's iso-codes package.

Kazakhstan's subdivisions changed to numeric codes (ISO 3166-2:KZ, 2020-2023) after the
iso-codes release in Debian 12, so KZ regions come from schemas/codelists/regions-kz.tsv,
which is maintained by hand from ISO's Online Browsing Platform.

Usage: scripts/gen-codelists.py [ISO_CODES_JSON_DIR]
"""
import json
import os
import sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
src = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/iso-codes/json"
out = os.path.join(root, "schemas", "codelists")

countries = json.load(open(os.path.join(src, "iso_3166-1.json"), encoding="utf-8"))["3166-1"]
rows = sorted(countries, key=lambda c: c["alpha_3"])
with open(os.path.join(out, "countries.tsv"), "w", encoding="utf-8") as f:
    f.write("alpha3\talpha2\tnumeric\tname\n")
    for c in rows:
        f.write(f"{c['alpha_3']}\t{c['alpha_2']}\t{c['numeric']}\t{c['name']}\n")
    # Codes outside ISO 3166-1 that the shared schema uses (ICAO Doc 9303 / UNHCR practice).
    f.write("UNK\t\t\tUnknown\n")
    f.write("XXA\t\t\tStateless\n")

alpha2_to_3 = {c["alpha_2"]: c["alpha_3"] for c in countries}
subdivisions = json.load(open(os.path.join(src, "iso_3166-2.json"), encoding="utf-8"))["3166-2"]
with open(os.path.join(out, "regions.tsv"), "w", encoding="utf-8") as f:
    f.write("code\tcountry\ttype\tname\n")
    for cc in ["KG", "TJ", "TM", "UZ"]:
        for s in sorted((s for s in subdivisions if s["code"].startswith(cc + "-")),
                        key=lambda s: s["code"]):
            f.write(f"{s['code']}\t{alpha2_to_3[cc]}\t{s['type']}\t{s['name']}\n")
    with open(os.path.join(out, "regions-kz.tsv"), encoding="utf-8") as kz:
        next(kz)
        for line in kz:
            if line.strip():
                f.write(line if line.endswith("\n") else line + "\n")
print("wrote", os.path.join(out, "countries.tsv"), "and regions.tsv")
