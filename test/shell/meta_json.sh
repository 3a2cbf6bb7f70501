#!/usr/bin/env bash
# META.json is valid PGXN meta spec 1.0.0 and provides the control file's default_version.
set -euo pipefail
cd "$(dirname "$0")/../.."
control_version=$(sed -n "s/^default_version = '\(.*\)'/\1/p" ducache.control)
python3 - "$control_version" <<'PY'
import json, sys
want = sys.argv[1]
meta = json.load(open("META.json"))
for field in ("name", "abstract", "version", "maintainer", "license", "provides", "meta-spec"):
    assert field in meta, f"META.json lacks {field}"
assert meta["meta-spec"]["version"] == "1.0.0", "meta-spec must be 1.0.0"
assert meta["version"] == want, f"META.json version {meta['version']} != control {want}"
p = meta["provides"]["ducache"]
assert p["file"] and p["version"] == want, f"provides.ducache.version {p['version']} != {want}"
assert meta["prereqs"]["runtime"]["requires"]["PostgreSQL"].startswith("15"), "needs PostgreSQL 15 prereq"
print("META.json ok:", want)
PY
