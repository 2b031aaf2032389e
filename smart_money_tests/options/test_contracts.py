"""Typed contracts: validation, SmartMoneyEvent invariants and the compatibility views."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from smart_money.options.engine.batch import score_frames, smart_money_events
from smart_money.options.engine.contracts import (
    AlertEvent,
    CalendarEntry,
    ClassifierHit,
    NbboQuote,
    OptionPrint,
    alert_event,
    classifier_hits,
)
from smart_money.options.engine.frames import NormalizedTape
from smart_money.options.engine.rules import load_rules
from smart_money.options.market.synthetic import catalogue

NOW = datetime(2024, 6, 12, 15, tzinfo=UTC)


def test_records_reject_invented_conditions_crossed_quotes_and_unannounced_events():
    base = dict(
        print_id="x",
        ts=NOW,
        underlying="AAA",
        expiry=date(2024, 7, 19),
        strike=100,
        right="C",
        price=1.0,
        size=1,
        venue="C",
    )
    assert OptionPrint(**base, condition="S").condition == "S"
    with pytest.raises(ValidationError):
        OptionPrint(**base, condition="SWEEP")
    with pytest.raises(ValidationError):
        NbboQuote(ts=NOW, underlying="AAA", expiry=date(2024, 7, 19), strike=100, right="C", bid=2.0, ask=1.9)
    with pytest.raises(ValidationError):
        CalendarEntry(
            underlying="AAA",
            event_type="earnings",
            announced_ts=NOW,
            event_ts=datetime(2024, 6, 1, tzinfo=UTC),
        )


@pytest.fixture(scope="module")
def events():
    tape, _ = catalogue(per_variant=1)
    n = NormalizedTape.of(tape)
    rules = load_rules()
    return smart_money_events(score_frames(n.prints, n.quotes, n.underlying, n.calendar).with_membership(), rules)


def test_events_are_typed_sorted_and_consistent(events):
    assert events and all(e.abstained == (e.primary_profile_id is None) for e in events)
    for e in events:
        probabilities = [s.probability for s in e.profile_scores]
        assert probabilities == sorted(probabilities, reverse=True) and len(probabilities) == 6
        assert e.member_print_ids and e.packet_ids and e.event_id == e.meta.trace_id
    assert {e.event_kind for e in events} == {"single_leg_event", "multi_leg_event"}


def test_abstained_events_give_no_classifier_hits_and_no_alert(events):
    abstained = [e for e in events if e.abstained]
    assert abstained
    assert all(classifier_hits(e) == [] and alert_event(e) is None for e in abstained)


def test_emitted_events_give_hits_led_by_the_primary_profile_and_an_alert(events):
    for e in (e for e in events if not e.abstained):
        hits = classifier_hits(e)
        assert hits[0].classifier_id == f"smart_money_{e.primary_profile_id}"
        assert 1 <= len(hits) <= 3 and all(h.confidence >= 0.5 for h in hits[1:])
        alert = alert_event(e)
        assert alert.primary_profile_id == e.primary_profile_id and alert.score == hits[0].confidence
        assert e.event_id in alert.evidence_refs


def test_alert_event_stays_backward_compatible():
    legacy = AlertEvent(
        event_id="e1", source_ts=NOW, underlying_id="AAA", score=0.8, severity="high",
        hits=[ClassifierHit(classifier_id="smart_money_sweep", confidence=0.8, direction="bullish", explanations=[])],
        evidence_refs=["e1"],
    )  # fmt: skip
    assert legacy.primary_profile_id is None and legacy.profile_scores is None
