"""ISO 20022 camt.053 (bank to customer statement) and camt.054 (debit/credit notification), read
with the standard library's ElementTree through `defusedxml` (no entity expansion, no external
entities). Versions 001.02 to 001.12 share the elements read here; 001.08 moved the party name
under `Pty` (`RltdPties/Dbtr/Pty/Nm`), which is read as well. Errors name the element path."""

from __future__ import annotations

import re
from datetime import date
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from engine.cashapp.formats.entry import CREDIT, DEBIT, StatementEntry, StatementError, entry

_NS = re.compile(r"^\{urn:iso:std:iso:20022:tech:xsd:(camt\.05[34])\.001\.(\d\d)\}Document$")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(el: Element, *names: str) -> Element | None:
    cur: Element | None = el
    for name in names:
        if cur is None:
            return None
        cur = next((c for c in cur if _local(c.tag) == name), None)
    return cur


def _children(el: Element, name: str) -> list[Element]:
    return [c for c in el if _local(c.tag) == name]


def _text(el: Element, *names: str) -> str:
    found = _child(el, *names)
    return (found.text or "").strip() if found is not None else ""


def parse(text: str) -> list[StatementEntry]:
    try:
        root = fromstring(text.encode("utf-8") if isinstance(text, str) else text)
    except ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else 0
        raise StatementError(f"line {line}", f"not well-formed XML ({exc})") from None
    except DefusedXmlException as exc:
        raise StatementError("/", f"refused: {exc}") from None
    m = _NS.match(root.tag)
    if not m:
        raise StatementError(f"/{_local(root.tag)}", "not an ISO 20022 camt.053 or camt.054 document")
    body_name = "BkToCstmrStmt" if m.group(1) == "camt.053" else "BkToCstmrDbtCdtNtfctn"
    item_name = "Stmt" if m.group(1) == "camt.053" else "Ntfctn"
    body = _child(root, body_name)
    if body is None:
        raise StatementError("/Document", f"missing {body_name}")
    out: list[StatementEntry] = []
    for s_no, stmt in enumerate(_children(body, item_name), 1):
        s_path = f"/Document/{body_name}/{item_name}[{s_no}]"
        stmt_id = _text(stmt, "Id") or s_path
        for n_no, ntry in enumerate(_children(stmt, "Ntry"), 1):
            out.extend(_entries(ntry, f"{s_path}/Ntry[{n_no}]", stmt_id, n_no))
    return out


def _entries(ntry: Element, path: str, stmt_id: str, n_no: int) -> list[StatementEntry]:
    amt = _child(ntry, "Amt")
    if amt is None:
        raise StatementError(f"{path}/Amt", "missing")
    ind = _text(ntry, "CdtDbtInd")
    if ind not in ("CRDT", "DBIT"):
        raise StatementError(f"{path}/CdtDbtInd", f"'{ind}' is neither CRDT nor DBIT")
    booked = _date(ntry, path)
    details = [tx for d in _children(ntry, "NtryDtls") for tx in _children(d, "TxDtls")]
    first_tx = details[0] if details else None
    entry_ref = (
        _text(ntry, "AcctSvcrRef")
        or (_tx_ref(first_tx) if first_tx is not None else "")
        or _text(ntry, "NtryRef")
        or f"{stmt_id}/{n_no}"
    )
    # A batch entry with several transactions, each with its own amount, yields one per transaction.
    per_tx = len(details) > 1 and all(_tx_amount(tx) is not None for tx in details)
    parts = list(enumerate(details, 1)) if per_tx else [(0, details[0] if details else None)]
    out = []
    for t_no, tx in parts:
        where = f"{path}/NtryDtls/TxDtls[{t_no}]" if t_no else path
        amount_el = _tx_amount(tx) if (per_tx and tx is not None) else amt
        assert amount_el is not None
        ref = ((_tx_ref(tx) if tx is not None else "") or f"{entry_ref}/{t_no}") if per_tx else entry_ref
        out.append(
            entry(
                where + "/Amt",
                bank_ref=ref,
                statement=stmt_id,
                direction=CREDIT if ind == "CRDT" else DEBIT,
                booked_on=booked,
                currency=amount_el.get("Ccy", ""),
                amount=(amount_el.text or "").strip(),
                payer_name=_payer_name(tx) if tx is not None else None,
                payer_iban=_text(tx, "RltdPties", "DbtrAcct", "Id", "IBAN") if tx is not None else None,
                remittance=_remittance(tx) if tx is not None else _text(ntry, "AddtlNtryInf"),
            )
        )
    return out


def _date(ntry: Element, path: str) -> date:
    raw = _text(ntry, "BookgDt", "Dt") or _text(ntry, "BookgDt", "DtTm")[:10] or _text(ntry, "ValDt", "Dt")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise StatementError(f"{path}/BookgDt", f"'{raw}' is not a date (YYYY-MM-DD)") from None


def _tx_amount(tx: Element) -> Element | None:
    found = _child(tx, "AmtDtls", "TxAmt", "Amt")  # an Element without children is falsy: test None
    return found if found is not None else _child(tx, "Amt")


def _tx_ref(tx: Element) -> str:
    for names in (("Refs", "AcctSvcrRef"), ("Refs", "EndToEndId"), ("Refs", "TxId")):
        value = _text(tx, *names)
        if value and value != "NOTPROVIDED":
            return value
    return ""


def _payer_name(tx: Element) -> str | None:
    return _text(tx, "RltdPties", "Dbtr", "Pty", "Nm") or _text(tx, "RltdPties", "Dbtr", "Nm") or None


def _remittance(tx: Element) -> str:
    rmt = _child(tx, "RmtInf")
    if rmt is None:
        return _text(tx, "AddtlTxInf")
    parts = [(u.text or "").strip() for u in _children(rmt, "Ustrd")]
    for strd in _children(rmt, "Strd"):
        ref = _text(strd, "CdtrRefInf", "Ref")
        if ref:
            parts.append(ref)
        parts.extend(_text(r, "Nb") for r in _children(strd, "RfrdDocInf"))
    return " ".join(p for p in parts if p)
