-- LiteMaaS-shaped benchmark data for the 0.2 dashboard (issue 11): the deterministic generator
-- of test/reference/litemaas_gen.sql (1-3 keys per user-model, 7 models, Unknown User, {} in
-- aggregated_by_provider, a few flat entries), users x days from 2025-01-01, one day per
-- statement row so memory stays flat; raw_data = '{}' (the dashboard never reads it).
-- Usage (psql variables): users, days. Cost: about 1.5 s and 0.9 MB per day per 1000 users
-- (2 shared cores): S (1000 x 90) measured 94 s, 74 MB; L (10000 x 365) about 1.5 h, 3 GB.
-- Writes bench.litemaas_<users>x<days> with the columns of daily_usage_cache.
\set ON_ERROR_STOP 1
\ir ../test/reference/litemaas_gen.sql
CREATE SCHEMA IF NOT EXISTS bench;
SELECT format('bench.litemaas_%sx%s', :users, :days) AS target \gset
DROP TABLE IF EXISTS :target;
CREATE TABLE :target (LIKE daily_usage_cache INCLUDING DEFAULTS INCLUDING COMPRESSION);
ALTER TABLE :target ADD PRIMARY KEY (date);
INSERT INTO :target (date, raw_data, aggregated_by_user, aggregated_by_model, aggregated_by_provider, total_metrics)
SELECT g.* FROM generate_series(0, :days - 1) AS d, LATERAL litemaas_ref.gen_day(:users, d, date '2025-01-01', false) AS g;
ANALYZE :target;
SELECT :'target' AS table, pg_size_pretty(pg_total_relation_size(:'target')) AS size;
