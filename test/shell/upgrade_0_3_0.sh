#!/usr/bin/env bash
# ALTER EXTENSION ducache UPDATE from 0.3.0 to the current version, on databases full of rows
# AND of built month rollups: one whose table ducache created, one with LiteMaaS's own table
# (updated_at) adopted. For each: the 0.2.0 calls answer right before the update (plain-SQL
# references, through the new library under 0.3.0's declarations); after it no cache row
# changed (every column and xmin), the indexes are intact, the calls still answer right, whole
# months read with rollups equal the same calls on the days alone, the extension holds exactly
# the objects of a fresh install, the triggers are a fresh install's; DROP EXTENSION (no
# CASCADE) keeps every row; CREATE EXTENSION again puts everything back.
# Needs the cluster scripts/test.sh started (PG* variables).
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/shell/lib/upgrade_checks.sh

fresh=ducache_upgrade3_fresh
fresh_db $fresh
q -d $fresh -c "CREATE EXTENSION ducache"
path=$(val $fresh "SELECT path FROM pg_extension_update_paths('ducache') WHERE source = '0.3.0' AND target = '$VERSION'")
[ "$path" = "0.3.0--$VERSION" ] || fail "update path 0.3.0 -> $VERSION is '$path', not one step"

# Whole months (2023-02, 2023-03) with rollups against the same calls on the days alone.
rollups_equal_days() {
    q -d "$1" <<'SQL'
DO $$
DECLARE fn text; with_rollups text[]; days_only text[];
BEGIN
    FOREACH fn IN ARRAY ARRAY['user_breakdown', 'model_breakdown', 'provider_breakdown', 'analytics', 'daily_trend'] LOOP
        PERFORM set_config('ducache.use_rollups', 'on', true);
        EXECUTE format('SELECT array(SELECT t::text FROM ducache_%s(%L, %L) t)', fn, '2023-01-27', '2023-04-03') INTO with_rollups;
        PERFORM set_config('ducache.use_rollups', 'off', true);
        EXECUTE format('SELECT array(SELECT t::text FROM ducache_%s(%L, %L) t)', fn, '2023-01-27', '2023-04-03') INTO days_only;
        IF with_rollups IS DISTINCT FROM days_only OR cardinality(days_only) = 0 THEN
            RAISE EXCEPTION '%: with rollups % rows, days only % rows, not equal', fn, cardinality(with_rollups), cardinality(days_only);
        END IF;
    END LOOP;
    PERFORM set_config('ducache.use_rollups', 'on', true);
END $$;
SQL
}

for kind in created adopted; do
    db=ducache_upgrade3_$kind
    install_at $db $kind 0.3.0
    fill_rows $db
    built=$(val $db "SELECT count(*) FROM ducache_refresh_rollups('2023-01-01', '2023-12-31') WHERE action = 'refreshed'")
    [ "$built" -ge 2 ] || fail "$kind: only $built months built at 0.3.0"
    before=$(rows_md5 $db)
    indexes_before=$(indexes $db)
    check_calls_020 $db || fail "$kind: 0.2.0 calls before the update"
    rollups_equal_days $db || fail "$kind: rollups before the update"
    # Rollups built under 0.3.0 lack what this library's readers need: until the update it
    # reads none (tampered ones change nothing), and the update logs them all as changed.
    q -d $db -c "UPDATE ducache_rollups SET aggregated_by_user = '{}', aggregated_by_model = '{}', daily = '{}' WHERE built"
    rollups_equal_days $db || fail "$kind: the $VERSION library read a 0.3.0 rollup before the update"

    q -d $db -c "ALTER EXTENSION ducache UPDATE"
    v=$(val $db "SELECT extversion FROM pg_extension WHERE extname = 'ducache'")
    [ "$v" = "$VERSION" ] || fail "$kind: not at $VERSION after the update"
    v=$(rows_md5 $db)
    [ "$v" = "$before" ] || fail "$kind: rows changed by the update"
    v=$(indexes $db)
    [ "$v" = "$indexes_before" ] || fail "$kind: indexes changed by the update"
    same_objects $fresh $db "$kind: the updated extension"
    [ "$(triggers $db)" = "$(triggers $fresh)" ] || fail "$kind: triggers differ from a fresh install's"
    [ "$(rollup_tables $db)" = "$(rollup_tables $fresh)" ] || fail "$kind: rollup tables differ from a fresh install's"
    check_calls_020 $db || fail "$kind: 0.2.0 calls after the update"
    rollups_equal_days $db || fail "$kind: rollups after the update"
    # user_pack (new in 0.4.0): NULL until a refresh writes the row, then the pack of its user_totals.
    v=$(val $db "SELECT count(*) FROM ducache_rollups WHERE user_pack IS NOT NULL")
    [ "$v" = 0 ] || fail "$kind: $v packs before a refresh"
    val $db "SELECT count(*) FROM ducache_refresh_rollups('2023-01-01', '2023-12-31')" >/dev/null
    rollups_equal_days $db || fail "$kind: rollups refreshed after the update"
    v=$(val $db "SELECT count(*) FILTER (WHERE user_pack IS NULL OR user_pack IS DISTINCT FROM ducache_user_pack(user_totals))
                 || ' of ' || count(*) FROM ducache_rollups WHERE built")
    case "$v" in "0 of 0" | [1-9]*) fail "$kind: packs after the refresh: $v wrong";; esac
    # ... and every pack of a month, block or day projection carries the top key's bounds (flag
    # bit 0 of byte 4: core/user_pack.hpp); a pack without them makes the dashboard take the
    # full walk until the row is rebuilt.
    v=$(val $db "SELECT count(*) FILTER (WHERE get_byte(user_pack, 4) & 1 = 1) || ' of ' || count(*)
                 FROM (SELECT user_pack FROM ducache_rollups WHERE built
                       UNION ALL SELECT user_pack FROM ducache_rollup_blocks WHERE built
                       UNION ALL SELECT user_pack FROM ducache_rollup_days) p WHERE user_pack IS NOT NULL")
    [ "${v% of *}" = "${v#* of }" ] && [ "${v#* of }" != 0 ] || fail "$kind: packs with bounds after the refresh: $v"
    v=$(rows_md5 $db)
    [ "$v" = "$before" ] || fail "$kind: rows changed by the calls"

    q -d $db -c "DROP EXTENSION ducache"
    check_dropped $db "$before" "$kind"
    check_reinstall $db $fresh "$before" "$kind"
    echo "$kind: $(echo "$before" | cut -d' ' -f1) rows kept, 0.3.0 -> $VERSION ok, dropped and created again"
    psql -X -q -d postgres -c "DROP DATABASE $db"
done
psql -X -q -d postgres -c "DROP DATABASE $fresh"
