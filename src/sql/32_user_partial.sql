-- ducache install script: the ducache_user_partial aggregate, what the unfiltered user
-- breakdown runs underneath over long ranges so PostgreSQL's parallel workers share the days
-- (src/pg/parallel_breakdown.hpp). ducache_user_partial(aggregated_by_user, date, start)
-- returns the combined per-user state serialized (an internal format, read back by the
-- breakdown); rows may come in any order. The transition function's COST tells the planner a
-- row is expensive (a day of entries), so it plans the workers the row count alone would not.

CREATE OR REPLACE FUNCTION @extschema@.ducache_user_partial_trans(internal, jsonb, date, date) RETURNS internal
AS 'MODULE_PATHNAME', 'ducache_user_partial_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE COST 100000;
COMMENT ON FUNCTION @extschema@.ducache_user_partial_trans(internal, jsonb, date, date) IS 'ducache_user_partial transition function.';

CREATE OR REPLACE FUNCTION @extschema@.ducache_user_partial_combine(internal, internal) RETURNS internal
AS 'MODULE_PATHNAME', 'ducache_user_partial_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ducache_user_partial_combine(internal, internal) IS 'ducache_user_partial combine function (parallel aggregation).';

CREATE OR REPLACE FUNCTION @extschema@.ducache_user_partial_serialize(internal) RETURNS bytea
AS 'MODULE_PATHNAME', 'ducache_user_partial_serialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ducache_user_partial_serialize(internal) IS 'ducache_user_partial state serialization (parallel aggregation).';

CREATE OR REPLACE FUNCTION @extschema@.ducache_user_partial_deserialize(bytea, internal) RETURNS internal
AS 'MODULE_PATHNAME', 'ducache_user_partial_deserialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ducache_user_partial_deserialize(bytea, internal) IS 'ducache_user_partial state deserialization (parallel aggregation).';

CREATE OR REPLACE FUNCTION @extschema@.ducache_user_partial_final(internal) RETURNS bytea
AS 'MODULE_PATHNAME', 'ducache_user_partial_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ducache_user_partial_final(internal) IS 'ducache_user_partial final function: the state serialized.';

CREATE OR REPLACE AGGREGATE @extschema@.ducache_user_partial(jsonb, date, date) (
    SFUNC = @extschema@.ducache_user_partial_trans,
    STYPE = internal,
    FINALFUNC = @extschema@.ducache_user_partial_final,
    COMBINEFUNC = @extschema@.ducache_user_partial_combine,
    SERIALFUNC = @extschema@.ducache_user_partial_serialize,
    DESERIALFUNC = @extschema@.ducache_user_partial_deserialize,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.ducache_user_partial(jsonb, date, date) IS
    'Internal: the per-user partial sums behind ducache_user_breakdown''s parallel path (serialized state).';
