#!/usr/bin/env bash
# The production build (no test hooks: what scripts/demo.sh and scripts/bench.sh install) compiles
# with warnings as errors. The test command itself builds with DUCACHE_TEST_HOOKS=1, so code that
# only the test build declares (a trace helper used outside its #ifdef) broke demo.sh once without
# a test failing (round 14 of issue 13). Built in a scratch copy of the sources, so the tested
# build's objects are left alone; nothing is installed.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -cf - --exclude=./build --exclude=./.git --exclude='*.o' --exclude='*.so' --exclude=./results \
    --exclude=./src/core/unity . | tar -xf - -C "$work"
make -C "$work" -s -j2 DUCACHE_TEST_HOOKS=0 DUCACHE_WERROR=1 DUCACHE_LINE_TABLES=1 >"$work/build.log" 2>&1 ||
    { tail -n 30 "$work/build.log"; echo "FAIL: the production build (DUCACHE_TEST_HOOKS=0) does not compile" >&2; exit 1; }
grep -q ' ducache_test_' <<<"$(nm -D --defined-only "$work/ducache.so")" &&
    { echo "FAIL: the production build exports test hooks" >&2; exit 1; }
echo "production build: ok"
