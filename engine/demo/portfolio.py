"""A synthetic receivables portfolio drawn with numpy from one seed: customers with a segment,
a currency and a payment behaviour; a year of invoices; when (and whether) each was paid."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

SEGMENTS = ("enterprise", "mid_market", "smb", "public_sector")
SEGMENT_P = (0.10, 0.25, 0.55, 0.10)
BEHAVIOURS = ("prompt", "a_little_late", "chronically_late", "disputing", "promise_breaking")
# Behaviour mix per segment (rows follow SEGMENTS).
BEHAVIOUR_P = np.array(
    [
        [0.55, 0.28, 0.05, 0.08, 0.04],
        [0.45, 0.30, 0.10, 0.08, 0.07],
        [0.38, 0.30, 0.16, 0.06, 0.10],
        [0.30, 0.45, 0.15, 0.06, 0.04],
    ]
)
# Days paid after the due date: (mean, sd, low, high) per behaviour; share never paid.
DELAY = {0: (-2, 3, -12, 6), 1: (8, 6, 0, 30), 2: (45, 20, 15, 150), 3: (15, 10, 0, 60), 4: (35, 15, 5, 120)}
UNPAID_P = (0.005, 0.02, 0.12, 0.06, 0.10)
# How customers time their payments: when they are ready, on a Friday pay run, or at month end.
PAY_RUNS = ("when_ready", "friday_run", "month_end")
PAY_RUN_P = (0.55, 0.30, 0.15)
CURRENCIES = ("EUR", "USD", "GBP")
CURRENCY_P = (0.80, 0.12, 0.08)
ZONES = {"EUR": ("Europe/Berlin", "Europe/Paris", "Europe/Madrid", "Europe/Amsterdam"),
         "USD": ("America/New_York", "America/Chicago"), "GBP": ("Europe/London",)}  # fmt: skip
SUFFIX = {"EUR": ("GmbH", "SA", "BV", "SpA", "AG", "SAS", "Oy"), "USD": ("Inc.", "LLC", "Corp."),
          "GBP": ("Ltd", "plc", "Ltd")}  # fmt: skip
LIMIT = {0: (500_000, 0.6), 1: (100_000, 0.6), 2: (15_000, 0.7), 3: (250_000, 0.5)}  # major units
TERMS = {0: (30, 45, 60, 90), 1: (30, 45), 2: (14, 30), 3: (30, 60)}
AMOUNT = {0: (20_000, 0.9), 1: (6_000, 0.9), 2: (1_200, 0.9), 3: (10_000, 0.8)}  # invoice, major units
VOLUME = (3.0, 1.5, 0.7, 1.2)  # relative invoice volume per segment
WORDS = (
    "Alder",
    "Nordic",
    "Vertex",
    "Harbor",
    "Summit",
    "Blue",
    "Orchard",
    "Iron",
    "Meridian",
    "Atlas",
    "Cedar",
    "Falcon",
    "Granite",
    "Lumen",
    "Nova",
    "Pioneer",
    "Quartz",
    "River",
    "Silver",
    "Tandem",
    "Union",
    "Vista",
    "Willow",
    "Zenith",
    "Amber",
    "Beacon",
    "Crest",
    "Delta",
    "Ember",
    "Fjord",
)
TRADES = (
    "Logistics",
    "Systems",
    "Foods",
    "Medical",
    "Engineering",
    "Textiles",
    "Retail",
    "Software",
    "Energy",
    "Packaging",
    "Tools",
    "Analytics",
    "Components",
    "Pharma",
    "Construction",
    "Optics",
    "Marine",
    "Print",
    "Robotics",
    "Labs",
)
PUBLIC = ("City of {}", "{} County Council", "{} University Hospital", "{} Water Authority", "{} School District")


@dataclass
class Portfolio:
    today: date
    # customers
    ref: list[str]
    name: list[str]
    segment: np.ndarray  # index into SEGMENTS
    behaviour: np.ndarray  # index into BEHAVIOURS
    currency: list[str]
    zone: list[str]
    credit_limit: np.ndarray  # minor units
    terms: np.ndarray
    # invoices
    owner: np.ndarray  # customer row
    issue: np.ndarray  # days before today
    amount: np.ndarray  # minor units
    delay: np.ndarray  # days paid after due
    paid: np.ndarray  # bool: paid (in full or partly) before today
    partial: np.ndarray  # bool: only part was paid
    broken_promise: np.ndarray  # bool: a promise on it was broken

    def issue_date(self, k: int) -> date:
        return self.today - timedelta(days=int(self.issue[k]))

    def due_date(self, k: int) -> date:
        return self.issue_date(k) + timedelta(days=int(self.terms[self.owner[k]]))

    def paid_on(self, k: int) -> date:
        return self.due_date(k) + timedelta(days=int(self.delay[k]))


def _names(rng: np.random.Generator, segment: np.ndarray, currency: list[str]) -> list[str]:
    out = []
    for k, seg in enumerate(segment.tolist()):
        word = WORDS[rng.integers(len(WORDS))]
        if seg == 3:
            out.append(PUBLIC[rng.integers(len(PUBLIC))].format(word + ("ton", "field", "bridge", "haven")[k % 4]))
        else:
            trade = TRADES[rng.integers(len(TRADES))]
            suffixes = SUFFIX[currency[k]]
            out.append(f"{word} {trade} {suffixes[rng.integers(len(suffixes))]}")
    return out


def pay_run_shift(today: date, days_ago: np.ndarray, habit: np.ndarray) -> np.ndarray:
    """Days from the day an invoice would be paid (`days_ago` before today) to its customer's pay
    run: the next Friday, or the month's last day; 0 for a customer who pays when ready."""
    number = (today - date(1970, 1, 1)).days - days_ago.astype(np.int64)  # days since 1970-01-01
    weekday = (number + 3) % 7  # 1970-01-01 was a Thursday
    month_end = (number.astype("datetime64[D]").astype("datetime64[M]") + 1).astype("datetime64[D]").astype(np.int64)
    shift = np.where(habit == 1, (4 - weekday) % 7, 0)
    return np.where(habit == 2, month_end - 1 - number, shift).astype(np.int64)


def generate(today: date, customers: int = 2000, invoices: int = 20000, seed: int = 42) -> Portfolio:
    rng = np.random.default_rng(seed)
    segment = rng.choice(len(SEGMENTS), size=customers, p=SEGMENT_P)
    behaviour = np.array([rng.choice(len(BEHAVIOURS), p=BEHAVIOUR_P[s]) for s in segment.tolist()], dtype=np.int64)
    currency = [CURRENCIES[i] for i in rng.choice(len(CURRENCIES), size=customers, p=CURRENCY_P).tolist()]
    zone = [ZONES[c][rng.integers(len(ZONES[c]))] for c in currency]
    mean = np.array([LIMIT[s][0] for s in segment.tolist()], dtype=np.float64)
    sigma = np.array([LIMIT[s][1] for s in segment.tolist()])
    limit = np.maximum(np.round(rng.lognormal(np.log(mean), sigma) / 1000), 1) * 1000 * 100
    terms = np.array([TERMS[s][rng.integers(len(TERMS[s]))] for s in segment.tolist()], dtype=np.int64)
    weight = np.array([VOLUME[s] for s in segment.tolist()]) * rng.lognormal(0.0, 0.5, customers)
    owner = rng.choice(customers, size=invoices, p=weight / weight.sum())
    issue = rng.integers(1, 366, size=invoices)
    seg_of = segment[owner]
    a_mean = np.array([AMOUNT[s][0] for s in range(4)])[seg_of]
    a_sigma = np.array([AMOUNT[s][1] for s in range(4)])[seg_of]
    amount = np.maximum(np.round(rng.lognormal(np.log(a_mean), a_sigma) * 100), 1000).astype(np.int64)
    beh = behaviour[owner]
    params = np.array([DELAY[b] for b in range(len(BEHAVIOURS))], dtype=np.float64)[beh]
    delay = np.clip(np.rint(rng.normal(params[:, 0], params[:, 1])), params[:, 2], params[:, 3]).astype(np.int64)
    terms_of = terms[owner]
    delay = np.maximum(delay, 1 - terms_of)  # never paid before it was issued
    # pay runs (their own stream, so that the rest of a seed's portfolio stays as it was)
    habit = np.random.default_rng(seed + 1).choice(len(PAY_RUNS), size=customers, p=PAY_RUN_P)
    delay = delay + pay_run_shift(today, issue - terms_of - delay, habit[owner])
    never = rng.random(invoices) < np.array(UNPAID_P)[beh]
    paid = (~never) & (terms_of + delay < issue)  # paid on a day before today
    partial = paid & (rng.random(invoices) < np.where(beh >= 2, 0.08, 0.02))
    late = terms_of + 1 < issue  # past due today or paid late: a promise could have been made
    broken = (beh == 4) & late & (delay > 5) & (rng.random(invoices) < 0.35)
    refs = [f"DEMO-{k + 1:05d}" for k in range(customers)]
    return Portfolio(
        today, refs, _names(rng, segment, currency), segment, behaviour, currency, zone,
        limit.astype(np.int64), terms, owner, issue, amount, delay, paid, partial, broken,
    )  # fmt: skip
