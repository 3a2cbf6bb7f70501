#!/usr/bin/env bash
# The regression suite against a server running under valgrind memcheck: the postmaster runs
# inside valgrind, so every backend it forks (and every parallel worker) is checked. Reports
# the memcheck errors whose stack passes through ducache.so; exits 1 if there is any.
#   scripts/valgrind_suite.sh [--no-build] [TEST ...]   (default: every test of test/schedule
#                                                         but 50_hardening, 51_mutations, 60_filters, 73_rollup_readers,
#                                                         74_rollups_equal, 75_rollups_dashboard, 76_merge_closure,
#                                                         77_rollup_blocks, 78_rollup_derived, 79_day_projections, 79_document_jsonb)
# About 2 minutes (valgrind runs the server 20-50x slower); the test command runs it through
# test/shell/valgrind_suite.sh. Fails if memcheck reports an error through ducache.so, if a
# test fails or does not run, or if no backend was checked.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
command -v valgrind >/dev/null || as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null
if [ "${1:-}" = --no-build ]; then
    shift
else
    ensure_packages
    make_pg_copy
    build_and_install 1
fi
tests=("$@")
if [ ${#tests[@]} = 0 ]; then
    # In test/schedule's order (fixtures before the tests that read them).
    for t in $(sed -n 's/^test://p' "$REPO/test/schedule"); do
        # 50_hardening is the 10K-user x 366-day load; 60_filters spends its time in the plain-SQL
        # reference (7 functions x 27 filter combinations), minutes under memcheck; so do
        # 73_rollup_readers, 74_rollups_equal and 75_rollups_dashboard (every reader x filters x
        # ranges against plain SQL). The paths they cover run under memcheck in
        # scripts/valgrind.sh instead, and 72_rollup_refresh and 74_rollups_edges run here.
        # 51_mutations (1,000 mutated entries: the entry and number rules' error paths, which
        # 22_read_errors and 25_number_matrix take here) and 76_merge_closure (merges of merges
        # over many generated cases: ducache_merge's paths, which 24_merge takes here) spend
        # about two minutes each under memcheck repeating paths already checked: left out to
        # keep the test command under 20 minutes. So is 77_rollup_blocks (every reader over
        # block ranges against plain SQL: 284 s under memcheck); 72_rollup_refresh builds and
        # writes blocks here, and a block row is read by the months' path (as its month).
        # And 78_rollup_derived (refreshes the multi-month fixture, then dashboards against
        # rollups off: over 4 minutes under memcheck); the derived columns' trigger fires on every
        # rollup write of 72_rollup_refresh and 78_rollup_jsonb here, and scripts/valgrind.sh
        # reads a dashboard over refreshed months. And 79_day_projections (158 s under memcheck):
        # every month refresh of 72_rollup_refresh here builds and writes day projections, and
        # scripts/valgrind.sh reads a dashboard whose days are all projections (2025-01-03..12).
        # And 79_document_jsonb (104 s under memcheck: 76 documents built twice): every dashboard
        # and filter-options call here (62_dashboard, 72_rollup_refresh) builds its JSONB the same
        # way, and so do scripts/valgrind.sh's.
        case $t in 50_hardening | 60_filters | 73_rollup_readers | 74_rollups_equal | 75_rollups_dashboard | 51_mutations | 76_merge_closure | 77_rollup_blocks | 78_rollup_derived | 79_day_projections | 79_document_jsonb) ;;
            *) tests+=("$t") ;;
        esac
    done
fi
VG=$DUCACHE_SANDBOX/valgrind-suite
PORT=$((DUCACHE_PGPORT + 1))
rm -rf "$VG" && mkdir -p "$VG/run" "$VG/out"
[ "$(id -u)" = 0 ] && chown -R "$(pg_owner)" "$VG"
init_cluster "$VG/data" "$VG/run" "$PORT" 128MB
log "postmaster under valgrind on port $PORT"
as_owner valgrind --tool=memcheck --trace-children=no --num-callers=40 --error-limit=no \
    --leak-check=full --show-leak-kinds=definite \
    --track-origins=no --log-file="$VG/memcheck.%p.log" \
    "$PGBIN/postgres" -D "$VG/data" > "$VG/server.log" 2>&1 &
for _ in $(seq 1 300); do
    "$PGBIN/pg_isready" -q -h "$VG/run" -p "$PORT" && break
    sleep 1
done
started=$(date +%s)
log "tests: ${tests[*]}"
# Its own output directory: the test command runs this beside the main pg_regress run.
regress_out=$(make -C "$REPO" -s installcheck PGHOST="$VG/run" PGPORT="$PORT" PGUSER=postgres \
              REGRESS="${tests[*]}" ISOLATION= EXTRA_REGRESS_OPTS="--outputdir=$VG/out" 2>&1 || true)
echo "$regress_out" | grep -E '\.\.\. ' || true
echo "suite under valgrind: $(( $(date +%s) - started )) s"
as_owner "$PGBIN/pg_ctl" -D "$VG/data" -m fast -w -t 300 stop >/dev/null || true
sleep 2
ok=$(echo "$regress_out" | grep -cE '\.\.\. ok' || true)
if [ "$ok" != ${#tests[@]} ]; then
    echo "only $ok of ${#tests[@]} tests passed under valgrind"
    [ -s "$VG/out/regression.diffs" ] && head -n 100 "$VG/out/regression.diffs"
    exit 1
fi
logs=("$VG"/memcheck.*.log)
[ ${#logs[@]} -gt 10 ] || { echo "too few processes ran under valgrind (${#logs[@]})"; exit 1; }
python3 "$REPO/scripts/valgrind_report.py" "${logs[@]}"
