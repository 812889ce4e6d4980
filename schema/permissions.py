"""Who may do what. Roles come with API keys; each field declares the capability it needs.

The role matrix (docs/api.md repeats it):

| capability     | viewer | collector | policy | integrator | admin |
| read           |   ✓    |     ✓     |   ✓    |     ✓      |   ✓   |
| collect        |        |     ✓     |        |            |   ✓   |
| manage_master  |        |           |        |            |   ✓   |
| strategies     |        |           |   ✓    |            |   ✓   |
| subscribe      |        |           |        |     ✓      |   ✓   |
| operate        |        |           |        |            |   ✓   |
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from strawberry.permission import BasePermission

from schema.context import RequestContext
from schema.errors import Unauthenticated
from states.errors import Forbidden


class Capability(Enum):
    READ = "read"
    COLLECT = "collect"  # payments, promises, disputes, manual transitions, credit holds
    MANAGE_MASTER = "manage_master"  # customers and invoices
    STRATEGIES = "strategies"  # validate and reload strategy files
    SUBSCRIBE = "subscribe"  # event subscriptions
    OPERATE = "operate"  # run the daily cycle


# What a capability lets a person do, as the end of "the collector role may not …".
DOING: dict[Capability, str] = {
    Capability.READ: "read data",
    Capability.COLLECT: "record payments, promises, disputes, credit holds or manual transitions",
    Capability.MANAGE_MASTER: "create or change customers and invoices",
    Capability.STRATEGIES: "change strategies",
    Capability.SUBSCRIBE: "subscribe to events or manage webhooks",
    Capability.OPERATE: "run the daily cycle",
}

ROLE_CAPABILITIES: dict[str, frozenset[Capability]] = {
    "viewer": frozenset({Capability.READ}),
    "collector": frozenset({Capability.READ, Capability.COLLECT}),
    "policy": frozenset({Capability.READ, Capability.STRATEGIES}),
    "integrator": frozenset({Capability.READ, Capability.SUBSCRIBE}),
    "admin": frozenset(Capability),
}


def check(context: RequestContext, capability: Capability, operation: str | None = None) -> None:
    """Raise UNAUTHENTICATED without a valid key, FORBIDDEN when the role lacks `capability`."""
    principal = context.principal
    if principal is None:
        raise Unauthenticated(context.auth_error or "send an API key as 'Authorization: Bearer KEY'")
    if capability not in ROLE_CAPABILITIES.get(principal.role, frozenset()):
        which = f" ({operation})" if operation else ""
        raise Forbidden(f"the {principal.role} role may not {DOING[capability]}{which}")


class _Requires(BasePermission):
    capability: Capability = Capability.READ

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        check(info.context, self.capability, getattr(info, "field_name", None))
        return True


class CanRead(_Requires):
    capability = Capability.READ


class CanCollect(_Requires):
    capability = Capability.COLLECT


class CanManageMaster(_Requires):
    capability = Capability.MANAGE_MASTER


class CanManageStrategies(_Requires):
    capability = Capability.STRATEGIES


class CanSubscribe(_Requires):
    capability = Capability.SUBSCRIBE


class CanOperate(_Requires):
    capability = Capability.OPERATE
