#!/usr/bin/env bash
# The committed upgrade script is exactly what its parts assemble (`make upgrade-scripts`): an
# install part changed without regenerating it would upgrade databases to something else than
# a fresh install gives.
set -euo pipefail
cd "$(dirname "$0")/../.."
parts=$(make -s --no-print-directory print-upgrade-parts)
# shellcheck disable=SC2086
if ! cat $parts | cmp -s - upgrade/ducache--0.1.0--0.2.0.sql; then
    echo "upgrade/ducache--0.1.0--0.2.0.sql is not what its parts assemble: run make upgrade-scripts"
    exit 1
fi
echo "upgrade script current: $(echo $parts | wc -w) parts"
