"""Message templates: the shipped set is valid, bad templates are reported as FILE:LINE, a language
picks its template (falling back to the default), and each channel renders its own form."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from pypdf import PdfReader

from engine.notices import content
from engine.notices.templates import check, load
from engine.rules import checks

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    target = tmp_path / "templates"
    shutil.copytree(TEMPLATES, target)
    return target


def test_the_shipped_templates_are_valid_and_cover_every_template_the_sample_strategies_send() -> None:
    out = io.StringIO()
    assert checks.check(ROOT / "strategies", out, load(TEMPLATES).has) == 0, out.getvalue()
    assert check(TEMPLATES, content.sample_context) == []
    names = {p.name for p in TEMPLATES.glob("*.j2") if not p.name.startswith("_")}
    for name in names:  # every template exists in English and in German
        stem = name.rsplit(".", 2)[0]
        assert {f"{stem}.en.j2", f"{stem}.de.j2"} <= names, stem


def test_a_syntax_error_and_an_undefined_variable_are_reported_with_file_and_line(copy: Path) -> None:
    (copy / "broken.email.en.j2").write_text("Subject: x\n\nHello\n{% if customer.name %}\nno end\n")
    (copy / "typo.email.en.j2").write_text("Subject: x\n\nDear {{ customer.name }},\n\nyou owe {{ total_due }}.\n")
    problems = [str(p) for p in check(copy, content.sample_context)]
    assert any("/broken.email.en.j2:" in p and "syntax error" in p for p in problems), problems
    assert any("/typo.email.en.j2:5:" in p and "total_due" in p for p in problems), problems


def test_a_template_of_an_unknown_language_or_without_a_subject_is_refused(copy: Path) -> None:
    (copy / "x.email.xx-QQ.j2").write_text("Subject: x\n")
    (copy / "y.letter.en.j2").write_text("Dear customer\n")
    problems = [str(p) for p in check(copy, content.sample_context)]
    assert any("/x.email.xx-QQ.j2:1:" in p and "unknown language" in p for p in problems), problems
    assert any("/y.letter.en.j2:1:" in p and "Subject" in p for p in problems), problems


def test_the_sandbox_refuses_reaching_into_python_internals(copy: Path) -> None:
    (copy / "evil.email.en.j2").write_text("Subject: x\n\n{{ customer.__class__.__mro__ }}\n")
    problems = [str(p) for p in check(copy, content.sample_context)]
    assert any("/evil.email.en.j2:3:" in p for p in problems), problems


def test_a_strategy_naming_a_missing_template_is_refused_at_its_line(copy: Path, tmp_path: Path) -> None:
    (copy / "smb_dunning_2.sms.en.j2").unlink()
    out = io.StringIO()
    assert checks.check(ROOT / "strategies", out, load(copy).has) == 1
    assert "smb-standard.yaml:" in out.getvalue() and "template 'smb_dunning_2' does not exist for channel sms" in (
        out.getvalue()
    )


def test_the_language_picks_the_template_and_a_region_or_unknown_language_falls_back() -> None:
    templates = load(TEMPLATES)
    assert templates.find("smb_dunning_1", "email", "de") == "smb_dunning_1.email.de.j2"
    assert templates.find("smb_dunning_1", "email", "de-AT") == "smb_dunning_1.email.de.j2"
    assert templates.find("smb_dunning_1", "email", "fr-CA") == "smb_dunning_1.email.en.j2"
    german = content.render(templates, content.sample_data("email", "de", "smb_dunning_1"))
    assert german.subject == "Zahlungserinnerung: 1.440,40\xa0€ überfällig"


def test_an_email_has_subject_text_and_html_listing_every_invoice_with_level_and_amount() -> None:
    r = content.render(load(TEMPLATES), content.sample_data("email", "en", "smb_dunning_1"))
    assert r.subject == "Payment reminder: €1,440.40 overdue"
    assert "INV-2026-0042 of Jan 1, 2026: €980.50 open" in r.text and "reminder 2" in r.text
    assert "INV-2026-0107" in r.text and "IBAN" in r.text
    assert r.html is not None and "<li>Invoice INV-2026-0042" in r.html and "<title>Payment reminder" in r.html


def test_an_sms_counts_its_segments_and_a_letter_is_a_pdf_with_letterhead_address_and_invoices() -> None:
    templates = load(TEMPLATES)
    sms = content.render(templates, content.sample_data("sms", "de", "smb_dunning_2"))
    assert sms.segments is not None and (sms.segments.encoding, sms.segments.count) == ("GSM-7", 2)
    letter = content.render(templates, content.sample_data("letter", "de", "smb_dunning_3"))
    assert letter.pdf is not None and letter.pdf.startswith(b"%PDF")
    text = PdfReader(io.BytesIO(letter.pdf)).pages[0].extract_text().replace("\xa0", " ")
    for expected in ("Northwind Supplies GmbH", "Hauptstraße 1", "Letzte Mahnung", "INV-2026-0042", "980,50 EUR"):
        assert expected in text, expected


def test_a_phone_message_is_a_script_for_the_collector() -> None:
    script = content.render(load(TEMPLATES), content.sample_data("phone", "en", "mm_dunning_call"))
    assert script.subject is None and "record it as a promise to pay" in script.text and "INV-2026-0042" in script.text


def test_a_nul_or_bytes_that_are_not_utf8_in_a_template_are_reported_at_their_line(copy: Path) -> None:
    (copy / "nul.email.en.j2").write_text("Subject: x\n\nDear {{ customer.name }},\x00\n")
    (copy / "latin1.email.en.j2").write_bytes("Subject: café\n".encode("latin-1"))
    problems = [str(p) for p in check(copy, content.sample_context)]
    assert f"{copy}/nul.email.en.j2:3: syntax error: a NUL (U+0000) character is not allowed" in problems
    assert any(p.startswith(f"{copy}/latin1.email.en.j2:1: syntax error: not UTF-8 text") for p in problems), problems


def test_a_control_character_in_the_template_settings_is_reported_at_its_line(copy: Path) -> None:
    settings = copy / "notices.yaml"
    lines = settings.read_text(encoding="utf-8").splitlines(keepends=True)
    settings.write_text("".join([*lines[:2], "# \x00\n", *lines[2:]]), encoding="utf-8")
    problems = [str(p) for p in check(copy, content.sample_context)]
    assert problems == [f"{settings}:3: a NUL (U+0000) character is not allowed in YAML"]
