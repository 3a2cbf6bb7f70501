"""The rollups benchmark (issue 12): a year costs about a month.

On a year of data (users x 365 days from 2025-01-01) it times, interleaved in one run:
  * ducache_user_breakdown over 365 days (whole months) and over an unaligned range (mid-month
    to mid-month: whole months from rollups, the edges from the days), rollups on and off
    (`ducache.use_rollups`), against the detoast floor of the day rows and of what the call
    actually reads with rollups (the rollup rows + the leftover day rows);
  * ducache_dashboard over 90 days (+ the comparison period) likewise;
and reports the time of ducache_refresh_rollups for all months and for one month, what a
refresh adds to a one-day ducache_batch_upsert of a past day, and the rollups' size against the
table's. Called by bench/run.py (--rollups S|L).

Data sets: `litemaas` (LiteMaaS's nested shape with keys, bench/litemaas_data.sql; at L ten
generated days repeated with shifted dates, as the dashboard benchmark does) and `flat`
(bench/data.sql's flat shape, short keys, generated day by day: a shape the rollups were not
tuned on).
"""
import os, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROLLUP_SCALES = {"S": 1000, "L": 10000}
DAYS = 365
REPEAT_FROM = 10

# The swapped-in bench table is not the one CREATE EXTENSION put the change triggers on; the
# benchmark gives it the same triggers (rollups are only used on a table that has them).
TRIGGERS = """
CREATE OR REPLACE TRIGGER ducache_rollups_insert AFTER INSERT ON public.daily_usage_cache
    REFERENCING NEW TABLE AS ducache_new_rows FOR EACH STATEMENT EXECUTE FUNCTION public.ducache_rollups_log_changes();
CREATE OR REPLACE TRIGGER ducache_rollups_update AFTER UPDATE ON public.daily_usage_cache
    REFERENCING OLD TABLE AS ducache_old_rows NEW TABLE AS ducache_new_rows FOR EACH STATEMENT EXECUTE FUNCTION public.ducache_rollups_log_changes();
CREATE OR REPLACE TRIGGER ducache_rollups_delete AFTER DELETE ON public.daily_usage_cache
    REFERENCING OLD TABLE AS ducache_old_rows FOR EACH STATEMENT EXECUTE FUNCTION public.ducache_rollups_log_changes();
CREATE OR REPLACE TRIGGER ducache_rollups_truncate AFTER TRUNCATE ON public.daily_usage_cache
    FOR EACH STATEMENT EXECUTE FUNCTION public.ducache_rollups_log_changes();
ALTER TABLE public.daily_usage_cache ENABLE ALWAYS TRIGGER ducache_rollups_insert;
ALTER TABLE public.daily_usage_cache ENABLE ALWAYS TRIGGER ducache_rollups_update;
ALTER TABLE public.daily_usage_cache ENABLE ALWAYS TRIGGER ducache_rollups_delete;
ALTER TABLE public.daily_usage_cache ENABLE ALWAYS TRIGGER ducache_rollups_truncate;
"""

HELPERS = """
-- Runs stmt with ducache.use_rollups set to flag for this statement only.
CREATE OR REPLACE FUNCTION bench.with_rollups(flag text, stmt text) RETURNS void LANGUAGE plpgsql AS $f$
BEGIN
    PERFORM set_config('ducache.use_rollups', flag, true);
    EXECUTE stmt;
    PERFORM set_config('ducache.use_rollups', 'on', true);
END $f$;
-- (Each count reads the chosen rows first, OFFSET 0: the planner would otherwise test "col ? key",
-- cheaper than "= ANY (array)" by its estimate, on every row of the table, detoasting all of them.)
-- The detoast floor of what a rollup-using call reads: the fresh rollup rows of the whole months
-- inside [s, e], the fresh block rows of the whole blocks inside it in the other months (when
-- blocks is true), and the day rows of the other days.
DROP FUNCTION IF EXISTS bench.rollup_floor(text, date, date);
CREATE OR REPLACE FUNCTION bench.rollup_floor(col text, s date, e date, blocks boolean DEFAULT true) RETURNS bigint
LANGUAGE plpgsql STABLE SET enable_bitmapscan = off AS $f$
DECLARE n bigint; b bigint; m bigint; months date[]; block_list date[]; left_over date[];
BEGIN
    SELECT coalesce(array_agg(r.month), '{}') INTO months FROM public.ducache_rollups r
    WHERE r.built AND r.month >= s AND (r.month + interval '1 month' - interval '1 day')::date <= e;
    EXECUTE format('SELECT count(*) FROM (SELECT %I AS v FROM public.ducache_rollups WHERE month = ANY ($1) OFFSET 0) x WHERE x.v ? %L', col, 'no-such-key')
        INTO n USING months;
    SELECT coalesce(array_agg(k.block), '{}') INTO block_list FROM public.ducache_rollup_blocks k
    WHERE blocks AND k.built AND k.block >= s AND k.last_day <= e AND NOT (k.month = ANY (months));
    EXECUTE format('SELECT count(*) FROM (SELECT %I AS v FROM public.ducache_rollup_blocks WHERE block = ANY ($1) OFFSET 0) x WHERE x.v ? %L', col, 'no-such-key')
        INTO b USING block_list;
    -- The other days (dates only), then only their documents detoasted.
    SELECT array_agg(d.date) INTO left_over FROM public.daily_usage_cache d
    WHERE d.date BETWEEN s AND e AND NOT (public.ducache_month_of(d.date) = ANY (months))
      AND NOT (public.ducache_block_of(d.date) = ANY (block_list));
    EXECUTE format('SELECT count(*) FROM (SELECT %I AS v FROM public.daily_usage_cache WHERE date = ANY ($1) OFFSET 0) x WHERE x.v ? %L', col, 'no-such-key')
        INTO m USING coalesce(left_over, '{}');
    RETURN n + b + m;
END $f$;
-- The detoast floor of what one period of ducache_dashboard reads: the fresh month rollups of
-- the whole months inside [s, e], the fresh blocks of the other months' whole blocks, the built
-- day projections of the other days (when projections is true; the benchmark reads after a
-- refresh, with no change logged), and the other days' rows; of each rollup, block or
-- projection row the columns rollup_cols, of each day row day_cols.
DROP FUNCTION IF EXISTS bench.period_floor(text[], text[], date, date);
CREATE OR REPLACE FUNCTION bench.period_floor(rollup_cols text[], day_cols text[], s date, e date,
                                              projections boolean DEFAULT true) RETURNS bigint
LANGUAGE plpgsql STABLE SET enable_bitmapscan = off AS $f$
DECLARE n bigint := 0; c bigint; col text; months date[]; block_list date[]; left_over date[]; proj date[];
BEGIN
    SELECT coalesce(array_agg(r.month), '{}') INTO months FROM public.ducache_rollups r
    WHERE r.built AND r.month >= s AND (r.month + interval '1 month' - interval '1 day')::date <= e;
    SELECT coalesce(array_agg(k.block), '{}') INTO block_list FROM public.ducache_rollup_blocks k
    WHERE k.built AND k.block >= s AND k.last_day <= e AND NOT (k.month = ANY (months));
    SELECT coalesce(array_agg(p.day), '{}') INTO proj FROM public.ducache_rollup_days p
    WHERE projections AND p.built AND p.day BETWEEN s AND e AND NOT (p.month = ANY (months))
      AND NOT (public.ducache_block_of(p.day) = ANY (block_list));
    SELECT coalesce(array_agg(d.date), '{}') INTO left_over FROM public.daily_usage_cache d
    WHERE d.date BETWEEN s AND e AND NOT (public.ducache_month_of(d.date) = ANY (months))
      AND NOT (public.ducache_block_of(d.date) = ANY (block_list)) AND NOT (d.date = ANY (proj));
    FOREACH col IN ARRAY rollup_cols LOOP
        EXECUTE format('SELECT count(*) FROM (SELECT %I AS v FROM public.ducache_rollups WHERE month = ANY ($1) OFFSET 0) x WHERE x.v ? %L', col, 'no-such-key')
            INTO c USING months;
        n := n + c;
        EXECUTE format('SELECT count(*) FROM (SELECT %I AS v FROM public.ducache_rollup_blocks WHERE block = ANY ($1) OFFSET 0) x WHERE x.v ? %L', col, 'no-such-key')
            INTO c USING block_list;
        n := n + c;
        EXECUTE format('SELECT count(*) FROM (SELECT %I AS v FROM public.ducache_rollup_days WHERE day = ANY ($1) OFFSET 0) x WHERE x.v ? %L', col, 'no-such-key')
            INTO c USING proj;
        n := n + c;
    END LOOP;
    FOREACH col IN ARRAY day_cols LOOP
        EXECUTE format('SELECT count(*) FROM (SELECT %I AS v FROM public.daily_usage_cache WHERE date = ANY ($1) OFFSET 0) x WHERE x.v ? %L', col, 'no-such-key')
            INTO c USING left_over;
        n := n + c;
    END LOOP;
    RETURN n;
END $f$;
-- What an unfiltered ducache_dashboard(s, e) reads (pg/dashboard.cpp): the range's rollups
-- their derived user_totals, model_totals and key_totals and the small documents, its days
-- their three documents; the comparison period's rollups user_totals, its days the users and
-- models (blocks false: the months' derived columns and the days, blocks hidden).
-- (blocks false: blocks and day projections hidden; projections false: day projections hidden.)
DROP FUNCTION IF EXISTS bench.dashboard_floor(date, date, boolean);
CREATE OR REPLACE FUNCTION bench.dashboard_floor(s date, e date, blocks boolean DEFAULT true,
                                                 projections boolean DEFAULT true) RETURNS bigint
LANGUAGE plpgsql AS $f$
DECLARE ps date := s - (e - s + 1);
BEGIN
    IF NOT blocks THEN
        RETURN bench.without_blocks_value($q$SELECT bench.dashboard_floor('$q$ || s || $q$', '$q$ || e || $q$', true, false)$q$);
    END IF;
    RETURN bench.period_floor(ARRAY['user_totals', 'model_totals', 'key_totals', 'aggregated_by_provider', 'models_unprovided', 'daily'],
                              ARRAY['aggregated_by_user', 'aggregated_by_model', 'aggregated_by_provider'], s, e, projections)
         + bench.period_floor(ARRAY['user_totals'], ARRAY['aggregated_by_user', 'aggregated_by_model'], ps, s - 1, projections);
END $f$;
-- Runs stmt with the day projections hidden (built = false for the statement): the read path of
-- months, blocks and days, as before day projections.
CREATE OR REPLACE FUNCTION bench.without_projections(stmt text) RETURNS void LANGUAGE plpgsql AS $f$
BEGIN
    UPDATE public.ducache_rollup_days SET built = false WHERE built;
    EXECUTE stmt;
    RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = 'bench: roll back';
EXCEPTION WHEN SQLSTATE 'P0001' THEN
    NULL;
END $f$;
-- Runs stmt with the block rollups and day projections hidden (built = false for the statement;
-- nothing else changes): the read path of month rollups and days alone, as before blocks existed.
CREATE OR REPLACE FUNCTION bench.without_blocks(stmt text) RETURNS void LANGUAGE plpgsql AS $f$
BEGIN
    UPDATE public.ducache_rollup_blocks SET built = false WHERE built;
    UPDATE public.ducache_rollup_days SET built = false WHERE built;
    EXECUTE stmt;
    RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = 'bench: roll back';
EXCEPTION WHEN SQLSTATE 'P0001' THEN
    NULL;
END $f$;
-- The same for a query of one bigint: its value (the rollback included).
CREATE OR REPLACE FUNCTION bench.without_blocks_value(stmt text) RETURNS bigint LANGUAGE plpgsql AS $f$
DECLARE v bigint;
BEGIN
    BEGIN
        UPDATE public.ducache_rollup_blocks SET built = false WHERE built;
        UPDATE public.ducache_rollup_days SET built = false WHERE built;
        EXECUTE stmt INTO v;
        RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = 'bench: roll back';
    EXCEPTION WHEN SQLSTATE 'P0001' THEN
        NULL;
    END;
    RETURN v;
END $f$;
"""


def make_table(scale, shape, psql, exists):
    users = ROLLUP_SCALES[scale]
    if shape == "flat":
        table = f"bench.cache_flat_{users}x{DAYS}"
        if not exists(table):
            print(f"generating {table} ...", file=sys.stderr)
            psql("", vars=dict(users=users, days=DAYS, shape="flat"), file=os.path.join(HERE, "data.sql"))
        return table
    table = f"bench.litemaas_{users}x{DAYS}"
    if not exists(table):
        base = REPEAT_FROM if scale == "L" else DAYS
        if not exists(f"bench.litemaas_{users}x{base}"):
            print(f"generating bench.litemaas_{users}x{base} ...", file=sys.stderr)
            psql("", vars=dict(users=users, days=base), file=os.path.join(HERE, "litemaas_data.sql"))
        if base != DAYS:
            psql(f"""CREATE TABLE {table} (LIKE bench.litemaas_{users}x{base} INCLUDING ALL);
                     INSERT INTO {table} SELECT date + {base} * k, raw_data, aggregated_by_user, aggregated_by_model,
                            aggregated_by_provider, total_metrics, cached_at, is_complete
                     FROM bench.litemaas_{users}x{base}, generate_series(0, {DAYS // base}) AS k
                     WHERE date + {base} * k < date '2025-01-01' + {DAYS};
                     ANALYZE {table};""")
    return table


SIZES = ("SELECT pg_total_relation_size('public.ducache_rollups'), pg_total_relation_size('public.daily_usage_cache'), "
         "pg_total_relation_size('public.ducache_rollup_blocks'), pg_total_relation_size('public.ducache_rollup_days')")


def timed(psql, sql):
    t0 = time.perf_counter()
    psql(sql)
    return (time.perf_counter() - t0) * 1000


def rollup_rows(scale, shape, runs, psql, exists, use_dataset, time_all):
    users = ROLLUP_SCALES[scale]
    table = make_table(scale, shape, psql, exists)
    use_dataset(table)
    psql(HELPERS)
    psql(TRIGGERS)
    # DUCACHE_BENCH_KEEP_ROLLUPS=1: reuse the rollups a previous run left (refreshing only what
    # needs it), skip the write-side timings and leave the rollups built (an L refresh of the
    # year takes ~10 minutes on the shared machine).
    keep = os.environ.get("DUCACHE_BENCH_KEEP_ROLLUPS") == "1"
    if keep:
        t_keep = timed(psql, "SELECT count(*) FROM ducache_refresh_rollups()")
        lines, targets = [], []
        sizes = psql(SIZES).split("|")
        notes = [f"{scale} {shape}: rollups kept from an earlier run (DUCACHE_BENCH_KEEP_ROLLUPS=1; its refresh {t_keep / 1000:.1f} s): "
                 f"write side not measured; rollups {int(sizes[0]) / 2**20:.0f} MB, day blocks {int(sizes[2]) / 2**20:.0f} MB, "
                 f"day projections {int(sizes[3]) / 2**20:.0f} MB ({int(sizes[3]) / int(sizes[1]):.1%} of the table), "
                 f"the table {int(sizes[1]) / 2**20:.0f} MB."]
        return read_rows(scale, shape, runs, psql, time_all, lines, targets, notes)
    psql("TRUNCATE public.ducache_rollups, public.ducache_rollup_blocks, public.ducache_rollup_days, public.ducache_rollup_changes")
    t_all = timed(psql, "SELECT count(*) FROM ducache_refresh_rollups()")
    months = int(psql("SELECT count(*) FROM public.ducache_rollups WHERE built"))
    # One month again after a change to one of its days by plain SQL.
    psql("UPDATE public.daily_usage_cache SET is_complete = is_complete WHERE date = '2025-05-14'")
    t_month = timed(psql, "SELECT count(*) FROM ducache_refresh_rollups('2025-05-01', '2025-05-31')")
    # A one-day ducache_batch_upsert of a past day whose values change (its month is refreshed in
    # the same transaction), against the same upsert with rollups off for the write (no refresh).
    upsert = ("SELECT count(*) FROM public.daily_usage_cache d, LATERAL ducache_batch_upsert(ARRAY[d.date], "
              "ARRAY[d.raw_data], ARRAY[d.aggregated_by_user], ARRAY[d.aggregated_by_model], ARRAY[d.aggregated_by_provider], "
              "ARRAY[d.total_metrics || jsonb_build_object('bench', clock_timestamp())], ARRAY[true]) "
              "WHERE d.date = '2025-05-14'")
    t_upsert_on = timed(psql, f"SET ducache.use_rollups = on; {upsert}")
    t_upsert_off = timed(psql, f"SET ducache.use_rollups = off; {upsert}")
    sizes = psql(SIZES).split("|")
    psql("SELECT count(*) FROM ducache_refresh_rollups()")
    notes = [f"{scale} {shape} ({users} users × {DAYS} days): refresh of all {months} months {t_all / 1000:.1f} s "
             f"({t_all / max(months, 1) / 1000:.2f} s a month); one month after a change {t_month / 1000:.2f} s; "
             f"a one-day ducache_batch_upsert of a past day {t_upsert_on:.0f} ms with its month's refresh, "
             f"{t_upsert_off:.0f} ms with rollups off (no refresh); rollups {int(sizes[0]) / 2**20:.0f} MB "
             f"against the table's {int(sizes[1]) / 2**20:.0f} MB ({int(sizes[0]) / int(sizes[1]):.1%}), "
             f"day blocks {int(sizes[2]) / 2**20:.0f} MB ({int(sizes[2]) / int(sizes[1]):.1%}), "
             f"day projections {int(sizes[3]) / 2**20:.0f} MB ({int(sizes[3]) / int(sizes[1]):.1%})."]
    lines, targets, notes = read_rows(scale, shape, runs, psql, time_all, [], [], notes)
    psql("TRUNCATE public.ducache_rollups, public.ducache_rollup_blocks, public.ducache_rollup_days, public.ducache_rollup_changes")
    return lines, targets, notes


def read_rows(scale, shape, runs, psql, time_all, lines, targets, notes):
    ranges = [("365 days (whole months)", "2025-01-01", "2025-12-31"),
              ("2025-01-15..2025-12-20", "2025-01-15", "2025-12-20")]
    for label, s, e in ranges:
        call = f"SELECT count(*) FROM ducache_user_breakdown('{s}', '{e}')"
        t = time_all([("rollups", f"SELECT bench.with_rollups('on', $s${call}$s$)"),
                      ("days", f"SELECT bench.with_rollups('off', $s${call}$s$)"),
                      ("floor days", f"SELECT bench.floor('aggregated_by_user', '{s}', '{e}')"),
                      ("floor read", f"SELECT bench.rollup_floor('aggregated_by_user', '{s}', '{e}')")], runs)
        on, off, fd, fr = (t[k][0] for k in ("rollups", "days", "floor days", "floor read"))
        lines.append(f"| {scale} {shape} | user breakdown {label} | {on:.0f} | {off:.0f} | {fd:.0f} | {fr:.0f} | "
                     f"{on / fd:.3f} | {on / fr:.2f} | {off / on:.1f} |")
        if label.startswith("365"):
            targets.append((f"{scale} {shape} user breakdown 365d with rollups ≤ 0.25× the day rows' floor", on / fd <= 0.25, f"{on / fd:.3f}×"))
            targets.append((f"{scale} {shape} user breakdown 365d ≤ 1.3× the floor of the rows it reads", on / fr <= 1.3, f"{on / fr:.2f}×"))
    if shape == "litemaas":
        # The dashboard over 90 days and its comparison period (the 90 days before): one range
        # ending a day before a month's end, one from mid-month to mid-month (then month rollups
        # leave ~60 of the 180 days to the day rows; blocks ~15).
        for label, s, e, ps in [("dashboard 90 days + comparison", "2025-04-01", "2025-06-29", "2025-01-01"),
                                ("dashboard 90 days mid-month + comparison", "2025-05-18", "2025-08-15", "2025-02-17")]:
            call = f"SELECT ducache_dashboard('{s}', '{e}') IS NOT NULL"
            t = time_all([("rollups", f"SELECT bench.with_rollups('on', $s${call}$s$)"),
                          ("months only", f"SELECT bench.without_blocks($s${call}$s$)"),
                          ("no projections", f"SELECT bench.without_projections($s${call}$s$)"),
                          ("days", f"SELECT bench.with_rollups('off', $s${call}$s$)"),
                          ("floor days", f"SELECT bench.floor('aggregated_by_user', '{ps}', '{e}') + bench.floor('aggregated_by_model', '{ps}', '{e}')"),
                          ("floor read", f"SELECT bench.dashboard_floor('{s}', '{e}')"),
                          ("floor months", f"SELECT bench.dashboard_floor('{s}', '{e}', false)"),
                          ("floor no projections", f"SELECT bench.dashboard_floor('{s}', '{e}', true, false)")],
                         runs)
            on, mo, off, fd, fr, fm = (t[k][0] for k in ("rollups", "months only", "days", "floor days", "floor read", "floor months"))
            npj, fnp = t["no projections"][0], t["floor no projections"][0]
            lines.append(f"| {scale} {shape} | {label} | {on:.0f} | {off:.0f} | {fd:.0f} | {fr:.0f} | "
                         f"{on / fd:.3f} | {on / fr:.2f} | {off / on:.1f} |")
            lines.append(f"| {scale} {shape} | {label}, day projections hidden (months + blocks + days, as before them) | {npj:.0f} | {off:.0f} | {fd:.0f} | {fnp:.0f} | "
                         f"{npj / fd:.3f} | {npj / fnp:.2f} | {off / npj:.1f} |")
            lines.append(f"| {scale} {shape} | {label}, blocks and projections hidden (months + days, as before blocks) | {mo:.0f} | {off:.0f} | {fd:.0f} | {fm:.0f} | "
                         f"{mo / fd:.3f} | {mo / fm:.2f} | {off / mo:.1f} |")
            targets.append((f"{scale} {label} with rollups ≤ 0.25× the day rows' floor", on / fd <= 0.25, f"{on / fd:.3f}×"))
            targets.append((f"{scale} {label} ≤ 1.3× the floor of the rows it reads", on / fr <= 1.3, f"{on / fr:.2f}×"))
    return lines, targets, notes


ROLLUP_HEADER = ["| data | call | rollups p50 ms | days only p50 ms | floor of the day rows ms | floor of the rows read ms | "
                 "rollups ÷ day floor | rollups ÷ read floor | days ÷ rollups |",
                 "|---|---|---|---|---|---|---|---|---|"]


# The two dashboard rows alone, for comparing builds (issue 12's remaining goal): their time with
# rollups against the floor of the rows they read, wall-clock p50 and backend CPU ms (on a shared
# machine CPU time leaves out the waits for a core). Reads the data set in place (run
# `bench/run.py --rollups L --rollups-only --rollup-shape litemaas` with
# DUCACHE_BENCH_KEEP_ROLLUPS=1 once first); refreshes nothing.
#   python3 bench/rollup_bench.py --dashboard-ratio [--runs N]
DASHBOARD_RANGES = [("aligned", "2025-04-01", "2025-06-29"), ("mid-month", "2025-05-18", "2025-08-15")]


def dashboard_ratio(runs):
    from run import psql, time_all, use_dataset
    if psql("SELECT to_regclass('bench.live_origin') IS NOT NULL") != "t":
        use_dataset(f"bench.litemaas_{ROLLUP_SCALES['L']}x{DAYS}")
    psql(HELPERS)
    out = []
    for label, s, e in DASHBOARD_RANGES:
        variants = [("rollups", f"SELECT ducache_dashboard('{s}', '{e}') IS NOT NULL"),
                    ("floor read", f"SELECT bench.dashboard_floor('{s}', '{e}')")]
        wall = time_all(variants, runs)
        labels = "ARRAY[" + ",".join(f"'{l}'" for l, _ in variants) + "]"
        stmts = "ARRAY[" + ",".join(f"$q${q}$q$" for _, q in variants) + "]"
        cpu = {r.split("|")[0]: float(r.split("|")[1])
               for r in psql(f"SELECT label, cpu_ms FROM bench.cpu_all({labels}, {stmts}, {runs})").splitlines()}
        on, fr = wall["rollups"][0], wall["floor read"][0]
        out.append(f"{label} {s}..{e}: rollups {on:.0f} ms, read floor {fr:.0f} ms, ratio {on / fr:.2f}; "
                   f"CPU {cpu['rollups']:.0f} / {cpu['floor read']:.0f} ms, ratio {cpu['rollups'] / max(cpu['floor read'], 1):.2f}")
    return out


if __name__ == "__main__":
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("--dashboard-ratio", action="store_true", required=True)
    ap.add_argument("--runs", type=int, default=5)
    print("\n".join(dashboard_ratio(ap.parse_args().runs)))
