#!/usr/bin/env bash
# What loading ducache.so asks of the dynamic linker, paid by every backend and every parallel
# worker that loads it (docs/benchmarks.md, round 13 of issue 13): its dynamic symbols are its C
# names only (src/pg/exports.map: no std template instance bound at each load), libpq is not
# one of its dependencies and no libpq symbol is left for the linker (src/pg/libpq_calls.cpp
# opens it on a backend's first shard call), and a backend that loads ducache has no libpq
# mapped. That libpq is opened when a shard is called: the scale_out*.sh tests.
# Needs the cluster scripts/test.sh started (PG* variables).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh
lib=$PGROOT/usr/lib/postgresql/$PG_MAJOR/lib/ducache.so
fail() { echo "FAIL: $*" >&2; exit 1; }
[ -f "$lib" ] || fail "$lib is not installed"

needed=$(readelf -d "$lib" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
echo "needed: $needed"
[[ $needed == *libpq* ]] && fail "ducache.so depends on libpq: $needed"

exported=$(nm -D --defined-only "$lib" | awk '{print $3}')
count=$(echo "$exported" | wc -l)
odd=$(echo "$exported" | grep -vE '^(Pg_magic_func|_PG_init|pg_finfo_[a-z0-9_]+|ducache_[a-z0-9_]+)$' || true)
[ -z "$odd" ] || fail "ducache.so exports other symbols than its C entry points: $(echo $odd | cut -c1-400)"
# Every SQL function is exported with its pg_finfo_ (PG_FUNCTION_INFO_V1), and nothing else.
for f in $(echo "$exported" | grep -E '^ducache_'); do
    # A here-string, not a pipe: grep -q stops at its match, and under pipefail the echo's
    # SIGPIPE would fail the check (it did, once in a full run).
    grep -qx "pg_finfo_$f" <<<"$exported" || fail "$f is exported without pg_finfo_$f"
done
pq=$(nm -D --undefined-only "$lib" | awk '{print $2}' | grep -E '^PQ' || true)
[ -z "$pq" ] || fail "ducache.so leaves libpq symbols to the dynamic linker (list them in src/pg/libpq_calls.cpp): $pq"
echo "exported: $count symbols, all C entry points"

# A new backend, ducache loaded: ducache.so is mapped, libpq is not.
maps=$(psql -X -At -d postgres -v ON_ERROR_STOP=1 -c "LOAD 'ducache'" \
    -c "SELECT string_agg(DISTINCT substring(l from '[^/]*\$'), ' ') FROM regexp_split_to_table(pg_read_file('/proc/self/maps'), E'\n') AS l WHERE l ~ '(libpq|ducache)'")
maps=$(echo "$maps" | tail -n 1)
echo "mapped after LOAD: $maps"
[[ $maps == *ducache.so* ]] || fail "the backend's maps do not show ducache.so after LOAD: $maps"
[[ $maps == *libpq* ]] && fail "a backend that loaded ducache has libpq mapped: $maps"
echo "library load ok"
