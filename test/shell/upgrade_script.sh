#!/usr/bin/env bash
# The upgrade scripts (see the Makefile, "Upgrades"):
#  * the step being written (upgrade/ducache--0.3.0--0.4.0.sql) is exactly what its parts
#    assemble (`make upgrade-scripts`): an install part changed without regenerating it would
#    upgrade databases to something else than a fresh install gives;
#  * the released scripts never change (a database at that version was made by them);
#  * a part that runs again over the previous version's objects creates nothing that cannot be
#    created twice (CREATE TABLE/INDEX/...): such parts are named as once parts, and each once
#    part runs in exactly one step.
set -euo pipefail
cd "$(dirname "$0")/../.."
mk() { make -s --no-print-directory "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

script=$(mk print-upgrade-script)
parts=$(mk print-upgrade-parts)
once=" $(mk print-once-parts) "
[ -f "$script" ] || fail "$script is missing: run make upgrade-scripts"
# shellcheck disable=SC2086
cat $parts | cmp -s - "$script" || fail "$script is not what its parts assemble: run make upgrade-scripts"

# Released: md5 of each file as released (0.1.0 at cfc6a49, 0.2.0 at d93d254, 0.3.0 at ce29e82).
while read -r sum file; do
    [ "$(md5sum < "$file" | cut -d' ' -f1)" = "$sum" ] || fail "$file changed: released scripts are frozen"
done <<'SUMS'
2c9e9fd854882ec24520147f0be39a4f upgrade/ducache--0.1.0.sql
95cb0928c88cceca781529551de2fb23 upgrade/ducache--0.2.0.sql
e8c104f2fe1feba9e3032d227f369320 upgrade/ducache--0.1.0--0.2.0.sql
7fe180f355533f9d4d721630e1ff1ff1 upgrade/ducache--0.3.0.sql
263159f0b8fbb316015d68b062c522ab upgrade/ducache--0.2.0--0.3.0.sql
SUMS
# Each frozen install script is the install of its release commit (when this is a git checkout).
for release in 0.2.0:d93d254 0.3.0:ce29e82; do
    v=${release%%:*} c=${release#*:}
    git rev-parse -q --verify "$c^{commit}" >/dev/null 2>&1 || continue
    tail -n +5 "upgrade/ducache--$v.sql" | cmp -s - <(for f in $(git ls-tree --name-only "$c" src/sql/); do
        git show "$c:$f"; done) || fail "upgrade/ducache--$v.sql is not $v's install script"
done
previous=upgrade/ducache--$(sed -nE 's|^upgrade/ducache--([0-9.]+)--.*|\1|p' <<<"$script").sql
[ -f "$previous" ] || fail "no frozen install script $previous for the step $script"

# Replayable parts: every statement that creates starts CREATE OR REPLACE. A once part in the
# step must be new in this version: its objects must not be in the previous release.
replayed=0
for p in $parts; do
    case "$p" in src/sql/*) ;; *) continue ;; esac
    if [[ "$once" == *" $p "* ]]; then
        name=$(sed -nE 's/^CREATE (TABLE|INDEX) ([^ (]+).*/\2/p' "$p" | sed 's/@extschema@\.//')
        for n in $name; do
            grep -qE "^CREATE (TABLE|INDEX)( IF NOT EXISTS)? (@extschema@\.)?$n\b" "$previous" &&
                fail "$p is in the step but $previous already created $n: leave it out of the step (ONCE_RELEASED)"
        done
        continue
    fi
    bad=$(grep -nE '^[[:space:]]*CREATE[[:space:]]' "$p" | grep -vE 'CREATE[[:space:]]+OR[[:space:]]+REPLACE' || true)
    [ -z "$bad" ] || fail "$p runs again on upgrade but creates what cannot be created twice (name it as a once part, see the Makefile): $bad"
    replayed=$((replayed + 1))
done
echo "upgrade script current: $(echo "$parts" | wc -w) parts ($replayed replayed), released scripts unchanged"
