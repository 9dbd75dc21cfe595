"""The catalogue is complete, valid and rejects bad declarations."""

from __future__ import annotations

import pytest
import yaml
from pydantic import ValidationError

from metrics.catalogue import CATALOGUE_PATH, Catalogue, catalogue

# The minimum metric set of DESIGN section 2, by priority.
REQUIRED = {
    "phm": {"wsic_well", "wsic_stable", "wsic_rising_risk", "wsic_high_risk", "wsic_specialist_eol",
            "nhs_health_check_uptake", "breast_screening_coverage", "cervical_screening_coverage",
            "bowel_screening_coverage", "adult_obesity_prevalence"},
    "frailty": {"frail_top15_identified", "frail_mdt_care_plan", "emergency_admissions_65_plus",
                "falls_admissions_65_plus", "care_home_admissions_65_plus", "carers_identified",
                "carers_receiving_support", "avoidable_admissions", "discharged_usual_residence",
                "length_of_stay_14_plus", "length_of_stay_21_plus", "reablement_at_home_91_days"},
    "diabetes": {"diabetes_8_care_processes", "diabetes_3_treatment_targets", "diabetes_diagnosis_rate",
                 "diabetes_structured_education"},
    "mental_health": {"smi_physical_health_checks", "ld_annual_health_checks", "talking_therapies_access",
                      "talking_therapies_recovery", "dementia_diagnosis_rate"},
    "vaccination": {"flu_uptake_65_plus", "flu_uptake_under_65_at_risk", "flu_uptake_pregnant",
                    "flu_uptake_age_2_3", "covid_autumn_uptake_75_plus", "mmr1_24_months"},
}


def raw() -> dict:
    with open(CATALOGUE_PATH, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@pytest.mark.parametrize("priority", sorted(REQUIRED))
def test_every_design_metric_is_declared_under_its_priority(priority):
    assert REQUIRED[priority] <= {m.id for m in catalogue().for_page(priority)}


def test_every_metric_has_definition_source_and_denominator():
    for m in catalogue().metrics:
        assert m.definition and m.numerator and m.denominator and m.data_source, m.id
        if m.target:
            assert len(m.target.source) > 10, m.id


def test_published_targets():
    assert catalogue().metric("flu_uptake_65_plus").target.value == 75
    assert catalogue().metric("dementia_diagnosis_rate").target.value == 66.7
    assert catalogue().metric("care_home_admissions_65_plus").target.baseline_period_start.year == 2019


def test_phm_and_vaccination_metrics_have_inequality_breakdowns():
    for priority in ("phm", "vaccination"):
        for m in catalogue().for_page(priority):
            assert {"ethnicity", "imd_quintile"} <= set(m.breakdowns), m.id


def test_format_value_uses_unit():
    assert catalogue().metric("flu_uptake_65_plus").format_value(71.234) == "71.2%"
    assert catalogue().metric("emergency_admissions_65_plus").format_value(2012.34) == "2,012.3"
    assert catalogue().metric("ae_attendances_0_4").format_value(997.58) == "997.6"
    assert catalogue().metric("ae_attendances_0_4").unit_label == "per 1,000"
    assert catalogue().metric("flu_uptake_65_plus").format_value(float("nan")) == "-"


def _first_metric_with(**changes) -> dict:
    data = raw()
    data["metrics"][0] = {**data["metrics"][0], **changes}
    return data


@pytest.mark.parametrize("changes, message", [
    ({"unit": "furlongs"}, "unit"),
    ({"polarity": "up"}, "polarity"),
    ({"definition": ""}, "definition"),
    ({"priority": "nonsense"}, "unknown priority"),
    ({"target": {"value": 1, "baseline_period_start": "2019-04-01", "source": "both kinds"}}, "exactly one"),
    ({"surprise": 1}, "surprise"),
])
def test_bad_declarations_are_rejected_with_the_field_named(changes, message):
    with pytest.raises(ValidationError, match=message):
        Catalogue.model_validate(_first_metric_with(**changes))


def test_duplicate_ids_rejected():
    data = raw()
    data["metrics"].append(data["metrics"][0])
    with pytest.raises(ValidationError, match="unique"):
        Catalogue.model_validate(data)
