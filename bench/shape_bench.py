"""Per-entry cost by data shape (issue 13): for each entry shape of bench/shapes.sql, ducache's
own nanoseconds per entry next to the single-process detoast floor.

Called by bench/run.py (--shapes). For each shape, interleaved in bench.time_all:
  * ducache_user_breakdown over the whole range, with no parallel workers (bench.serial),
  * the detoast floor of the same column and range (bench.floor), with no parallel workers,
  * ducache_merge(aggregated_by_user) over the same rows, with no parallel workers,
  * the breakdown and the floor again with the session's default parallel settings (the
    breakdown's parallel path: src/pg/parallel_breakdown.hpp).
Own ns per entry = (time - floor time) / entries, where entries is counted once in plain SQL
(jsonb_object_keys of every row read), so it is the work ducache adds to the decompression.
A second pass (bench.cpu_all) takes the backend's CPU time of the serial variants (exact,
from /proc/<pid>/schedstat after a short sleep: bench.cpu_ns, the median of the runs; else
the mean of 10 ms clock ticks), which waits
for a core on a shared machine do not inflate, over the whole range and over the first
HEAD_DAYS days; both output every user, so their difference gives the marginal cost per entry
read and the rest a fixed cost per output key (split_cost).
"""
import os, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))

# name -> shapes.sql variables. The first is issue 13's table; the rest change one thing at a
# time from it, then two LiteMaaS-like nested shapes and the worst flat combination.
SHAPES = {
    "flat_id_d6_m5_daily": {},
    "flat_uuid_d6_m5_daily": {"keys": "uuid"},
    "flat_id_d0_m5_daily": {"decimals": 0},
    "flat_id_d2_m5_daily": {"decimals": 2},
    "flat_id_d10_m5_daily": {"decimals": 10},
    "flat_id_d6_m7_daily": {"metrics": 7},
    "flat_id_d6_m5_sparse": {"activity": "sparse"},
    "flat_uuid_d10_m7_sparse": {"keys": "uuid", "decimals": 10, "metrics": 7, "activity": "sparse"},
    "nested_uuid_d6_m7_daily": {"layout": "nested", "keys": "uuid", "metrics": 7},
    "nested_uuid_d10_m7_sparse": {"layout": "nested", "keys": "uuid", "decimals": 10, "metrics": 7, "activity": "sparse"},
}
BASE = {"layout": "flat", "keys": "id", "decimals": 6, "metrics": 5, "activity": "daily"}
ISSUE_SHAPE = "flat_id_d6_m5_daily"
HEAD_DAYS = 5   # sparse users are active every 5th day: 5 days hold every user
# What issue 13 reported for its table (10K users x 365 days, flat, 10-char keys, 6 decimals, lz4).
ISSUE = {"users": 10000, "days": 365, "ratio": 3.8, "duc": 792, "floor": 207, "merge_ns": 135}


def parse_scale(text):
    users, days = text.lower().split("x")
    return int(users), int(days)


def generate(name, users, days, psql):
    vars_ = dict(BASE, **SHAPES[name], users=users, days=days)
    t0 = time.perf_counter()
    out = psql("", vars=vars_, file=os.path.join(HERE, "shapes.sql"))
    took = time.perf_counter() - t0
    print(f"  generated {out.splitlines()[-1]} in {took:.0f} s", file=sys.stderr)
    return took


def statements(start, end):
    """The serial breakdown, floor and merge over [start, end] (quoted for bench.serial)."""
    rng = f"''{start}'', ''{end}''"
    breakdown = f"SELECT count(*) FROM ducache_user_breakdown({rng})"
    floor = f"SELECT bench.floor(''aggregated_by_user'', {rng})"
    merge = (f"SELECT ducache_merge(aggregated_by_user) IS NOT NULL FROM daily_usage_cache "
             f"WHERE date BETWEEN ''{start}'' AND ''{end}''")
    return breakdown, floor, merge


def count_entries(start, end, psql):
    """Entries read and distinct keys over [start, end], in plain SQL."""
    out = psql(f"SELECT count(*), count(DISTINCT k) FROM daily_usage_cache, jsonb_object_keys(aggregated_by_user) AS k "
               f"WHERE date BETWEEN '{start}' AND '{end}'")
    return tuple(int(x) for x in out.split("|"))


def measure(name, users, days, runs, psql, exists, use_dataset, time_all):
    table = f"bench.shape_{name}_{users}x{days}"
    gen_s = generate(name, users, days, psql) if not exists(table) else None
    use_dataset(table)
    start, end = psql("SELECT min(date), max(date) FROM daily_usage_cache").split("|")
    # The first HEAD_DAYS days hold every user (sparse users are active every 5th day), so the
    # whole range and the head output the same keys: the difference is only entries read.
    head_end = psql(f"SELECT least(date '{start}' + {HEAD_DAYS - 1}, date '{end}')")
    entries, keys = count_entries(start, end, psql)
    head_entries, head_keys = count_entries(start, head_end, psql)
    mb = int(psql("SELECT pg_total_relation_size('daily_usage_cache')")) / 1e6
    compression = psql("SELECT string_agg(DISTINCT COALESCE(pg_column_compression(aggregated_by_user), 'inline'), ',') "
                       "FROM daily_usage_cache")
    breakdown, floor, merge = statements(start, end)
    serial = [(l, f"SELECT bench.serial('{q}')") for l, q in (("ducache", breakdown), ("floor", floor), ("merge", merge))]
    head = [(l + " head", f"SELECT bench.serial('{q}')") for l, q in zip(("ducache", "floor", "merge"),
                                                                         statements(start, head_end))]
    t = time_all(serial + [("ducache default", breakdown.replace("''", "'")),
                           ("floor default", floor.replace("''", "'"))], runs)
    cpu = cpu_all(serial + head, runs, psql)
    row = dict(cpu=cpu, shape=name, users=users, days=days, entries=entries, keys=keys, head_entries=head_entries,
               head_keys=head_keys, mb=mb, compression=compression, gen_s=gen_s,
               duc=t["ducache"][0], floor=t["floor"][0], merge=t["merge"][0],
               duc_def=t["ducache default"][0], floor_def=t["floor default"][0])
    print(f"  {name} {users}x{days}: {entries} entries ({keys} keys; head {head_entries}/{head_keys}), {mb:.0f} MB "
          f"({compression}); ducache {row['duc']} ms, floor {row['floor']} ms, merge {row['merge']} ms; default: "
          f"ducache {row['duc_def']} ms, floor {row['floor_def']} ms; CPU ms {cpu}", file=sys.stderr)
    return row


def split_cost(r, fn):
    """From backend CPU over the whole range and over the head (same keys, fewer entries):
    (marginal ns per entry read, fixed us per output key) of ducache's own work in fn."""
    c = r["cpu"]
    own, own_head = c[fn] - c["floor"], c[fn + " head"] - c["floor head"]
    if r["head_keys"] != r["keys"] or r["entries"] == r["head_entries"]:
        return None, None
    per_entry = (own - own_head) * 1e6 / (r["entries"] - r["head_entries"])
    per_key = (own_head * 1e6 - per_entry * r["head_entries"]) / r["keys"] / 1000
    return per_entry, per_key


def cpu_all(variants, runs, psql):
    """Backend CPU ms per run (bench.cpu_all: the median, or the mean of ticks), interleaved like bench.time_all."""
    labels = "ARRAY[" + ",".join("'" + l + "'" for l, _ in variants) + "]"
    stmts = "ARRAY[" + ",".join("$q$" + s + "$q$" for _, s in variants) + "]"
    hz = int(os.sysconf("SC_CLK_TCK"))
    rows = psql(f"SELECT label, cpu_ms FROM bench.cpu_all({labels}, {stmts}, {runs}, {hz})")
    return {r.split("|")[0]: float(r.split("|")[1]) for r in rows.splitlines()}


def ns_per_entry(ms, floor_ms, entries):
    return (ms - floor_ms) * 1e6 / max(entries, 1)


def shape_lines(names, scales, runs, psql, exists, use_dataset, time_all):
    rows = []
    for users, days in scales:
        for name in names:
            rows.append(measure(name, users, days, runs, psql, exists, use_dataset, time_all))
    lines = ["| shape | users × days | entries | MB (compression) | floor ms | ducache ms | ÷ floor | own ns/entry | "
             "merge ms | merge own ns/entry |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['shape']} | {r['users']} × {r['days']} | {r['entries']:,} | {r['mb']:.0f} ({r['compression']}) | "
                     f"{r['floor']:.1f} | {r['duc']:.1f} | {r['duc'] / max(r['floor'], 0.01):.2f} | "
                     f"{ns_per_entry(r['duc'], r['floor'], r['entries']):.0f} | {r['merge']:.1f} | "
                     f"{ns_per_entry(r['merge'], r['floor'], r['entries']):.0f} |")
    lines += ["", "Default parallel settings (max_parallel_workers_per_gather as configured; the user breakdown "
              "hands ranges of ducache.parallel_min_days or more to parallel workers). ÷ serial floor: against the "
              "single-process floor of the first table:", "",
              "| shape | users × days | floor ms | ducache ms | ÷ floor | ÷ serial floor | ducache serial ÷ default |",
              "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['shape']} | {r['users']} × {r['days']} | {r['floor_def']:.1f} | {r['duc_def']:.1f} | "
                     f"{r['duc_def'] / max(r['floor_def'], 0.01):.2f} | {r['duc_def'] / max(r['floor'], 0.01):.2f} | "
                     f"{r['duc'] / max(r['duc_def'], 0.01):.2f} |")
    lines += ["", "Backend CPU time instead of wall time (no waits for a core; serial; the median of the runs, exact, from "
              "/proc/<pid>/schedstat where the kernel keeps it, else the mean of 10 ms ticks). Marginal = "
              f"(own CPU over the whole range - own CPU over the first {HEAD_DAYS} days) / (entries - entries of those days): "
              "both ranges output the same keys, so this is the cost per entry read; per key = the rest of the first "
              f"{HEAD_DAYS} days' own CPU per output key (output, sorting, per-call setup):", "",
              "| shape | floor CPU ms | ducache CPU ms | ÷ floor | own ns/entry | marginal ns/entry | per key µs | "
              "merge CPU ms | merge own ns/entry | merge marginal ns/entry | merge per key µs |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    f1 = lambda x: "n/a" if x is None else f"{x:.0f}"
    f2 = lambda x: "n/a" if x is None else f"{x:.1f}"
    for r in rows:
        c = r["cpu"]
        (be, bk), (me, mk) = split_cost(r, "ducache"), split_cost(r, "merge")
        lines.append(f"| {r['shape']} {r['users']}x{r['days']} | {c['floor']:.1f} | {c['ducache']:.1f} | "
                     f"{c['ducache'] / max(c['floor'], 0.01):.2f} | {ns_per_entry(c['ducache'], c['floor'], r['entries']):.0f} | "
                     f"{f1(be)} | {f2(bk)} | {c['merge']:.1f} | {ns_per_entry(c['merge'], c['floor'], r['entries']):.0f} | "
                     f"{f1(me)} | {f2(mk)} |")
    gens = [f"{r['shape']} {r['users']}x{r['days']} {r['gen_s']:.0f} s" for r in rows if r["gen_s"] is not None]
    if gens:
        lines += ["", "Generation times: " + "; ".join(gens) + "."]
    for r in rows:
        if r["shape"] == ISSUE_SHAPE:
            lines += ["", f"Issue 13 reported on {ISSUE['users']} × {ISSUE['days']} of this shape: {ISSUE['ratio']}× the floor "
                      f"({ISSUE['duc']} ms against {ISSUE['floor']} ms), ~{ISSUE['merge_ns']} ns/entry of its own in the merge. "
                      f"Here at {r['users']} × {r['days']}: {r['duc'] / max(r['floor'], 0.01):.2f}× the floor, "
                      f"{ns_per_entry(r['duc'], r['floor'], r['entries']):.0f} ns/entry in the breakdown, "
                      f"{ns_per_entry(r['merge'], r['floor'], r['entries']):.0f} ns/entry in the merge."]
    return lines
