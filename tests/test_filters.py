from datetime import date

import pytest
from pydantic import ValidationError

from metrics.filters import ViewState

VIEW = dict(snapshot=date(2026, 10, 5), borough="Harrow", borough_code="E09000015", period="2026-09")


def test_query_params_round_trip_and_overrides():
    view = ViewState(**VIEW, pcn="U89806", pcn_name="Sphere PCN")
    assert view.query_params() == {"snapshot": "2026-10-05", "borough": "Harrow", "pcn": "U89806",
                                   "period": "2026-09"}
    assert "pcn" not in view.query_params(pcn=None)
    assert view.query_params(metric="flu_uptake_65_plus")["metric"] == "flu_uptake_65_plus"


@pytest.mark.parametrize("period", ["2026-13", "26-09", "2026-9", "September"])
def test_bad_period_rejected(period):
    with pytest.raises(ValidationError, match="period"):
        ViewState(**{**VIEW, "period": period})
