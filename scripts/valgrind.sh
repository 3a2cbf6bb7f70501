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
INSERT INTO daily_usage_cache (date, aggregated_by_user, aggregated_by_model, aggregated_by_provider) VALUES ('2025-04-01', '{"u1": {"metrics": {"api_requests": 3, "spend": 0.5}, "models": {"gpt-4o": {"metrics": {"api_requests": 3, "spend": 0.5}, "api_keys": {"k-a": {"keyAlias": "k-a", "keyName": "ci", "metrics": {"api_requests": 2, "spend": 0.25}}, "k-b": {"metrics": {"api_requests": 1, "spend": 0.25}}}}}}, "u2": {"totalRequests": 4}}', '{"gpt-4o": {"metrics": {"api_requests": 3}, "users": {"u1": {}}}}', '{}')
SELECT count(*) FROM ducache_user_breakdown('2025-04-01', '2025-04-30', ARRAY['u1'], ARRAY['gpt-4o'], ARRAY['k-a'])
SELECT count(*) FROM ducache_model_breakdown('2025-04-01', '2025-04-30', model_ids => ARRAY['gpt-4o'])
SELECT count(*) FROM ducache_provider_breakdown('2025-04-01', '2025-04-30', api_key_aliases => ARRAY['k-b'])
SELECT count(*) FROM ducache_provider_breakdown('2025-04-01', '2025-04-30')
SELECT total_requests FROM ducache_analytics('2025-04-01', '2025-04-30', ARRAY['u1', 'u2'])
SELECT count(*) FROM ducache_daily_trend('2025-04-01', '2025-04-30', api_key_aliases => ARRAY['k-a'])
SELECT count(*) FROM ducache_user_model_breakdown('2025-04-01', '2025-04-30', NULL, NULL, NULL)
SELECT count(*) FROM ducache_api_key_breakdown('2025-04-01', '2025-04-30', NULL, ARRAY['gpt-4o'], NULL)
SELECT length(ducache_dashboard('2025-04-01', '2025-04-30', '{"apiKeyIds": ["k-a"], "providerIds": ["openai"]}')::text) > 0
SELECT length(ducache_filter_options('2025-04-01', '2025-04-30')::text) > 0
SELECT count(*) FROM ducache_user_breakdown('2025-04-01', '2025-04-30', ARRAY['u1', NULL])
SELECT ducache_dashboard('2025-04-01', '2025-04-30', '{"userIds": [1]}')
SELECT count(*) FROM ducache_batch_upsert(ARRAY['2025-04-01']::date[], ARRAY['{}']::jsonb[], ARRAY['{"u2": {"totalRequests": 4}}']::jsonb[], NULL, NULL)
SELECT count(*) FROM ducache_batch_upsert(ARRAY['2025-04-01']::date[], ARRAY['{}']::jsonb[], ARRAY['{"u2": {"totalRequests": 4}}']::jsonb[], NULL, NULL, touch_unchanged => true)
SELECT count(*) FROM ducache_refresh_rollups()
SELECT length(ducache_dashboard('2025-01-03', '2025-01-12')::text) > 0
SELECT count(*) FROM ducache_user_breakdown('2025-01-01', '2025-01-31')
SELECT count(*) FROM ducache_provider_breakdown('2025-01-01', '2025-02-28')
SELECT count(*) FROM ducache_model_breakdown('2025-01-01', '2025-04-30', model_ids => ARRAY['m'])
SELECT count(*) FROM ducache_daily_trend('2025-01-01', '2025-01-31')
SELECT total_requests FROM ducache_analytics('2025-01-01', '2025-01-31')
SELECT count(*) FROM ducache_api_key_breakdown('2025-01-01', '2025-04-30', NULL, NULL, NULL)
SELECT length(ducache_dashboard('2025-02-01', '2025-03-31')::text) > 0
SELECT length(ducache_dashboard('2025-02-01', '2025-03-31', '{"userIds": ["u1"], "providerIds": ["openai"]}')::text) > 0
SELECT length(ducache_filter_options('2025-01-01', '2025-04-30')::text) > 0
INSERT INTO daily_usage_cache (date, aggregated_by_user) VALUES ('2025-03-01', '{"bad": {"totalRequests": "lots"}}')
SELECT count(*) FROM ducache_refresh_rollups('2025-03-01', '2025-03-31')
SELECT count(*) FROM ducache_user_breakdown('2025-03-01', '2025-03-01')
CREATE FUNCTION ducache_test_fail(text) RETURNS boolean AS 'ducache', 'ducache_test_fail' LANGUAGE C STRICT
SELECT ducache_test_fail('pg_error')
SELECT ducache_test_fail('core_error')
SELECT ducache_test_fail('bad_alloc')
SQL
as_owner valgrind --tool=memcheck --num-callers=40 --error-limit=no --track-origins=no \
    --leak-check=full --show-leak-kinds=definite --log-file="$VG/memcheck.log" "$PGBIN/postgres" --single -D "$VG/data" postgres \
    < "$VG/script.sql" > "$VG/output.log" 2>&1 || true
# The script must really have run: its results and its deliberate errors are in the output.
out=$(cat "$VG/output.log")
if [ "$(grep -c 'count = ' <<<"$out")" -lt 6 ] || ! grep -q "deliberate core error" <<<"$out" ||
   ! grep -q "the same date appears twice" <<<"$out"; then
    echo "script ran: False"; tail -c 3000 "$VG/output.log"; exit 1
fi
echo "script ran: True"
# The check itself is checked: a deliberate uninitialised read in ducache.so must be reported.
printf '%s\n' "CREATE FUNCTION ducache_test_fail(text) RETURNS boolean AS 'ducache', 'ducache_test_fail' LANGUAGE C STRICT" \
    "SELECT ducache_test_fail('valgrind_canary')" |
    as_owner valgrind --tool=memcheck --num-callers=40 --log-file="$VG/canary.log" \
        "$PGBIN/postgres" --single -D "$VG/data" postgres > "$VG/canary_output.log" 2>&1 || true
if python3 "$REPO/scripts/valgrind_report.py" "$VG/canary.log" >/dev/null; then
    echo "canary: the deliberate error in ducache.so was NOT reported"; exit 1
fi
echo "canary: the deliberate error in ducache.so was reported"
python3 "$REPO/scripts/valgrind_report.py" "$VG/memcheck.log"
