#!/usr/bin/env bash
# Builds and installs ducache into a private copy of PostgreSQL 15, starts a throwaway cluster,
# loads a small sample and prints the main job: the user breakdown for October 2025.
#   scripts/demo.sh          build, start, load, run (the cluster keeps running)
#   scripts/demo.sh stop     stop the cluster
# DUCACHE_PGPORT (default 54315) and DUCACHE_SANDBOX (default /tmp/ducache-sandbox-<hash>)
# choose the port and the directory for the PostgreSQL copy, the data and the socket.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [ "${1:-}" = stop ]; then stop_cluster; log "stopped"; exit 0; fi

ensure_packages
make_pg_copy
build_and_install 0
start_cluster

psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE IF EXISTS ducache_demo" -c "CREATE DATABASE ducache_demo"
psql -X -q -v ON_ERROR_STOP=1 -d ducache_demo -c "CREATE EXTENSION ducache" -f "$REPO/sample/sample_data.sql"
log "user breakdown, 2025-10-01 .. 2025-10-31"
psql -X -v ON_ERROR_STOP=1 -d ducache_demo -c "
    SELECT user_id, username, role, total_requests, total_tokens, total_cost, active_days
    FROM ducache_user_breakdown('2025-10-01', '2025-10-31')"
cat <<TXT
The cluster is still running. Connect with:
    psql -h $PGHOST -p $PGPORT -U postgres ducache_demo
Stop it with: scripts/demo.sh stop
TXT
