-- ducache install script, part 5: the ducache_merge aggregate.
-- Sums breakdown objects key by key: {key: {requests, total_tokens, prompt_tokens,
-- completion_tokens, successful_requests, failed_requests, cost, days}}. NULL rows are skipped;
-- no rows (or only NULLs) give NULL, like sum(). Parallel safe: workers build partial states,
-- which travel serialized (a version byte, then the keys) and are combined in the leader.

CREATE OR REPLACE FUNCTION @extschema@.ducache_merge_trans(internal, jsonb) RETURNS internal
AS 'MODULE_PATHNAME', 'ducache_merge_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ducache_merge_trans(internal, jsonb) IS 'ducache_merge transition function.';

-- The same transition function behind ducache_merge(jsonb, date): the date only names the row
-- in error messages.
CREATE OR REPLACE FUNCTION @extschema@.ducache_merge_trans(internal, jsonb, date) RETURNS internal
AS 'MODULE_PATHNAME', 'ducache_merge_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ducache_merge_trans(internal, jsonb, date) IS 'ducache_merge(jsonb, date) transition function.';

CREATE OR REPLACE FUNCTION @extschema@.ducache_merge_combine(internal, internal) RETURNS internal
AS 'MODULE_PATHNAME', 'ducache_merge_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ducache_merge_combine(internal, internal) IS 'ducache_merge combine function (parallel aggregation).';

CREATE OR REPLACE FUNCTION @extschema@.ducache_merge_serialize(internal) RETURNS bytea
AS 'MODULE_PATHNAME', 'ducache_merge_serialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ducache_merge_serialize(internal) IS 'ducache_merge state serialization (parallel aggregation).';

CREATE OR REPLACE FUNCTION @extschema@.ducache_merge_deserialize(bytea, internal) RETURNS internal
AS 'MODULE_PATHNAME', 'ducache_merge_deserialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ducache_merge_deserialize(bytea, internal) IS 'ducache_merge state deserialization (parallel aggregation).';

CREATE OR REPLACE FUNCTION @extschema@.ducache_merge_final(internal) RETURNS jsonb
AS 'MODULE_PATHNAME', 'ducache_merge_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ducache_merge_final(internal) IS 'ducache_merge final function: builds the result object.';

CREATE OR REPLACE AGGREGATE @extschema@.ducache_merge(jsonb) (
    SFUNC = @extschema@.ducache_merge_trans,
    STYPE = internal,
    FINALFUNC = @extschema@.ducache_merge_final,
    COMBINEFUNC = @extschema@.ducache_merge_combine,
    SERIALFUNC = @extschema@.ducache_merge_serialize,
    DESERIALFUNC = @extschema@.ducache_merge_deserialize,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.ducache_merge(jsonb) IS
    'Sums breakdown objects key by key (requests, tokens, exact cost, days present); parallel safe.';

-- ducache_merge(aggregated_by_model, date): the same sums; a bad value's ERROR names the date of
-- its row instead of its position in the aggregate's input.
CREATE OR REPLACE AGGREGATE @extschema@.ducache_merge(jsonb, date) (
    SFUNC = @extschema@.ducache_merge_trans,
    STYPE = internal,
    FINALFUNC = @extschema@.ducache_merge_final,
    COMBINEFUNC = @extschema@.ducache_merge_combine,
    SERIALFUNC = @extschema@.ducache_merge_serialize,
    DESERIALFUNC = @extschema@.ducache_merge_deserialize,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.ducache_merge(jsonb, date) IS
    'ducache_merge(jsonb) whose errors name the date passed with each row.';
