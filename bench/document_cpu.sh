#!/usr/bin/env bash
# Round 8 (docs/scale-out-speed.md): backend CPU per call of the documents, two libraries
# interleaved. Per round and library (installed by copy beside + rename, never over a mapped
# file), one session per call: a warm-up call, then N calls in one transaction between two
# readings of /proc/<backend>/stat (utime + stime, 10 ms ticks: N calls resolve 10/N ms); in
# parentheses the backend's minor page faults per call (glibc trimming the heap's free top after
# a call and the next call faulting it in again shows here: at L it moved by ~15K faults a call
# with the session's allocation history, either library). The coordinator's row is its own
# backend only (the shards run whichever library is installed;
# their partials are the same). Reuses the databases of SCALE_OUT_SETUP_ONLY=1
# test/shell/scale_out.sh (S: SCALE_OUT_USERS=1000 SCALE_OUT_DAYS=90). Leaves the second library
# installed. Usage: bench/document_cpu.sh OLD.so NEW.so [N] [ROUNDS] [CALL@DB ...]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
pg_env
old=$1 new=$2 N=${3:-50} ROUNDS=${4:-2}; shift 2; shift $(( $# < 2 ? $# : 2 ))
lib=$PGROOT/usr/lib/postgresql/$PG_MAJOR/lib/ducache.so
end=$(psql -X -At -d ducache_so_single -c "SELECT max(date) FROM daily_usage_cache" 2>/dev/null || true)
calls=("$@")
[ ${#calls[@]} -gt 0 ] || calls=("ducache_dashboard('2025-04-01', '2025-04-30')@ducache_so_single"
                                 "ducache_dashboard('2025-03-01', '$end')@ducache_so_single"
                                 "ducache_dashboard('2025-04-01', '2025-04-30')@ducache_so_coord")
install_lib() { cp "$1" "$lib.tmp" && mv -f "$lib.tmp" "$lib"; }
measure() {  # call database -> "CPU ms per call (minor faults per call)"
    psql -X -At -d "$2" <<SQL | tail -n 1
SELECT pg_backend_pid() AS pid \gset
BEGIN;
SELECT count(*) FROM $1 \g /dev/null
SELECT (string_to_array(pg_read_file('/proc/' || :pid || '/stat'), ' '))[10:15] AS a \gset
DO \$\$ BEGIN FOR i IN 1 .. $N LOOP PERFORM count(*) FROM $1; END LOOP; END \$\$;
SELECT (string_to_array(pg_read_file('/proc/' || :pid || '/stat'), ' '))[10:15] AS b \gset
COMMIT;
SELECT round((((:'b'::int[])[5] + (:'b'::int[])[6] - (:'a'::int[])[5] - (:'a'::int[])[6]) * 10.0 / $N), 2)
       || ' (' || ((:'b'::bigint[])[1] - (:'a'::bigint[])[1]) / $N || ')';
SQL
}
echo "load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%H:%M) UTC, backend CPU ms per call over $N calls"
echo
printf '| round | library |'; for c in "${calls[@]}"; do printf ' `%s` |' "$c"; done; echo
printf '|---|---|'; for c in "${calls[@]}"; do printf -- '---:|'; done; echo
for r in $(seq 1 "$ROUNDS"); do
    for which in old new; do
        if [ $which = old ]; then install_lib "$old"; else install_lib "$new"; fi
        printf '| %s | %s |' "$r" "$which"
        for c in "${calls[@]}"; do printf ' %s |' "$(measure "${c%@*}" "${c##*@}")"; done
        echo
    done
done
echo
echo "load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%H:%M) UTC"
