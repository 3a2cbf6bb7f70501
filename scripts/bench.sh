#!/usr/bin/env bash
# The benchmark: builds and installs ducache (no test hooks) into the private PostgreSQL copy,
# starts or reuses the throwaway cluster, generates deterministic data in the server and prints
# a markdown table (ducache vs plain SQL vs client-side vs the detoast floor; the write path;
# targets met or not). Not part of the test command.
#   scripts/bench.sh --quick            scale S only (1,000 users x 90 days), a couple of minutes
#   scripts/bench.sh --scale L          10,000 users x 365 days (generation takes several minutes)
#   scripts/bench.sh --out docs/benchmarks-latest.md
#   scripts/bench.sh --shapes [--shape-scale 10000x30] [--shape NAME]   per-entry cost by data shape (issue 13)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_packages
make_pg_copy
build_and_install 0
start_cluster
python3 "$REPO/bench/run.py" "$@"
