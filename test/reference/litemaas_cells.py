"""Shared reading of LiteMaaS cache rows for the reference scripts (python3 stdlib only).

Input rows: a JSON array of {"date", "aggregated_by_user", "aggregated_by_model",
"aggregated_by_provider", "total_metrics"} objects, e.g. from
  psql -At -c "SELECT json_agg(json_build_object('date', date, 'aggregated_by_user', aggregated_by_user,
     'aggregated_by_model', aggregated_by_model, 'aggregated_by_provider', aggregated_by_provider,
     'total_metrics', total_metrics) ORDER BY date) FROM daily_usage_cache"
Numbers are parsed as Decimal / int so every sum is exact (LiteMaaS sums JS floats).
Item numbers "L<n>" point at the list of LiteMaaS bugs in docs/litemaas.md.
"""
import json
from decimal import Decimal

UNKNOWN_USER_ID = "00000000-0000-0000-0000-000000000000"
FIELDS = ("requests", "total_tokens", "prompt_tokens", "completion_tokens", "cost",
          "successful_requests", "failed_requests")
ALIASES = {  # CONTRACT §2, first present key wins (L10: LiteMaaS reads only the snake_case names)
    "requests": ("totalRequests", "api_requests", "requests"),
    "total_tokens": ("totalTokens", "total_tokens", "tokens"),
    "prompt_tokens": ("promptTokens", "prompt_tokens"),
    "completion_tokens": ("completionTokens", "completion_tokens"),
    "cost": ("totalCost", "spend", "cost"),
    "successful_requests": ("successfulRequests", "successful_requests"),
    "failed_requests": ("failedRequests", "failed_requests"),
}


def load_rows(path):
    with open(path) as f:
        rows = json.load(f, parse_float=Decimal)
    return sorted(rows or [], key=lambda r: r["date"])


def obj(x):
    return x if isinstance(x, dict) else {}


def metrics(entry):
    """The seven metrics of a flat or nested entry, as int / Decimal."""
    src = entry.get("metrics") if isinstance(entry.get("metrics"), dict) else entry
    out = {}
    for f, names in ALIASES.items():
        v = next((src[n] for n in names if n in src), None)
        v = Decimal(0) if v is None else Decimal(str(v))
        out[f] = v if f == "cost" else int(v)
    return out


def zero():
    return {f: (Decimal(0) if f == "cost" else 0) for f in FIELDS}


def add(acc, m):
    for f in FIELDS:
        acc[f] += m[f]
    return acc


def provider_rule(model, own=None):
    """CONTRACT §5.3 (LiteMaaS's extractProviderFromModel plus the entry's own field)."""
    if isinstance(own, str):
        return own
    if "/" in model:
        return model.split("/", 1)[0]
    for prefix, p in (("gpt", "openai"), ("claude", "anthropic"), ("gemini", "google")):
        if model.startswith(prefix):
            return p
    return "unknown"


def providers_of(days):
    """Model -> provider over the days (latest own 'provider' field wins, else the rule)."""
    own = {}
    for d in days:
        for m, e in obj(d.get("aggregated_by_model")).items():
            if isinstance(obj(e).get("provider"), str):
                own[m] = e["provider"]
    return lambda m: provider_rule(m, own.get(m))


class Filters:
    def __init__(self, doc):
        doc = doc or {}
        self.users = set(doc.get("userIds") or [])
        self.models = set(doc.get("modelIds") or [])
        self.keys = set(doc.get("apiKeyIds") or [])
        self.providers = set(doc.get("providerIds") or [])  # ignored by /analytics (docs: L11)

    def any(self):
        return bool(self.users or self.models or self.keys)


def passing(day, flt, need_model=False):
    """CONTRACT §5.2: the day's passing usage at the level the filters need, as
    (user_id, entry, model, key_alias, key_name, metrics) tuples."""
    for uid, ue in obj(day.get("aggregated_by_user")).items():
        ue = obj(ue)
        if flt.users and uid not in flt.users:
            continue
        if not flt.keys and not flt.models and not need_model:
            yield uid, ue, None, None, None, metrics(ue)  # the user's own metrics (L9)
            continue
        for model, me in obj(ue.get("models")).items():  # flat entries have no models
            me = obj(me)
            if flt.models and model not in flt.models:
                continue
            if not flt.keys:
                yield uid, ue, model, None, None, metrics(me)
                continue
            for alias, ke in obj(me.get("api_keys")).items():
                if alias in flt.keys:
                    ke = obj(ke)
                    yield uid, ue, model, alias, ke.get("keyName"), metrics(ke)


def key_cells(day, flt):
    """All key cells of the day passing every filter (for the API-key figures)."""
    for uid, ue in obj(day.get("aggregated_by_user")).items():
        if flt.users and uid not in flt.users:
            continue
        for model, me in obj(obj(ue).get("models")).items():
            if flt.models and model not in flt.models:
                continue
            for alias, ke in obj(obj(me).get("api_keys")).items():
                if flt.keys and alias not in flt.keys:
                    continue
                yield uid, obj(ue), model, alias, obj(ke).get("keyName"), metrics(obj(ke))


def in_range(rows, start, end):
    return [r for r in rows if start <= r["date"] <= end]


def to_json(x):
    """JSON text with Decimals written exactly (no float rounding)."""
    def conv(v):
        if isinstance(v, Decimal):
            return _Raw(format(v.normalize(), "f") if v == v.to_integral() else format(v, "f"))
        if isinstance(v, dict):
            return {k: conv(w) for k, w in v.items()}
        if isinstance(v, list):
            return [conv(w) for w in v]
        return v
    return _encode(conv(x))


class _Raw(str):
    pass


def _encode(v):
    if isinstance(v, _Raw):
        return str(v)
    if isinstance(v, dict):
        return "{" + ", ".join(json.dumps(k) + ": " + _encode(w) for k, w in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(_encode(w) for w in v) + "]"
    return json.dumps(v)
