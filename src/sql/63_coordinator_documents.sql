-- ducache install script: scale-out, part 4: ducache_dashboard and ducache_filter_options on a
-- coordinator (docs/scale-out.md). Each shard builds the state one node builds before writing
-- the document and returns it as a binary partial (bytea; src/core/dashboard_partial.hpp); the
-- coordinator's C function asks every shard through ducache_coord_gather (kinds dashboard,
-- dashboard_providers, filter_options of ducache_shard_partial_bin, 61_shard_partial_bin.sql),
-- adds the partials and writes the document (pg/coordinator_dashboard.cpp).

-- On a shard: the state of ducache_dashboard over its rows. providers: the coordinator's
-- {"model": "provider"} (a provider filter needs the whole range's), or NULL; providers_only:
-- only the range's own providers (the coordinator's first step under a provider filter).
CREATE OR REPLACE FUNCTION @extschema@.ducache_dashboard_partial(start_date date, end_date date, filters jsonb,
    providers jsonb, providers_only boolean)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ducache_dashboard_partial'
LANGUAGE C STABLE;
COMMENT ON FUNCTION @extschema@.ducache_dashboard_partial(date, date, jsonb, jsonb, boolean) IS
    'Scale-out: a shard''s partial of ducache_dashboard (binary; merged by the coordinator).';

CREATE OR REPLACE FUNCTION @extschema@.ducache_filter_options_partial(start_date date, end_date date)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ducache_filter_options_partial'
LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION @extschema@.ducache_filter_options_partial(date, date) IS
    'Scale-out: a shard''s partial of ducache_filter_options (binary; merged by the coordinator).';
