# Shared by the scale-out benchmarks (bench/scale_out_*.sh; sourced after scripts/lib.sh): the
# setup of test/shell/scale_out.sh's clusters and databases, the calls compared, and the
# server-side median of a call.

# Starts (REUSE=1 and a KEEP=1 run's clusters present) or builds the shards and the databases
# ducache_so_single / ducache_so_coord at SCALE_OUT_USERS x SCALE_OUT_DAYS; without KEEP=1 they
# are removed when the script exits. Sets base (the clusters' directory), end and uid.
scale_out_setup() {
    export SCALE_OUT_SETUP_ONLY=1
    base=$DUCACHE_SANDBOX/scale_out
    if [ -n "${REUSE:-}" ] && [ -d "$base/shard1" ]; then
        for k in 0 1; do as_owner "$PGBIN/pg_ctl" -D "$base/shard$k" -l "$base/shard$k.log" -w start >/dev/null 2>&1 || true; done
    else
        bash test/shell/scale_out.sh >/dev/null
    fi
    # KEEP=1 leaves the clusters and databases for a look by hand (scale_out.sh cleans them up next time).
    [ -z "${KEEP:-}" ] && trap 'for k in 0 1; do as_owner "$PGBIN/pg_ctl" -D "$base/shard$k" -m fast stop >/dev/null 2>&1 || true; done; rm -rf "$base"' EXIT
    end=$(psql -X -At -d ducache_so_single -c "SELECT max(date) FROM daily_usage_cache")
    uid=$(psql -X -At -d ducache_so_single -c "SELECT md5('litemaas-user1')::uuid")
}

# The read functions of §3-§5 over 2025-03-01 .. $end, with and without filters, then the
# per-call floor (one day): into the array read_calls.
scale_out_read_calls() {
    read_calls=("ducache_user_breakdown('2025-03-01', '$end')" "ducache_model_breakdown('2025-03-01', '$end')"
        "ducache_provider_breakdown('2025-03-01', '$end')" "ducache_analytics('2025-03-01', '$end')"
        "ducache_daily_trend('2025-03-01', '$end')"
        "ducache_user_breakdown('2025-03-01', '$end', NULL, ARRAY['gpt-4o'])"
        "ducache_model_breakdown('2025-03-01', '$end', ARRAY['$uid'])"
        "ducache_api_key_breakdown('2025-03-01', '$end', ARRAY['$uid'])"
        "ducache_provider_breakdown('2025-03-01', '$end', ARRAY['$uid'])"
        "ducache_provider_breakdown('2025-03-01', '$end', NULL, ARRAY['gpt-4o'])"
        "ducache_analytics('2025-03-01', '$end', NULL, ARRAY['gpt-4o'])"
        "ducache_daily_trend('2025-03-01', '$end', NULL, ARRAY['gpt-4o'])"
        "ducache_user_model_breakdown('2025-03-01', '$end')"
        "ducache_api_key_breakdown('2025-03-01', '$end')"
        "ducache_daily_trend('2025-05-10', '2025-05-10')")
}

# The documents: into the array document_calls.
scale_out_document_calls() {
    document_calls=("ducache_dashboard('2025-03-01', '$end')"
        "ducache_dashboard('2025-04-01', '2025-04-30')"
        "ducache_dashboard('2025-03-01', '$end', '{\"userIds\": [\"$uid\"]}')"
        "ducache_dashboard('2025-03-01', '$end', '{\"modelIds\": [\"gpt-4o\"]}')"
        "ducache_dashboard('2025-03-01', '$end', '{\"providerIds\": [\"openai\"]}')"
        "ducache_filter_options('2025-03-01', '$end')")
}

# The median ms of RUNS runs of `PERFORM <what>` in database DB, timed server-side
# (clock_timestamp) in one session after one warm-up run; SETUP is SQL run first in the session.
# Usage: median_ms DB WHAT RUNS [SETUP]
median_ms() {
    psql -X -At -d "$1" ${4:+-c "$4"} -c "DO \$\$ DECLARE t0 timestamptz; ms float8[] := '{}'; BEGIN
        PERFORM $2;
        FOR i IN 1 .. $3 LOOP t0 := clock_timestamp(); PERFORM $2;
            ms := ms || extract(epoch FROM clock_timestamp() - t0) * 1000; END LOOP;
        RAISE NOTICE '%', (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM unnest(ms) x); END \$\$" 2>&1 |
        sed -n 's/^NOTICE:  //p'
}
