-- The 0.2 regression fixture: 10 days (2025-03-01 .. 2025-03-10) x 8 users of LiteMaaS-shaped
-- rows from the deterministic generator (see litemaas_gen.sql for what they exercise), written
-- into daily_usage_cache. Run from psql (\ir resolves beside this file).
\ir litemaas_gen.sql
INSERT INTO daily_usage_cache (date, raw_data, aggregated_by_user, aggregated_by_model,
                               aggregated_by_provider, total_metrics)
SELECT g.* FROM generate_series(0, 9) AS d, LATERAL litemaas_ref.gen_day(8, d, date '2025-03-01') AS g;
