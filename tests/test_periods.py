from datetime import date

from metrics.periods import financial_year, is_in_season, month_end, month_name, month_options, period_label


def test_month_end_handles_leap_years():
    assert month_end("2024-02") == date(2024, 2, 29)
    assert month_end("2026-12") == date(2026, 12, 31)


def test_month_options_newest_first():
    assert month_options(date(2026, 7, 1), date(2026, 9, 30)) == ["2026-09", "2026-08", "2026-07"]


def test_labels():
    assert month_name("2026-09") == "September 2026"
    assert period_label("monthly", date(2026, 9, 1)) == "Sep 2026"
    assert period_label("quarterly", date(2026, 4, 1)) == "Q1 2026/27"
    assert period_label("quarterly", date(2027, 1, 1)) == "Q4 2026/27"
    assert period_label("annual", date(2019, 4, 1)) == "2019/20"
    assert financial_year(date(2026, 3, 31)) == "2025/26"


def test_season():
    assert is_in_season((9, 10, 11, 12, 1, 2), "2026-01")
    assert not is_in_season((9, 10, 11, 12, 1, 2), "2026-05")
