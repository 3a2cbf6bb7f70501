#!/usr/bin/env bash
# Runs every test: C++ unit tests (ctest), pg_regress and isolation tests against a throwaway
# cluster, then prints one line "N passed, N failed". Exit status 0 only if nothing failed.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

passed=0
failed=0
count() { passed=$((passed + $1)); failed=$((failed + $2)); }

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

# The longest test, the regression suite under valgrind (its own cluster and pg_regress output
# directory), starts now and runs beside everything else: two cores, two streams.
beside=(valgrind_suite.sh)
for b in "${beside[@]}"; do
    ( bash "$REPO/test/shell/$b" >"$DUCACHE_SANDBOX/$b.log" 2>&1; echo $? >"$DUCACHE_SANDBOX/$b.rc" ) &
done

log "unit tests (ctest)"
# Warnings are errors here, as in build_and_install. Only the unit tests and the core are built:
# the module was just built by PGXS (CMake's copy of it is for IDEs).
ctest_out=$( (cmake -S "$REPO" -B "$REPO/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS=-Werror >/dev/null &&
               cmake --build "$REPO/build" -j"$(nproc)" --target ducache_unit_tests >/dev/null &&
               cd "$REPO/build" && ctest --output-on-failure 2>&1) 2>&1 || true)
echo "$ctest_out" | tail -n 25
ct_total=$(echo "$ctest_out" | sed -n 's/.*tests passed, \([0-9]*\) tests failed out of \([0-9]*\).*/\2/p')
ct_failed=$(echo "$ctest_out" | sed -n 's/.*tests passed, \([0-9]*\) tests failed out of \([0-9]*\).*/\1/p')
if [ -z "$ct_total" ]; then count 0 1; else count $((ct_total - ct_failed)) "$ct_failed"; fi

log "regression and isolation tests (pg_regress)"
start_cluster
trap stop_cluster EXIT
rm -rf "$REPO/results" "$REPO/output_iso"
regress_out=$(make -C "$REPO" -s installcheck PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER=postgres 2>&1 || true)
echo "$regress_out" | grep -E '\.\.\. |tests passed|failed' || true
r_ok=$(echo "$regress_out" | grep -cE '\.\.\. ok' || true)
r_bad=$(echo "$regress_out" | grep -cE '\.\.\. (FAILED|failed)' || true)
count "$r_ok" "$r_bad"
if [ "$r_ok" = 0 ] && [ "$r_bad" = 0 ]; then count 0 1; fi
for diffs in "$REPO/regression.diffs" "$REPO/output_iso/regression.diffs"; do
    [ -s "$diffs" ] && { log "differences: $diffs"; head -n 200 "$diffs"; }
done

# Shell-level tests: each test/shell/*.sh exits 0 on success (the valgrind suite, started above,
# is reported after them); the zz_* tests, which check the whole run's server log, run last.
report() {   # name, exit code
    if [ "$2" = 0 ]; then
        echo "shell test $1 ... ok"; count 1 0
    else
        echo "shell test $1 ... FAILED"; tail -n 30 "$DUCACHE_SANDBOX/$1.log"; count 0 1
    fi
}
for t in "$REPO"/test/shell/*.sh; do
    [ -e "$t" ] || continue
    name=$(basename "$t")
    [[ " ${beside[*]} " == *" $name "* || $name == zz_* ]] && continue
    rc=0; bash "$t" >"$DUCACHE_SANDBOX/$name.log" 2>&1 || rc=$?
    report "$name" "$rc"
done
wait
for b in "${beside[@]}"; do report "$b" "$(cat "$DUCACHE_SANDBOX/$b.rc" 2>/dev/null || echo 1)"; done
for t in "$REPO"/test/shell/zz_*.sh; do
    [ -e "$t" ] || continue
    rc=0; bash "$t" >"$DUCACHE_SANDBOX/$(basename "$t").log" 2>&1 || rc=$?
    report "$(basename "$t")" "$rc"
done

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
