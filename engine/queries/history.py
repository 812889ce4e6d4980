"""The append-only history of an invoice, a dispute or an account, with cause and facts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from engine.queries import rows
from engine.queries.pages import Edge, Page, check_page_size
from engine.queries.sql import Params, decode_cursor, encode_cursor
from engine.store.database import Store
from engine.store.unit_of_work import read_only
from engine.views import TransitionView
from states.errors import ValidationFailed

ENTITY_TYPES = ("invoice", "dispute", "account", "notice", "task", "dunning_block", "write_off")


def _check_kind(entity_type: str) -> str:
    if entity_type not in ENTITY_TYPES:
        raise ValidationFailed(f"history is kept for {', '.join(ENTITY_TYPES)}", "entity")
    return entity_type


def recent_history(store: Store, entity_type: str, ids: Sequence[int], last: int) -> dict[int, list[TransitionView]]:
    """The last `last` transitions of each entity (oldest first), in one statement for all ids."""
    _check_kind(entity_type)
    p = Params()
    sql = (
        f"SELECT {rows.columns('h', rows.TRANSITION_COLUMNS)} FROM transition_history h JOIN (SELECT id,"
        " ROW_NUMBER() OVER (PARTITION BY entity_id ORDER BY id DESC) AS rn FROM transition_history"
        f" WHERE entity_type = {p.add(entity_type)} AND entity_id IN {p.many(sorted(set(ids)))}) ranked"
        f" ON ranked.id = h.id WHERE ranked.rn <= {p.add(last)} ORDER BY h.entity_id, h.id"
    )
    with read_only(store) as uow:
        fetched = uow.select(sql, p.bound())
    found: dict[int, list[TransitionView]] = defaultdict(list)
    for row in fetched:
        view = rows.transition_view(row)
        found[view.entity_id].append(view)
    return found


def history_page(
    store: Store, entity_type: str, entity_id: int, first: int, after: str | None
) -> tuple[Page[TransitionView], int]:
    """One entity's transitions, oldest first, keyset-paginated by id; with the total count."""
    _check_kind(entity_type)
    check_page_size(first)
    p = Params()
    where = f"entity_type = {p.add(entity_type)} AND entity_id = {p.add(entity_id)}"
    count_sql = f"SELECT COUNT(*) FROM transition_history WHERE {where}"
    if after:
        (last_id,) = decode_cursor(after, 1)
        where += f" AND id > {p.add(int(last_id))}"
    sql = f"SELECT * FROM transition_history WHERE {where} ORDER BY id LIMIT {p.add(first + 1)}"
    with read_only(store) as uow:
        rows: list[Any] = list(uow.TransitionRecord.select_by_sql(sql, p.bound()))
        total = int(uow.select(count_sql, p.bound())[0])
        views = [TransitionView.of(t) for t in rows[:first]]
    edges = [Edge(encode_cursor([v.id]), v) for v in views]
    return Page(edges, len(rows) > first), total


def explain(t: TransitionView) -> str:
    """One sentence a person understands: what moved, by what, and why."""
    cause = t.cause or {}
    if cause.get("kind") == "rule" or "rule" in cause:
        why = f"rule '{cause.get('rule', '?')}' of strategy '{cause.get('strategy', '?')}'"
        if cause.get("version") is not None:
            why += f" v{cause['version']}"
    elif cause.get("kind") == "payment":
        why = f"payment {cause.get('reference') or cause.get('payment_id')}"
    elif cause.get("kind"):
        why = f"{cause['kind']} {cause.get('name', '')}".strip()
    else:
        why = t.actor
    source = t.from_state or "(new)"
    text = f"{t.entity_type} {t.entity_id}: {source} → {t.to_state} on '{t.trigger}' by {why}"
    return f"{text} — {t.reason}" if t.reason else text
