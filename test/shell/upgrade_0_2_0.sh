#!/usr/bin/env bash
# ALTER EXTENSION ducache UPDATE from 0.2.0 to the current version, on databases full of rows:
# one whose table ducache created, one with LiteMaaS's own table (updated_at) adopted.
# For each: the 0.1.0 and 0.2.0 calls answer right (plain-SQL references; through the new
# library, under 0.2.0's declarations) before the update; after it no row changed (every column
# and xmin: not even rewritten), the indexes are intact, the calls still answer right, the
# extension holds exactly the objects of a fresh install (signatures, results, the rollup
# tables' columns and constraints), the four change triggers are on the table and log the
# months each statement touches, the rollup tables are empty; DROP EXTENSION (no CASCADE) keeps
# every row and takes the triggers and rollup tables away; CREATE EXTENSION again puts them back.
# Needs the cluster scripts/test.sh started (PG* variables).
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/shell/lib/upgrade_checks.sh

fresh=ducache_upgrade2_fresh
fresh_db $fresh
q -d $fresh -c "CREATE EXTENSION ducache"
path=$(val $fresh "SELECT path FROM pg_extension_update_paths('ducache') WHERE source = '0.2.0' AND target = '$VERSION'")
[ "$path" = "0.2.0--0.3.0--$VERSION" ] || fail "update path 0.2.0 -> $VERSION is '$path'"

for kind in created adopted; do
    db=ducache_upgrade2_$kind
    install_at $db $kind 0.2.0
    v=$(triggers $db)$(val $db "SELECT count(*) FROM pg_class WHERE relname LIKE 'ducache\_rollup%'")
    [ "$v" = 0 ] || fail "$kind: 0.2.0 already has rollup objects: $v"
    fill_rows $db
    before=$(rows_md5 $db)
    indexes_before=$(indexes $db)

    # The old calls, through the new library, before the update; and the same after it.
    check_calls_010 $db || fail "$kind: 0.1.0 calls before the update"
    check_calls_020 $db || fail "$kind: 0.2.0 calls before the update"
    v=$(rows_md5 $db)
    [ "$v" = "$before" ] || fail "$kind: rows changed by the calls before the update"

    q -d $db -c "ALTER EXTENSION ducache UPDATE"
    v=$(val $db "SELECT extversion FROM pg_extension WHERE extname = 'ducache'")
    [ "$v" = "$VERSION" ] || fail "$kind: not at $VERSION after the update"
    v=$(rows_md5 $db)
    [ "$v" = "$before" ] || fail "$kind: rows changed by the update"
    v=$(indexes $db)
    [ "$v" = "$indexes_before" ] || fail "$kind: indexes changed by the update"
    same_objects $fresh $db "$kind: the updated extension"
    check_rollups $db $fresh "$kind"
    check_calls_010 $db || fail "$kind: 0.1.0 calls after the update"
    check_calls_020 $db || fail "$kind: 0.2.0 calls after the update"
    v=$(rows_md5 $db)
    [ "$v" = "$before" ] || fail "$kind: rows changed by the calls"

    q -d $db -c "DROP EXTENSION ducache"
    check_dropped $db "$before" "$kind"
    check_reinstall $db $fresh "$before" "$kind"
    echo "$kind: $(echo "$before" | cut -d' ' -f1) rows kept, 0.2.0 -> $VERSION ok, dropped and created again"
    psql -X -q -d postgres -c "DROP DATABASE $db"
done
psql -X -q -d postgres -c "DROP DATABASE $fresh"
