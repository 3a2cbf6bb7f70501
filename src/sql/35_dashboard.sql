-- ducache install script: LiteMaaS's admin usage dashboard in one call (CONTRACT §5.4).

CREATE OR REPLACE FUNCTION @extschema@.ducache_dashboard(start_date date, end_date date,
    filters jsonb DEFAULT '{}')
RETURNS jsonb
AS 'MODULE_PATHNAME', 'ducache_dashboard'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ducache_dashboard(date, date, jsonb) IS
    'LiteMaaS''s POST /api/v1/admin/usage/analytics document for the range and filters {userIds, modelIds, apiKeyIds, providerIds}, with the previous period''s trends; exact costs.';

CREATE OR REPLACE FUNCTION @extschema@.ducache_filter_options(start_date date, end_date date)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'ducache_filter_options'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ducache_filter_options(date, date) IS
    'LiteMaaS''s GET /filter-options document: the models and the users (with a username) of the range, in byte order.';
