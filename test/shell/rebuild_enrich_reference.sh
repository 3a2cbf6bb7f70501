#!/usr/bin/env bash
# CONTRACT §5.5: ducache_rebuild writes, day for day, what test/reference/litemaas_enrich.py
# (LiteMaaS's enrichWithUserMapping, bugs fixed) computes from the same raw_data and tables:
# the 10-day regression fixture plus the shared example day, with a deleted users row, a NULL
# role, keys without litellm_key_alias, and two hashes sharing one alias. Compared as JSON values
# (numbers by value).
set -euo pipefail
cd "$(dirname "$0")/../.."
DB=ducache_enrich_ref
export PGOPTIONS="-c client_min_messages=warning"
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
psql -X -q -v ON_ERROR_STOP=1 -d $DB >/dev/null <<'SQL'
CREATE EXTENSION ducache;
\i test/reference/litemaas_fixture.sql
CREATE TABLE users AS SELECT * FROM litemaas_ref.gen_users(8);
CREATE TABLE api_keys AS SELECT * FROM litemaas_ref.gen_api_keys(8);
DELETE FROM users WHERE username = 'user3';                       -- its keys become unmapped
UPDATE users SET roles = NULL WHERE username = 'user2';            -- reads 'user'
UPDATE api_keys SET litellm_key_alias = NULL WHERE litellm_key_alias LIKE '%-ci';   -- metadata alias
UPDATE api_keys SET litellm_key_alias = 'u4-laptop' WHERE key_hash = md5('key:4:u4-ci');  -- shares an alias
-- The shared example day: ada owns the first key, the second is unknown, the empty one skipped.
INSERT INTO users VALUES ('6f1c2b3a-0d4e-4f5a-9b8c-7d6e5f4a3b2c', 'ada', 'ada@example.com', '{admin}');
INSERT INTO api_keys VALUES ('3f2a9c0e5b1d4e7f8a6b2c9d0e1f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f',
                             '6f1c2b3a-0d4e-4f5a-9b8c-7d6e5f4a3b2c', 'Production', NULL);
SQL
# test/reference/example_raw_day.json: a copy of the contract's examples/raw-daily-activity.json.
echo "INSERT INTO daily_usage_cache (date, raw_data) VALUES ('2025-10-14', :'raw')" |
    psql -X -q -v ON_ERROR_STOP=1 -d $DB -v raw="$(cat test/reference/example_raw_day.json)" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d $DB -c "SELECT count(*) FROM ducache_rebuild('2025-01-01', '2025-12-31')" >/dev/null

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
psql -X -At -v ON_ERROR_STOP=1 -d $DB -c "SELECT json_agg(json_build_object('key_hash', k.key_hash,
    'user_id', k.user_id, 'username', u.username, 'email', u.email, 'role', u.roles[1],
    'litellm_key_alias', k.litellm_key_alias, 'name', k.name)) FROM api_keys AS k JOIN users AS u ON u.id = k.user_id" > "$tmp/keys.json"
psql -X -At -v ON_ERROR_STOP=1 -d $DB -c "SELECT json_agg(json_build_object('date', date, 'raw', raw_data,
    'aggregated_by_user', aggregated_by_user, 'aggregated_by_model', aggregated_by_model,
    'aggregated_by_provider', aggregated_by_provider, 'total_metrics', total_metrics) ORDER BY date)
    FROM daily_usage_cache" > "$tmp/rows.json"
python3 - "$tmp" <<'PY'
import json, sys
from decimal import Decimal
sys.path.insert(0, "test/reference")
from litemaas_enrich import enrich

tmp = sys.argv[1]
keys = json.load(open(f"{tmp}/keys.json"))
rows = json.load(open(f"{tmp}/rows.json"), parse_float=Decimal)
want_cols = ("aggregated_by_user", "aggregated_by_model", "aggregated_by_provider", "total_metrics")
bad = 0
for row in rows:
    # The reference's own output, read back as JSON (numbers by value, as jsonb compares them).
    from litemaas_cells import to_json
    want = json.loads(to_json(enrich(row["raw"], keys)), parse_float=Decimal)
    for col in want_cols:
        if row[col] != want[col]:
            bad += 1
            print(f"MISMATCH {row['date']} {col}:\n got  {json.dumps(row[col], default=str)[:600]}\n want {json.dumps(want[col], default=str)[:600]}")
cells = sum(len(m.get("api_keys", {})) for r in rows for u in r["aggregated_by_user"].values() for m in u["models"].values())
print(f"{len(rows)} days, {cells} key cells, {bad} mismatches")
sys.exit(1 if bad or len(rows) != 11 else 0)
PY
psql -X -q -d postgres -c "DROP DATABASE $DB"
