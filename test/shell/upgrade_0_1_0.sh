#!/usr/bin/env bash
# ALTER EXTENSION ducache UPDATE from 0.1.0 to the current version (the chain 0.1.0 -> 0.2.0 ->
# 0.3.0 ...), on databases full of rows: one whose table ducache created, one with LiteMaaS's
# own table (updated_at) adopted. For each: the 0.1.0 calls answer (through the new library)
# before the update; after it no row changed (every column and xmin: not even rewritten), the
# five indexes are intact, the old calls give the plain-SQL reference's answers, the extension
# holds exactly the objects of a fresh install (same signatures and results), the rollup
# triggers and tables are set up (see lib/upgrade_checks.sh), DROP EXTENSION leaves every row
# and takes them away, and CREATE EXTENSION again puts them back.
# Needs the cluster scripts/test.sh started (PG* variables).
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/shell/lib/upgrade_checks.sh

fresh=ducache_upgrade_fresh
fresh_db $fresh
q -d $fresh -c "CREATE EXTENSION ducache"
# The update follows the chain of steps through every released version.
path=$(val $fresh "SELECT path FROM pg_extension_update_paths('ducache') WHERE source = '0.1.0' AND target = '$VERSION'")
[ "$path" = "0.1.0--0.2.0--0.3.0--$VERSION" ] || fail "update path 0.1.0 -> $VERSION is '$path'"

for kind in created adopted; do
    db=ducache_upgrade_$kind
    install_at $db $kind 0.1.0
    fill_rows $db
    before=$(rows_md5 $db)
    indexes_before=$(indexes $db)

    # The old calls, through the new library, before the update; and the same after it.
    check_calls_010 $db || fail "$kind: 0.1.0 calls before the update"

    q -d $db -c "ALTER EXTENSION ducache UPDATE"
    v=$(val $db "SELECT extversion FROM pg_extension WHERE extname = 'ducache'")
    [ "$v" = "$VERSION" ] || fail "$kind: not at $VERSION after the update"
    v=$(rows_md5 $db)
    [ "$v" = "$before" ] || fail "$kind: rows changed by the update"
    v=$(indexes $db)
    [ "$v" = "$indexes_before" ] || fail "$kind: indexes changed by the update"
    check_calls_010 $db || fail "$kind: calls after the update"
    same_objects $fresh $db "$kind: the updated extension"
    check_rollups $db $fresh "$kind"
    v=$(rows_md5 $db)
    [ "$v" = "$before" ] || fail "$kind: rows changed by the calls"

    q -d $db -c "DROP EXTENSION ducache"
    check_dropped $db "$before" "$kind"
    check_reinstall $db $fresh "$before" "$kind"
    echo "$kind: $(echo "$before" | cut -d' ' -f1) rows kept, 0.1.0 -> $VERSION ok, dropped and created again"
    psql -X -q -d postgres -c "DROP DATABASE $db"
done
psql -X -q -d postgres -c "DROP DATABASE $fresh"
