#!/usr/bin/env bash
# Runs last (name order): the test cluster's server log for this whole run (pg_regress,
# isolation and every shell test before this one, hostile tables and roles included) shows
# no backend that died: no signal, no abnormal exit, no crash restart, no PANIC; and the
# cluster still answers. scripts/lib.sh's start_cluster starts a fresh log per run.
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
log=$DUCACHE_SANDBOX/server.log
[ -s "$log" ] || { echo "no server log at $log"; exit 1; }
grep -q 'database system is ready to accept connections' "$log" || { echo "$log is not a server log"; exit 1; }
if grep -nE 'terminated by signal|server process .* was terminated|server process .* exited with exit code|terminating any other active server processes|all server processes terminated; reinitializing|PANIC' "$log"; then
    echo "^^ a backend died during the run ($log)"
    exit 1
fi
pg_env
"$PGBIN/psql" -XAtqc 'SELECT 1' >/dev/null || { echo "the cluster no longer answers"; exit 1; }
echo "no backend died ($(grep -c . "$log") log lines checked)"
