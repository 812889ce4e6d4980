"""`python -m engine.journal`: rewrite the event catalogue table in docs/events.md."""

from pathlib import Path

from engine.journal.catalogue import rewrite_doc

doc = Path("docs/events.md")
doc.write_text(rewrite_doc(doc.read_text(encoding="utf-8")), encoding="utf-8")
