"""Unit tests of the depositary notification (C.N.) parser (every action kind, layout variants, refusals) and of
ingest's use case that turns a notification into events (ids, corrections, dates against the rules), without Kafka."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.doubles import Inline, Recorder
from treatywatch.common.events import (
    ActionRecorded,
    ActionRecordedEvent,
    TreatyEnteredIntoForce,
    TreatyEnteredIntoForceEvent,
)
from treatywatch.ingest.notification import (
    MAX_CHARS,
    MAX_LINE_CHARS,
    MAX_LINES,
    MAX_TEXT_CHARS,
    NotANotification,
    NotificationTooLarge,
    ParsedNotification,
    action_data,
    parse_notification,
)
from treatywatch.ingest.service import (
    EventTooLarge,
    Limits,
    NotificationRead,
    notification_events,
    publish_notification,
    read_notification,
)

NO_REFERENCE, NO_ACTION, NO_DATE = "no C.N. reference", "no participant/action line", "no date of the act"
UK = "United Kingdom of Great Britain and Northern Ireland"
EFFECTED = "The above action was effected on 27 December 2012."
IN_FORCE_FOR_POLAND = "The Convention will enter into force for Poland on 1 June 2013."
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "notifications"
MINE_BAN = (
    "CONVENTION ON THE PROHIBITION OF THE USE, STOCKPILING, PRODUCTION AND TRANSFER OF ANTI-PERSONNEL MINES "
    "AND ON THEIR DESTRUCTION"
)
OPENING = (
    "The Secretary-General of the United Nations, acting in his capacity as depositary, communicates the following:"
)
FOOTER = "Attention: Treaty Services of Ministries of Foreign Affairs and of international organizations concerned."


def fixture(name: str) -> str:
    return (FIXTURES / f"{name}.txt").read_text(encoding="utf-8")


def parse_fixture(name: str) -> ParsedNotification:
    return parse_notification(fixture(name))


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


# file -> (treaty_id, participant code, participant name, action, kind, date, effective date, article, issued on)
EXPECTED: dict[str, tuple[Any, ...]] = {
    "POL-2012-ratification-XXVI-5": (
        "XXVI-5", "POL", "Poland", "ratification", "action", "2012-12-27", "2013-06-01", "article 17 (2)", "2013-01-02",
    ),
    "FIN-2012-accession-XXVI-5": (
        "XXVI-5", "FIN", "Finland", "accession", "action", "2012-01-09", "2012-07-01", "article 17 (2)", "2012-01-10",
    ),
    "FIN-2012-accession-XXVI-5-bilingual": (
        "XXVI-5", "FIN", "Finland", "accession", "action", "2012-01-09", "2012-07-01", "article 17 (2)", "2012-01-10",
    ),
    "BDI-2016-withdrawal-XVIII-10": (
        "XVIII-10", "BDI", "Burundi", "withdrawal", "action", "2016-10-27", "2017-10-27", "article 127 (1)",
        "2016-10-28",
    ),
    "PSE-2015-accession-XVIII-10": (
        "XVIII-10", "PSE", "State of Palestine", "accession", "action", "2015-01-02", "2015-04-01", "article 126 (2)",
        "2015-01-06",
    ),
    "CAN-2011-withdrawal-XXVII-7-a": (
        "XXVII-7-a", "CAN", "Canada", "withdrawal", "action", "2011-12-15", "2012-12-15", "article 27 (2)",
        "2011-12-16",
    ),
    "JPN-2016-acceptance-XXVII-7-d": (
        "XXVII-7-d", "JPN", "Japan", "acceptance", "action", "2016-11-08", "2016-12-08", "article 21 (3)",
        "2016-11-09",
    ),
    "SOM-2015-ratification-IV-11": (
        "IV-11", "SOM", "Somalia", "ratification", "action", "2015-10-01", "2015-10-31", "article 49 (2)",
        "2015-10-02",
    ),
    "DEU-2011-objection-IV-4": (
        "IV-4", "DEU", "Germany", "objection", "action", "2011-06-28", None, None, "2011-06-29",
    ),
    "JAM-1997-denunciation-IV-5": (
        "IV-5", "JAM", "Jamaica", "withdrawal", "action", "1997-10-23", "1998-01-23", "article 12 (1)", "1997-11-03",
    ),
    "EU-2010-formal-confirmation-IV-15": (
        "IV-15", None, "European Union", "formal_confirmation", "action", "2010-12-23", "2011-01-22",
        "article 45 (2)", "2010-12-24",
    ),
    "MNE-2006-succession-XXVI-5": (
        "XXVI-5", "MNE", "Montenegro", "succession", "action", "2006-10-23", "2006-06-03", None, "2006-10-25",
    ),
    "USA-2013-signature-XXVI-8": (
        "XXVI-8", "USA", "United States of America", "signature", "action", "2013-09-25", None, None, "2013-09-26",
    ),
    "XXVI-5-1998-entry-into-force": (
        "XXVI-5", None, None, None, "entry_into_force", "1999-03-01", "1999-03-01", "article 17 (1)", "1998-09-17",
    ),
    "POL-2013-correction-XXVI-5": (
        "XXVI-5", "POL", "Poland", "ratification", "correction", "2012-12-27", "2013-06-01", None, "2013-01-15",
    ),
    "GBR-1998-ratification-XXVI-5-extracted": (
        "XXVI-5", "GBR", "United Kingdom of Great Britain and Northern Ireland", "ratification", "action",
        "1998-07-31", "1999-03-01", "article 17 (1)", "1998-08-05",
    ),
}  # fmt: skip
ACTS = [name for name, expected in EXPECTED.items() if expected[4] != "entry_into_force"]


def summary(parsed: ParsedNotification) -> tuple[Any, ...]:
    return (
        parsed.treaty_id,
        parsed.participant_code,
        parsed.participant_name,
        parsed.action,
        parsed.kind,
        parsed.date.isoformat(),
        parsed.effective_date.isoformat() if parsed.effective_date else None,
        parsed.article,
        parsed.issued_on.isoformat() if parsed.issued_on else None,
    )


def compose(
    heading: str = "POLAND: RATIFICATION",
    *body: str,
    reference: str = "Reference: C.N.1.2013.TREATIES-XXVI.5 (Depositary Notification)",
    title: str = MINE_BAN,
    place: str = "OSLO, 18 SEPTEMBER 1997",
    issued: str = "2 January 2013",
) -> str:
    """A notification in the plain layout; the body defaults to Poland's ratification of the Mine Ban Convention."""
    if not body:
        body = (
            "The above action was effected on 27 December 2012.",
            "The Convention will enter into force for Poland on 1 June 2013 in accordance with its article 17 (2).",
        )
    opening = OPENING
    parts = [reference, title, place, heading, opening, *body, issued]
    return "\n\n".join(part for part in parts if part) + "\n"


# --- the fixtures ----------------------------------------------------------------------------------


def test_every_fixture_has_an_expectation() -> None:
    assert sorted(path.stem for path in FIXTURES.glob("*.txt")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_reads_as_expected(name: str) -> None:
    parsed = parse_fixture(name)
    assert summary(parsed) == EXPECTED[name]
    assert parsed.reference.startswith("C.N.") and parsed.reference.endswith(parsed.treaty_id.replace("-", ".")[-3:])


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixtures_read_without_warnings(name: str) -> None:
    assert parse_fixture(name).warnings == ()


@pytest.mark.parametrize("name", ACTS)
def test_action_data_is_valid_event_data(name: str) -> None:
    parsed = parse_fixture(name)
    data = action_data(parsed)
    event = ActionRecorded.model_validate(data)
    assert event.treaty_id == parsed.treaty_id
    assert event.notification == parsed.reference
    assert event.date == parsed.date
    assert event.effective_date == parsed.effective_date
    assert event.participant == (parsed.participant_code or parsed.participant_name)


def test_action_data_of_the_samples() -> None:
    assert action_data(parse_fixture("POL-2012-ratification-XXVI-5")) == {
        "treaty_id": "XXVI-5",
        "participant": "POL",
        "action": "ratification",
        "date": "2012-12-27",
        "effective_date": "2013-06-01",
        "notification": "C.N.1.2013.TREATIES-XXVI.5",
        "participant_name": "Poland",
    }
    burundi = action_data(parse_fixture("BDI-2016-withdrawal-XVIII-10"))
    assert (burundi["participant"], burundi["action"], burundi["date"], burundi["effective_date"]) == (
        "BDI",
        "withdrawal",
        "2016-10-27",
        "2017-10-27",
    )
    # An organisation has no ISO code: the event names it by its UN name.
    assert action_data(parse_fixture("EU-2010-formal-confirmation-IV-15"))["participant"] == "European Union"


def test_an_entry_into_force_is_no_participants_act() -> None:
    parsed = parse_fixture("XXVI-5-1998-entry-into-force")
    assert (parsed.kind, parsed.action, parsed.participant_name) == ("entry_into_force", None, None)
    with pytest.raises(ValueError, match="entry_into_force"):
        action_data(parsed)


def test_title_and_place_are_read_wrapped_or_not() -> None:
    for name in ("POL-2012-ratification-XXVI-5", "FIN-2012-accession-XXVI-5", "GBR-1998-ratification-XXVI-5-extracted"):
        parsed = parse_fixture(name)
        assert parsed.title == MINE_BAN
        assert parsed.place_and_date == "OSLO, 18 SEPTEMBER 1997"
    assert parse_fixture("BDI-2016-withdrawal-XVIII-10").title == "ROME STATUTE OF THE INTERNATIONAL CRIMINAL COURT"


def test_the_article_text_is_not_a_statement() -> None:
    # Poland's notification quotes article 17 (2), Burundi's article 127 (1): neither is the participant's text.
    assert parse_fixture("POL-2012-ratification-XXVI-5").text is None
    assert parse_fixture("BDI-2016-withdrawal-XVIII-10").text is None


def test_a_reservation_quoted_with_a_ratification() -> None:
    parsed = parse_fixture("SOM-2015-ratification-IV-11")
    assert parsed.with_statements == ("reservation",)
    assert parsed.text is not None and parsed.text.startswith("The Federal Republic of Somalia does not consider")
    assert parsed.text.endswith("Islamic Sharia.")
    assert action_data(parsed)["text"] == parsed.text


def test_an_objection_keeps_whose_reservation_it_is() -> None:
    parsed = parse_fixture("DEU-2011-objection-IV-4")
    assert parsed.objection_to == "Pakistan"
    assert parsed.text is not None and "incompatible with the object and purpose" in parsed.text
    assert parsed.effective_date is None


def test_a_correction_of_the_date_of_entry_into_force() -> None:
    parsed = parse_fixture("POL-2013-correction-XXVI-5")
    assert parsed.corrects_reference == "C.N.1.2013.TREATIES-XXVI.5"
    assert parsed.correction is not None
    assert (parsed.correction.field, parsed.correction.old, parsed.correction.new) == (
        "effective_date",
        d("2013-07-01"),
        d("2013-06-01"),
    )
    assert ActionRecorded.model_validate(action_data(parsed)).effective_date == d("2013-06-01")


def test_the_french_version_is_not_read() -> None:
    english = parse_fixture("FIN-2012-accession-XXVI-5")
    assert parse_fixture("FIN-2012-accession-XXVI-5-bilingual") == english
    # Without the cut, the French date line would be taken for the notification's own date.
    assert english.issued_on == d("2012-01-10")


def test_a_french_version_before_the_english_is_skipped() -> None:
    english = parse_fixture("FIN-2012-accession-XXVI-5")
    bilingual = fixture("FIN-2012-accession-XXVI-5-bilingual")
    french_start = bilingual.index("NATIONS UNIES\n\nRéférence")
    french_first = bilingual[french_start:] + "\n" + bilingual[:french_start]
    assert parse_notification(french_first) == english


def test_the_standing_footer_in_mid_text_is_dropped() -> None:
    plain = parse_fixture("POL-2012-ratification-XXVI-5")
    footer = [
        "Attention: Treaty Services of Ministries of Foreign Affairs and of",
        "international organizations concerned. Depositary notifications are",
        "issued in electronic format only.",
        "Depositary notifications are made available to the Permanent Missions to the",
        "United Nations in the United Nations Treaty Collection on the Internet at",
        'http://treaties.un.org, under "Depositary Notifications (CNs)".',
        "In addition, the Permanent Missions, as well as other interested individuals,",
        "can subscribe to receive depositary notifications by e-mail through the",
        'Treaty Section\'s "Automated Subscription Services", which is also available',
        "at http://treaties.un.org.",
    ]
    lines = fixture("POL-2012-ratification-XXVI-5").splitlines()
    at = lines.index("The above action was effected on 27 December 2012.")
    assert parse_notification("\n".join([*lines[:at], *footer, *lines[at:]])) == plain


# --- the reference and the treaty id -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "reference", "treaty_id"),
    [
        ("Reference: C.N.123.2012.TREATIES-XXVI.5 (Depositary Notification)", "C.N.123.2012.TREATIES-XXVI.5", "XXVI-5"),
        ("Reference: C.N. 123. 2012. TREATIES-XXVI. 5", "C.N.123.2012.TREATIES-XXVI.5", "XXVI-5"),
        ("C.N.123.2012.TREATIES-XXVI.5", "C.N.123.2012.TREATIES-XXVI.5", "XXVI-5"),
        ("Reference: C.N.7.2013.TREATIES-XXVII.7.a", "C.N.7.2013.TREATIES-XXVII.7.a", "XXVII-7-a"),
        ("Reference: C.N.45.2014.TREATIES-IV.11.b", "C.N.45.2014.TREATIES-IV.11.b", "IV-11-b"),
        ("Reference: C.N.0045.2014.TREATIES-IV.11.B", "C.N.45.2014.TREATIES-IV.11.b", "IV-11-b"),
        (
            "Reference : C.N.45.2014.TREATIES-XVIII.10 (Depositary Notification)",
            "C.N.45.2014.TREATIES-XVIII.10",
            "XVIII-10",
        ),
    ],
)
def test_reference_forms(line: str, reference: str, treaty_id: str) -> None:
    parsed = parse_notification(compose(reference=line))
    assert (parsed.reference, parsed.treaty_id) == (reference, treaty_id)


def test_the_own_reference_wins_over_one_in_the_body() -> None:
    text = compose(
        "POLAND: RATIFICATION",
        "The above action was effected on 27 December 2012 (see also C.N.99.2012.TREATIES-XXVI.5).",
        "The Convention will enter into force for Poland on 1 June 2013 in accordance with its article 17 (2).",
    )
    assert parse_notification(text).reference == "C.N.1.2013.TREATIES-XXVI.5"


# --- action words ------------------------------------------------------------------------------------

STATEMENT = '"The Government of Poland declares that it will apply the Convention in good faith."'


@pytest.mark.parametrize(
    ("phrase", "action", "loose"),
    [
        ("SIGNATURE", "signature", None),
        ("RATIFICATION", "ratification", None),
        ("ACCEPTANCE", "acceptance", None),
        ("APPROVAL", "approval", None),
        ("ACCESSION", "accession", None),
        ("SUCCESSION", "succession", None),
        ("DEFINITIVE SIGNATURE", "definitive_signature", None),
        ("FORMAL CONFIRMATION", "formal_confirmation", None),
        ("CONSENT TO BE BOUND", "consent_to_be_bound", None),
        ("PROVISIONAL APPLICATION", "provisional_application", None),
        ("WITHDRAWAL", "withdrawal", None),
        ("DENUNCIATION", "withdrawal", None),
        ("DECLARATION", "declaration", None),
        ("DECLARATIONS", "declaration", None),
        ("RESERVATION", "reservation", None),
        ("OBJECTION", "objection", None),
        ("COMMUNICATION", "declaration", "communication"),
        ("NOTIFICATION UNDER ARTICLE 4 (3)", "declaration", "notification"),
        ("TERRITORIAL APPLICATION", "declaration", "territorial application"),
        # Withdrawing a reservation is not withdrawing from the treaty.
        ("WITHDRAWAL OF RESERVATIONS", "declaration", "stays bound"),
        ("PARTIAL WITHDRAWAL OF RESERVATION", "declaration", "stays bound"),
    ],
)
def test_action_words(phrase: str, action: str, loose: str | None) -> None:
    text = compose(
        f"POLAND: {phrase}",
        "The above action was effected on 27 December 2012.",
        STATEMENT,
        "The action will take effect for Poland on 1 June 2013.",
    )
    parsed = parse_notification(text)
    assert (parsed.action, parsed.kind) == (action, "action")
    mapped_loosely = [warning for warning in parsed.warnings if "recorded as a declaration" in warning]
    if loose is None:
        assert mapped_loosely == []
    else:
        assert len(mapped_loosely) == 1 and loose in mapped_loosely[0]
    assert ActionRecorded.model_validate(action_data(parsed)).action == action


@pytest.mark.parametrize(
    ("phrase", "statements"),
    [
        ("RATIFICATION WITH RESERVATION", ("reservation",)),
        ("RATIFICATION (WITH RESERVATIONS)", ("reservation",)),
        ("ACCESSION (WITH DECLARATION)", ("declaration",)),
        ("RATIFICATION WITH RESERVATIONS AND DECLARATIONS", ("reservation", "declaration")),
        ("ACCEPTANCE (WITH DECLARATIONS AND RESERVATION)", ("declaration", "reservation")),
    ],
)
def test_binding_act_with_statements(phrase: str, statements: tuple[str, ...]) -> None:
    text = compose(
        f"POLAND: {phrase}",
        "The above action was effected on 27 December 2012.",
        STATEMENT,
        "The Convention will enter into force for Poland on 1 June 2013 in accordance with its article 17 (2).",
    )
    parsed = parse_notification(text)
    assert parsed.action != "reservation" and parsed.action != "declaration"
    assert parsed.with_statements == statements
    assert parsed.text == STATEMENT.strip('"')
    assert parsed.effective_date == d("2013-06-01")


def test_a_statement_after_a_lead_in_without_quotes() -> None:
    text = compose(
        "POLAND: ACCESSION (WITH DECLARATION)",
        "The above action was effected on 27 December 2012, with the following declaration:",
        "The Republic of Poland declares that it considers itself bound by article 5 only within its territory.",
        "The Convention will enter into force for Poland on 1 June 2013 in accordance with its article 17 (2).",
    )
    parsed = parse_notification(text)
    assert parsed.text == (
        "The Republic of Poland declares that it considers itself bound by article 5 only within its territory."
    )


def test_a_statement_introduced_like_an_article_is_still_a_statement() -> None:
    text = compose(
        "POLAND: RATIFICATION (WITH RESERVATION)",
        "The above action was effected on 27 December 2012 with a reservation concerning article 19 of the "
        "Convention. The reservation reads as follows:",
        '"The Republic of Poland does not consider itself bound by article 19 of the Convention."',
        "The Convention will enter into force for Poland on 1 June 2013 in accordance with its article 17 (2), "
        "which reads as follows:",
        '"For any State which deposits its instrument of ratification after the 40th instrument, it enters into '
        'force on the first day of the sixth month after the deposit."',
    )
    parsed = parse_notification(text)
    assert parsed.text == "The Republic of Poland does not consider itself bound by article 19 of the Convention."


def test_a_statement_text_is_bounded() -> None:
    chunk = "word " * 1_600
    long_quote = "\n".join(['"' + chunk, *[chunk] * 5, chunk + '"'])
    text = compose("POLAND: DECLARATION", "The above action was effected on 27 December 2012.", long_quote)
    parsed = parse_notification(text)
    assert parsed.text is not None and len(parsed.text) == MAX_TEXT_CHARS
    assert any("cut" in warning for warning in parsed.warnings)
    ActionRecorded.model_validate(action_data(parsed))


def test_objection_target_from_the_body() -> None:
    text = compose(
        "NETHERLANDS: OBJECTION",
        "The above action was effected on 3 May 2011.",
        '"The Government of the Kingdom of the Netherlands has examined the reservations made by the Islamic '
        'Republic of Pakistan upon ratification and objects to them."',
        reference="Reference: C.N.300.2011.TREATIES-IV.4 (Depositary Notification)",
        title="INTERNATIONAL COVENANT ON CIVIL AND POLITICAL RIGHTS",
        place="NEW YORK, 16 DECEMBER 1966",
        issued="4 May 2011",
    )
    parsed = parse_notification(text)
    assert (parsed.action, parsed.objection_to) == ("objection", "Pakistan")


def test_a_state_name_hyphenated_at_a_line_end_keeps_its_hyphen() -> None:
    text = compose(
        "PORTUGAL: OBJECTION TO THE RESERVATION MADE BY GUINEA-\nBISSAU UPON ACCESSION",
        "The above action was effected on 3 May 2011.",
        '"The Government of Portugal objects to the reservation, which is contrary to the Convention."',
    ).replace("\n\nPORTUGAL", "\nPORTUGAL")
    parsed = parse_notification(text)
    assert (parsed.participant_code, parsed.objection_to) == ("PRT", "Guinea-Bissau")


def test_a_correction_of_the_date_of_the_act() -> None:
    text = compose(
        "POLAND: CORRECTION",
        "With reference to depositary notification C.N.1.2013.TREATIES-XXVI.5 of 2 January 2013, the "
        "Secretary-General wishes to inform that the date of deposit of the instrument of ratification by Poland "
        'should read "27 December 2012" instead of "28 December 2012".',
        "The Convention will enter into force for Poland on 1 June 2013 in accordance with its article 17 (2).",
        reference="Reference: C.N.40.2013.TREATIES-XXVI.5 (Depositary Notification)",
        issued="14 January 2013",
    )
    parsed = parse_notification(text)
    assert (parsed.kind, parsed.action, parsed.date) == ("correction", "ratification", d("2012-12-27"))
    assert parsed.corrects_reference == "C.N.1.2013.TREATIES-XXVI.5"
    assert parsed.correction is not None
    assert (parsed.correction.field, parsed.correction.old) == ("date", d("2012-12-28"))
    assert parsed.text is None


def test_a_correction_that_says_not_what_it_corrects_is_flagged() -> None:
    text = compose(
        "POLAND: RATIFICATION (CORRECTION)",
        "The above action was effected on 27 December 2012.",
        reference="Reference: C.N.40.2013.TREATIES-XXVI.5 (Depositary Notification)",
    )
    parsed = parse_notification(text)
    assert parsed.kind == "correction" and parsed.correction is not None and parsed.correction.field == "other"
    assert any("what it corrects" in warning for warning in parsed.warnings)
    assert any("reference of the notification it corrects" in warning for warning in parsed.warnings)


# --- participants ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "name", "code"),
    [
        ("STATE OF PALESTINE", "State of Palestine", "PSE"),
        (UK.upper(), UK, "GBR"),
        ("BOLIVIA (PLURINATIONAL STATE OF)", "Bolivia (Plurinational State of)", "BOL"),
        ("CÔTE D'IVOIRE", "Côte d'Ivoire", "CIV"),
        ("GUINEA-BISSAU", "Guinea-Bissau", "GNB"),
        ("DEMOCRATIC PEOPLE'S REPUBLIC OF KOREA", "Democratic People's Republic of Korea", "PRK"),
        ("SAINT VINCENT AND THE GRENADINES", "Saint Vincent and the Grenadines", "VCT"),
        ("TÜRKIYE", "Türkiye", "TUR"),
        ("EUROPEAN UNION", "European Union", None),
    ],
)  # fmt: skip
def test_participant_names_as_the_un_writes_them(written: str, name: str, code: str | None) -> None:
    parsed = parse_notification(compose(f"{written}: ACCESSION").replace("for Poland", f"for {name}"))
    assert (parsed.participant_name, parsed.participant_code) == (name, code)
    assert not any("participant" in warning for warning in parsed.warnings)


def test_an_unknown_participant_is_flagged() -> None:
    parsed = parse_notification(compose("NARNIA: RATIFICATION"))
    assert (parsed.participant_name, parsed.participant_code) == ("Narnia", None)
    assert any("'Narnia'" in warning for warning in parsed.warnings)
    assert action_data(parsed)["participant"] == "Narnia"


# --- dates -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sentence",
    [
        "The above action was effected on 27 December 2012.",
        "The action specified above was effected on 27th December 2012.",
        "On 27 December 2012, the Government of Poland deposited its instrument of ratification.",
        "On December 27, 2012, the Government of Poland deposited an instrument of ratification.",
        "The Government of Poland deposited its instrument of ratification with the depositary on 27 December 2012.",
        "By a letter dated 20 December 2012, received on 27 December 2012, the Government of Poland ratified it.",
        "The instrument of ratification was received by the Secretary-General on 27 December 2012.",
        "The above action was effected on 27  December   2012 .",
    ],
)  # fmt: skip
def test_wordings_of_the_date_of_the_act(sentence: str) -> None:
    parsed = parse_notification(compose("POLAND: RATIFICATION", sentence, IN_FORCE_FOR_POLAND))
    assert parsed.date == d("2012-12-27")
    assert parsed.effective_date == d("2013-06-01")


@pytest.mark.parametrize(
    ("sentence", "effective", "article"),
    [
        (
            "It will enter into force for Poland on 1 June 2013 in accordance with its article 17 (2).",
            "2013-06-01",
            "article 17 (2)",
        ),
        (
            "The withdrawal will take effect on 27 October 2017 in accordance with article 127 (1).",
            "2017-10-27",
            "article 127 (1)",
        ),
        (
            "It shall take effect for Poland on 1st June 2013 in accordance with paragraph 2 of article 20.",
            "2013-06-01",
            "article 20 (2)",
        ),
        (
            "The Protocol entered into force for Poland on 1 June 2013, pursuant to article 17, paragraph 2.",
            "2013-06-01",
            "article 17 (2)",
        ),
        ("The withdrawal will become effective on 1 June 2013.", "2013-06-01", None),
        ("Poland withdraws with effect from 1 June 2013.", "2013-06-01", None),
    ],
)
def test_wordings_of_the_date_it_takes_effect(sentence: str, effective: str, article: str | None) -> None:
    parsed = parse_notification(compose("POLAND: WITHDRAWAL", EFFECTED, sentence))
    assert (parsed.effective_date, parsed.article) == (d(effective), article)


def test_the_notifications_own_date() -> None:
    assert parse_notification(compose(issued="New York, 4 January 2013")).issued_on == d("2013-01-04")
    assert parse_notification(compose(issued="")).issued_on is None


def test_a_binding_act_without_effective_date_is_flagged() -> None:
    parsed = parse_notification(compose("POLAND: RATIFICATION", "The above action was effected on 27 December 2012."))
    assert parsed.effective_date is None
    assert any("takes effect" in warning for warning in parsed.warnings)
    # A signature binds no one: nothing to take effect, nothing to flag.
    signed = parse_notification(compose("POLAND: SIGNATURE", "The above action was effected on 27 December 2012."))
    assert signed.warnings == ()


def test_several_dates_of_the_act_are_flagged() -> None:
    parsed = parse_notification(
        compose(
            "POLAND: RATIFICATION",
            "The above action was effected on 27 December 2012.",
            "The above action was effected on 28 December 2012.",
            "The Convention will enter into force for Poland on 1 June 2013.",
        )
    )
    assert parsed.date == d("2012-12-27")
    assert any("several dates" in warning and "2012-12-28" in warning for warning in parsed.warnings)


def test_inconsistent_dates_are_flagged() -> None:
    parsed = parse_notification(
        compose(
            "POLAND: RATIFICATION",
            "The above action was effected on 27 December 2013.",
            "The Convention will enter into force for Poland on 1 June 2013.",
            issued="2 January 2013",
        )
    )
    warnings = " | ".join(parsed.warnings)
    assert "before it was effected" in warnings
    assert "before the act it reports" in warnings
    assert "reference is of 2013" not in warnings  # same year: fine
    later = parse_notification(compose(reference="Reference: C.N.1.2011.TREATIES-XXVI.5"))
    assert any("the reference is of 2011, the act of 2012" in warning for warning in later.warnings)


def test_a_statement_kind_without_text_is_flagged() -> None:
    parsed = parse_notification(compose("POLAND: RESERVATION", "The above action was effected on 27 December 2012."))
    assert any("no statement text" in warning for warning in parsed.warnings)


# --- layouts -----------------------------------------------------------------------------------------


def as_extracted(text: str, width: int, page_every: int, reference: str) -> str:
    """The text as a PDF's extraction gives it: wrapped at `width` with hyphenated words, page furniture in between."""
    wrapped: list[str] = []
    for line in text.splitlines():
        wrapped.extend(hyphenating_wrap(line, width) if line.strip() else [""])
    out = ["UNITED NATIONS                 NATIONS UNIES", "THE SECRETARY-GENERAL OF THE UNITED NATIONS"]
    for index, line in enumerate(wrapped, start=1):
        out.append(line)
        if index % page_every == 0:
            page = index // page_every
            out += [FOOTER, f"- {page} -", "\f" + reference, f"Page {page + 1}"]
    return "\n".join(out)


def hyphenating_wrap(line: str, width: int) -> list[str]:
    """Wrap at spaces; a long lower-case word that overflows is split with a hyphen, as justified text is."""
    lines: list[str] = []
    current = ""
    for word in line.split(" "):
        candidate = f"{current} {word}" if current else word
        if len(candidate) <= width:
            current = candidate
            continue
        room = width - len(current) - 2
        if re.fullmatch(r"[a-z]{8,}", word) and room >= 4:
            lines.append(f"{current} {word[:room]}-" if current else f"{word[:room]}-")
            current = word[room:]
        else:
            if current:
                lines.append(current)
            current = word
    lines.append(current)
    return lines


@pytest.mark.parametrize("width", [48, 64, 80])
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_pdf_like_layouts_read_as_the_plain_text(name: str, width: int) -> None:
    plain = parse_fixture(name)
    extracted = as_extracted(fixture(name), width=width, page_every=7, reference=plain.reference)
    assert "-\n" in extracted or width == 80  # the test does break words
    assert parse_notification(extracted) == plain


def test_a_hyphenated_word_and_a_hyphenated_compound() -> None:
    text = compose(
        "POLAND: RATIFICATION",
        "The above action was effected on 27 December 2012. The Convention on anti-\npersonnel mines will enter "
        "into force for Poland on 1 June 2013 in accor-\ndance with its article 17 (2).",
        '"Poland declares that this ratifi-\ncation extends to the self-\ngoverning territories."',
    )
    parsed = parse_notification(text)
    assert parsed.article == "article 17 (2)"
    assert parsed.text == "Poland declares that this ratification extends to the self-governing territories."


@pytest.mark.parametrize(
    ("heading", "name", "statements"),
    [
        ("POLAND: RATIFICATION (WITH\nRESERVATION)", "Poland", ("reservation",)),
        ("POLAND: RATIFI-\nCATION", "Poland", ()),
        ("UNITED STATES OF AMERICA:\nRATIFICATION", "United States of America", ()),
        ("UNITED KINGDOM OF GREAT BRITAIN AND\nNORTHERN IRELAND: RATIFICATION", UK, ()),
    ],
)
def test_wrapped_action_lines(heading: str, name: str, statements: tuple[str, ...]) -> None:
    for place in ("OSLO, 18 SEPTEMBER 1997", ""):
        text = compose(heading, place=place).replace("\n\n" + heading, "\n" + heading)
        parsed = parse_notification(text)
        assert (parsed.participant_name, parsed.action, parsed.with_statements) == (name, "ratification", statements)


def test_older_layout_without_an_action_line() -> None:
    text = "\n".join(
        [
            "C.N.1.2013.TREATIES-XXVI.5",
            MINE_BAN,
            "The Secretary-General of the United Nations, acting in his capacity as depositary, communicates the "
            "following:",
            "On 27 December 2012, the Government of Poland deposited an instrument of ratification of the Convention.",
            "The Convention will enter into force for Poland on 1 June 2013 in accordance with its article 17 (2).",
        ]
    )
    parsed = parse_notification(text)
    assert (parsed.participant_code, parsed.action, parsed.date) == ("POL", "ratification", d("2012-12-27"))
    assert any("no PARTICIPANT: ACTION line" in warning for warning in parsed.warnings)


def test_letterheads_footers_and_page_headers_are_dropped() -> None:
    plain = parse_fixture("POL-2012-ratification-XXVI-5")
    text = "\n".join(
        [
            "UNITED NATIONS     NATIONS UNIES",
            "THE SECRETARY-GENERAL OF THE UNITED NATIONS",
            "Reference:",
            "C.N.1.2013.TREATIES-XXVI.5",
            "(Depositary Notification)",
            *fixture("POL-2012-ratification-XXVI-5").splitlines()[1:8],
            "Attention: Treaty Services of Ministries of Foreign Affairs and of international",
            "organizations concerned.",
            "Page 1 of 2",
            "C.N.1.2013.TREATIES-XXVI.5 - Page 2",
            *fixture("POL-2012-ratification-XXVI-5").splitlines()[8:],
            "2/2",
        ]
    )
    assert parse_notification(text) == plain


# --- refusals ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "missing"),
    [
        ("", [NO_REFERENCE, NO_ACTION, NO_DATE]),
        ("Hello world.\nNothing to see here.", [NO_REFERENCE, NO_ACTION, NO_DATE]),
        (compose(reference=""), [NO_REFERENCE]),
        (compose(heading="", place=""), [NO_ACTION]),
        (compose("POLAND: RATIFICATION", IN_FORCE_FOR_POLAND), [NO_DATE]),
        (compose("ENTRY INTO FORCE", "It will enter into force in due course."), ["no date of entry into force"]),
        (compose("POLAND: CORRECTION", EFFECTED), ["no corrected act (which action the correction is about)"]),
    ],
)
def test_not_a_notification_names_what_is_missing(text: str, missing: list[str]) -> None:
    with pytest.raises(NotANotification) as refused:
        parse_notification(text)
    assert refused.value.missing == missing
    assert all(item in str(refused.value) for item in missing)


def test_an_older_reference_says_why_it_cannot_be_read() -> None:
    with pytest.raises(NotANotification) as refused:
        parse_notification(compose(reference="Reference: C.N.327.1998.TREATIES-5 (Depositary Notification)"))
    assert len(refused.value.missing) == 1
    assert refused.value.missing[0].startswith("no C.N. reference") and "older" in refused.value.missing[0]


def test_refusals_survive_pickling() -> None:
    # The route may parse in a worker process: the exceptions travel back whole.
    import pickle

    missing = pickle.loads(pickle.dumps(NotANotification([NO_REFERENCE, NO_DATE])))
    assert missing.missing == [NO_REFERENCE, NO_DATE] and NO_DATE in str(missing)
    large = pickle.loads(pickle.dumps(NotificationTooLarge("the text", 12_000, MAX_LINES, unit="lines")))
    assert (large.what, large.size, large.limit, large.unit) == ("the text", 12_000, MAX_LINES, "lines")


def test_too_large_text_is_refused_unread() -> None:
    with pytest.raises(NotificationTooLarge, match="the text holds"):
        parse_notification("x" * (MAX_CHARS + 1))
    with pytest.raises(NotificationTooLarge, match="line 3 holds"):
        parse_notification("a\nb\n" + "y" * (MAX_LINE_CHARS + 1))
    with pytest.raises(NotificationTooLarge, match=f"the text holds {MAX_LINES + 1:,} lines"):
        parse_notification("line\n\n" * (MAX_LINES + 1))
    assert parse_notification(compose() + "\n" * (5 * MAX_LINES)).date  # blank lines do not count
    # Whitespace is collapsed before lines are measured: a run of spaces is not a long line.
    assert parse_notification(compose().replace("effected on", "effected" + " " * (5 * MAX_LINE_CHARS) + "on")).date


# --- properties --------------------------------------------------------------------------------------

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PIECES = [
    "C.N.",
    "C.N.1.2013.TREATIES-",
    "XXVI.",
    "5",
    " ",
    "  ",
    "\n",
    "\f",
    "1",
    "-",
    ":",
    '"',
    "“",
    "”",
    "(",
    "POLAND: RATIFICATION",
    "ENTRY INTO FORCE",
    "CORRECTION",
    "OSLO, 18 SEPTEMBER 1997",
    "The above action was effected on ",
    "27 December 2012",
    "31 February 2013",
    "On 1 June 2013, ",
    "will enter into force for Poland on ",
    "deposited ",
    "following reservation:",
    "article 17 (2)",
    "NATIONS UNIES",
    "Référence",
    "Attention:",
]


def parse_or_refuse(text: str) -> ParsedNotification | None:
    try:
        parsed = parse_notification(text)
    except NotANotification as refused:
        assert refused.missing and str(refused)
        return None
    assert all(isinstance(warning, str) and warning for warning in parsed.warnings)
    assert re.fullmatch(r"C\.N\.\d+\.\d{4}\.TREATIES-[IVXLC]+\.\d+(?:\.[a-z])?", parsed.reference)
    if parsed.kind != "entry_into_force":
        ActionRecorded.model_validate(action_data(parsed))
    # Whatever is read becomes events (or none) under ids of its reference, never an error.
    read = notification_events(parsed)
    assert all(e.id.startswith(f"cn:{parsed.reference}") for e in read.events)
    return parsed


@FUZZ
@given(st.text(max_size=3000))
def test_any_text_is_read_or_refused(text: str) -> None:
    parse_or_refuse(text)


@FUZZ
@given(st.lists(st.sampled_from(PIECES), max_size=300))
def test_notification_like_noise_is_read_or_refused(pieces: list[str]) -> None:
    parse_or_refuse("".join(pieces))


@FUZZ
@given(
    st.sampled_from(sorted(EXPECTED)),
    st.lists(st.tuples(st.integers(0, 60), st.sampled_from(["drop", "double", "insert"]), st.text(max_size=80))),
)
def test_damaged_fixtures_are_read_or_refused(name: str, edits: list[tuple[int, str, str]]) -> None:
    lines = fixture(name).splitlines()
    for position, edit, junk in edits:
        index = position % (len(lines) + 1)
        if edit == "drop" and index < len(lines):
            del lines[index]
        elif edit == "double" and index < len(lines):
            lines.insert(index, lines[index])
        else:
            lines.insert(index, junk)
    parse_or_refuse("\n".join(lines))


def outcome(text: str) -> str:
    try:
        return "read" if parse_or_refuse(text) else "refused"
    except NotificationTooLarge:
        return "too large"


# Inputs near the size limits built to make a careless pattern or join quadratic; each with what must happen.
ADVERSARIAL: dict[str, tuple[str, str]] = {
    "spaces": (" " * (MAX_CHARS - 10), "refused"),
    "digits": ("\n".join(["1" * (MAX_LINE_CHARS - 1)] * 99), "refused"),
    "one long line of digits": ("1" * MAX_CHARS, "too large"),
    "references": ("\n".join(["C.N." * (MAX_LINE_CHARS // 4)] * 99), "refused"),
    "half references": ("\n".join(["C.N.1.2013.TREATIES-" * 490] * 99), "refused"),
    "dots and spaces": ("\n".join(["C. N. 1. 2013. TREATIES - XXVI. " * 300] * 99), "refused"),
    "unclosed quotes": ("\n".join(["“" * 5_000 + '"' * 4_999] * 99), "refused"),
    "hyphenated lines": ("ab-\n" * MAX_LINES, "refused"),
    "capital hyphens": ("AB-\n" * MAX_LINES, "refused"),
    "hyphenated words": ("\n".join(["ab-" * 3_000] * 99), "refused"),
    "too many lines": ("AB-\n" * 240_000, "too large"),
    "action lines": ("POLAND: RATIFICATION (WITH\n" * MAX_LINES, "refused"),
    "long action lines": ("\n".join(["POLAND: " + "RATIFICATION " * 700] * 99), "refused"),
    "place lines": ("OSLO, 18 SEPTEMBER 1997\n" * MAX_LINES, "refused"),
    "dates": (("The above action was effected on 27 December 2012 " * 190 + "\n") * 99, "refused"),
    "on dates": (("On 1 June 2013, deposited " * 380 + "\n") * 99, "refused"),
    "colons": ("\n".join([("A" * 199 + ":") * 49] * 99), "refused"),
    "a notification and noise": (compose() + "\n".join(["- 1 -", "C.N.1.2013.TREATIES-XXVI.5"] * 4_900), "read"),
    "a notification and quotes": (compose() + ('"' + "x " * 4_000 + "\n") * 120, "read"),
    "a notification in one long sentence": (
        compose("POLAND: RATIFICATION", ("and deposited on 27 December 2012 " * 280 + "\n") * 99),
        "read",
    ),
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_adversarial_inputs_take_bounded_work(name: str) -> None:
    text, expected = ADVERSARIAL[name]
    assert len(text) <= MAX_CHARS or expected == "too large"
    assert outcome(text) == expected


# --- into events: ingest's use case ------------------------------------------------------------------

# file -> the events it publishes: (id, action, effective date, corrects), and ingest's own warnings
EVENTS: dict[str, tuple[list[tuple[str, str, str | None, str | None]], list[str]]] = {
    "POL-2012-ratification-XXVI-5": ([("cn:C.N.1.2013.TREATIES-XXVI.5", "ratification", "2013-06-01", None)], []),
    "FIN-2012-accession-XXVI-5": ([("cn:C.N.12.2012.TREATIES-XXVI.5", "accession", "2012-07-01", None)], []),
    "FIN-2012-accession-XXVI-5-bilingual": (
        [("cn:C.N.12.2012.TREATIES-XXVI.5", "accession", "2012-07-01", None)], [],
    ),
    "GBR-1998-ratification-XXVI-5-extracted": (
        [("cn:C.N.383.1998.TREATIES-XXVI.5", "ratification", "1999-03-01", None)], [],
    ),
    "MNE-2006-succession-XXVI-5": ([("cn:C.N.1012.2006.TREATIES-XXVI.5", "succession", "2006-06-03", None)], []),
    "BDI-2016-withdrawal-XVIII-10": ([("cn:C.N.805.2016.TREATIES-XVIII.10", "withdrawal", "2017-10-27", None)], []),
    "PSE-2015-accession-XVIII-10": ([("cn:C.N.13.2015.TREATIES-XVIII.10", "accession", "2015-04-01", None)], []),
    "CAN-2011-withdrawal-XXVII-7-a": (
        [("cn:C.N.796.2011.TREATIES-XXVII.7.a", "withdrawal", "2012-12-15", None)],
        ["the treaty's withdrawal rule is unknown: the date stated for the withdrawal is not checked"],
    ),
    "JPN-2016-acceptance-XXVII-7-d": (
        [("cn:C.N.862.2016.TREATIES-XXVII.7.d", "acceptance", "2016-12-08", None)],
        ["XXVII-7-d is not in ingest's catalogue: its rules are unknown, the dates are not checked"],
    ),
    "SOM-2015-ratification-IV-11": (
        [
            ("cn:C.N.600.2015.TREATIES-IV.11", "ratification", "2015-10-31", None),
            ("cn:C.N.600.2015.TREATIES-IV.11:reservation", "reservation", None, None),
        ],
        [],
    ),
    "DEU-2011-objection-IV-4": ([("cn:C.N.378.2011.TREATIES-IV.4", "objection", None, None)], []),
    "JAM-1997-denunciation-IV-5": ([("cn:C.N.1131.1997.TREATIES-IV.5", "withdrawal", "1998-01-23", None)], []),
    "EU-2010-formal-confirmation-IV-15": (
        [("cn:C.N.950.2010.TREATIES-IV.15", "formal_confirmation", "2011-01-22", None)], [],
    ),
    "USA-2013-signature-XXVI-8": ([("cn:C.N.542.2013.TREATIES-XXVI.8", "signature", None, None)], []),
    "POL-2013-correction-XXVI-5": (
        [("cn:C.N.45.2013.TREATIES-XXVI.5", "ratification", "2013-06-01", "cn:C.N.1.2013.TREATIES-XXVI.5")], [],
    ),
}  # fmt: skip


def events_of(text: str) -> NotificationRead:
    return notification_events(parse_notification(text))


def acts(read: NotificationRead) -> list[ActionRecordedEvent]:
    """The participants' acts a notification announced: every event but a treaty's own entry into force."""
    assert all(isinstance(e, ActionRecordedEvent) for e in read.events)
    return [e for e in read.events if isinstance(e, ActionRecordedEvent)]


def test_every_fixture_has_its_events() -> None:
    assert sorted(EVENTS) == sorted(ACTS)


@pytest.mark.parametrize("name", sorted(EVENTS))
def test_each_fixture_publishes_its_acts_under_ids_of_its_reference(name: str) -> None:
    read = read_notification(fixture(name))
    expected_events, expected_warnings = EVENTS[name]
    got = [
        (e.id, e.data.action, e.data.effective_date.isoformat() if e.data.effective_date else None, e.data.corrects)
        for e in acts(read)
    ]
    assert got == expected_events
    assert read.warnings == [*read.notification.warnings, *expected_warnings]
    for event in acts(read):
        assert (event.type, event.source) == ("treaty.action.recorded", "/treatywatch/ingest/notifications")
        assert event.data.notification == read.notification.reference
        assert event.data.date == read.notification.date


def test_the_binding_act_keeps_the_stated_date_and_the_data_the_parser_gives() -> None:
    parsed = parse_fixture("POL-2012-ratification-XXVI-5")
    (event,) = acts(notification_events(parsed))
    assert event.data == ActionRecorded.model_validate(action_data(parsed))
    assert event.id == "cn:C.N.1.2013.TREATIES-XXVI.5"


def test_the_same_notification_gets_the_same_ids_whatever_its_layout() -> None:
    first = read_notification(fixture("FIN-2012-accession-XXVI-5"))
    again = read_notification(fixture("FIN-2012-accession-XXVI-5-bilingual"))
    assert [(e.id, e.data) for e in acts(first)] == [(e.id, e.data) for e in acts(again)]


def test_a_ratification_with_a_reservation_is_two_acts_the_statement_with_its_text() -> None:
    parsed = parse_fixture("SOM-2015-ratification-IV-11")
    act, reservation = acts(notification_events(parsed))
    assert (act.data.action, act.data.text, act.data.effective_date) == ("ratification", None, d("2015-10-31"))
    assert (reservation.id, reservation.data.action) == (f"cn:{parsed.reference}:reservation", "reservation")
    assert reservation.data.text == parsed.text and reservation.data.effective_date is None
    assert (reservation.data.participant, reservation.data.date) == (act.data.participant, act.data.date)


def test_reservations_and_declarations_are_one_act_each() -> None:
    read = events_of(
        compose(
            "POLAND: RATIFICATION WITH RESERVATIONS AND DECLARATIONS",
            EFFECTED,
            STATEMENT,
            "The Convention will enter into force for Poland on 1 June 2013 in accordance with its article 17 (2).",
        )
    )
    ref = "cn:C.N.1.2013.TREATIES-XXVI.5"
    assert [(e.id, e.data.action) for e in acts(read)] == [
        (ref, "ratification"),
        (f"{ref}:reservation", "reservation"),
        (f"{ref}:declaration", "declaration"),
    ]
    assert [e.data.text for e in acts(read)] == [None, STATEMENT.strip('"'), STATEMENT.strip('"')]
    assert "one text holds the reservation and declaration: each of their events carries it whole" in read.warnings


def test_a_statement_on_its_own_is_one_act_with_its_text() -> None:
    (event,) = acts(events_of(compose("POLAND: DECLARATION", EFFECTED, STATEMENT)))
    assert (event.id, event.data.action, event.data.text) == (
        "cn:C.N.1.2013.TREATIES-XXVI.5",
        "declaration",
        STATEMENT.strip('"'),
    )


def test_a_correction_corrects_the_event_of_the_notification_it_names() -> None:
    text = compose(
        "POLAND: CORRECTION",
        "With reference to depositary notification C.N.1.2013.TREATIES-XXVI.5 of 2 January 2013, the "
        "Secretary-General wishes to inform that the date of deposit of the instrument of ratification by Poland "
        'should read "27 December 2012" instead of "28 December 2012".',
        IN_FORCE_FOR_POLAND,
        reference="Reference: C.N.40.2013.TREATIES-XXVI.5 (Depositary Notification)",
        issued="14 January 2013",
    )
    (event,) = acts(events_of(text))
    # Its own id, never the corrected one's: a correction is an event of its own, not an overwrite.
    assert (event.id, event.data.corrects) == ("cn:C.N.40.2013.TREATIES-XXVI.5", "cn:C.N.1.2013.TREATIES-XXVI.5")
    assert (event.data.action, event.data.date, event.data.notification) == (
        "ratification",
        d("2012-12-27"),
        "C.N.40.2013.TREATIES-XXVI.5",
    )


def test_a_correction_that_names_no_notification_corrects_no_event() -> None:
    text = compose(
        "POLAND: RATIFICATION (CORRECTION)",
        EFFECTED,
        reference="Reference: C.N.40.2013.TREATIES-XXVI.5 (Depositary Notification)",
    )
    read = events_of(text)
    (event,) = acts(read)
    assert event.data.corrects is None
    assert "the corrected notification is not named: published as an act that corrects no event" in read.warnings


def test_an_entry_into_force_is_the_treatys_own_event() -> None:
    read = read_notification(fixture("XXVI-5-1998-entry-into-force"))
    assert (read.notification.kind, read.notification.date) == ("entry_into_force", d("1999-03-01"))
    assert read.warnings == []
    (event,) = read.events
    assert isinstance(event, TreatyEnteredIntoForceEvent)
    assert (event.id, event.type, event.source) == (
        "cn:C.N.522.1998.TREATIES-XXVI.5",
        "treaty.entered_into_force",
        "/treatywatch/ingest/notifications",
    )
    assert event.data == TreatyEnteredIntoForce(
        treaty_id="XXVI-5",
        date=d("1999-03-01"),
        notification="C.N.522.1998.TREATIES-XXVI.5",
        article="article 17 (1)",
    )


@pytest.mark.parametrize(
    ("heading", "sentences", "warning"),
    [
        (
            "POLAND: RATIFICATION",
            [EFFECTED, "The Convention will enter into force for Poland on 1 July 2013."],
            "the notification states 2013-07-01 for the ratification; Article 17(2) gives 2013-06-01",
        ),
        (
            "POLAND: ACCESSION",
            [EFFECTED],
            "the notification states no date for the accession; Article 17(2) gives 2013-06-01",
        ),
        (
            # Deposited before the treaty entered into force: in force for it with the treaty.
            "POLAND: RATIFICATION",
            [
                "The above action was effected on 31 July 1998.",
                "The Convention will enter into force for Poland on 1 January 1999.",
            ],
            "the notification states 1999-01-01 for the ratification; Article 17(1) gives 1999-03-01",
        ),
        (
            "POLAND: WITHDRAWAL",
            [EFFECTED, "The withdrawal will take effect on 28 June 2013 in accordance with article 20 (3)."],
            "the notification states 2013-06-28 for the withdrawal; Article 20(3) gives 2013-06-27",
        ),
    ],
)
def test_a_stated_date_the_rules_contradict_is_a_warning_never_an_override(
    heading: str, sentences: list[str], warning: str
) -> None:
    read = events_of(compose(heading, *sentences))
    assert warning in read.warnings
    (event,) = acts(read)
    assert event.data.effective_date == read.notification.effective_date


def test_a_withdrawal_from_the_rome_statute_a_day_late() -> None:
    text = fixture("BDI-2016-withdrawal-XVIII-10").replace("27 October 2017", "28 October 2017")
    read = events_of(text)
    assert "the notification states 2017-10-28 for the withdrawal; Article 127(1) gives 2017-10-27" in read.warnings
    assert acts(read)[0].data.effective_date == d("2017-10-28")


def test_dates_the_rules_agree_with_are_not_warned_about() -> None:
    for name in (
        "POL-2012-ratification-XXVI-5",
        "BDI-2016-withdrawal-XVIII-10",
        "GBR-1998-ratification-XXVI-5-extracted",
    ):
        assert read_notification(fixture(name)).warnings == []


def test_a_withdrawal_from_a_treaty_that_provides_for_none_is_flagged() -> None:
    text = compose(
        "GERMANY: WITHDRAWAL",
        "The above action was effected on 3 May 2011.",
        "The withdrawal will take effect on 3 August 2011.",
        reference="Reference: C.N.300.2011.TREATIES-IV.4 (Depositary Notification)",
        title="INTERNATIONAL COVENANT ON CIVIL AND POLITICAL RIGHTS",
        place="NEW YORK, 16 DECEMBER 1966",
        issued="4 May 2011",
    )
    read = events_of(text)
    assert any(w.startswith("the treaty provides for no withdrawal (Part VI") for w in read.warnings)
    assert acts(read)[0].data.effective_date == d("2011-08-03")


def test_an_unknown_treaty_is_published_as_is_with_a_warning() -> None:
    read = events_of(compose(reference="Reference: C.N.7.2013.TREATIES-XXVI.99 (Depositary Notification)"))
    (event,) = read.events
    assert (event.id, event.data.treaty_id) == ("cn:C.N.7.2013.TREATIES-XXVI.99", "XXVI-99")
    assert "XXVI-99 is not in ingest's catalogue: its rules are unknown, the dates are not checked" in read.warnings


TRACEPARENT = "00-" + "1" * 32 + "-" + "2" * 16 + "-01"


async def test_publishing_sends_the_events_with_their_subject_and_trace() -> None:
    publisher = Recorder()
    read = await publish_notification(
        publisher, Inline(), fixture("SOM-2015-ratification-IV-11"), TRACEPARENT, Limits()
    )
    assert publisher.published == read.events and len(read.events) == 2
    assert all(isinstance(e, ActionRecordedEvent) for e in publisher.published)
    assert {(e.subject, e.traceparent) for e in read.events} == {("IV-11/SOM", TRACEPARENT)}


async def test_a_dry_run_publishes_nothing_and_an_entry_into_force_is_published() -> None:
    publisher = Recorder()
    dry = await publish_notification(
        publisher, Inline(), fixture("POL-2012-ratification-XXVI-5"), None, Limits(), dry_run=True
    )
    assert [e.id for e in dry.events] == ["cn:C.N.1.2013.TREATIES-XXVI.5"] and dry.events[0].subject == "XXVI-5/POL"
    assert publisher.published == []
    entry = await publish_notification(publisher, Inline(), fixture("XXVI-5-1998-entry-into-force"), None, Limits())
    assert publisher.published == entry.events
    assert [(e.id, e.type, e.subject) for e in entry.events] == [
        ("cn:C.N.522.1998.TREATIES-XXVI.5", "treaty.entered_into_force", "XXVI-5")
    ]


async def test_an_event_over_the_message_size_is_refused_even_on_a_dry_run() -> None:
    publisher = Recorder()
    for dry_run in (True, False):
        with pytest.raises(EventTooLarge):
            await publish_notification(
                publisher, Inline(), fixture("SOM-2015-ratification-IV-11"), None, Limits(max_event_bytes=600),
                dry_run=dry_run,
            )  # fmt: skip
    assert publisher.published == []
