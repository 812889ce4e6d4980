"""SMS segment counting (GSM-7 and UCS-2, single and concatenated)."""

from engine.notices.sms import segments


def test_a_plain_text_of_160_characters_is_one_gsm7_segment_and_161_are_two() -> None:
    assert segments("a" * 160) == segments("a" * 160)
    assert (segments("a" * 160).encoding, segments("a" * 160).count) == ("GSM-7", 1)
    assert segments("a" * 161).count == 2
    assert segments("a" * 307).count == 3  # 153 per part once concatenated


def test_the_euro_sign_costs_two_septets_but_stays_gsm7() -> None:
    s = segments("€" * 80)
    assert (s.encoding, s.units, s.count) == ("GSM-7", 160, 1)


def test_a_character_outside_gsm7_turns_the_message_into_ucs2_with_70_per_segment() -> None:
    assert (segments("Zahlung fällig – bitte").encoding) == "UCS-2"  # the en dash is not GSM-7
    assert segments("ł" * 70).count == 1
    assert segments("ł" * 71).count == 2
