#!/bin/bash
# Round 13 spike (docs/rollups.md "Round 13 (spike): a packed per-user column"): writes the packed
# rows of the two bench ranges (range: users + pairs packs; comparison period: users pack) for
# bench/spike_packed/sum.cpp, as /tmp/spike-rows-{al,mid}-{narrow,full}.txt. Needs build.sql run
# first and psql connected to the L data set (pg_env of its sandbox). Then, e.g.:
#   g++ -O2 -std=c++17 -o /tmp/spike_sum bench/spike_packed/sum.cpp
#   valgrind --tool=callgrind --toggle-collect='*work*' /tmp/spike_sum /tmp/spike-rows-al-narrow.txt with-pairs
set -eu
for spec in "al 2025-04-01 2025-06-29" "mid 2025-05-18 2025-08-15"; do
    set -- $spec
    for v in narrow full; do
        psql -X -d ducache_bench -AtF $'\t' -c "
SELECT 'range', CASE WHEN variant = 'pairs' THEN 'pairs' ELSE 'users' END, encode(p, 'hex')
FROM spike.packed JOIN spike.period_rows('$2', '$3') r USING (kind, k) WHERE variant IN ('$v', 'pairs')
UNION ALL
SELECT 'cmp', 'users', encode(p, 'hex')
FROM spike.packed JOIN spike.period_rows('$2'::date - ('$3'::date - '$2'::date + 1), '$2'::date - 1) r USING (kind, k)
WHERE variant = '$v'" > /tmp/spike-rows-$1-$v.txt
    done
done
