"""Pony entities. Defined inside a function so that one process can hold several databases
(tests run SQLite and PostgreSQL side by side). Money columns are BIGINT minor units."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pony.orm import Database, Json, LongStr, Optional, PrimaryKey, Required, Set, composite_index, composite_key

MONEY = {"size": 64}


def define_entities(db: Database) -> None:
    class Customer(db.Entity):
        _table_ = "customer"
        id = PrimaryKey(int, auto=True)
        external_ref = Required(str, 64, unique=True)
        name = Required(str, 200)
        segment = Required(str, 32, index=True)
        risk_class = Required(str, 16, default="medium")
        risk_score = Required(int, default=50)
        risk_explanation = Required(Json, default={})
        credit_limit = Required(int, **MONEY)
        currency = Required(str, 3)
        payment_terms_days = Required(int)
        timezone = Required(str, 64, default="UTC")
        country = Optional(str, 2, nullable=True)  # ISO 3166-1 alpha-2: its holiday calendar (engine/calendars.py)
        subdivision = Optional(str, 32, nullable=True)  # a state/province of `country` with its own holidays
        tags = Required(Json, default=[])
        email = Optional(str, 200, nullable=True)
        state = Required(str, 16, default="active")
        unapplied_credit = Required(int, default=0, **MONEY)
        broken_promises = Required(int, default=0)
        version = Required(int, default=1)
        created_at = Required(datetime)
        invoices = Set("Invoice")
        payments = Set("Payment")
        holds = Set("CreditHold")
        disputes = Set("Dispute")
        promises = Set("PromiseToPay")
        notice_lines = Set("NoticeLine")
        notices = Set("Notice")
        contacts = Set("Contact")
        tasks = Set("CollectorTask")
        blocks = Set("DunningBlock")
        notes = Set("CustomerNote")
        attachments = Set("Attachment")
        write_offs = Set("WriteOffRequest")
        collector = Optional("Collector", index=True)  # whose portfolio it is in
        collector_assigned_by = Optional(str, 16, nullable=True)  # rule | manual (rules never override manual)
        bank_transactions = Set("BankTransaction")
        payer_aliases = Set("PayerAlias")

    class Invoice(db.Entity):
        _table_ = "invoice"
        id = PrimaryKey(int, auto=True)
        customer = Required(Customer, index=True)
        number = Required(str, 64)
        issue_date = Required(date)
        due_date = Required(date, index=True)
        currency = Required(str, 3)
        amount = Required(int, **MONEY)
        open_amount = Required(int, **MONEY)
        state = Required(str, 16, index=True)
        dunning_level = Required(int, default=0)
        last_notice_on = Optional(date)
        paid_on = Optional(date)
        last_cycle_on = Optional(date)  # the business date of the last cycle that acted on it
        version = Required(int, default=1)
        created_at = Required(datetime)
        updated_at = Required(datetime)
        allocations = Set("Allocation")
        disputes = Set("Dispute")
        promises = Set("PromiseToPay")
        credit_notes = Set("CreditNote")
        notice_lines = Set("NoticeLine")
        tasks = Set("CollectorTask")
        blocks = Set("DunningBlock")
        notes = Set("CustomerNote")
        write_offs = Set("WriteOffRequest")
        composite_key(customer, number)

    class Payment(db.Entity):
        _table_ = "payment"
        id = PrimaryKey(int, auto=True)
        customer = Required(Customer, index=True)
        reference = Required(str, 64)
        received_on = Required(date)
        currency = Required(str, 3)
        amount = Required(int, **MONEY)
        unapplied_amount = Required(int, default=0, **MONEY)
        reversed_at = Optional(datetime)
        created_at = Required(datetime)
        allocations = Set("Allocation")
        bank_transactions = Set("BankTransaction")
        deductions = Set("Dispute")  # disputes of the differences it left short (policy/disputes.yaml)
        composite_key(customer, reference)

    class Allocation(db.Entity):
        _table_ = "allocation"
        id = PrimaryKey(int, auto=True)
        payment = Required(Payment, index=True)
        invoice = Required(Invoice, index=True)
        amount = Required(int, **MONEY)
        short_paid = Required(int, default=0, **MONEY)  # a short payment settled within tolerance

    class CreditNote(db.Entity):
        _table_ = "credit_note"
        id = PrimaryKey(int, auto=True)
        invoice = Required(Invoice, index=True)
        dispute = Optional("Dispute")
        amount = Required(int, **MONEY)
        reason = Required(str, 200)
        created_at = Required(datetime)
        number = Optional(str, 32, nullable=True, unique=True)  # CN-YYYY-NNNNNN, given when issued

    class Dispute(db.Entity):
        _table_ = "dispute"
        id = PrimaryKey(int, auto=True)
        invoice = Required(Invoice, index=True)
        customer = Required(Customer, index=True)
        reason_code = Required(str, 32)
        amount = Required(int, **MONEY)
        state = Required(str, 24, index=True)
        outcome = Optional(str, 16, nullable=True)
        credit_amount = Optional(int, **MONEY)
        description = Optional(str, 2000, nullable=True)
        opened_at = Required(datetime)
        due_at = Required(datetime)
        resolved_at = Optional(datetime)
        version = Required(int, default=1)
        credit_notes = Set(CreditNote)
        owner = Optional(str, 200, nullable=True)  # a queue or a collector (policy/disputes.yaml: the default)
        comments = Set("DisputeComment")
        attachments = Set("Attachment")
        payment = Optional(Payment, index=True)  # a deduction: the short payment that left the difference

    class DisputeComment(db.Entity):
        _table_ = "dispute_comment"
        id = PrimaryKey(int, auto=True)
        dispute = Required(Dispute, index=True)
        author = Required(str, 200)
        text = Required(str, 4000)
        at = Required(datetime)

    class PromiseToPay(db.Entity):
        _table_ = "promise_to_pay"
        id = PrimaryKey(int, auto=True)
        invoice = Required(Invoice, index=True)
        customer = Required(Customer, index=True)
        amount = Required(int, **MONEY)
        promised_date = Required(date)
        tolerance_days = Required(int)
        status = Required(str, 16, index=True)  # active | kept | broken | cancelled
        note = Optional(str, 2000, nullable=True)
        created_by = Required(str, 200)
        created_at = Required(datetime)
        decided_at = Optional(datetime)

    class CreditHold(db.Entity):
        _table_ = "credit_hold"
        id = PrimaryKey(int, auto=True)
        customer = Required(Customer, index=True)
        reason = Required(str, 16)  # overdue | over_limit | risk | manual
        note = Optional(str, 2000, nullable=True)
        placed_at = Required(datetime)
        placed_by = Required(str, 200)
        released_at = Optional(datetime)
        released_by = Optional(str, 200, nullable=True)
        release_reason_code = Optional(str, 64, nullable=True)
        exception_until = Optional(date)  # a person released an automatic reason: not placed again until then

    class TransitionRecord(db.Entity):
        """Append-only history: every transition, whoever caused it, with why."""

        _table_ = "transition_history"
        id = PrimaryKey(int, auto=True, size=64)
        entity_type = Required(str, 16)
        entity_id = Required(int, size=64)
        entity_version = Required(int)
        from_state = Optional(str, 24, nullable=True)
        to_state = Required(str, 24)
        trigger = Required(str, 32)
        actor = Required(str, 200)
        cause = Required(Json)
        facts = Required(Json)
        reason = Optional(str, 2000, nullable=True)
        at = Required(datetime)
        composite_index(entity_type, entity_id)

    class OutboxEvent(db.Entity):
        """The single source of outward events, written in the transaction of the change."""

        _table_ = "outbox"
        id = PrimaryKey(int, auto=True, size=64)
        event_id = Required(str, 64, unique=True)
        type = Required(str, 64)
        subject = Required(str, 64)
        entity_type = Required(str, 16)
        entity_id = Required(int, size=64)
        entity_version = Required(int)
        customer_id = Optional(int, size=64, index=True)
        time = Required(datetime)
        data = Required(Json)

    class ApiKey(db.Entity):
        """API keys are stored as SHA-256 of the secret; the secret is shown once."""

        _table_ = "api_key"
        id = PrimaryKey(int, auto=True)
        prefix = Required(str, 16, unique=True)
        secret_hash = Required(str, 64)
        role = Required(str, 16)
        name = Required(str, 200)
        created_at = Required(datetime)
        revoked_at = Optional(datetime)
        collector = Optional("Collector")  # a collector's key acts as that person

    class NoticeLine(db.Entity):
        """One invoice's line in a notice: requested for one invoice on one business date."""

        _table_ = "notice"
        id = PrimaryKey(int, auto=True, size=64)
        invoice = Required(Invoice, index=True)
        customer = Required(Customer, index=True)
        message = Optional("Notice", index=True, column="message")
        kind = Required(str, 16)  # remind | dun
        channel = Required(str, 16)
        template = Required(str, 64)
        recipient = Optional(str, 200, nullable=True)
        level = Required(int)
        business_date = Required(date, index=True)
        rule = Required(str, 64)
        strategy = Required(str, 64)
        created_at = Required(datetime)
        composite_key(invoice, business_date)

    class Notice(db.Entity):
        """One message to a customer (the notice machine, `states/notice.py`): one channel and
        business date, listing its invoices (`lines`); `group_key` is `customer` when consolidated
        (one per customer, date and channel) and `invoice:ID` under `consolidate: per_invoice`."""

        _table_ = "notice_message"
        id = PrimaryKey(int, auto=True, size=64)
        customer = Required(Customer, index=True)
        channel = Required(str, 16)  # as requested by the rule
        via = Optional(str, 16, nullable=True)  # the channel used once rendered (a fallback may differ)
        business_date = Required(date, index=True)
        group_key = Required(str, 40, default="customer")
        state = Required(str, 16, default="requested", index=True)
        template = Required(str, 64)
        strategy = Required(str, 64)
        language = Optional(str, 35, nullable=True)
        recipient = Optional(str, 1000, nullable=True)
        subject = Optional(str, 500, nullable=True)
        body_text = Optional(LongStr, nullable=True)
        body_html = Optional(LongStr, nullable=True)
        document = Optional(bytes, nullable=True)  # a letter's PDF
        segments = Optional(int, nullable=True)  # an SMS's segment count
        encoding = Optional(str, 8, nullable=True)  # an SMS's GSM-7 | UCS-2
        error = Optional(str, 2000, nullable=True)
        delivery = Optional(str, 500, nullable=True)  # what the channel said: "written to file …", "accepted by …"
        attempts = Required(int, default=0)  # send attempts (engine/notices/send.py)
        next_attempt_at = Optional(datetime)  # a transient failure, or the send window, waits until then
        waiting = Optional(str, 200, nullable=True)  # why a due message waits (outside the send window until …)
        lease_until = Optional(datetime)  # a sender claimed it until then
        version = Required(int, default=1)
        created_at = Required(datetime)
        updated_at = Required(datetime)
        lines = Set(NoticeLine)
        composite_key(customer, business_date, channel, group_key)

    class Contact(db.Entity):
        """Someone at a customer who receives messages (`engine/contacts.py` checks every field)."""

        _table_ = "contact"
        id = PrimaryKey(int, auto=True)
        customer = Required(Customer, index=True)
        role = Required(str, 16, default="billing")  # billing | ap | other
        name = Optional(str, 200, nullable=True)
        email = Optional(str, 254, nullable=True)
        phone = Optional(str, 32, nullable=True)  # E.164
        postal_address = Optional(str, 1000, nullable=True)
        language = Optional(str, 35, nullable=True)  # BCP 47
        opt_out = Required(Json, default=[])  # channels this contact must not receive
        # Channels whose address bounced ("sms,email"): skipped until the address is changed.
        invalid_channels = Optional(str, 100, default="", sql_default="''")
        version = Required(int, default=1)
        created_at = Required(datetime)

    class CollectorTask(db.Entity):
        """Work for a person or a queue (`states/task.py`); at most one unfinished task per
        subject and queue (a partial unique index, `engine/store/upgrades.py` step 12)."""

        _table_ = "collector_task"
        id = PrimaryKey(int, auto=True, size=64)
        invoice = Optional(Invoice, index=True)
        customer = Required(Customer, index=True)
        queue = Required(str, 64)
        note = Optional(str, 2000, nullable=True)
        business_date = Required(date)
        rule = Required(str, 64)
        status = Required(str, 16, default="open")
        created_at = Required(datetime)
        subject = Optional(str, 32, nullable=True)  # invoice:ID | customer:ID
        source = Optional(str, 16, nullable=True)  # rule | escalation | person | phone | fallback
        assignee = Optional(str, 200, nullable=True)
        due_on = Optional(date)
        snoozed_until = Optional(date)
        outcome = Optional(str, 32, nullable=True)
        result_note = Optional(str, 2000, nullable=True)
        handover = Optional(str, nullable=True)  # JSON text: what is owed, the history, the contacts
        version = Optional(int, default=1)
        updated_at = Optional(datetime)

    class DunningBlock(db.Entity):
        """No dunning for a customer (invoice None) or one invoice, from `starts_on` through
        `ends_on` (None: until lifted); `states/block.py`."""

        _table_ = "dunning_block"
        id = PrimaryKey(int, auto=True)
        customer = Required(Customer, index=True)
        invoice = Optional(Invoice, index=True)
        reason_code = Required(str, 32)
        note = Optional(str, 2000, nullable=True)
        starts_on = Required(date)
        ends_on = Optional(date)
        status = Required(str, 16, index=True)  # active | lifted | expired
        placed_by = Required(str, 200)
        placed_at = Required(datetime)
        ended_at = Optional(datetime)
        ended_by = Optional(str, 200, nullable=True)
        end_reason = Optional(str, 2000, nullable=True)
        version = Required(int, default=1)

    class CustomerNote(db.Entity):
        """A note or a logged call on a customer's timeline (optionally about one invoice)."""

        _table_ = "customer_note"
        id = PrimaryKey(int, auto=True, size=64)
        customer = Required(Customer, index=True)
        invoice = Optional(Invoice, index=True)
        kind = Required(str, 8)  # note | call
        text = Optional(str, 4000, nullable=True)  # a call may be logged without one
        call_outcome = Optional(str, 16, nullable=True)  # reached | voicemail | promise | dispute | wrong_number …
        author = Required(str, 200)
        at = Required(datetime)
        attachments = Set("Attachment")

    class Attachment(db.Entity):
        """A stored file's metadata; the bytes are under O2C_FILES_DIR at `path`."""

        _table_ = "attachment"
        id = PrimaryKey(int, auto=True, size=64)
        customer = Required(Customer, index=True)
        note = Optional(CustomerNote)
        dispute = Optional(Dispute)
        filename = Required(str, 200)
        content_type = Required(str, 100)
        size = Required(int, size=64)
        sha256 = Required(str, 64)
        path = Required(str, 300)
        uploaded_by = Required(str, 200)
        at = Required(datetime)

    class Collector(db.Entity):
        """A person who works a portfolio of customers and the tasks of some queues."""

        _table_ = "collector"
        id = PrimaryKey(int, auto=True)
        name = Required(str, 200)
        email = Required(str, 200, unique=True)
        queues = Required(Json, default=[])
        active = Required(bool, default=True)
        created_at = Required(datetime)
        customers = Set(Customer)
        keys = Set(ApiKey)

    class WriteOffRequest(db.Entity):
        """A write-off above the requester's limit (policy/credit.yaml), waiting for an approver."""

        _table_ = "write_off_request"
        id = PrimaryKey(int, auto=True)
        invoice = Required(Invoice, index=True)
        customer = Required(Customer, index=True)
        amount = Required(int, **MONEY)
        currency = Required(str, 3)
        status = Required(str, 16, index=True)  # pending | approved | rejected
        note = Optional(str, 2000, nullable=True)
        requested_by = Required(str, 200)
        requested_role = Required(str, 16)
        requested_at = Required(datetime)
        decided_by = Optional(str, 200, nullable=True)
        decided_at = Optional(datetime)
        decision_note = Optional(str, 2000, nullable=True)
        version = Required(int, default=1)

    class CycleRun(db.Entity):
        """One daily cycle per business date; `done` makes a re-run a no-op."""

        _table_ = "cycle_run"
        id = PrimaryKey(int, auto=True)
        business_date = Required(date, unique=True)
        status = Required(str, 16)  # running | done
        started_at = Required(datetime)
        finished_at = Optional(datetime)
        stats = Required(Json, default={})

    class CyclePartition(db.Entity):
        """One slice of customers (an id range, bounds inclusive, None: open-ended) of one business
        date's cycle; workers claim it with a lease (`engine/cycle/partitions.py`)."""

        _table_ = "cycle_partition"
        id = PrimaryKey(int, auto=True)
        business_date = Required(date)
        part = Required(int)
        first_customer = Optional(int, size=64)
        last_customer = Optional(int, size=64)
        status = Required(str, 16)  # open | running | done
        holder = Optional(str, 200, nullable=True)
        lease_until = Optional(datetime)
        stats = Required(Json, default={})
        composite_key(business_date, part)

    class Lease(db.Entity):
        """A named lease (the scheduler's leader lease); the holder renews before it expires."""

        _table_ = "lease"
        name = PrimaryKey(str, 64)
        holder = Required(str, 200)
        expires_at = Required(datetime)

    class WebhookEndpoint(db.Entity):
        """A subscriber URL; the signing secret is shown once at registration."""

        _table_ = "webhook_endpoint"
        id = PrimaryKey(int, auto=True)
        url = Required(str, 2000)
        secret = Required(str, 200)
        event_types = Required(Json, default=[])  # empty: every type
        subject_filter = Optional(str, 200, nullable=True)  # a prefix such as "invoices/"
        description = Optional(str, 2000, nullable=True)
        enabled = Required(bool, default=True)
        disabled_reason = Optional(str, 200, nullable=True)
        created_at = Required(datetime)
        # `secret` and `previous_secret` are sealed (engine/webhooks/sealing.py); the previous one
        # still signs until a day after `secret_rotated_at`.
        previous_secret = Optional(str, 200, nullable=True)
        secret_rotated_at = Optional(datetime)
        failing_since = Optional(datetime)  # first failed attempt since the last success
        deliveries = Set("WebhookDelivery")

    class WebhookDelivery(db.Entity):
        """One event to one endpoint; claimed by a dispatcher with a lease, retried with backoff."""

        _table_ = "webhook_delivery"
        id = PrimaryKey(int, auto=True, size=64)
        endpoint = Required(WebhookEndpoint, index=True)
        event_position = Required(int, size=64)  # outbox.id
        event_id = Required(str, 64)
        status = Required(str, 16, index=True)  # pending | succeeded | dead
        attempts = Required(int, default=0)
        next_attempt_at = Required(datetime, index=True)
        lease_holder = Optional(str, 200, nullable=True)
        lease_until = Optional(datetime)
        last_status_code = Optional(int)
        last_error = Optional(str, 2000, nullable=True)
        created_at = Required(datetime)
        updated_at = Required(datetime)
        attempt_log = Set("WebhookAttempt")
        composite_key(endpoint, event_position)

    class WebhookAttempt(db.Entity):
        _table_ = "webhook_attempt"
        id = PrimaryKey(int, auto=True, size=64)
        delivery = Required(WebhookDelivery, index=True)
        attempted_at = Required(datetime)
        status_code = Optional(int)
        error = Optional(str, 2000, nullable=True)
        duration_ms = Required(int)
        dispatcher = Required(str, 200)

    class PredictionModel(db.Entity):
        """A trained payment model (engine/predict): the pickled model written by the engine only."""

        _table_ = "prediction_model"
        id = PrimaryKey(int, auto=True)
        kind = Required(str, 16)  # model | baseline
        reason = Required(str, 400)
        business_date = Required(date)
        trained_at = Required(datetime)
        rows = Required(int)
        metrics = Required(Json, default={})
        blob = Required(bytes)

    class InvoicePrediction(db.Entity):
        """The latest payment prediction of an open invoice (rewritten by every scoring run)."""

        _table_ = "invoice_prediction"
        invoice = PrimaryKey(int, size=64)
        customer = Required(int, size=64, index=True)
        model = Required(int)
        business_date = Required(date)
        expected_on = Required(date)
        low_on = Required(date)
        high_on = Required(date)
        p_late = Required(int)  # per mille
        days_late = Required(int)

    class CashForecastSnapshot(db.Entity):
        """Expected receipts per week as forecast on one business date (forecast-vs-actual)."""

        _table_ = "cash_forecast_snapshot"
        id = PrimaryKey(int, auto=True, size=64)
        business_date = Required(date, index=True)
        currency = Required(str, 3)
        week_start = Required(date)
        expected = Required(int, **MONEY)
        low = Required(int, **MONEY)
        high = Required(int, **MONEY)
        composite_key(business_date, currency, week_start)

    class KpiSnapshot(db.Entity):
        """One business date's KPIs of one currency, for everyone or one segment or strategy (engine/kpi_history)."""

        _table_ = "kpi_snapshot"
        id = PrimaryKey(int, auto=True, size=64)
        business_date = Required(date, index=True)
        currency = Required(str, 3)
        dimension = Required(str, 16)  # all | segment | strategy
        key = Required(str, 64)
        figures = Required(Json, default={})
        composite_key(business_date, currency, dimension, key)

    class BankTransaction(db.Entity):
        """One entry of an imported bank statement (cash application, `states/bank_transaction.py`)."""

        _table_ = "bank_transaction"
        id = PrimaryKey(int, auto=True, size=64)
        bank_ref = Required(str, 140, unique=True)  # the bank's reference: the duplicate key
        statement = Required(str, 140)
        source_format = Required(str, 16)
        direction = Required(str, 8)  # credit | debit
        booked_on = Required(date, index=True)
        currency = Required(str, 3)
        amount = Required(int, **MONEY)
        payer_name = Optional(str, 200, nullable=True)
        payer_iban = Optional(str, 34, nullable=True)
        remittance = Optional(str, 2000, nullable=True)
        state = Required(str, 16, index=True)
        customer = Optional(Customer, index=True)
        payment = Optional(Payment, index=True)
        confidence = Required(int, default=0)  # percent
        candidates = Required(Json, default=[])
        note = Optional(str, 2000, nullable=True)
        version = Required(int, default=1)
        created_at = Required(datetime)
        updated_at = Required(datetime)

    class PayerAlias(db.Entity):
        """A payer name or IBAN as a bank writes it, known to belong to a customer (taught by a
        person's manual match, or registered)."""

        _table_ = "payer_alias"
        id = PrimaryKey(int, auto=True)
        customer = Required(Customer, index=True)
        kind = Required(str, 8)  # name | iban
        value = Required(str, 200)  # normalised
        created_at = Required(datetime)
        composite_key(kind, value)

    class SchemaVersion(db.Entity):
        _table_ = "schema_version"
        version = PrimaryKey(int)
        description = Required(str, 200)
        applied_at = Required(datetime)

    _ = (Allocation, CreditNote, Dispute, PromiseToPay, CreditHold, TransitionRecord, OutboxEvent)
    _ = (DunningBlock, DisputeComment, CustomerNote, Attachment, Collector, WriteOffRequest)
    _ = (PredictionModel, InvoicePrediction, CashForecastSnapshot, KpiSnapshot)
    _ = (BankTransaction, PayerAlias)
    _ = (SchemaVersion, ApiKey, Notice, CollectorTask, CycleRun, CyclePartition, Lease, WebhookEndpoint, WebhookAttempt)


Entity = Any  # Pony entities are dynamic; this alias marks where one is expected.
