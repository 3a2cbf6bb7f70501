"""The 0.2 dashboard benchmark (issue 11): ducache_dashboard over a 90-day range of
LiteMaaS-shaped data (1-3 keys per user-model, bench/litemaas_data.sql), with no filter and with
each filter kind, against
  * the floor: detoasting what the dashboard must read (aggregated_by_user and
    aggregated_by_model of both periods), and
  * the client way LiteMaaS uses today (bench/litemaas_client.py: one SELECT per day of both
    periods, sums in the client), unfiltered and with a key filter.
Called by bench/run.py (--dashboard); the data set is users x 180 days (the range and the
comparison period before it).
"""
import json, os, statistics, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
# users x days of the data set. Generating L day by day would take ~45 min on 2 cores
# (litemaas_data.sql), so at L 10 generated days are repeated 18 times with shifted dates: the
# same rows to detoast and sum, generated in minutes.
DASHBOARD_SCALES = {"S": (1000, 180), "L": (10000, 180)}
REPEAT_FROM = {"L": 10}
START, END, PREV_START = "2025-04-01", "2025-06-29", "2025-01-01"   # days 90..179, and the 90 before


def dashboard_rows(scale, runs, psql, exists, use_dataset, time_all, db):
    users, days = DASHBOARD_SCALES[scale]
    table = f"bench.litemaas_{users}x{days}"
    if not exists(table):
        print(f"generating {table} ...", file=sys.stderr)
        base = REPEAT_FROM.get(scale, days)
        psql("", vars=dict(users=users, days=base), file=os.path.join(HERE, "litemaas_data.sql"))
        if base != days:
            psql(f"""CREATE TABLE {table} (LIKE bench.litemaas_{users}x{base} INCLUDING ALL);
                     INSERT INTO {table} SELECT date + {base} * k, raw_data, aggregated_by_user, aggregated_by_model,
                            aggregated_by_provider, total_metrics, cached_at, is_complete
                     FROM bench.litemaas_{users}x{base}, generate_series(0, {days // base - 1}) AS k;
                     ANALYZE {table};""")
    use_dataset(table)
    # One id of each kind that has usage in the range (the generator's user 1, its CI key).
    uid = psql("SELECT litemaas_ref.user_id(1)")
    filters = {"none": {}, "userIds": {"userIds": [uid]}, "modelIds": {"modelIds": ["gpt-4o"]},
               "apiKeyIds": {"apiKeyIds": ["u1-ci"]}, "providerIds": {"providerIds": ["openai"]}}
    variants = [(f"dashboard {k}", f"SELECT ducache_dashboard('{START}', '{END}', '{json.dumps(v)}') IS NOT NULL")
                for k, v in filters.items()]
    variants.append(("floor", f"SELECT bench.floor('aggregated_by_user', '{PREV_START}', '{END}') + "
                              f"bench.floor('aggregated_by_model', '{PREV_START}', '{END}')"))
    t = time_all(variants, runs)
    floor = t["floor"][0]
    client = {}
    for k in (("none", "apiKeyIds") if scale == "S" else ()):   # at L the client way takes many minutes
        out = subprocess.run([sys.executable, os.path.join(HERE, "litemaas_client.py"), START, END,
                              json.dumps(filters[k]), "1"], capture_output=True, text=True,
                             env=dict(os.environ, PGDATABASE=db))
        if out.returncode == 0 and out.stdout.split():
            client[k] = float(out.stdout.split()[-1])
        else:
            print(f"client way failed: {out.stderr[-500:]}", file=sys.stderr)
    lines = [f"| scale | filters | ducache_dashboard p50 ms | floor p50 ms | ÷ floor | client ms | client ÷ ducache |",
             "|---|---|---|---|---|---|---|"]
    targets = []
    for k in filters:
        d = t[f"dashboard {k}"][0]
        c = client.get(k)
        lines.append(f"| {scale} ({users} users) | {k} | {d:.0f} | {floor:.0f} | {d / floor:.2f} | "
                     f"{f'{c:.0f}' if c else 'n/a'} | {f'{c / d:.0f}' if c else 'n/a'} |")
        targets.append((f"{scale} dashboard 90d ({k}) ≤ 2.0× floor", d / floor <= 2.0, f"{d / floor:.2f}×"))
        if c:
            targets.append((f"{scale} dashboard 90d ({k}) ≥ 20× faster than the client way", c / d >= 20, f"{c / d:.0f}×"))
    return lines, targets
