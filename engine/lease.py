"""A leader lease kept in the database: exactly one holder at a time; it lapses unless renewed."""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta

from engine.clock import stored
from engine.store.database import Store
from engine.store.unit_of_work import UnitOfWork
from states.errors import Conflict

SCHEDULER_LEASE = "scheduler"


def new_holder() -> str:
    """A holder name for this process, host:pid:random (the pid lets a process on the same host
    see that a holder died; the random part tells two holders of one process apart)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def holder_is_dead(holder: str | None) -> bool:
    """A holder on this host whose process is gone (its lease need not be waited out)."""
    if not holder or holder.count(":") < 2:
        return False
    host, pid, _ = holder.rsplit(":", 2)
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def acquire(store: Store, name: str, holder: str, ttl_seconds: float, now: datetime) -> bool:
    """Take or renew the lease; True while `holder` holds it. Safe against concurrent callers:
    the row is locked (`FOR UPDATE` on PostgreSQL, the single writer on SQLite). A lease whose
    holder is a dead process on this host is taken at once (a worker restarted after a kill
    leads again without waiting the lease out)."""
    expires = stored(now + timedelta(seconds=ttl_seconds))
    try:
        with UnitOfWork(store, write=True) as uow:
            lease = uow.Lease.get_for_update(name=name)
            if lease is None:
                uow.Lease(name=name, holder=holder, expires_at=expires)
            elif lease.holder == holder or lease.expires_at <= stored(now) or holder_is_dead(lease.holder):
                lease.holder, lease.expires_at = holder, expires
            else:
                return False
            uow.commit()
            return True
    except Conflict:
        return False
    except Exception as exc:  # a racing insert of the same lease name: the other one won
        if "unique" in str(exc).lower() or "duplicate" in str(exc).lower():
            return False
        raise


def release(store: Store, name: str, holder: str) -> None:
    with UnitOfWork(store, write=True) as uow:
        lease = uow.Lease.get_for_update(name=name)
        if lease is not None and lease.holder == holder:
            lease.delete()
        uow.commit()


def holder_of(store: Store, name: str, now: datetime) -> str | None:
    with UnitOfWork(store) as uow:
        lease = uow.Lease.get(name=name)
        if lease is None or lease.expires_at <= stored(now):
            return None
        return str(lease.holder)
