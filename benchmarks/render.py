"""Message rendering throughput per channel, from the shipped templates: emails (subject, text and
HTML), SMS (with segment count), PDF letters, phone scripts. Each channel renders messages of three
invoices in English and German alternately. Baseline in the same run: the same email template rendered
by a plain (unsandboxed) Jinja2 environment, to show what the sandbox costs.
Targets (issue #13, 2 shared cores): email >= 2,000/s, PDF letters >= 100/s. The last line is JSON."""

from __future__ import annotations

import argparse
import json
import time
from datetime import date
from pathlib import Path

import jinja2

from engine.notices.content import Item, MessageData, context, render
from engine.notices.templates import load

ROOT = Path(__file__).resolve().parents[1]
CASES = {
    "email": "smb_dunning_1",
    "sms": "smb_dunning_2",
    "letter": "smb_dunning_3",
    "phone": "mm_dunning_call",
}


def message(channel: str, template: str, k: int) -> MessageData:
    items = tuple(
        Item(f"INV-{k:06d}-{j}", date(2026, 1, 1), date(2026, 1, 31 - j), "EUR", 100_000 + k + j, 90_000 + j, 1, "dun")
        for j in range(3)
    )
    return MessageData(
        channel, template, "de" if k % 2 else "en", date(2026, 3, 2), f"Customer {k}", f"C-{k}", "Accounts",
        f"ap{k}@example.com", f"Customer {k}\nMain Street {k}\n10115 Berlin", items,
    )  # fmt: skip


def rate(channel: str, count: int) -> float:
    templates = load(ROOT / "templates")
    messages = [message(channel, CASES[channel], k) for k in range(count)]
    render(templates, messages[0])  # compile the templates once, as a running worker has
    start = time.perf_counter()
    for m in messages:
        render(templates, m)
    return count / (time.perf_counter() - start)


def plain_baseline(count: int) -> float:
    """The email's text through an unsandboxed environment (no HTML, no split): the floor of Jinja2."""
    templates = load(ROOT / "templates")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(ROOT / "templates")), trim_blocks=True,
                             lstrip_blocks=True)  # fmt: skip
    contexts = [context(templates, message("email", CASES["email"], k)) for k in range(count)]
    names = [f"{CASES['email']}.email.{'de' if k % 2 else 'en'}.j2" for k in range(count)]
    start = time.perf_counter()
    for name, ctx in zip(names, contexts, strict=True):
        env.get_template(name).render(ctx)
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=4000, help="messages per text channel")
    parser.add_argument("--letters", type=int, default=400, help="PDF letters")
    args = parser.parse_args()
    result: dict[str, object] = {}
    for channel in ("email", "sms", "phone"):
        result[f"{channel}_per_s"] = int(rate(channel, args.messages))
    result["letter_pdf_per_s"] = int(rate("letter", args.letters))
    result["baseline_plain_jinja_text_per_s"] = int(plain_baseline(args.messages))
    result["targets"] = {"email_per_s": 2000, "letter_pdf_per_s": 100}
    result["meets_targets"] = bool(
        int(str(result["email_per_s"])) >= 2000 and int(str(result["letter_pdf_per_s"])) >= 100
    )
    for key, value in result.items():
        print(f"{key}: {value}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
