"""`build_schema()`: the one place that assembles the GraphQL schema."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter, SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from schema.blocks.mutations import BlockMutations
from schema.blocks.queries import BlockQueries
from schema.cashapp.mutations import CashMutations
from schema.cashapp.queries import CashQueries
from schema.collectors.mutations import CollectorMutations
from schema.collectors.queries import CollectorQueries
from schema.common.dates import DATE_SCALAR
from schema.common.money import MINOR_UNITS_SCALAR, MinorUnits
from schema.credit.mutations import CreditMutations
from schema.customers.mutations import CustomerMutations
from schema.customers.queries import CustomerQueries
from schema.cycle.mutations import CycleMutations
from schema.disputes.mutations import DisputeMutations
from schema.disputes.queries import DisputeQueries
from schema.errors import ErrorCodes
from schema.events.queries import EventQueries
from schema.events.subscriptions import EventSubscriptions
from schema.history.queries import HistoryQueries
from schema.invoices.mutations import InvoiceMutations
from schema.invoices.queries import InvoiceQueries
from schema.kpis.queries import KpiQueries
from schema.machines.queries import MachineQueries
from schema.notices.mutations import NoticeMutations
from schema.notices.queries import NoticeQueries
from schema.payments.mutations import PaymentMutations
from schema.predictions.queries import PredictionQueries
from schema.reports.queries import ReportQueries
from schema.single_operation import OneOperationOrName
from schema.strategies.mutations import StrategyMutations
from schema.strategies.queries import StrategyQueries
from schema.tasks.mutations import TaskMutations
from schema.tasks.queries import TaskQueries
from schema.text_input import NoNulInText
from schema.timeline.mutations import TimelineMutations
from schema.webhooks.mutations import WebhookMutations
from schema.webhooks.queries import WebhookQueries
from schema.write_offs.mutations import WriteOffMutations, WriteOffQueries

MAX_DEPTH = 10
MAX_TOKENS = 2000
MAX_ALIASES = 15


@strawberry.type
class Query(
    CustomerQueries,
    InvoiceQueries,
    DisputeQueries,
    HistoryQueries,
    ReportQueries,
    MachineQueries,
    StrategyQueries,
    EventQueries,
    WebhookQueries,
    PredictionQueries,
    KpiQueries,
    CashQueries,
    NoticeQueries,
    TaskQueries,
    BlockQueries,
    CollectorQueries,
    WriteOffQueries,
):
    pass


@strawberry.type
class Mutation(
    CustomerMutations,
    InvoiceMutations,
    PaymentMutations,
    DisputeMutations,
    CreditMutations,
    StrategyMutations,
    CycleMutations,
    WebhookMutations,
    CashMutations,
    NoticeMutations,
    TaskMutations,
    BlockMutations,
    TimelineMutations,
    CollectorMutations,
    WriteOffMutations,
):
    pass


@strawberry.type
class Subscription(EventSubscriptions):
    pass


Extension = type[SchemaExtension] | Callable[[], SchemaExtension]


def _extensions(extra: Sequence[Extension]) -> list[Extension]:
    # Classes or factories, never shared instances: each operation gets its own.
    return [
        *extra,
        ErrorCodes,
        OneOperationOrName,
        NoNulInText,
        lambda: QueryDepthLimiter(max_depth=MAX_DEPTH),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
    ]


class CollectionsSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        # Known errors are the caller's to read; unexpected ones were logged by ErrorCodes with
        # their correlation id. Logging every NOT_FOUND with a traceback would bury those.
        return None


def build_schema(extra_extensions: Sequence[Extension] = ()) -> strawberry.Schema:
    """The schema; `extra_extensions` (e.g. metrics) wrap every operation, outermost first."""
    return CollectionsSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=_extensions(extra_extensions),
        config=StrawberryConfig(scalar_map={MinorUnits: MINOR_UNITS_SCALAR, datetime.date: DATE_SCALAR}),
    )
