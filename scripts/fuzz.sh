#!/usr/bin/env bash
# The pure C++ core under clang's AddressSanitizer + UndefinedBehaviorSanitizer: its unit tests,
# then each libFuzzer target in test/fuzz/ for a while (default 600 s a target).
#   scripts/fuzz.sh                 unit tests + every target, 10 minutes each
#   scripts/fuzz.sh 20              the same with 20 s a target (the test command's smoke run)
#   scripts/fuzz.sh 600 fuzz_number one target
# Sanitizers run on the core only: preloading ASan into the distribution's postgres hangs.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SECONDS_PER_TARGET=${1:-600}
ONLY=${2:-}
OUT=${DUCACHE_FUZZ_DIR:-/tmp/ducache-fuzz-$(printf '%s' "$REPO" | md5sum | cut -c1-8)}

need=()
for p in clang libclang-rt-14-dev cmake libgtest-dev; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
    sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd=sudo
    $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

# ONE build of the core (ASan + UBSan + libFuzzer's coverage instrumentation, -O1) links both
# the unit tests and every fuzz target (CMake's DUCACHE_FUZZ): building the core twice, once for
# each, took minutes of the test command. Line tables only (-gline-tables-only): the sanitizers'
# and libFuzzer's reports still give file:line for every frame; full -g cost compile time.
echo "== unit tests under ASan+UBSan"
CC=clang CXX=clang++ cmake -S "$REPO" -B "$OUT/asan" -DDUCACHE_SANITIZE=ON -DDUCACHE_FUZZ=ON \
    -DCMAKE_BUILD_TYPE= -DCMAKE_CXX_FLAGS="-O1 -gline-tables-only" >/dev/null
cmake --build "$OUT/asan" -j"$(nproc)" >/dev/null
(cd "$OUT/asan" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest -j"$(nproc)" --output-on-failure | tail -n 3)

shopt -s nullglob
# libFuzzer leaves its reproducers (crash-*, leak-*, timeout-*, oom-*, slow-unit-*) in the
# current directory: keep them out of the checkout.
mkdir -p "$OUT/findings"
cd "$OUT/findings"
rm -f crash-* leak-* timeout-* oom-* slow-unit-*
for target_src in "$REPO"/test/fuzz/fuzz_*.cpp; do
    name=$(basename "$target_src" .cpp)
    [ -z "$ONLY" ] || [ "$ONLY" = "$name" ] || continue
    echo "== $name: ${SECONDS_PER_TARGET}s"
    corpus="$OUT/corpus/$name"
    mkdir -p "$corpus"
    seeds="$REPO/test/fuzz/corpus/$name"
    [ -d "$seeds" ] || seeds=""
    "$OUT/asan/$name" -max_total_time="$SECONDS_PER_TARGET" -print_final_stats=1 "$corpus" $seeds 2>&1 |
        grep -E 'Done|stat::number_of_executed_units|ERROR|SUMMARY' || true
    # libFuzzer exits non-zero on a crash and leaves crash-* files behind. A slow unit (over
    # 10 s for one input) is a failure too: it is how a quadratic BigDecimal path was found.
    found=(crash-* leak-* timeout-* oom-* slow-unit-*)   # nullglob: empty unless one was left
    if [ ${#found[@]} -gt 0 ]; then echo "$name found a problem: $OUT/findings/${found[*]}"; exit 1; fi
done
echo "== fuzz: clean"
