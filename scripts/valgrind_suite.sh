#!/usr/bin/env bash
# The regression suite against a server running under valgrind memcheck: the postmaster runs
# inside valgrind, so every backend it forks (and every parallel worker) is checked. Reports
# the memcheck errors whose stack passes through ducache.so; exits 1 if there is any.
#   scripts/valgrind_suite.sh [--no-build] [TEST ...]   (default: every test of test/schedule
#                                                         but 50_hardening, 51_mutations, 60_filters, 73_rollup_readers,
#                                                         74_rollups_equal, 75_rollups_dashboard, 76_merge_closure,
#                                                         77_rollup_blocks, 78_rollup_derived, 79_day_projections, 79_document_jsonb)
# Valgrind runs the server 20-50x slower: about 13 minutes of memcheck in all, run as two halves
# at once (two postmasters, ports DUCACHE_PGPORT+1 and +2); the test command runs it through
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
rm -rf "$VG" && mkdir -p "$VG"

# The default list runs as two halves, each on a postmaster of its own under valgrind, at the
# same time: memcheck runs each server at one core's speed, and the suite (over 13 minutes in
# one piece on a quiet 2-core machine, the test command's longest pole) holds no state between
# the halves. Both halves run 00_setup (the fixture schema most tests use) and 13_plans (creates
# the extension, which 20_read_fixture expects: ~10 s of memcheck twice). Half 2 is the read
# fixture's group (21-25 read it in order), the tests that need only the extension and the
# rebuild tests (44_rebuild_fidelity leaves litemaas_ref for 45_rebuild_unchanged); half 1 is
# the rest. Balanced by two runs' memcheck times: ~410 s and ~390 s of the one piece's ~800.
# The files added since all went to half 1 (1141 s against 822 s in round 12's run), so
# 79_dashboard_user_walks (its own rows and fixture; ~130-200 s of memcheck) is in half 2, last;
# both lists pass in their order on a plain postmaster. Round 14's two user_pack files went to
# half 1 again (852 s against 717 s of memcheck): 79_user_pack_dashboard (its own rows and
# fixture, ~80 s) is in half 2. Round 15's jit = off took ~135 CPU s of memcheck out of half 1
# (72_rollup_refresh) and little out of half 2; a run of both halves then (load 6-16, CPU of each
# postmaster's process tree) gave half 1 651 s and half 2 606 s, so 74_rollups_edges (own rows
# and roles, needs 00_setup; ~22 CPU s) runs in half 2: about 629 s and 628 s.
# Round 16: the four files on the rollups fixture (test/reference/rollups_fixture.sql) are all in
# half 2, so the fixture is built once there (78_rollup_jsonb) and inserted from its copy by
# 79_user_pack, 79_user_pack_dashboard and 79_dashboard_user_walks (each build ~65 s of memcheck
# under load); 79_user_pack came from half 1, which keeps 72_rollup_refresh.
# An explicit TEST list runs as one half.
half2=" 20_read_fixture 21_breakdowns 21_nested_key_lists 22_read_errors 23_analytics_trend 24_merge 25_number_matrix 26_sum_overflow 27_wide_costs 78_parallel_breakdown 41_rebuild 42_lookup_tables 43_rebuild_rls 44_rebuild_fidelity 45_rebuild_unchanged 46_upsert_unchanged 52_hostile_tables 74_rollups_edges 78_rollup_jsonb 79_user_pack 79_user_pack_dashboard 79_dashboard_user_walks "
halves=("${tests[*]}")
if [ $# = 0 ]; then
    h1=() h2=()
    for t in "${tests[@]}"; do
        if [ "$t" = 00_setup ] || [ "$t" = 13_plans ]; then h1+=("$t"); h2+=("$t")
        elif [[ "$half2" == *" $t "* ]]; then h2+=("$t")
        else h1+=("$t"); fi
    done
    halves=("${h1[*]}" "${h2[*]}")
fi

# jit = off: the tests' plain-SQL references (jsonb_each over every user x model x key, grouped)
# pass jit_above_cost, and LLVM compiling their expressions under memcheck was most of
# 72_rollup_refresh's time (its four check_all() calls). ducache's code runs the same either way
# (it is called through fmgr from the interpreted or the compiled expression; PGXS builds no
# bitcode of it: the Makefile's with_llvm = no), so memcheck checks the same ducache paths.
run_half() {   # half number, its tests (one string): a postmaster under valgrind, pg_regress against it
    local dir=$VG/$1 port=$((DUCACHE_PGPORT + $1)) started out
    mkdir -p "$dir/run" "$dir/out"
    [ "$(id -u)" = 0 ] && chown -R "$(pg_owner)" "$dir"
    # shared_buffers 16 MB, not 128 MB: memcheck's leak check at every process's exit scans the
    # shared memory for pointers, and the suite runs ~330 processes (backends, parallel workers);
    # 10 files of half 2 under memcheck took 83.1 CPU s against 98.9 s (round 16, both at once).
    # No test of the suite depends on it (50_hardening, whose load is large, is not in it).
    init_cluster "$dir/data" "$dir/run" "$port" 16MB
    log "half $1: postmaster under valgrind on port $port"
    as_owner valgrind --tool=memcheck --trace-children=no --num-callers=40 --error-limit=no \
        --leak-check=full --show-leak-kinds=definite \
        --track-origins=no --log-file="$dir/memcheck.%p.log" \
        "$PGBIN/postgres" -D "$dir/data" -c jit=off > "$dir/server.log" 2>&1 &
    for _ in $(seq 1 300); do
        "$PGBIN/pg_isready" -q -h "$dir/run" -p "$port" && break
        sleep 1
    done
    started=$(date +%s)
    log "half $1 tests: $2"
    # Its own output directory: the test command runs this beside the main pg_regress run.
    out=$(make -C "$REPO" -s installcheck PGHOST="$dir/run" PGPORT="$port" PGUSER=postgres \
          REGRESS="$2" ISOLATION= EXTRA_REGRESS_OPTS="--outputdir=$dir/out" 2>&1 || true)
    echo "$out" >"$dir/regress.out"
    echo "half $1 under valgrind: $(( $(date +%s) - started )) s"
    as_owner "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w -t 300 stop >/dev/null || true
}
for i in "${!halves[@]}"; do
    run_half $((i + 1)) "${halves[$i]}" >"$VG/half$((i + 1)).log" 2>&1 &
done
wait
sleep 2
rc=0 logs=()
for i in "${!halves[@]}"; do
    n=$((i + 1)) dir=$VG/$((i + 1))
    cat "$VG/half$n.log"
    grep -E '\.\.\. ' "$dir/regress.out" || true
    want=$(wc -w <<<"${halves[$i]}")
    ok=$(grep -cE '\.\.\. ok' "$dir/regress.out" || true)
    if [ "$ok" != "$want" ]; then
        echo "half $n: only $ok of $want tests passed under valgrind"
        [ -s "$dir/out/regression.diffs" ] && head -n 100 "$dir/out/regression.diffs"
        rc=1
    fi
    half_logs=("$dir"/memcheck.*.log)
    [ -e "${half_logs[0]}" ] && [ ${#half_logs[@]} -gt 5 ] || { echo "half $n: too few processes ran under valgrind (${#half_logs[@]})"; rc=1; }
    logs+=("${half_logs[@]}")
done
[ "$rc" = 0 ] || exit 1
[ ${#logs[@]} -gt 10 ] || { echo "too few processes ran under valgrind (${#logs[@]})"; exit 1; }
python3 "$REPO/scripts/valgrind_report.py" "${logs[@]}"
