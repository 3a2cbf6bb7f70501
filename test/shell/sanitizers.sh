#!/usr/bin/env bash
# Smoke run of scripts/fuzz.sh: the core's unit tests under ASan+UBSan and every libFuzzer
# target for a few seconds (60 s in all). The documented full run is scripts/fuzz.sh (10 min a target).
set -euo pipefail
cd "$(dirname "$0")/../.."
targets=$(ls test/fuzz/fuzz_*.cpp 2>/dev/null | wc -l)
per_target=$(( targets > 0 ? 60 / targets : 60 ))
cd "$(mktemp -d)" && bash "$OLDPWD/scripts/fuzz.sh" "$per_target"
