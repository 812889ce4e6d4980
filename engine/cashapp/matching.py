"""The matcher: which customer and which invoices a bank transaction pays, with a confidence and
the reasons. Pure and in memory: `MatchIndex` is built once per statement (or benchmark) from plain
rows — an invoice-number map with a one-deletion neighbourhood for typos, RF references, per-customer
amount maps, payer names and IBANs — so a transaction costs a few dictionary look-ups, never a scan.

Confidence is a percent; the policy's `auto_apply_confidence` decides what is applied without a
person. Never automatic, whatever the score: a payment that names an invoice that is not collectible
(paid, cancelled), that could belong to two customers, or whose payer cannot be identified.
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from dataclasses import dataclass, field

from engine.cashapp.names import (
    compact_iban,
    edit_distance,
    name_similarity,
    normalise_name,
    rf_references,
    similar_names,
)
from engine.cashapp.policy import CashPolicy
from states import invoice as inv_states
from states.cash import short_payment

MIN_DIGITS = 5  # shorter digit runs (days, small amounts) are never taken for an invoice number
MIN_TYPO_DIGITS = 8  # a typo is only forgiven in a long number
MAX_DIGITS = 24  # longer digit runs (account numbers, IBANs) are no invoice number
MAX_GROUPS = 4  # an invoice number is written in at most this many digit groups ("2026 000 123")
MAX_COMBINATION = 4  # invoices in an amount-only combination
MAX_COMBINATION_POOL = 24  # open invoices of one customer considered for combinations
NOT_AUTOMATIC = 60  # the cap of a candidate that must never be applied automatically
_DIGIT_GROUPS = re.compile(r"\d+(?:[ \-/.]\d+)*")
_OCR_O = re.compile(r"(?<=\d)[O](?=[O\d])|(?<=\d)O|O(?=\d)")


@dataclass
class OpenItem:
    """An invoice as the matcher sees it (open amount and state change as transactions apply)."""

    id: int
    customer_id: int
    number: str
    currency: str
    open_amount: int
    state: str
    due_date: str  # ISO text: sorts like the date


@dataclass(frozen=True)
class Party:
    id: int
    name: str
    segment: str


@dataclass(frozen=True)
class Payment:
    """What the matcher reads of a bank transaction."""

    amount: int
    currency: str
    payer_name: str | None
    payer_iban: str | None
    remittance: str


@dataclass(frozen=True)
class Candidate:
    customer_id: int
    allocations: tuple[tuple[int, int], ...]  # (invoice id, amount)
    confidence: int
    reasons: tuple[str, ...]
    short_paid: tuple[tuple[int, int], ...] = ()  # (invoice id, difference settled within tolerance)

    def as_json(self) -> dict[str, object]:
        return {
            "customerId": self.customer_id,
            "allocations": [{"invoiceId": i, "amount": a} for i, a in self.allocations],
            "shortPaid": [{"invoiceId": i, "amount": a} for i, a in self.short_paid],
            "confidence": self.confidence,
            "reasons": list(self.reasons),
        }


@dataclass
class Decision:
    candidates: list[Candidate] = field(default_factory=list)
    automatic: bool = False

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None


def number_key(text: str) -> str:
    """Upper case, letters and digits only, O read as 0 next to digits: 'inv-2O26/123' -> 'INV2026123'."""
    up = _OCR_O.sub("0", text.upper())
    return re.sub(r"[^A-Z0-9]", "", up)


def digits_key(text: str) -> str:
    return re.sub(r"\D", "", number_key(text))


def _deletions(key: str) -> set[str]:
    return {key[:i] + key[i + 1 :] for i in range(len(key))}


class MatchIndex:
    def __init__(
        self,
        items: list[OpenItem],
        parties: list[Party],
        aliases: list[tuple[int, str, str]],
        policy: CashPolicy,
    ) -> None:
        """`aliases`: (customer id, kind 'name'|'iban', value) taught by people or registered."""
        self.policy = policy
        self.items = {i.id: i for i in items}
        self.parties = {p.id: p for p in parties}
        self.by_full: dict[str, list[int]] = defaultdict(list)
        self.by_digits: dict[str, list[int]] = defaultdict(list)
        self.by_deletion: dict[str, list[str]] = defaultdict(list)
        self.by_customer: dict[int, list[int]] = defaultdict(list)
        for item in items:
            self.by_full[number_key(item.number)].append(item.id)
            digits = digits_key(item.number)
            if len(digits) >= MIN_DIGITS:
                if digits not in self.by_digits:
                    for d in _deletions(digits) if len(digits) >= MIN_TYPO_DIGITS else ():
                        self.by_deletion[d].append(digits)
                self.by_digits[digits].append(item.id)
            self.by_customer[item.customer_id].append(item.id)
        self.by_name: dict[str, set[int]] = defaultdict(set)
        for p in parties:
            self.by_name[normalise_name(p.name)].add(p.id)
        self.by_iban: dict[str, set[int]] = defaultdict(set)
        for customer_id, kind, value in aliases:
            if kind == "iban":
                self.by_iban[value].add(customer_id)
            else:
                self.by_name[normalise_name(value)].add(customer_id)
        self.names = [n for n in self.by_name if n]

    # -- keeping the index current while a statement applies ---------------------------
    def applied(self, invoice_id: int, amount: int, short: int = 0) -> None:
        item = self.items.get(invoice_id)
        if item is not None:
            item.open_amount -= amount + short
            if item.open_amount <= 0:
                item.state = inv_states.PAID

    # -- finding ------------------------------------------------------------------------
    def referenced(self, text: str) -> tuple[dict[int, str], list[str]]:
        """Invoice ids named exactly in the text (with how they were found), and the long digit
        keys that may be numbers with a typo (looked up by `typos` only when needed)."""
        exact: dict[int, str] = {}
        long_keys: list[str] = []
        for ref in rf_references(text):
            for iid in self.by_full.get(ref, ()):
                exact[iid] = "RF creditor reference"
        upper = _OCR_O.sub("0", text.upper())
        for word in re.findall(r"[A-Z0-9][A-Z0-9\-/.]*[A-Z0-9]", upper):
            for iid in self.by_full.get(re.sub(r"[^A-Z0-9]", "", word), ()):
                exact.setdefault(iid, "invoice number")
        for run in _DIGIT_GROUPS.findall(upper):
            groups = re.split(r"[ \-/.]", run)
            for i in range(len(groups)):
                for j in range(i + 1, min(i + MAX_GROUPS, len(groups)) + 1):
                    key = "".join(groups[i:j])
                    if not MIN_DIGITS <= len(key) <= MAX_DIGITS:
                        continue
                    hits = self.by_digits.get(key)
                    for iid in hits or ():
                        exact.setdefault(iid, "invoice number (prefix or spacing differs)")
                    # A typo may land on another real number: its neighbours are candidates too.
                    if len(key) >= MIN_TYPO_DIGITS:
                        long_keys.append(key)
        return exact, long_keys

    def typos(self, keys: list[str], exact: dict[int, str], payers: set[int]) -> dict[int, str]:
        """Invoices one edit away from a key; of the payer's customers when the payer is known."""
        typo: dict[int, str] = {}
        for key in keys:
            for near in self._near(key):
                for iid in self.by_digits[near]:
                    if iid not in exact and (not payers or self.items[iid].customer_id in payers):
                        typo.setdefault(iid, f"invoice number with a typo ({key} ~ {near})")
        return typo

    def _near(self, key: str) -> set[str]:
        found: set[str] = set()
        for d in (key, *_deletions(key)):
            found.update(self.by_deletion.get(d, ()))
        if key[:-1] in self.by_digits:  # an extra character typed at the end
            found.add(key[:-1])
        for d in _deletions(key):
            if d in self.by_digits:
                found.add(d)
        return {k for k in found if k != key and edit_distance(k, key) <= 1}

    def payers(self, p: Payment, fuzzy: bool = True) -> tuple[set[int], str]:
        """Customers the payer could be (by IBAN, then name, then — when `fuzzy` — a similar name)."""
        iban = compact_iban(p.payer_iban)
        if iban and iban in self.by_iban:
            return set(self.by_iban[iban]), "payer IBAN"
        if not p.payer_name:
            return set(), ""
        name = normalise_name(p.payer_name)
        if not name:
            return set(), ""
        if name in self.by_name:
            return set(self.by_name[name]), "payer name"
        if not fuzzy:
            return set(), ""
        found: set[int] = set()
        for other, _score in similar_names(name, self.names, self.policy.name_similarity):
            found |= self.by_name[other]
        return found, "payer name (similar spelling)"

    # -- deciding -----------------------------------------------------------------------
    def match(self, p: Payment) -> Decision:
        exact, long_keys = self.referenced(p.remittance)
        # A global fuzzy name search only when no number names the customer (it costs most).
        payers, payer_how = self.payers(p, fuzzy=not exact and not long_keys)
        candidates: list[Candidate] = []
        if exact:
            candidates.extend(self._by_reference(p, exact, payers, payer_how, typo=False))
        # A number read exactly that fits the payer is what they meant (even a paid one: a person looks);
        # typos are looked for only when no exact number fits.
        fits = any(self.items[i].customer_id in payers for i in exact) if payers else bool(exact)
        if long_keys and not fits:
            typo = self.typos(long_keys, exact, payers)
            if typo:
                candidates.extend(self._by_reference(p, typo, payers, payer_how, typo=True))
        elif long_keys and candidates:
            candidates = [self._doubt_near_miss(p, c, long_keys, exact) for c in candidates]
        if not candidates and payers:
            candidates.extend(self._by_amount(p, payers, payer_how))
        candidates.sort(key=lambda c: -c.confidence)
        decision = Decision(candidates[:5])
        best = decision.best
        if best is not None and best.confidence >= self.policy.auto_apply_confidence:
            # A rival is another plausible reading (a capped candidate — payer pointing elsewhere — is not).
            rivals = [
                c
                for c in candidates[1:]
                if (c.customer_id != best.customer_id and c.confidence > NOT_AUTOMATIC)
                or c.confidence >= best.confidence
            ]
            decision.automatic = not rivals
        return decision

    def _doubt_near_miss(self, p: Payment, c: Candidate, long_keys: list[str], exact: dict[int, str]) -> Candidate:
        """A number read exactly but paid with another amount (partial or over) may be a typo of a
        neighbouring number of the same customer that has exactly this amount: then a person decides."""
        named = sum(self.items[i].open_amount for i in exact if self.items[i].customer_id == c.customer_id)
        if p.amount == named or c.short_paid:
            return c
        for iid in self.typos(long_keys, exact, {c.customer_id}):
            if self.items[iid].open_amount == p.amount and self.items[iid].state in inv_states.COLLECTIBLE:
                why = f"{self.items[iid].number}, one edit away, has exactly this amount"
                return Candidate(c.customer_id, c.allocations, min(c.confidence, 85), (*c.reasons, why), c.short_paid)
        return c

    def _by_reference(
        self, p: Payment, found: dict[int, str], payers: set[int], payer_how: str, typo: bool
    ) -> list[Candidate]:
        by_customer: dict[int, list[OpenItem]] = defaultdict(list)
        for iid in found:
            by_customer[self.items[iid].customer_id].append(self.items[iid])
        if payers and len(by_customer) > 1:  # the payer decides between customers
            by_customer = {c: v for c, v in by_customer.items() if c in payers} or by_customer
        several = len(by_customer) > 1
        out = []
        for customer_id, invoices in by_customer.items():
            reasons = [f"{found[i.id]}: {i.number}" for i in invoices]
            cap = 100
            if several:
                cap = NOT_AUTOMATIC
                reasons.append("the numbers named belong to several customers")
            corroborated = customer_id in payers or self._name_agrees(p, customer_id)
            if payers and customer_id not in payers:
                cap = NOT_AUTOMATIC
                reasons.append(f"the {payer_how} points to another customer")
            elif corroborated:
                reasons.append(f"{payer_how or 'payer name (similar spelling)'} agrees")
            closed = [i for i in invoices if i.state not in inv_states.COLLECTIBLE]
            if closed:
                cap = min(cap, NOT_AUTOMATIC - 10)
                reasons.extend(f"invoice {i.number} is {i.state}" for i in closed)
            wrong_currency = [i for i in invoices if i.currency != p.currency]
            if wrong_currency:
                cap = min(cap, NOT_AUTOMATIC - 10)
                reasons.extend(f"invoice {i.number} is in {i.currency}" for i in wrong_currency)
            usable = sorted(
                (i for i in invoices if i not in closed and i not in wrong_currency), key=lambda i: i.due_date
            )
            if not usable:
                out.append(Candidate(customer_id, (), min(cap, 40), tuple(reasons)))
                continue
            score, allocs, shorts, why = self._spread(p, usable, customer_id, typo, corroborated)
            out.append(Candidate(customer_id, allocs, min(cap, score), (*reasons, why), shorts))
        return out

    def _name_agrees(self, p: Payment, customer_id: int) -> bool:
        party = self.parties.get(customer_id)
        if party is None or not p.payer_name:
            return False
        return name_similarity(normalise_name(p.payer_name), normalise_name(party.name)) >= self.policy.name_similarity

    def _spread(
        self, p: Payment, invoices: list[OpenItem], customer_id: int, typo: bool, corroborated: bool
    ) -> tuple[int, tuple[tuple[int, int], ...], tuple[tuple[int, int], ...], str]:
        """How the payment lands on the invoices it names: exactly, short within tolerance, partly or over."""
        total = sum(i.open_amount for i in invoices)
        tolerance = self.policy.tolerance(
            self.parties[customer_id].segment if customer_id in self.parties else "", p.currency
        )
        allocs = tuple((i.id, i.open_amount) for i in invoices)
        if p.amount == total:
            return (93 if typo else 99), allocs, (), "the amount equals the open amount"
        short = short_payment(p.amount, total, tolerance)
        if short and len(invoices) == 1:
            inv = invoices[0]
            return (
                (90 if typo else 96),
                ((inv.id, p.amount),),
                ((inv.id, short),),
                f"short by {short} minor units, within the tolerance",
            )
        if typo:
            return 55, allocs, (), "the amount differs from the open amount of a number read with a typo"
        if p.amount > total:
            return (
                (94 if corroborated else 85),
                allocs,
                (),
                f"overpaid by {p.amount - total} minor units: the excess stays on account",
            )
        if len(invoices) == 1:
            inv = invoices[0]
            return (92 if corroborated else 85), ((inv.id, p.amount),), (), "a partial payment of the invoice named"
        left, parts = p.amount, []
        for inv in invoices:  # several named, too little for all: oldest due first, for a person to confirm
            take = min(left, inv.open_amount)
            if take > 0:
                parts.append((inv.id, take))
                left -= take
        return 75, tuple(parts), (), "less than the invoices named: spread oldest due first"

    def _by_amount(self, p: Payment, payers: set[int], payer_how: str) -> list[Candidate]:
        strong = 95 if payer_how == "payer IBAN" else 92 if payer_how == "payer name" else 90
        several = len(payers) > 1
        out = []
        for customer_id in sorted(payers):
            open_items = [
                self.items[i]
                for i in self.by_customer.get(customer_id, ())
                if self.items[i].currency == p.currency
                and self.items[i].state in inv_states.COLLECTIBLE
                and self.items[i].open_amount > 0
            ]
            cap = NOT_AUTOMATIC if several else 100
            base = [f"identified by {payer_how}"] + (["the payer could be several customers"] if several else [])
            exact = [i for i in open_items if i.open_amount == p.amount]
            if len(exact) == 1:
                out.append(
                    Candidate(
                        customer_id,
                        ((exact[0].id, p.amount),),
                        min(cap, strong),
                        (*base, f"the only open invoice of this amount: {exact[0].number}"),
                    )
                )
                continue
            if len(exact) > 1:
                out.append(
                    Candidate(
                        customer_id,
                        ((exact[0].id, p.amount),),
                        min(cap, 70),
                        (*base, f"{len(exact)} open invoices have this amount"),
                    )
                )
                continue
            combo = self._combination(p.amount, open_items)
            if combo:
                numbers = ", ".join(i.number for i in combo)
                out.append(
                    Candidate(
                        customer_id,
                        tuple((i.id, i.open_amount) for i in combo),
                        min(cap, strong - 4),
                        (*base, f"the only combination of open invoices with this sum: {numbers}"),
                    )
                )
                continue
            tolerance = self.policy.tolerance(
                self.parties[customer_id].segment if customer_id in self.parties else "", p.currency
            )
            near = [i for i in open_items if short_payment(p.amount, i.open_amount, tolerance)]
            if len(near) == 1:
                short = near[0].open_amount - p.amount
                out.append(
                    Candidate(
                        customer_id,
                        ((near[0].id, p.amount),),
                        min(cap, strong - 5),
                        (*base, f"short by {short} minor units of {near[0].number}, within the tolerance"),
                        ((near[0].id, short),),
                    )
                )
                continue
            out.append(
                Candidate(
                    customer_id,
                    (),
                    min(cap, 50),
                    (*base, "no open invoice or combination matches the amount: on account"),
                )
            )
        return out

    @staticmethod
    def _combination(amount: int, items: list[OpenItem]) -> list[OpenItem] | None:
        """The one combination (2..4 invoices) summing to `amount`, or None when none or several."""
        pool = sorted((i for i in items if i.open_amount < amount), key=lambda i: i.due_date)[:MAX_COMBINATION_POOL]
        found: list[OpenItem] | None = None
        for size in range(2, min(MAX_COMBINATION, len(pool)) + 1):
            for combo in itertools.combinations(pool, size):
                if sum(i.open_amount for i in combo) == amount:
                    if found is not None:
                        return None
                    found = list(combo)
        return found
