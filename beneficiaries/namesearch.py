"""Finding a person by any part of their name: the given name alone, or any two consecutive
characters (a window asks for "秀英" more often than for "李秀英").

On PostgreSQL a GIN index over ``relief_name_grams(name)`` (every single character and every
pair of consecutive characters of the name, an immutable SQL function made by migration
beneficiaries 0017) finds the candidates; ``strpos`` then keeps only names holding the whole
query in order. pg_trgm was not used: it reads CJK characters under this database's
collation, but a query of two characters yields no complete trigram, so ``LIKE '%秀英%'``
falls back to reading the whole index. SQLite, for development, scans with ``LIKE``."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import connection
from django.db.models import Func, QuerySet, TextField, Value
from django.db.models.functions import StrIndex


class NameGrams(Func):
    function = "relief_name_grams"
    output_field = ArrayField(TextField())


def grams_of(query: str) -> list[str]:
    """What the index holds for a query: the character itself, or each pair in it."""
    if len(query) == 1:
        return [query]
    return sorted({query[i : i + 2] for i in range(len(query) - 1)})


def name_contains(queryset: QuerySet, query: str, field: str = "name") -> QuerySet:
    """Rows of ``queryset`` whose ``field`` holds ``query`` anywhere."""
    if connection.vendor != "postgresql":
        return queryset.filter(**{f"{field}__contains": query})
    # strpos, not LIKE, keeps only the names holding the whole query, tested as "not 0": the
    # planner reckons a LIKE '%王%' so rare that, multiplied with the index's own estimate, it
    # expected 1,750 households of the 58,295 with a 王 and fetched every match before counting
    # a thousand (220 ms city-wide); "> 0" still took a third off (a district's 朱 then hashed
    # all 58,000 members of the city: 200 ms). "<> 0" counts as nearly every row, leaving the
    # index's estimate as it is: the city walks households in order, a district its own
    # households, testing the cheap strpos before the grams (24 and 73 ms).
    return (
        queryset.alias(name_grams=NameGrams(field), name_at=StrIndex(field, Value(query)))
        .filter(name_grams__contains=grams_of(query))
        .exclude(name_at=0)
    )


CREATE_SQL = """
CREATE OR REPLACE FUNCTION relief_name_grams(name text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT coalesce(array_agg(DISTINCT g), '{}') FROM (
    SELECT substr(name, i, 1) AS g FROM generate_series(1, char_length(name)) AS i
    UNION ALL
    SELECT substr(name, i, 2) FROM generate_series(1, char_length(name) - 1) AS i
  ) AS grams
$$;
CREATE INDEX IF NOT EXISTS member_name_grams_idx
  ON beneficiaries_member USING gin (relief_name_grams(name));
"""
DROP_SQL = """
DROP INDEX IF EXISTS member_name_grams_idx;
DROP FUNCTION IF EXISTS relief_name_grams(text);
"""
