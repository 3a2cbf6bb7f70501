#!/usr/bin/env python3
"""ducache benchmark: ducache vs plain SQL vs client-side vs the detoast floor, in one run.

Called by scripts/bench.sh (which builds, installs and starts the cluster). Prints a markdown
table; with --out FILE also writes it there. Runs are interleaved round-robin so machine noise
hits every column alike; times are server-side (clock_timestamp deltas) except the client
column, which is wall-clock around a client that fetches the JSONB as text and sums in Python.
"""
import argparse, json, os, statistics, subprocess, sys, time
from decimal import Decimal

from dashboard_bench import dashboard_rows
from shape_bench import SHAPES, parse_scale, shape_lines
from rollup_bench import ROLLUP_HEADER, rollup_rows

HERE = os.path.dirname(os.path.abspath(__file__))
SCALES = {"S": (1000, 90), "L": (10000, 365)}
DB = "ducache_bench"


def psql(sql, db=DB, vars=None, file=None, quiet=True):
    cmd = ["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-d", db]
    for k, v in (vars or {}).items():
        cmd += ["-v", f"{k}={v}"]
    cmd += ["-1", "-f", file] if file else ["-c", sql]  # a file runs as one transaction
    out = subprocess.run(cmd, capture_output=True, text=True,
                         env=dict(os.environ, PGOPTIONS="-c client_min_messages=warning"))
    if out.returncode != 0:
        sys.exit(f"psql failed: {out.stderr}\n{sql or file}")
    return out.stdout.strip()


def exists(table):
    return psql(f"SELECT to_regclass('{table}') IS NOT NULL") == "t"


def restore():
    """Put the live bench table back into schema bench (also after an interrupted run)."""
    psql("""
        DO $$ BEGIN
          IF to_regclass('bench.live_origin') IS NOT NULL THEN
            IF to_regclass('public.daily_usage_cache_readbench') IS NOT NULL THEN
              ALTER TABLE public.daily_usage_cache RENAME TO daily_usage_cache_empty;
              ALTER TABLE public.daily_usage_cache_readbench RENAME TO daily_usage_cache;
            END IF;
            EXECUTE format('ALTER TABLE public.daily_usage_cache RENAME TO %I', (SELECT name FROM bench.live_origin));
            EXECUTE format('ALTER TABLE public.%I SET SCHEMA bench', (SELECT name FROM bench.live_origin));
            DROP TABLE bench.live_origin;
            ALTER TABLE public.daily_usage_cache_empty RENAME TO daily_usage_cache;
          END IF;
        END $$;""")


def use_dataset(table):
    """Swap a bench table in as public.daily_usage_cache (the functions read that name); the
    real (empty, fully indexed) table waits as daily_usage_cache_empty."""
    restore()
    name = table.split(".")[1]
    psql(f"""ALTER TABLE public.daily_usage_cache RENAME TO daily_usage_cache_empty;
             CREATE TABLE bench.live_origin AS SELECT '{name}'::text AS name;
             ALTER TABLE {table} SET SCHEMA public;
             ALTER TABLE public.{name} RENAME TO daily_usage_cache;""")


def time_all(variants, runs):
    labels = "ARRAY[" + ",".join("'" + l + "'" for l, _ in variants) + "]"
    stmts = "ARRAY[" + ",".join("$q$" + s + "$q$" for _, s in variants) + "]"
    rows = psql(f"SELECT label, p50_ms, p90_ms FROM bench.time_all({labels}, {stmts}, {runs})")
    return {r.split("|")[0]: (float(r.split("|")[1]), float(r.split("|")[2])) for r in rows.splitlines()}


def client_user_breakdown(start, end):
    """What the Node dashboard does: fetch every day's JSONB, parse, add up per user."""
    t0 = time.perf_counter()
    out = subprocess.run(["psql", "-X", "-At", "-d", DB, "-c",
                          f"SELECT aggregated_by_user::text FROM daily_usage_cache WHERE date BETWEEN '{start}' AND '{end}'"],
                         capture_output=True, text=True, check=True).stdout
    sums = {}
    for line in out.splitlines():
        for key, e in json.loads(line, parse_float=Decimal).items():
            m = e.get("metrics") if isinstance(e.get("metrics"), dict) else e
            s = sums.setdefault(key, [0, 0, Decimal(0), 0])
            s[0] += int(m.get("totalRequests", m.get("api_requests", 0)) or 0)
            s[1] += int(m.get("totalTokens", m.get("total_tokens", 0)) or 0)
            s[2] += Decimal(str(m.get("totalCost", m.get("spend", 0)) or 0))
            s[3] += 1
    sorted(sums.items(), key=lambda kv: (-kv[1][2], kv[0]))
    return (time.perf_counter() - t0) * 1000


def read_benchmarks(scale, shape, runs, rows):
    users, days = SCALES[scale]
    ranges = [r for r in (7, 90, 365) if r <= days]
    end = psql("SELECT max(date) FROM daily_usage_cache")
    funcs = {
        "user breakdown": ("SELECT count(*) FROM ducache_user_breakdown('{s}', '{e}')",
                           "SELECT count(*) FROM (SELECT bench.sql_user_breakdown('{s}', '{e}')) x", "aggregated_by_user"),
        "model breakdown": ("SELECT count(*) FROM ducache_model_breakdown('{s}', '{e}')",
                            "SELECT count(*) FROM bench.sql_breakdown('aggregated_by_model', '{s}', '{e}')", "aggregated_by_model"),
        "provider breakdown": ("SELECT count(*) FROM ducache_provider_breakdown('{s}', '{e}')",
                               "SELECT count(*) FROM bench.sql_breakdown('aggregated_by_provider', '{s}', '{e}')", "aggregated_by_provider"),
        "analytics": ("SELECT count(*) FROM ducache_analytics('{s}', '{e}')",
                      "SELECT count(*) FROM (SELECT bench.sql_analytics('{s}', '{e}')) x", "aggregated_by_user"),
        "daily trend": ("SELECT count(*) FROM ducache_daily_trend('{s}', '{e}')",
                        "SELECT count(*) FROM (SELECT bench.sql_daily_trend('{s}', '{e}')) x", "aggregated_by_user"),
    }
    for name, (duc, sql, col) in funcs.items():
        for r in ranges:
            s = psql(f"SELECT date '{end}' - {r - 1}")
            floor = f"SELECT bench.floor('{col}', '{s}', '{end}')"
            if name == "analytics":  # it reads the previous period too, and the model column
                floor = (f"SELECT bench.floor('aggregated_by_user', date '{s}' - {r}, '{end}'), "
                         f"bench.floor('aggregated_by_model', '{s}', '{end}')")
            t = time_all([("ducache", duc.format(s=s, e=end)), ("sql", sql.format(s=s, e=end)), ("floor", floor)], runs)
            client = None
            if name == "user breakdown":
                # The client is slow (seconds to a minute per run at L): fewer runs there.
                client_runs = runs if scale == "S" or r <= 7 else min(runs, 3)
                samples = [client_user_breakdown(s, end) for _ in range(client_runs)]
                client = (statistics.median(samples), sorted(samples)[int(0.9 * (len(samples) - 1))])
            rows.append(dict(scale=scale, shape=shape, fn=name, days=r, duc=t["ducache"], sql=t["sql"],
                             floor=t["floor"], client=client))
            print(f"  {scale} {shape} {name} {r}d: ducache {t['ducache'][0]} ms, sql {t['sql'][0]} ms, "
                  f"floor {t['floor'][0]} ms" + (f", client {client[0]:.0f} ms" if client else ""), file=sys.stderr)


def fmt(x):
    return "n/a" if x is None else (f"{x:.0f}" if x >= 100 else f"{x:.1f}")


def read_table(rows):
    out = ["| scale | shape | function | days | ducache p50/p90 ms | plain SQL p50/p90 ms | client p50 ms | floor p50 ms | ducache ÷ floor | SQL ÷ ducache | client ÷ ducache |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        d, s, f, c = r["duc"], r["sql"], r["floor"], r["client"]
        out.append(f"| {r['scale']} | {r['shape']} | {r['fn']} | {r['days']} | {fmt(d[0])} / {fmt(d[1])} | "
                   f"{fmt(s[0])} / {fmt(s[1])} | {fmt(c[0]) if c else 'n/a'} | {fmt(f[0])} | {d[0] / max(f[0], 0.01):.2f} | "
                   f"{s[0] / max(d[0], 0.01):.1f} | {(c[0] / max(d[0], 0.01)):.1f} |" if c else
                   f"| {r['scale']} | {r['shape']} | {r['fn']} | {r['days']} | {fmt(d[0])} / {fmt(d[1])} | "
                   f"{fmt(s[0])} / {fmt(s[1])} | n/a | {fmt(f[0])} | {d[0] / max(f[0], 0.01):.2f} | "
                   f"{s[0] / max(d[0], 0.01):.1f} | n/a |")
    return out


def write_benchmarks(scale, runs):
    """All days of the live nested dataset written three ways, each sent by a client as SQL text
    (as node-postgres would send it), into the real table with its five indexes."""
    psql("""DROP TABLE IF EXISTS bench.write_arrays;
            CREATE TABLE bench.write_arrays AS SELECT array_agg(date ORDER BY date) d, array_agg(raw_data ORDER BY date) r,
                array_agg(aggregated_by_user ORDER BY date) u, array_agg(aggregated_by_model ORDER BY date) m,
                array_agg(aggregated_by_provider ORDER BY date) p, array_agg(total_metrics ORDER BY date) t
            FROM public.daily_usage_cache;
            DROP TABLE IF EXISTS bench.write_floor;
            CREATE TABLE bench.write_floor (LIKE public.daily_usage_cache INCLUDING DEFAULTS);
            ALTER TABLE bench.write_floor ADD PRIMARY KEY (date);""")
    update_set = ("raw_data = EXCLUDED.raw_data, aggregated_by_user = EXCLUDED.aggregated_by_user, "
                  "aggregated_by_model = EXCLUDED.aggregated_by_model, aggregated_by_provider = EXCLUDED.aggregated_by_provider, "
                  "total_metrics = EXCLUDED.total_metrics, cached_at = now()")
    scripts = {
        "ducache": "SELECT format('SELECT count(*) FROM ducache_batch_upsert(%L::date[], %L::jsonb[], %L::jsonb[], "
                   "%L::jsonb[], %L::jsonb[], %L::jsonb[]);', d, r, u, m, p, t) FROM bench.write_arrays",
        "plain": "SELECT format('INSERT INTO public.daily_usage_cache (date, raw_data, aggregated_by_user, aggregated_by_model, "
                 "aggregated_by_provider, total_metrics, cached_at) SELECT x.*, now() FROM unnest(%L::date[], %L::jsonb[], "
                 "%L::jsonb[], %L::jsonb[], %L::jsonb[], %L::jsonb[]) AS x ON CONFLICT (date) DO UPDATE SET " + update_set.replace("'", "''") +
                 ";', d, r, u, m, p, t) FROM bench.write_arrays",
        "per-day loop": "SELECT format('INSERT INTO public.daily_usage_cache (date, raw_data, aggregated_by_user, aggregated_by_model, "
                        "aggregated_by_provider, total_metrics) VALUES (%L, %L, %L, %L, %L, %L) ON CONFLICT (date) DO UPDATE SET " +
                        update_set.replace("'", "''") + ";', date, raw_data, aggregated_by_user, aggregated_by_model, "
                        "aggregated_by_provider, total_metrics) FROM public.daily_usage_cache ORDER BY date",
        "write only": "SELECT 'TRUNCATE bench.write_floor;' UNION ALL SELECT format('INSERT INTO bench.write_floor (date, raw_data, "
                      "aggregated_by_user, aggregated_by_model, aggregated_by_provider, total_metrics) SELECT * FROM unnest(%L::date[], "
                      "%L::jsonb[], %L::jsonb[], %L::jsonb[], %L::jsonb[], %L::jsonb[]);', d, r, u, m, p, t) FROM bench.write_arrays",
    }
    paths = {}
    for name, q in scripts.items():
        paths[name] = f"/tmp/ducache_bench_{name.replace(' ', '_')}_{os.getpid()}.sql"
        with open(paths[name], "w") as f:
            subprocess.run(["psql", "-X", "-At", "-d", DB, "-c", q], stdout=f, check=True)
    # ducache_batch_upsert writes daily_usage_cache by name: point it at the real, indexed table.
    psql("ALTER TABLE public.daily_usage_cache RENAME TO daily_usage_cache_readbench; "
         "ALTER TABLE public.daily_usage_cache_empty RENAME TO daily_usage_cache; TRUNCATE public.daily_usage_cache")
    samples = {n: [] for n in scripts}
    try:
        subprocess.run(["psql", "-X", "-q", "-d", DB, "-f", paths["ducache"]], check=True, capture_output=True)  # first fill
        for _ in range(runs):
            for name, path in paths.items():
                t0 = time.perf_counter()
                subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", DB, "-f", path], check=True, capture_output=True)
                samples[name].append((time.perf_counter() - t0) * 1000)
    finally:
        psql("TRUNCATE public.daily_usage_cache; ALTER TABLE public.daily_usage_cache RENAME TO daily_usage_cache_empty; "
             "ALTER TABLE public.daily_usage_cache_readbench RENAME TO daily_usage_cache")
        for path in paths.values():
            os.unlink(path)
    print("  write samples (ms): " + "; ".join(f"{n}: {[round(x) for x in v]}" for n, v in samples.items()), file=sys.stderr)
    return {n: (statistics.median(v), max(v)) for n, v in samples.items()}


def index_usage():
    users, days = SCALES["S"]
    table = f"bench.cache_nested_{users}x{days}"
    restore()
    if not exists(table):
        return []
    use_dataset(table)
    psql("""CREATE INDEX IF NOT EXISTS bench_date ON public.daily_usage_cache (date);
            CREATE INDEX IF NOT EXISTS bench_user_jsonb ON public.daily_usage_cache USING gin (aggregated_by_user);
            CREATE INDEX IF NOT EXISTS bench_model_jsonb ON public.daily_usage_cache USING gin (aggregated_by_model);
            CREATE INDEX IF NOT EXISTS bench_provider_jsonb ON public.daily_usage_cache USING gin (aggregated_by_provider);
            CREATE INDEX IF NOT EXISTS bench_date_cached_at ON public.daily_usage_cache (date, cached_at);
            """)
    psql("VACUUM ANALYZE public.daily_usage_cache")
    psql("SELECT pg_stat_reset_single_table_counters('public.daily_usage_cache'::regclass)")
    mix = []
    for i in range(40):   # deterministic "random" ranges and single dates
        start = (i * 37) % days
        length = [7, 30, 90][i % 3]
        s = f"date '2025-01-01' + {start}"
        e = f"date '2025-01-01' + {min(days - 1, start + length - 1)}"
        fn = ["ducache_user_breakdown", "ducache_model_breakdown", "ducache_provider_breakdown",
              "ducache_analytics", "ducache_daily_trend"][i % 5]
        mix.append(f"SELECT count(*) FROM {fn}({s}, {e});")
        for k in range(5):
            mix.append(f"SELECT date, cached_at FROM public.daily_usage_cache WHERE date = date '2025-01-01' + {(i * 7 + k) % days};")
    psql("\n".join(mix))
    time.sleep(1)  # statistics are reported at the end of each transaction, with a short delay
    stats = psql("SELECT seq_scan, idx_scan FROM pg_stat_user_tables WHERE relid = 'public.daily_usage_cache'::regclass").split("|")
    seq, idx = int(stats[0]), int(stats[1] or 0)
    sizes = psql("""SELECT string_agg(format('%s %s', indexrelid::regclass, pg_size_pretty(pg_relation_size(indexrelid))), ', ')
                    FROM pg_index WHERE indrelid = 'public.daily_usage_cache'::regclass""")
    total = psql("SELECT pg_size_pretty(pg_total_relation_size('public.daily_usage_cache'))")
    psql("DROP INDEX bench_date, bench_user_jsonb, bench_model_jsonb, bench_provider_jsonb, bench_date_cached_at")
    share = 100.0 * idx / max(1, idx + seq)
    return [f"Index usage, S data, {len(mix)} statements of the dashboard mix: {idx} index scans, {seq} sequential scans "
            f"({share:.1f}% through an index; target > 95%: {'met' if share > 95 else 'NOT met'}).",
            f"Index sizes: {sizes}; table with TOAST and indexes: {total}."]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", action="append", choices=SCALES, help="S and/or L (default: both)")
    ap.add_argument("--quick", action="store_true", help="scale S only, 10 runs")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--out")
    ap.add_argument("--dashboard", action="append", choices=["S", "L", "none"],
                    help="the 0.2 dashboard benchmark at these scales (default: S; L data takes ~1.5 h to generate)")
    ap.add_argument("--dashboard-only", action="store_true", help="only the dashboard benchmark")
    ap.add_argument("--shapes", action="store_true",
                    help="only the per-entry cost by data shape (issue 13, bench/shape_bench.py)")
    ap.add_argument("--shape-scale", action="append", type=parse_scale, metavar="USERSxDAYS",
                    help="users x days of each shape (default 10000x30)")
    ap.add_argument("--shape", action="append", choices=SHAPES, help="shapes to run (default: all)")
    ap.add_argument("--rollups", action="append", choices=["S", "L", "none"],
                    help="the rollups benchmark (issue 12) at these scales (default: none)")
    ap.add_argument("--rollup-shape", action="append", choices=["litemaas", "flat"],
                    help="data shapes of the rollups benchmark (default: both)")
    ap.add_argument("--rollups-only", action="store_true", help="only the rollups benchmark")
    a = ap.parse_args()
    scales = ["S"] if a.quick else (a.scale or ["S", "L"])
    psql("SELECT 1", db="postgres")
    if psql(f"SELECT count(*) FROM pg_database WHERE datname = '{DB}'", db="postgres") == "0":
        psql(f"CREATE DATABASE {DB}", db="postgres")
    psql("CREATE EXTENSION IF NOT EXISTS ducache")
    psql("ALTER EXTENSION ducache UPDATE")   # a bench database made by an older version
    psql("", file=os.path.join(HERE, "functions.sql"))
    psql("CREATE TABLE IF NOT EXISTS bench.live_origin_probe (); DROP TABLE bench.live_origin_probe")
    restore()
    if a.shapes:
        lines = shape_lines(a.shape or list(SHAPES), a.shape_scale or [(10000, 30)], a.runs,
                            psql, exists, use_dataset, time_all)
        restore()
        print("\n".join(lines))
        if a.out:
            open(a.out, "w").write("\n".join(lines) + "\n")
        return
    rows, writes, notes = [], {}, []
    dash_lines, dash_targets = [], []
    for scale in [x for x in (a.dashboard or ["S"]) if x != "none" and not a.rollups_only]:
        lines_, targets_ = dashboard_rows(scale, max(3, a.runs // 2), psql, exists, use_dataset, time_all, DB)
        dash_lines += lines_ if not dash_lines else lines_[2:]
        dash_targets += targets_
    roll_lines, roll_targets, roll_notes = [], [], []
    for scale in [x for x in (a.rollups or []) if x != "none"]:
        for shape in a.rollup_shape or ["litemaas", "flat"]:
            l_, t_, n_ = rollup_rows(scale, shape, max(3, a.runs // 2), psql, exists, use_dataset, time_all)
            roll_lines += l_
            roll_targets += t_
            roll_notes += n_
    if a.dashboard_only or a.rollups_only:
        scales = []
    for scale in scales:
        users, days = SCALES[scale]
        for shape in ("nested", "flat"):
            table = f"bench.cache_{shape}_{users}x{days}"
            if not exists(table):
                print(f"generating {table} ...", file=sys.stderr)
                psql("", vars=dict(users=users, days=days, shape=shape), file=os.path.join(HERE, "data.sql"))
            use_dataset(table)
            read_benchmarks(scale, shape, a.runs, rows)
        use_dataset(f"bench.cache_nested_{users}x{days}")
        if scale == "L":
            # A year of L in one array argument passes PostgreSQL's 1 GB datum limit
            # ("array size exceeds the maximum allowed"): clients must send it in chunks.
            notes.append("Write path at L not measured: one year of 10,000 users does not fit one array argument (1 GB limit).")
            writes[scale] = {}
        else:
            print(f"write path at {scale} ...", file=sys.stderr)
            t_write = time.perf_counter()
            writes[scale] = write_benchmarks(scale, max(3, a.runs // 3))
            print(f"  write path took {time.perf_counter() - t_write:.0f} s", file=sys.stderr)
        # Rebuild: raw_data in the gateway shape, keys mapped through bench.api_keys.
        if psql("SELECT count(*) FROM daily_usage_cache WHERE raw_data ? 'breakdown'") == "0":
            print("generating raw_data ...", file=sys.stderr)
            psql("", vars=dict(users=users, days=days, shape="nested"), file=os.path.join(HERE, "raw_data.sql"))
        t0 = time.perf_counter()
        psql(f"SET ducache.api_keys_table = 'bench.api_keys'; SET ducache.users_table = 'bench.users'; "
             f"SELECT count(*) FROM ducache_rebuild('2025-01-01', '2026-12-31')")
        writes[scale]["rebuild"] = ((time.perf_counter() - t0) * 1000, None)
        # Peak backend memory of one L/S user breakdown (VmHWM of a fresh backend).
        hwm_expr = "(regexp_match(pg_read_file('/proc/' || pg_backend_pid() || '/status'), 'VmHWM:\\s+(\\d+)'))[1]"
        hwm = psql(f"SELECT {hwm_expr}, (SELECT count(*) FROM ducache_user_breakdown('2025-01-01', '2026-12-31')), {hwm_expr}").split("|")
        notes.append(f"Peak backend memory (VmHWM) for the {scale} user breakdown over all days: "
                     f"{int(hwm[0]) // 1024} MB before, {int(hwm[-1]) // 1024} MB after (includes shared buffers touched).")
    # Index usage: the dashboard's query mix on the S nested data with the five indexes in place.
    if scales:
        notes += index_usage()
    lines = read_table(rows) if rows else []
    lines += [] if not writes else ["", "| scale | ducache_batch_upsert p50 ms | INSERT .. unnest .. ON CONFLICT p50 ms | per-day client loop p50 ms | just writing the rows p50 ms | ducache_rebuild ms | loop ÷ ducache |",
              "|---|---|---|---|---|---|---|"]
    for scale, w in writes.items():
        if "ducache" not in w:
            lines.append(f"| {scale} | n/a | n/a | n/a | n/a | {fmt(w['rebuild'][0])} | n/a |")
            continue
        lines.append(f"| {scale} | {fmt(w['ducache'][0])} | {fmt(w['plain'][0])} | {fmt(w['per-day loop'][0])} | "
                     f"{fmt(w['write only'][0])} | {fmt(w['rebuild'][0])} | {w['per-day loop'][0] / w['ducache'][0]:.1f} |")
    lines += [""] + notes
    # Targets.
    def find(scale, fn, days, shape="nested"):
        for r in rows:
            if (r["scale"], r["fn"], r["days"], r["shape"]) == (scale, fn, days, shape):
                return r
    targets = []
    r = find("L", "user breakdown", 365)
    if r:
        targets.append(("L user breakdown 365d ≤ 2.0× floor", r["duc"][0] / r["floor"][0] <= 2.0, f"{r['duc'][0] / r['floor'][0]:.2f}×"))
        targets.append(("L user breakdown 365d ≥ 5× faster than SQL", r["sql"][0] / r["duc"][0] >= 5, f"{r['sql'][0] / r['duc'][0]:.1f}×"))
        for fn in ("model breakdown", "provider breakdown", "analytics", "daily trend"):
            x = find("L", fn, 90)
            targets.append((f"L {fn} 90d ≤ 2.0× floor", x["duc"][0] / x["floor"][0] <= 2.0, f"{x['duc'][0] / x['floor'][0]:.2f}×"))
    for scale, w in writes.items():
        if "ducache" not in w:
            continue
        targets.append((f"{scale} batch upsert ≥ 5× faster than the per-day loop", w["per-day loop"][0] / w["ducache"][0] >= 5,
                        f"{w['per-day loop'][0] / w['ducache'][0]:.1f}×"))
    if "L" in writes:
        targets.append(("L rebuild 365 days < 60 s", writes["L"]["rebuild"][0] < 60000, f"{writes['L']['rebuild'][0] / 1000:.1f} s"))
    if dash_lines:
        lines += ["", "The 0.2 dashboard (90 days of LiteMaaS-shaped data, both periods cached):", ""] + dash_lines
        targets += dash_targets
    if roll_lines:
        lines += ["", "Rollups (issue 12): a year of data, rollups on and off:", ""] + ROLLUP_HEADER + roll_lines + [""] + roll_notes
        targets += roll_targets
    lines += ["", "| target | met? | measured |", "|---|---|---|"]
    lines += [f"| {t} | {'met' if ok else 'NOT met'} | {m} |" for t, ok, m in targets]
    restore()
    text = "\n".join(lines)
    print(text)
    if a.out:
        open(a.out, "w").write(text + "\n")


if __name__ == "__main__":
    main()
