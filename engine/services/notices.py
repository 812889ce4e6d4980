"""Messages through the service layer: cancel one (a person, with a reason), preview a template for a
customer (renders, writes nothing), the statement."""

from __future__ import annotations

from engine.notices.content import Item, MessageData, Rendered, render
from engine.notices.locale import check_language
from engine.notices.machine import fire_notice
from engine.notices.recipients import language_of, recipient_for
from engine.notices.statement import statement_pdf
from engine.notices.templates import CHANNELS, TemplateSet, load
from engine.services.common import get, require_reason
from engine.services.contacts import contacts_of
from engine.services.context import Context
from engine.store.unit_of_work import UnitOfWork, read_only, transact
from states import invoice as inv_states
from states.actors import Actor
from states.errors import ValidationFailed


def templates_of(ctx: Context) -> TemplateSet:
    return load(ctx.settings.templates_dir)


def cancel_notice(ctx: Context, notice_id: int, reason: str, actor: Actor) -> int:
    """INVALID_TRANSITION once the message has left (sent, delivered …)."""
    why = require_reason(reason)

    def work(uow: UnitOfWork) -> int:
        msg = get(uow, "Notice", notice_id)
        fire_notice(uow, msg, "cancel", actor, ctx.now(), reason=why)
        msg.error = why
        return int(msg.id)

    return transact(ctx.store, work)


def preview_notice(ctx: Context, customer_id: int, template: str, channel: str, language: str | None) -> Rendered:
    """The template rendered for the customer's open invoices as they stand; nothing is written."""
    if channel not in CHANNELS:
        raise ValidationFailed(f"unknown channel '{channel}'; one of {', '.join(CHANNELS)}", "channel")
    templates = templates_of(ctx)
    today = ctx.today()
    with read_only(ctx.store) as uow:
        c = get(uow, "Customer", customer_id)
        contacts = contacts_of(uow, [customer_id])[customer_id]
        recipient = recipient_for(channel, contacts) if channel not in ("phone", "portal") else None
        lang = (
            check_language(language)
            if language
            else language_of(recipient, contacts, templates.settings.default_language)
        )
        resolved = templates.resolve(template, channel, lang)
        if resolved is None or resolved[0] != template:
            raise ValidationFailed(f"no template '{template}' for channel {channel}", "template")
        items = tuple(
            Item(i.number, i.issue_date, i.due_date, i.currency, i.amount, i.open_amount, i.dunning_level,
                 "dun" if i.due_date < today else "remind")
            for i in sorted(c.invoices, key=lambda i: (i.due_date, i.number))
            if i.state in inv_states.CHASEABLE and i.open_amount > 0
        )  # fmt: skip
        data = MessageData(
            channel, template, resolved[1], today, c.name, c.external_ref,
            recipient.contact.name if recipient and recipient.contact else None,
            recipient.address if recipient else None,
            recipient.contact.postal_address if recipient and recipient.contact else None,
            items,
        )  # fmt: skip
    return render(templates, data)


def statement(ctx: Context, customer_id: int) -> bytes:
    return statement_pdf(ctx.store, templates_of(ctx), ctx.today(), customer_id=customer_id)
