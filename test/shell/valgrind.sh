#!/usr/bin/env bash
# Every ducache function and error path under valgrind memcheck in `postgres --single`: no
# memcheck error may pass through ducache.so (PostgreSQL's own known WAL-padding reports are
# not ours and are not counted).
set -euo pipefail
cd "$(dirname "$0")/../.."
exec bash scripts/valgrind.sh --no-build
