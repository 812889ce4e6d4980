"""Unit of work: one database transaction that rolls back unless `commit()` was called."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any, TypeVar

from pony.orm import OptimisticCheckError, TransactionIntegrityError, commit, db_session, rollback
from pony.orm.core import UnrepeatableReadError
from pony.orm.dbapiprovider import OperationalError

from engine.store.column_errors import as_validation
from engine.store.database import Store
from engine.store.faults import as_unavailable, nothing_committed
from states.errors import Conflict, DomainError, Unavailable

log = logging.getLogger(__name__)
T = TypeVar("T")

# Errors that mean "someone else changed it first": retry on fresh data.
RETRYABLE = (OptimisticCheckError, UnrepeatableReadError, OperationalError)


class UnitOfWork:
    """Entity classes are reachable as attributes (`uow.Invoice`); the session is Pony's."""

    def __init__(self, store: Store, write: bool = False) -> None:
        self.store = store
        self.committed = False
        self._session: Any = None
        self._lock_held = False
        self._write = write

    def __getattr__(self, name: str) -> Any:
        entity = getattr(self.store.db, name, None)
        if entity is None:
            raise AttributeError(name)
        return entity

    def __enter__(self) -> UnitOfWork:
        if self._write:
            self.lock_for_writing()
        self._session = db_session(optimistic=True)
        self._session.__enter__()
        return self

    def lock_for_writing(self) -> None:
        """On SQLite, take the process-wide writer lock before the first write."""
        lock = self.store.write_lock
        if lock is not None and not self._lock_held:
            lock.acquire()
            self._lock_held = True

    def flush(self) -> None:
        self.store.db.flush()

    def commit(self) -> None:
        commit()
        self.committed = True

    def execute(self, sql: str, params: dict[str, Any] | None = None) -> Any:
        return self.store.db.execute(sql, params or {})

    def select(self, sql: str, params: dict[str, Any] | None = None) -> list[Any]:
        return list(self.store.db.select(sql, params or {}))

    def connection(self) -> Any:
        return self.store.db.get_connection()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if not self.committed:
                with contextlib.suppress(Exception):
                    rollback()
            self._session.__exit__(exc_type, exc, tb)
        finally:
            if self._lock_held and self.store.write_lock is not None:
                self._lock_held = False
                self.store.write_lock.release()
        if exc is None or isinstance(exc, DomainError):
            return
        down = as_unavailable(exc)
        if down is not None:  # rolled back above: nothing of it was written
            self.store.drop_connection()  # the next unit of work starts on a fresh connection
            raise down from exc
        invalid = as_validation(exc)
        if invalid is not None:
            raise invalid from exc


def transact(store: Store, work: Callable[[UnitOfWork], T], retries: int = 5) -> T:
    """Run `work` in a unit of work and commit; retry a lost optimistic race, then raise Conflict."""
    duplicate_retried = fault_retried = False
    for attempt in range(retries + 1):
        try:
            with UnitOfWork(store, write=True) as uow:
                result = work(uow)
                uow.commit()
                return result
        except Unavailable as down:
            # The unit of work dropped its connection, which may date from before the fault cleared
            # (cut by a restart, opened while read-only): one more try on a fresh one tells.
            if fault_retried or not nothing_committed(down):
                raise
            fault_retried = True
        except (*RETRYABLE, TransactionIntegrityError) as exc:
            if isinstance(exc, TransactionIntegrityError) and not _is_serialization(exc):
                # A unique key taken by a concurrent commit gets one retry on fresh data, where the
                # command's own check answers; a duplicate that persists is a bug, not a race.
                if duplicate_retried or not _is_duplicate(exc):
                    raise
                duplicate_retried = True
            if attempt == retries:
                log.warning("a concurrent change won %d times: %s", retries + 1, exc)
                raise Conflict(f"a concurrent change won {retries + 1} times; try again") from exc
            log.info("retrying after concurrent change (attempt %d): %s", attempt + 1, exc)
            time.sleep(0.005 * (2**attempt))
    raise AssertionError("unreachable")


def _is_serialization(exc: Exception) -> bool:
    text = str(exc).lower()
    return "could not serialize" in text or "deadlock" in text


def _is_duplicate(exc: Exception) -> bool:
    """A unique key taken by a concurrent commit (two clerks recording one payment reference):
    the retry runs `work` again on fresh data, where its own checks answer ("already recorded")."""
    text = str(exc).lower()
    return "unique constraint failed" in text or "duplicate key value" in text


@contextlib.contextmanager
def read_only(store: Store) -> Iterator[UnitOfWork]:
    """A session for queries; anything written is rolled back."""
    with UnitOfWork(store) as uow:
        yield uow
