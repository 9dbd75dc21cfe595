"""Board-paper sentences say value, period, target, assurance, variation and NWL in plain English."""

from metrics.catalogue import catalogue
from metrics.narrative import sii_sentence, summary_sentence

FLU = catalogue().metric("flu_uptake_65_plus")
ADMISSIONS = catalogue().metric("emergency_admissions_65_plus")


def test_summary_matches_the_issue_example():
    row = {"value": 71.2, "period": "Feb 2026", "target": 75.0, "assurance": "consistent_fail",
           "variation": "common_cause", "vs_nwl_998": "similar"}
    assert summary_sentence(FLU, row, "Harrow") == (
        "Flu uptake 65+ in Harrow was 71.2% in Feb 2026, below the 75.0% target; the target will not be met "
        "without change (consistent fail); no sign of special-cause change.")


def test_summary_without_target_mentions_special_cause_and_nwl():
    row = {"value": 1500.0, "period": "Sep 2026", "target": None, "assurance": None,
           "variation": "improvement_low", "vs_nwl_998": "better"}
    sentence = summary_sentence(ADMISSIONS, row, "Harrow")
    assert "target" not in sentence
    assert "special-cause improvement" in sentence and sentence.endswith("significantly better than NWL.")


def test_sii_reading_direction_and_uncertainty():
    assert "no clear social gradient" in sii_sentence(FLU, "Harrow", 1.0, -0.5, 2.5)
    text = sii_sentence(FLU, "Harrow", 8.0, 6.0, 10.0)
    assert "higher at the least deprived end" in text and "most deprived residents fare worse" in text
    assert "least deprived residents fare worse" in sii_sentence(ADMISSIONS, "Harrow", 80.0, 60.0, 100.0)


def test_a_season_in_progress_is_not_said_to_miss_its_end_of_season_target():
    row = {"value": 9.0, "period": "Sep 2026", "target": 75.0, "assurance": None, "variation": None,
           "vs_nwl_998": "similar", "rag_basis": "same point last season", "direction": "improving"}
    sentence = summary_sentence(FLU, row, "Harrow")
    assert "below the 75.0% target" not in sentence
    assert "the 75.0% target applies at the season's end" in sentence
    assert "compared with the same point last season (better)" in sentence
    ended = summary_sentence(FLU, row | {"period": "Feb 2026", "rag_basis": "target"}, "Harrow")
    assert "below the 75.0% target" in ended
