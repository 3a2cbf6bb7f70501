# Shard clusters for the scale-out tests (sourced by test/shell/scale_out*.sh; not a test
# itself). The caller sets base (a directory of its own under the sandbox), NSHARDS and
# shard_db, and has sourced scripts/lib.sh; shard k listens on DUCACHE_PGPORT + 11 + k
# (+1 is the valgrind suite's) on the Unix socket directory $base/run.
shard_port() { echo $((DUCACHE_PGPORT + 11 + $1)); }
sq() { local k=$1; shift; PGHOST=$base/run PGPORT=$(shard_port "$k") psql -X -q -v ON_ERROR_STOP=1 -d $shard_db "$@"; }

# Stops every shard at once (no shutdown checkpoint: the clusters are thrown away) and
# removes $base.
shards_stop() {
    for k in $(seq 0 $((NSHARDS - 1))); do
        as_owner "$PGBIN/pg_ctl" -D "$base/shard$k" -m immediate stop >/dev/null 2>&1 || true
    done
    rm -rf "$base"
}

# Starts NSHARDS fresh clusters, each with database $shard_db holding ducache.
shards_start() {   # shared_buffers
    mkdir -p "$base/run"
    if [ "$(id -u)" = 0 ]; then chown "$(pg_owner)" "$base" "$base/run"; fi
    for k in $(seq 0 $((NSHARDS - 1))); do
        init_cluster "$base/shard$k" "$base/run" "$(shard_port "$k")" "$1"
        as_owner "$PGBIN/pg_ctl" -D "$base/shard$k" -l "$base/shard$k.log" -w start >/dev/null
        PGHOST=$base/run PGPORT=$(shard_port "$k") psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $shard_db"
        sq "$k" -c "CREATE EXTENSION ducache"
    done
}

# Loads each shard with its part of every day of database $1 (the plain-SQL split of
# test/reference/shard_split.sql, which $1 must hold), through files in directory $2 (readable
# by the clusters' owner).
shards_load_split() {   # single_db tmp_dir
    for k in $(seq 0 $((NSHARDS - 1))); do
        psql -X -q -v ON_ERROR_STOP=1 -d "$1" -c "\copy (SELECT s.date, s.raw_data, s.aggregated_by_user, s.aggregated_by_model, s.aggregated_by_provider, s.total_metrics, s.cached_at, s.is_complete FROM daily_usage_cache d, LATERAL shard_split.split_day($NSHARDS, d.date, d.raw_data, d.aggregated_by_user, d.aggregated_by_model, d.aggregated_by_provider, d.total_metrics, d.cached_at, d.is_complete) s WHERE s.shard = $k ORDER BY s.date) TO '$2/shard$k.tsv'"
        sq "$k" -c "\copy daily_usage_cache (date, raw_data, aggregated_by_user, aggregated_by_model, aggregated_by_provider, total_metrics, cached_at, is_complete) FROM '$2/shard$k.tsv'"
    done
}

# Makes database $1 a coordinator over the shards: standard postgres_fdw DDL (servers s0..,
# one user mapping each), then ducache_add_shards.
shards_attach() {   # coordinator_db
    local servers="" k
    for k in $(seq 0 $((NSHARDS - 1))); do
        psql -X -q -v ON_ERROR_STOP=1 -d "$1" -c "CREATE EXTENSION IF NOT EXISTS ducache" -c "CREATE EXTENSION IF NOT EXISTS postgres_fdw" \
          -c "CREATE SERVER s$k FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '$base/run', port '$(shard_port "$k")', dbname '$shard_db', async_capable 'true', parallel_commit 'true', extensions 'ducache')" \
          -c "CREATE USER MAPPING FOR CURRENT_USER SERVER s$k OPTIONS (user 'postgres')"
        servers="$servers${servers:+,}s$k"
    done
    psql -X -q -v ON_ERROR_STOP=1 -d "$1" -c "SELECT ducache_add_shards('{$servers}')" >/dev/null
}
