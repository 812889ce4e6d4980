"""A partition's counts, kept on its `cycle_partition.stats` row and added to in the same
transaction as the writes they count. Whoever writes a chunk of a partition (its holder, or a
paused former holder whose late chunk found nothing left to do) counts exactly what it wrote, so
the partition's counts, and the run's sum of them, count each invoice once whatever the
interleaving of holders, and a killed holder's committed chunks stay counted."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from typing import Any

from engine.store.database import Store

# the counts of a partition and of a run (besides by_rule)
STATS = ("invoices_evaluated", "applied", "notices", "tasks", "holds_placed", "holds_released", "conflicts")


def parse(raw: Any) -> dict[str, Any]:
    """A stats column as read (JSON text on SQLite, a dict or text on PostgreSQL)."""
    if isinstance(raw, str):
        return dict(json.loads(raw or "{}"))
    return dict(raw or {})


def merged(found: Mapping[str, Any], counts: Mapping[str, int], by_rule: Mapping[str, int]) -> dict[str, Any]:
    """`found` plus `counts` and `by_rule`; other keys of `counts`' kind are replaced."""
    result = dict(found)
    for key, value in counts.items():
        result[key] = int(result.get(key, 0)) + int(value)
    rules: Counter[str] = Counter({str(k): int(v) for k, v in dict(result.get("by_rule") or {}).items()})
    rules.update(by_rule)
    result["by_rule"] = dict(sorted(rules.items()))
    return result


def add(store: Store, cur: Any, partition_id: int, counts: Mapping[str, int], by_rule: Mapping[str, int]) -> None:
    """Add to the partition's counts inside the caller's transaction (the row is locked on
    PostgreSQL until it commits; SQLite has one writer)."""
    if not any(counts.values()) and not by_rule:
        return
    mark = "%s" if store.is_postgres else "?"
    lock = " FOR UPDATE" if store.is_postgres else ""
    cur.execute(f"SELECT stats FROM cycle_partition WHERE id = {mark}{lock}", (partition_id,))
    row = cur.fetchone()
    if row is None:
        return
    cur.execute(
        f"UPDATE cycle_partition SET stats = {mark} WHERE id = {mark}",
        (json.dumps(merged(parse(row[0]), counts, by_rule)), partition_id),
    )
