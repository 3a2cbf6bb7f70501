#!/usr/bin/env bash
# The regression suite (all but the 10K-user x 366-day 50_hardening) against a postmaster
# running under valgrind memcheck: no memcheck error may pass through ducache.so, and every
# test passes there too.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec bash scripts/valgrind_suite.sh --no-build
