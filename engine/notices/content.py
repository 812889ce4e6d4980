"""What a message says: the template's context from plain data, and the rendering per channel
(email: subject, text and HTML; SMS: text and segments; letter: a PDF; phone: a collector's script)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from engine.notices import pdf
from engine.notices.locale import day, money
from engine.notices.sms import Segments, segments
from engine.notices.templates import WITH_SUBJECT, TemplateSet
from states.errors import ValidationFailed

HTML_LAYOUT = "_layout.email.html.j2"


@dataclass(frozen=True)
class Item:
    """One invoice of a message."""

    number: str
    issue_date: date
    due_date: date
    currency: str
    amount: int
    open_amount: int
    level: int
    kind: str  # remind | dun


@dataclass(frozen=True)
class MessageData:
    channel: str
    template: str
    language: str
    business_date: date
    customer_name: str
    customer_ref: str
    contact_name: str | None
    recipient: str | None
    postal_address: str | None
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Rendered:
    channel: str
    language: str
    file: str
    subject: str | None
    text: str
    html: str | None = None
    pdf: bytes | None = None
    segments: Segments | None = None


def context(templates: TemplateSet, data: MessageData) -> dict[str, Any]:
    lang = data.language
    items = []
    totals: dict[str, int] = defaultdict(int)
    for it in data.items:
        dpd = (data.business_date - it.due_date).days
        totals[it.currency] += it.open_amount
        items.append(
            {
                "number": it.number,
                "issue_date": day(it.issue_date, lang),
                "due_date": day(it.due_date, lang),
                "amount": money(it.amount, it.currency, lang),
                "open_amount": money(it.open_amount, it.currency, lang),
                "level": it.level,
                "kind": it.kind,
                "days_past_due": max(dpd, 0),
                "days_to_due": max(-dpd, 0),
                "overdue": dpd > 0,
            }
        )
    head = templates.settings.letterhead
    return {
        "language": lang,
        "customer": {"name": data.customer_name, "ref": data.customer_ref},
        "contact": {"name": data.contact_name or ""},
        "items": items,
        "overdue_items": [i for i in items if i["overdue"]],
        "upcoming_items": [i for i in items if not i["overdue"]],
        "total_open": " + ".join(money(v, c, lang) for c, v in sorted(totals.items())),
        "level": max((it.level for it in data.items), default=0),
        "today": day(data.business_date, lang),
        "pay_by": day(data.business_date + timedelta(days=7), lang),
        "company": {
            "name": head.company,
            "address": list(head.address),
            "email": head.email,
            "phone": head.phone,
            "payment": list(head.payment),
        },
    }


def render(templates: TemplateSet, data: MessageData) -> Rendered:
    file = templates.find(data.template, data.channel, data.language)
    if file is None:
        raise ValidationFailed(f"no template '{data.template}' for channel {data.channel}", "template")
    ctx = context(templates, data)
    out = templates.render(file, ctx).strip() + "\n"
    subject = None
    if data.channel in WITH_SUBJECT:
        first, _, rest = out.partition("\n")
        subject, out = first.removeprefix("Subject:").strip(), rest.lstrip("\n")
    if data.channel == "email":
        html = templates.render_html(HTML_LAYOUT, {**ctx, "subject": subject, "blocks": _blocks(out)})
        return Rendered(data.channel, data.language, file, subject, out, html=html)
    if data.channel == "sms":
        text = out.strip().replace("\u00a0", " ").replace("\u202f", " ")  # Babel's narrow spaces are not GSM-7
        return Rendered(data.channel, data.language, file, None, text, segments=segments(text))
    if data.channel == "letter":
        document = pdf.letter(templates.settings.letterhead, data.postal_address or "", ctx, subject or "", out)
        return Rendered(data.channel, data.language, file, subject, out, pdf=document)
    return Rendered(data.channel, data.language, file, subject, out)


def _blocks(text: str) -> list[dict[str, Any]]:
    """The text's paragraphs for the HTML layout: a run of `- ` lines is a list, others are lines."""
    found = []
    for para in (p.strip() for p in text.split("\n\n")):
        if para:
            lines = para.split("\n")
            if all(line.startswith("- ") for line in lines):
                found.append({"list": [line[2:] for line in lines], "lines": []})
            else:
                found.append({"list": [], "lines": lines})
    return found


def sample_data(channel: str, language: str, template: str = "sample") -> MessageData:
    """Two invoices (one overdue at level 2, one due soon): what `o2c templates check` renders."""
    today = date(2026, 3, 2)
    return MessageData(
        channel,
        template,
        language,
        today,
        "Muster Handels GmbH",
        "C-1001",
        "Erika Mustermann",
        "ap@muster.example",
        "Muster Handels GmbH\nHauptstraße 1\n10115 Berlin",
        (
            Item("INV-2026-0042", date(2026, 1, 1), date(2026, 1, 31), "EUR", 125_000, 98_050, 2, "dun"),
            Item("INV-2026-0107", date(2026, 2, 3), date(2026, 3, 5), "EUR", 45_990, 45_990, 0, "remind"),
        ),
    )


def sample_context(templates: TemplateSet, channel: str, language: str) -> dict[str, Any]:
    return context(templates, sample_data(channel, language))
