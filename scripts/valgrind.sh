#!/usr/bin/env bash
# Runs every ducache function (and its error paths) inside `postgres --single` under valgrind memcheck (ASan cannot be
# preloaded into the distribution's server). Reports the memcheck errors whose stack passes
# through ducache.so; exits 1 if there is any. Uses the private PostgreSQL copy of lib.sh.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
command -v valgrind >/dev/null || as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null
if [ "${1:-}" != --no-build ]; then   # the test command has built and installed already
    ensure_packages
    make_pg_copy
    build_and_install 1
fi
VG=$DUCACHE_SANDBOX/valgrind
rm -rf "$VG" && mkdir -p "$VG"
[ "$(id -u)" = 0 ] && chown "$(pg_owner)" "$VG"
as_owner "$PGBIN/initdb" -D "$VG/data" -U postgres --auth=trust >/dev/null
cat > "$VG/script.sql" <<'SQL'
CREATE EXTENSION ducache;
CREATE TABLE users (id text, username text, email text, role text);
INSERT INTO users VALUES ('u1', 'ada', 'ada@example.com', 'admin');
INSERT INTO daily_usage_cache (date, raw_data, aggregated_by_user, aggregated_by_model, aggregated_by_provider) SELECT date '2025-01-01' + d, jsonb_build_object('breakdown', jsonb_build_object('models', jsonb_build_object('m', jsonb_build_object('metrics', jsonb_build_object('api_requests', 1), 'api_keys', jsonb_build_object('k1', jsonb_build_object('metrics', jsonb_build_object('api_requests', d, 'spend', 0.25))))))), (SELECT jsonb_object_agg('u' || u, jsonb_build_object('metrics', jsonb_build_object('api_requests', u, 'spend', u * 0.001), 'username', 'n' || u)) FROM generate_series(1, 50) AS u), jsonb_build_object('m', jsonb_build_object('totalRequests', d, 'totalCost', '1e-3')), jsonb_build_object('p', jsonb_build_object('requests', '7')) FROM generate_series(0, 20) AS d
SELECT count(*) FROM ducache_user_breakdown('2025-01-01', '2025-01-31')
SELECT count(*) FROM ducache_model_breakdown('2025-01-01', '2025-01-31')
SELECT count(*) FROM ducache_provider_breakdown('2025-01-01', '2025-01-31')
SELECT * FROM ducache_analytics('2025-01-05', '2025-01-10')
SELECT count(*) FROM ducache_daily_trend('2025-01-01', '2025-01-31')
SELECT ducache_merge(aggregated_by_user) IS NOT NULL FROM daily_usage_cache
SELECT count(*) FROM ducache_batch_upsert(ARRAY['2025-02-02', '2025-02-01']::date[], ARRAY['{}', '{}']::jsonb[], ARRAY['{"u1": {"totalRequests": 1}}', NULL]::jsonb[], NULL, NULL)
SELECT count(*) FROM ducache_rebuild('2025-01-01', '2025-01-31')
SELECT count(*) FROM ducache_batch_upsert(ARRAY['2025-02-02', '2025-02-02']::date[], ARRAY['{}', '{}']::jsonb[], NULL, NULL, NULL)
INSERT INTO daily_usage_cache (date, aggregated_by_user) VALUES ('2025-03-01', '{"bad": {"totalRequests": "lots"}}')
SELECT count(*) FROM ducache_user_breakdown('2025-03-01', '2025-03-01')
CREATE FUNCTION ducache_test_fail(text) RETURNS boolean AS 'ducache', 'ducache_test_fail' LANGUAGE C STRICT
SELECT ducache_test_fail('pg_error')
SELECT ducache_test_fail('core_error')
SELECT ducache_test_fail('bad_alloc')
SQL
as_owner valgrind --tool=memcheck --num-callers=40 --error-limit=no --track-origins=no \
    --log-file="$VG/memcheck.log" "$PGBIN/postgres" --single -D "$VG/data" postgres \
    < "$VG/script.sql" > "$VG/output.log" 2>&1 || true
# Error blocks start with "==PID== <kind>" after a blank "==PID== " line; keep those with ducache frames.
python3 - "$VG/memcheck.log" "$VG/output.log" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
out = open(sys.argv[2]).read()
# The script must really have run: its results and its deliberate errors are in the output.
ran = out.count("count = ") >= 6 and "deliberate core error" in out and "the same date appears twice" in out
print("script ran:", ran)
if not ran:
    print(out[-3000:])
    sys.exit(1)
blocks = re.split(r"\n==\d+== \n", text)
ours = [b for b in blocks if ("ducache.so" in b or "ducache::" in b) and re.search(r"(Invalid|uninitialised|Mismatched|overlap|definitely lost)", b)]
summary = re.findall(r"ERROR SUMMARY: .*", text)
print("memcheck:", summary[-1] if summary else "no summary")
print("errors through ducache.so:", len(ours))
for b in ours[:5]:
    print(b[:3000])
sys.exit(1 if ours else 0)
PY
