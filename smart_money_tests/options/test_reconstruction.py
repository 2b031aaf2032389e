"""Parent events: anchored burst windows, multi-leg grouping, deterministic IDs, cancels."""

from __future__ import annotations

import pandas as pd

from smart_money.options.engine.frames import normalize_prints
from smart_money.options.engine.reconstruction import event_id_for, reconstruct
from smart_money_tests.support.option_tape import print_row


def members(rec) -> dict[str, set[str]]:
    ids = rec.prints["print_id"].to_numpy()
    out: dict[str, set[str]] = {}
    for event_id, lo, hi in zip(rec.events["event_id"], rec.events["print_start"], rec.events["print_end"]):
        out[event_id] = set(ids[lo:hi])
    return out


def test_a_burst_window_is_anchored_at_its_first_print():
    # 0, 300, 499 ms are one burst; 500 ms starts the next window even though gaps are short
    prints = normalize_prints(
        pd.DataFrame(
            [print_row("a", 0), print_row("b", 300), print_row("c", 499), print_row("d", 500), print_row("e", 700)]
        )
    )
    groups = sorted(sorted(m) for m in members(reconstruct(prints)).values())
    assert groups == [["a", "b", "c"], ["d", "e"]]


def test_legs_of_one_underlying_within_the_window_form_one_multi_leg_event():
    rows = [
        print_row("c1", 0, strike=100, right="C", size=100),
        print_row("p1", 20, strike=100, right="P", size=110),  # straddle leg: joins
        print_row("far", 900, strike=105, right="C", size=100),  # outside the leg window
        print_row("tiny", 40, strike=110, right="C", size=10),  # size ratio > 3: stays alone
        print_row("other", 10, strike=100, right="P", size=100, underlying="BBB"),  # other underlying
    ]
    rec = reconstruct(normalize_prints(pd.DataFrame(rows)))
    groups = {frozenset(m) for m in members(rec).values()}
    assert groups == {frozenset({"c1", "p1"}), frozenset({"far"}), frozenset({"tiny"}), frozenset({"other"})}
    kinds = dict(zip(rec.events["event_id"], rec.events["event_kind"]))
    multi = [e for e, m in members(rec).items() if m == {"c1", "p1"}][0]
    assert kinds[multi] == "multi_leg_event"


def test_event_ids_depend_only_on_member_prints_not_on_input_order():
    rows = [print_row(f"p{i}", i * 37 % 900, strike=100 + (i % 3) * 5, size=10 + i) for i in range(30)]
    frame = normalize_prints(pd.DataFrame(rows))
    first = reconstruct(frame)
    shuffled = reconstruct(normalize_prints(pd.DataFrame(rows).sample(frac=1.0, random_state=4)))
    assert first.events["event_id"].tolist() == shuffled.events["event_id"].tolist()
    for event_id, ids in members(first).items():
        assert event_id_for(sorted(ids)) == event_id
    assert all(e.startswith("sm") and len(e) == 34 for e in first.events["event_id"])


def test_an_event_id_does_not_depend_on_other_prints_in_the_batch():
    short = [print_row("p1", 0), print_row("p2", 10)]
    longer = short + [print_row("a-much-longer-print-identifier-0001", 5, underlying="BBB")]
    alone = reconstruct(normalize_prints(pd.DataFrame(short)))
    together = reconstruct(normalize_prints(pd.DataFrame(longer)))
    assert alone.events["event_id"].iloc[0] in set(together.events["event_id"])
    assert alone.events["event_id"].iloc[0] == event_id_for(["p1", "p2"])


def test_cancels_late_reports_and_excluded_prints_do_not_form_events():
    rows = [
        print_row("keep", 0),
        print_row("gone", 10),
        print_row("cxl", 20, condition="A", ref="gone"),  # cancels "gone"
        print_row("late", 30, condition="D"),  # late report: volume only
        print_row("comp", 40, condition="u"),  # compression: excluded
        print_row("ext", 50, condition="v"),  # extended hours: excluded
    ]
    rec = reconstruct(normalize_prints(pd.DataFrame(rows)))
    assert set(rec.prints["print_id"]) == {"keep"}
    assert rec.dropped == {"cancel_records": 1, "cancelled_prints": 1, "late_reports": 1, "excluded_prints": 2}


def test_event_ids_are_pinned_for_word_boundaries_unicode_and_trailing_nuls():
    # IDs are stored and compared across versions and machines: these values must never change
    pinned = {
        ("p1", "p2"): "smfffc110e11cfe6c07892a410b8b2bf34",
        ("abcdefgh",): "sm53cfd6bc6565814c2203a288900fa764",  # exactly one 8-byte word
        ("abcdefghi",): "smc807663dd04780021a00313ae293347b",  # one byte into the second word
        ("0123456789abcdef", "0123456789abcdefX"): "sm2685750f37ffdcf522857869d5c6a69c",
        ("prise-é-ü-€",): "smba85ae41541274471516b5f5bcc60c1d",  # UTF-8 bytes
        ("tail\x00\x00",): "sm449c4d08a64ee2815ad58c69c3796359",  # trailing NULs are not significant
        ("tail",): "sm449c4d08a64ee2815ad58c69c3796359",
        ("x" * 40,): "smc4649586385510f3e3071704fe2f7c51",
    }
    for ids, event_id in pinned.items():
        assert event_id_for(list(ids)) == event_id
    rows = [print_row("prise-é-ü-€", 0), print_row("abcdefghi", 10)]
    rec = reconstruct(normalize_prints(pd.DataFrame(rows)))
    assert rec.events["event_id"].tolist() == [event_id_for(["abcdefghi", "prise-é-ü-€"])]
