#!/usr/bin/env bash
# Smoke run of scripts/fuzz.sh: the core's unit tests under ASan+UBSan and every libFuzzer
# target for a few seconds (60 s in all). The documented full run is scripts/fuzz.sh (10 min a target).
set -euo pipefail
cd "$(dirname "$0")/../.."
targets=$(find test/fuzz -maxdepth 1 -name "fuzz_*.cpp" | wc -l)
per_target=$(( targets > 0 ? 60 / targets : 60 ))
# fuzz.sh builds in /tmp/ducache-fuzz-* and runs from its own findings directory (no scratch
# directory here: one was made and left behind on every run).
bash scripts/fuzz.sh "$per_target"
