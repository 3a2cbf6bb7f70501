#!/usr/bin/env bash
# Runs every test: C++ unit tests (ctest), pg_regress and isolation tests against a throwaway
# cluster, then prints one line "N passed, N failed". Exit status 0 only if nothing failed.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

passed=0
failed=0
count() { passed=$((passed + $1)); failed=$((failed + $2)); }
# Elapsed time per phase, so a slow run shows where its time went.
run_start=$(date +%s)
phase_start=$run_start
at() { local s=$(( $(date +%s) - run_start )); printf '%d:%02d' $((s / 60)) $((s % 60)); }
phase_done() { log "$1: $(( $(date +%s) - phase_start )) s (at $(at))"; phase_start=$(date +%s); }

# Every sql/*.sql must be listed in test/schedule (the order pg_regress runs them in), or it
# would silently never run; counted as one test.
scheduled=" $(sed -n 's/^test://p' "$REPO/test/schedule" | tr -s ' \t\n' ' ') "
unlisted=()
for f in "$REPO"/sql/*.sql; do
    t=$(basename "$f" .sql)
    [[ "$scheduled" == *" $t "* ]] || unlisted+=("$t")
done
if [ ${#unlisted[@]} = 0 ]; then
    echo "schedule lists every sql/ test ... ok"; count 1 0
else
    echo "schedule lists every sql/ test ... FAILED: not in test/schedule: ${unlisted[*]}"; count 0 1
fi

ensure_packages
make_pg_copy
build_and_install 1
phase_done "build and install"

# Shell-level tests (test/shell/*.sh, each exits 0 on success) run in three streams that take
# them from one queue, longest first: this shell's once pg_regress is done, and the streams of
# the valgrind suite and of sanitizers.sh once each is done. They can run at once because each
# works in databases, directories and ports of its own; tests that share clusters (scale_out*.sh
# use the shard clusters scale_out.sh starts) are one queue entry, run one after the other.
# The zz_* tests, which check the whole run's server log, run last, alone.
queue=$DUCACHE_SANDBOX/shell.queue
results=$DUCACHE_SANDBOX/shell.results
rm -f "$queue" "$queue.ready" "$results"
next_entry() { flock "$queue.lock" bash -c 'head -n 1 "$0"; sed -i 1d "$0"' "$queue"; }
run_shell_test() {   # name stream: runs it, appends "name exit-code seconds stream" to $results
    local t0 rc=0
    t0=$(date +%s)
    bash "$REPO/test/shell/$1" >"$DUCACHE_SANDBOX/$1.log" 2>&1 || rc=$?
    echo "$1 $rc $(( $(date +%s) - t0 )) $2 $(at)" >>"$results"
}
shell_stream() {   # stream number
    local entry name
    while entry=$(next_entry) && [ -n "$entry" ]; do
        for name in $entry; do run_shell_test "$name" "$1"; done
    done
}

# Every client of the test command runs with jit = off (PGOPTIONS: psql, pg_regress, the
# isolation tester, the shell tests, pgbench). The tests' plain-SQL references (jsonb_each over
# every user x model x key, grouped) pass jit_above_cost, and LLVM compiling their expressions
# took most of their time: 72_rollup_refresh 29.1 s -> 8.8 s, 74_rollups_equal 46.1 -> 23.9 s,
# 60_filters 50.2 -> 37.1 s (one run each, load ~10). ducache's functions are called through fmgr
# either way; sql/76_merge_closure forces JIT on for the merge and a breakdown, to keep that path.
export PGOPTIONS="${PGOPTIONS:+$PGOPTIONS }-c jit=off"

# The longest tests start now, each in a stream of its own beside everything else: the
# regression suite under valgrind (two halves at once, each on a cluster and pg_regress output
# directory of its own: scripts/valgrind_suite.sh) in stream 2, and the sanitizers' build, unit
# tests and fuzz run (sanitizers.sh: its own build directory, no cluster) in stream 3. Each
# stream then takes shell tests from the queue too, once it is there (or the run is over).
# sanitizers.sh used to be the queue's first test, on stream 1 after pg_regress, and ran until
# near the end (round 15: 7:10 -> 14:47, the last 4 minutes of the run one stream's shell tests).
beside=(valgrind_suite.sh sanitizers.sh)
for i in "${!beside[@]}"; do
    (
        run_shell_test "${beside[$i]}" $((i + 2))
        while [ ! -e "$queue.ready" ]; do kill -0 $$ 2>/dev/null || exit 0; sleep 1; done
        pg_env   # the test cluster's PG* variables: this stream was forked before start_cluster set them
        shell_stream $((i + 2))
    ) &
done

# The unit tests run beside pg_regress (which is one backend at a time): their output and count
# are read at the end, after the shell tests (which do not wait for them). Warnings are errors here, as in build_and_install. Only the
# unit tests are compiled: they link the core objects PGXS just compiled for ducache.so
# (DUCACHE_CORE_OBJECTS_DIR; the Makefile compiles src/core with all of -Wall -Wextra -Werror, as
# CMake did), and the module was built by PGXS too (CMake's copy of it is for IDEs). -O2 as
# RelWithDebInfo and PGXS, without -g: nothing here reads debug information, and it was ~30 % of
# the test files' compile time.
log "unit tests (ctest), beside pg_regress"
ctest_log=$DUCACHE_SANDBOX/ctest.log
(
    t0=$(date +%s)
    (cmake -S "$REPO" -B "$REPO/build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" \
           -DCMAKE_CXX_FLAGS=-Werror -DDUCACHE_CORE_OBJECTS_DIR="$REPO/src/core" >/dev/null &&
     cmake --build "$REPO/build" -j"$(nproc)" --target ducache_unit_tests >/dev/null &&
     cd "$REPO/build" && ctest -j"$(nproc)" --output-on-failure) >"$ctest_log" 2>&1 || true
    echo "$(( $(date +%s) - t0 )) s (ended at $(at))" >"$ctest_log.time"
) &

log "regression and isolation tests (pg_regress)"
start_cluster
trap stop_cluster EXIT
rm -rf "$REPO/results" "$REPO/output_iso"
# The regression tests and the isolation tests as two make runs: PGXS's installcheck runs both
# in one recipe, so a failing regression test used to stop it before the isolation tests (8
# tests neither run nor counted). Each part counts every test it should have run: one that
# printed no result line (pg_regress or the isolation tester died) is a failure.
regress_part() {   # label, expected number of tests, make's variables
    local label=$1 want=$2 out ok bad
    shift 2
    out=$(make -C "$REPO" -s installcheck PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER=postgres "$@" 2>&1 || true)
    echo "$out" | grep -E '\.\.\. |tests passed|failed' || true
    ok=$(echo "$out" | grep -cE '\.\.\. ok' || true)
    bad=$(echo "$out" | grep -cE '\.\.\. (FAILED|failed)' || true)
    count "$ok" "$bad"
    if [ $((ok + bad)) -lt "$want" ]; then
        echo "$label: only $((ok + bad)) of $want tests gave a result"; echo "$out" | tail -n 20
        count 0 $((want - ok - bad))
    fi
}
regress_part "pg_regress" "$(sed -n 's/^test://p' "$REPO/test/schedule" | wc -w)" ISOLATION=
specs=("$REPO"/specs/*.spec)
[ -e "${specs[0]}" ] && regress_part "isolation" "${#specs[@]}" REGRESS=
for diffs in "$REPO/regression.diffs" "$REPO/output_iso/regression.diffs"; do
    [ -s "$diffs" ] && { log "differences: $diffs"; head -n 200 "$diffs"; }
done
phase_done "regression and isolation tests (pg_regress)"


# The queue, longest first (by round 15's quiet 2-core run: the scale_out* entry 112 s,
# upgrade_0_2_0 69 s, upgrade_0_3_0 39, upgrade_0_1_0 37, concurrent_load 31, memory_budget 31,
# valgrind.sh 14; round 19's production_build 42), then the rest in name order. The scale_out* tests are one entry
# (scale_out_writes.sh has clusters of its own, but is short).
first=() after_scale_out=(upgrade_0_2_0.sh upgrade_0_3_0.sh upgrade_0_1_0.sh production_build.sh concurrent_load.sh memory_budget.sh valgrind.sh)
shell_tests=() scale_out=()
for t in "$REPO"/test/shell/*.sh; do
    [ -e "$t" ] || continue
    name=$(basename "$t")
    [[ " ${beside[*]} " == *" $name "* || $name == zz_* ]] && continue
    shell_tests+=("$name")
    if [[ $name == scale_out* ]]; then scale_out+=("$name"); fi
done
listed() { [[ " $2 " == *" $1 "* ]]; }   # name, list
{
    for name in "${first[@]}"; do if listed "$name" "${shell_tests[*]}"; then echo "$name"; fi; done
    if [ ${#scale_out[@]} -gt 0 ]; then echo "${scale_out[*]}"; fi
    for name in "${after_scale_out[@]}"; do if listed "$name" "${shell_tests[*]}"; then echo "$name"; fi; done
    for name in "${shell_tests[@]}"; do
        if ! listed "$name" "${first[*]} ${scale_out[*]} ${after_scale_out[*]}"; then echo "$name"; fi
    done
} >"$queue.tmp"
mv "$queue.tmp" "$queue"
touch "$queue.ready"
shell_stream 1
wait   # the other streams and the unit tests' job
phase_done "shell tests (three streams)"

# The unit tests' output and count (their job ran beside pg_regress; the shell tests did not
# wait for it).
ctest_out=$(cat "$ctest_log")
echo "$ctest_out" | tail -n 25
ct_total=$(echo "$ctest_out" | sed -n 's/.*tests passed, \([0-9]*\) tests failed out of \([0-9]*\).*/\2/p')
ct_failed=$(echo "$ctest_out" | sed -n 's/.*tests passed, \([0-9]*\) tests failed out of \([0-9]*\).*/\1/p')
if [ -z "$ct_total" ]; then count 0 1; else count $((ct_total - ct_failed)) "$ct_failed"; fi
log "unit tests (ctest): $(cat "$ctest_log.time" 2>/dev/null || echo "no time: the job died")"

report() {   # name, exit code, seconds, stream, ended at
    if [ "$2" = 0 ]; then
        echo "shell test $1 ... ok ($3 s; stream $4, ended at $5)"; count 1 0
    else
        echo "shell test $1 ... FAILED ($3 s; stream $4, ended at $5)"; tail -n 30 "$DUCACHE_SANDBOX/$1.log"; count 0 1
    fi
}
# In name order; a test that left no result (its stream died) failed.
for name in $(printf '%s\n' "${shell_tests[@]}" "${beside[@]}" | sort); do
    read -r _ rc secs stream ended < <(grep "^$name " "$results" || echo "$name 1 ? ? ?")
    report "$name" "$rc" "$secs" "$stream" "$ended"
done
for t in "$REPO"/test/shell/zz_*.sh; do
    [ -e "$t" ] || continue
    name=$(basename "$t")
    run_shell_test "$name" 1
    read -r _ rc secs stream ended < <(grep "^$name " "$results")
    report "$name" "$rc" "$secs" "$stream" "$ended"
done
log "total: $(at)"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
