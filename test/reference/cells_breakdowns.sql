-- Reference answers of the 0.2 read functions (CONTRACT §5.2-§5.4) in plain SQL over the
-- cells of cells.sql (loaded by it). Same arguments as the functions they check; text is
-- ordered byte-wise (COLLATE "C"). Where the contract leaves a choice open, the choice made is
-- commented (see also docs/litemaas.md, "Open points").

-- Identity of a user: the entry's own fields on the latest day in the range that has them.
CREATE OR REPLACE FUNCTION litemaas_ref.identity(uid text, s date, e date,
    OUT username text, OUT email text, OUT role text)
LANGUAGE sql STABLE AS $$
  SELECT c.entry ->> 'username', c.entry ->> 'email', c.entry ->> 'role'
  FROM litemaas_ref.user_cells c
  WHERE c.user_id = uid AND c.date BETWEEN s AND e AND c.entry ? 'username'
  ORDER BY c.date DESC LIMIT 1
$$;

CREATE OR REPLACE FUNCTION litemaas_ref.user_breakdown(s date, e date, user_ids text[] DEFAULT NULL,
    model_ids text[] DEFAULT NULL, key_aliases text[] DEFAULT NULL)
RETURNS TABLE (user_id text, username text, email text, role text, total_requests bigint,
               total_tokens bigint, prompt_tokens bigint, completion_tokens bigint, total_cost numeric,
               successful_requests bigint, failed_requests bigint, active_days integer, last_active date)
LANGUAGE sql STABLE AS $$
  SELECT p.user_id, (i).username, (i).email, (i).role, sum(p.requests)::bigint, sum(p.total_tokens)::bigint,
         sum(p.prompt_tokens)::bigint, sum(p.completion_tokens)::bigint, sum(p.cost),
         sum(p.successful_requests)::bigint, sum(p.failed_requests)::bigint,
         count(DISTINCT p.date)::int, max(p.date)
  FROM litemaas_ref.passing(s, e, user_ids, model_ids, key_aliases) p,
       LATERAL (SELECT litemaas_ref.identity(p.user_id, s, e) AS i) x
  GROUP BY p.user_id, x.i
  ORDER BY sum(p.cost) DESC, p.user_id COLLATE "C"
$$;

-- Unfiltered: aggregated_by_model itself; users = distinct keys of its "users" objects, NULL
-- when no entry in the range has one. Filtered: the passing user-model (or key) cells.
CREATE OR REPLACE FUNCTION litemaas_ref.model_breakdown(s date, e date, user_ids text[] DEFAULT NULL,
    model_ids text[] DEFAULT NULL, key_aliases text[] DEFAULT NULL)
RETURNS TABLE (model text, total_requests bigint, total_tokens bigint, prompt_tokens bigint,
               completion_tokens bigint, total_cost numeric, successful_requests bigint,
               failed_requests bigint, active_days integer, provider text, users integer)
LANGUAGE sql STABLE AS $$
  WITH unf AS (
    SELECT d.date, m.key AS model, m.value AS entry, (litemaas_ref.m(m.value)).*
    FROM daily_usage_cache d, jsonb_each(litemaas_ref.obj(d.aggregated_by_model)) m
    WHERE d.date BETWEEN s AND e AND NOT litemaas_ref.any_filter(user_ids, model_ids, key_aliases)),
  unf_users AS (
    SELECT u.model, CASE WHEN bool_or(jsonb_typeof(u.entry -> 'users') = 'object')
                         THEN (SELECT count(DISTINCT k)::int FROM unf u2, jsonb_object_keys(litemaas_ref.obj(u2.entry -> 'users')) k
                               WHERE u2.model = u.model) END AS users
    FROM unf u GROUP BY u.model),
  rows AS (
    SELECT date, model, NULL::text AS user_id, requests, total_tokens, prompt_tokens, completion_tokens, cost,
           successful_requests, failed_requests FROM unf
    UNION ALL
    SELECT date, model, user_id, requests, total_tokens, prompt_tokens, completion_tokens, cost,
           successful_requests, failed_requests
    FROM litemaas_ref.passing(s, e, user_ids, model_ids, key_aliases, true)
    WHERE litemaas_ref.any_filter(user_ids, model_ids, key_aliases))
  SELECT r.model, sum(requests)::bigint, sum(total_tokens)::bigint, sum(prompt_tokens)::bigint,
         sum(completion_tokens)::bigint, sum(cost), sum(successful_requests)::bigint,
         sum(failed_requests)::bigint, count(DISTINCT date)::int, litemaas_ref.provider_of(r.model, s, e),
         CASE WHEN litemaas_ref.any_filter(user_ids, model_ids, key_aliases) THEN count(DISTINCT user_id)::int
              ELSE (SELECT uu.users FROM unf_users uu WHERE uu.model = r.model) END
  FROM rows r GROUP BY r.model
  ORDER BY sum(cost) DESC, r.model COLLATE "C"
$$;

-- Unfiltered: aggregated_by_provider on days where it is a non-empty object; on the other
-- days ({} or NULL) derived from that day's aggregated_by_model by the provider rule.
-- models/users (choice): distinct models derived to P and distinct users of their "users"
-- objects, over the derived days; NULL for a provider seen only in aggregated_by_provider
-- (models) or with no per-user detail (users). Filtered: the passing user-model/key cells.
CREATE OR REPLACE FUNCTION litemaas_ref.provider_rows(s date, e date, user_ids text[], model_ids text[],
    key_aliases text[])
RETURNS TABLE (provider text, total_requests bigint, total_tokens bigint, prompt_tokens bigint,
               completion_tokens bigint, total_cost numeric, successful_requests bigint,
               failed_requests bigint, active_days integer, models integer, users integer)
LANGUAGE sql STABLE AS $$
  WITH days AS (
    SELECT d.* FROM daily_usage_cache d
    WHERE d.date BETWEEN s AND e AND NOT litemaas_ref.any_filter(user_ids, model_ids, key_aliases)),
  stored AS (
    SELECT d.date, p.key AS provider, NULL::text AS model, NULL::jsonb AS entry, (litemaas_ref.m(p.value)).*
    FROM days d, jsonb_each(litemaas_ref.obj(d.aggregated_by_provider)) p),
  derived AS (
    SELECT d.date, litemaas_ref.provider_rule(m.key, m.value -> 'provider') AS provider, m.key AS model,
           m.value AS entry, (litemaas_ref.m(m.value)).*
    FROM days d, jsonb_each(litemaas_ref.obj(d.aggregated_by_model)) m
    WHERE litemaas_ref.obj(d.aggregated_by_provider) = '{}'::jsonb),
  unf AS (SELECT * FROM stored UNION ALL SELECT * FROM derived),
  filt AS (
    SELECT p.date, litemaas_ref.provider_of(p.model, s, e) AS provider, p.model, p.user_id, p.requests,
           p.total_tokens, p.prompt_tokens, p.completion_tokens, p.cost, p.successful_requests, p.failed_requests
    FROM litemaas_ref.passing(s, e, user_ids, model_ids, key_aliases, true) p
    WHERE litemaas_ref.any_filter(user_ids, model_ids, key_aliases))
  SELECT u.provider, sum(requests)::bigint, sum(total_tokens)::bigint, sum(prompt_tokens)::bigint,
         sum(completion_tokens)::bigint, sum(cost), sum(successful_requests)::bigint,
         sum(failed_requests)::bigint, count(DISTINCT date)::int,
         nullif(count(DISTINCT model), 0)::int,
         CASE WHEN bool_or(jsonb_typeof(entry -> 'users') = 'object')
              THEN (SELECT count(DISTINCT k)::int FROM derived d2, jsonb_object_keys(litemaas_ref.obj(d2.entry -> 'users')) k
                    WHERE d2.provider = u.provider) END
  FROM unf u GROUP BY u.provider
  UNION ALL
  SELECT f.provider, sum(requests)::bigint, sum(total_tokens)::bigint, sum(prompt_tokens)::bigint,
         sum(completion_tokens)::bigint, sum(cost), sum(successful_requests)::bigint,
         sum(failed_requests)::bigint, count(DISTINCT date)::int, count(DISTINCT model)::int,
         count(DISTINCT user_id)::int
  FROM filt f GROUP BY f.provider
$$;

CREATE OR REPLACE FUNCTION litemaas_ref.provider_breakdown(s date, e date, user_ids text[] DEFAULT NULL,
    model_ids text[] DEFAULT NULL, key_aliases text[] DEFAULT NULL)
RETURNS TABLE (provider text, total_requests bigint, total_tokens bigint, prompt_tokens bigint,
               completion_tokens bigint, total_cost numeric, successful_requests bigint,
               failed_requests bigint, active_days integer, models integer, users integer)
LANGUAGE sql STABLE AS $$
  SELECT * FROM litemaas_ref.provider_rows(s, e, user_ids, model_ids, key_aliases) r
  ORDER BY r.total_cost DESC, r.provider COLLATE "C"
$$;

CREATE OR REPLACE FUNCTION litemaas_ref.user_model_breakdown(s date, e date, user_ids text[] DEFAULT NULL,
    model_ids text[] DEFAULT NULL, key_aliases text[] DEFAULT NULL)
RETURNS TABLE (user_id text, model text, provider text, total_requests bigint, total_tokens bigint,
               prompt_tokens bigint, completion_tokens bigint, total_cost numeric,
               successful_requests bigint, failed_requests bigint, active_days integer)
LANGUAGE sql STABLE AS $$
  SELECT p.user_id, p.model, litemaas_ref.provider_of(p.model, s, e), sum(p.requests)::bigint,
         sum(p.total_tokens)::bigint, sum(p.prompt_tokens)::bigint, sum(p.completion_tokens)::bigint,
         sum(p.cost), sum(p.successful_requests)::bigint, sum(p.failed_requests)::bigint,
         count(DISTINCT p.date)::int
  FROM litemaas_ref.passing(s, e, user_ids, model_ids, key_aliases, true) p
  GROUP BY p.user_id, p.model
  ORDER BY p.user_id COLLATE "C", sum(p.cost) DESC, p.model COLLATE "C"
$$;

CREATE OR REPLACE FUNCTION litemaas_ref.api_key_breakdown(s date, e date, user_ids text[] DEFAULT NULL,
    model_ids text[] DEFAULT NULL, key_aliases text[] DEFAULT NULL)
RETURNS TABLE (key_alias text, key_name text, user_id text, total_requests bigint, total_tokens bigint,
               prompt_tokens bigint, completion_tokens bigint, total_cost numeric,
               successful_requests bigint, failed_requests bigint, active_days integer, last_used date)
LANGUAGE sql STABLE AS $$
  WITH c AS (
    SELECT * FROM litemaas_ref.key_cells c
    WHERE c.date BETWEEN s AND e
      AND (litemaas_ref.nofilter(user_ids) OR c.user_id = ANY (user_ids))
      AND (litemaas_ref.nofilter(model_ids) OR c.model = ANY (model_ids))
      AND (litemaas_ref.nofilter(key_aliases) OR c.key_alias = ANY (key_aliases)))
  SELECT c.key_alias,
         (SELECT c2.key_name FROM c c2 WHERE c2.key_alias = c.key_alias AND c2.user_id = c.user_id
            AND c2.key_name IS NOT NULL ORDER BY c2.date DESC LIMIT 1),
         c.user_id, sum(requests)::bigint, sum(total_tokens)::bigint, sum(prompt_tokens)::bigint,
         sum(completion_tokens)::bigint, sum(cost), sum(successful_requests)::bigint,
         sum(failed_requests)::bigint, count(DISTINCT date)::int, max(date)
  FROM c GROUP BY c.key_alias, c.user_id
  ORDER BY sum(cost) DESC, c.key_alias COLLATE "C", c.user_id COLLATE "C"
$$;

-- Totals, top_*, changes (§3 ducache_analytics) under filters. days_cached counts the cached
-- days of the range whatever the filters (choice); top_model unfiltered reads aggregated_by_model.
CREATE OR REPLACE FUNCTION litemaas_ref.period_totals(s date, e date, user_ids text[], model_ids text[],
    key_aliases text[], OUT active_users integer, OUT total_requests bigint, OUT total_tokens bigint,
    OUT prompt_tokens bigint, OUT completion_tokens bigint, OUT total_cost numeric,
    OUT successful_requests bigint, OUT failed_requests bigint)
LANGUAGE sql STABLE AS $$
  SELECT count(DISTINCT user_id)::int, coalesce(sum(requests), 0)::bigint, coalesce(sum(total_tokens), 0)::bigint,
         coalesce(sum(prompt_tokens), 0)::bigint, coalesce(sum(completion_tokens), 0)::bigint,
         coalesce(sum(cost), 0), coalesce(sum(successful_requests), 0)::bigint,
         coalesce(sum(failed_requests), 0)::bigint
  FROM litemaas_ref.passing(s, e, user_ids, model_ids, key_aliases)
$$;

CREATE OR REPLACE FUNCTION litemaas_ref.pct(cur numeric, prev numeric) RETURNS numeric
LANGUAGE sql IMMUTABLE AS $$ SELECT round(100 * (cur - prev) / nullif(prev, 0), 2) $$;

CREATE OR REPLACE FUNCTION litemaas_ref.analytics(s date, e date, user_ids text[] DEFAULT NULL,
    model_ids text[] DEFAULT NULL, key_aliases text[] DEFAULT NULL)
RETURNS TABLE (days_cached integer, active_users integer, total_requests bigint, total_tokens bigint,
               prompt_tokens bigint, completion_tokens bigint, total_cost numeric,
               successful_requests bigint, failed_requests bigint, top_user text, top_model text,
               requests_change_pct numeric, cost_change_pct numeric, tokens_change_pct numeric,
               users_change_pct numeric)
LANGUAGE sql STABLE AS $$
  SELECT (SELECT count(*)::int FROM daily_usage_cache d WHERE d.date BETWEEN s AND e),
         c.active_users, c.total_requests, c.total_tokens, c.prompt_tokens, c.completion_tokens,
         c.total_cost, c.successful_requests, c.failed_requests,
         (SELECT u.user_id FROM litemaas_ref.user_breakdown(s, e, user_ids, model_ids, key_aliases) u
          ORDER BY u.total_cost DESC, u.user_id COLLATE "C" LIMIT 1),
         (SELECT m.model FROM litemaas_ref.model_breakdown(s, e, user_ids, model_ids, key_aliases) m
          ORDER BY m.total_cost DESC, m.model COLLATE "C" LIMIT 1),
         litemaas_ref.pct(c.total_requests, p.total_requests), litemaas_ref.pct(c.total_cost, p.total_cost),
         litemaas_ref.pct(c.total_tokens, p.total_tokens), litemaas_ref.pct(c.active_users, p.active_users)
  FROM litemaas_ref.period_totals(s, e, user_ids, model_ids, key_aliases) c,
       litemaas_ref.period_totals(s - (e - s + 1), s - 1, user_ids, model_ids, key_aliases) p
$$;

-- Unfiltered: one row per cached day (§3). Filtered (choice, §5.2 "a row appears only if it
-- has passing usage"): one row per day with passing usage.
CREATE OR REPLACE FUNCTION litemaas_ref.daily_trend(s date, e date, user_ids text[] DEFAULT NULL,
    model_ids text[] DEFAULT NULL, key_aliases text[] DEFAULT NULL)
RETURNS TABLE (date date, active_users integer, total_requests bigint, total_tokens bigint,
               prompt_tokens bigint, completion_tokens bigint, total_cost numeric)
LANGUAGE sql STABLE AS $$
  SELECT d.date, count(DISTINCT p.user_id)::int, coalesce(sum(p.requests), 0)::bigint,
         coalesce(sum(p.total_tokens), 0)::bigint, coalesce(sum(p.prompt_tokens), 0)::bigint,
         coalesce(sum(p.completion_tokens), 0)::bigint, coalesce(sum(p.cost), 0)
  FROM daily_usage_cache d
  LEFT JOIN litemaas_ref.passing(s, e, user_ids, model_ids, key_aliases) p ON p.date = d.date
  WHERE d.date BETWEEN s AND e
  GROUP BY d.date
  HAVING count(p.date) > 0 OR NOT litemaas_ref.any_filter(user_ids, model_ids, key_aliases)
  ORDER BY d.date
$$;
