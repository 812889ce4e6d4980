"""Letters as files for a print-and-mail service: `O2C_LETTER_DIR/DATE/notice-ID.pdf`, and per
business date a `manifest.csv` (notice, customer, file, recipient address) rewritten after each
batch from the letters of that date, so a re-sent letter is listed once."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from engine.notices.channels import Outgoing, Unavailable


class LetterDirectory:
    channel = "letter"

    def __init__(self, directory: str) -> None:
        self.directory = Path(directory)
        self.touched: set[Path] = set()

    def send(self, message: Outgoing) -> str:
        if message.document is None:
            raise Unavailable("the letter has no PDF")
        day = self.directory / message.business_date.isoformat()
        try:
            day.mkdir(parents=True, exist_ok=True)
            (day / f"{message.key}.pdf").write_bytes(message.document)
            entry = {"notice": message.notice_id, "customer": message.customer_ref, "file": f"{message.key}.pdf",
                     "address": message.recipient}  # fmt: skip
            (day / f"{message.key}.json").write_text(json.dumps(entry))
        except OSError as exc:
            raise Unavailable(f"cannot write the letter: {exc}") from None
        self.touched.add(day)
        return f"written to file {day / f'{message.key}.pdf'}"

    def finish(self) -> None:
        for day in sorted(self.touched):
            rows = [json.loads(p.read_text()) for p in sorted(day.glob("notice-*.json"))]
            with (day / "manifest.csv").open("w", newline="") as fh:
                out = csv.writer(fh)
                out.writerow(["notice", "customer", "file", "address"])
                for r in rows:
                    out.writerow([r["notice"], r["customer"], r["file"], r["address"]])
        self.touched.clear()
