#!/usr/bin/env bash
# SQLSTATE audit: no regression or isolation output may show XX000 (internal_error) or a
# server crash. The only allowed XX000s are 01_boundary's deliberate unknown C++ exceptions.
set -euo pipefail
cd "$(dirname "$0")/../.."
shopt -s nullglob
outputs=(results/*.out output_iso/results/*.out)
[ ${#outputs[@]} -gt 0 ] || { echo "no test output to audit"; exit 1; }
bad=0
for f in "${outputs[@]}"; do
    [ "$(basename "$f")" = 01_boundary.out ] && continue
    if grep -nE 'XX000|server closed the connection unexpectedly|terminated by signal' "$f"; then
        echo "^^ in $f"; bad=1
    fi
done
# The server log must not show a backend crash or a PANIC during the run either.
log=${DUCACHE_SANDBOX:-}/server.log
if [ -n "${DUCACHE_SANDBOX:-}" ] && [ -f "$log" ] && grep -nE 'was terminated by signal|PANIC' "$log"; then
    echo "^^ in $log"; bad=1
fi
exit $bad
