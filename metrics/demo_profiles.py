"""The inputs of the synthetic demo data: who is registered where, and how each metric behaves.

Kept apart from the generator (``metrics/demo.py``, which draws counts and writes snapshots) so the numbers
a reviewer may want to tune live in one readable place. Levels are plausible for North West London, not real
published figures. Effects are on the link scale: logit for percent metrics, log for rates (per 100,000 or per
1,000: the generator draws every rate per 100,000, so a per-1,000 level is given through ``per_1000``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

ETHNICITY = ("Asian", "Black", "Mixed", "White", "Other", "Not stated")
IMD_QUINTILES = ("1 (most deprived)", "2", "3", "4", "5 (least deprived)")
SEX = ("Female", "Male")

BRENT, EALING, HAMMERSMITH, HARROW = "E09000005", "E09000009", "E09000013", "E09000015"
HILLINGDON, HOUNSLOW, KENSINGTON, WESTMINSTER = "E09000017", "E09000018", "E09000020", "E09000033"
GP_AT_HAND = "E85124"  # Babylon GP at Hand: a huge, young, digital-first list
INTERVENTION_START = date(2025, 4, 1)  # Harrow integrated frailty / case management model
REFERENCE_YEAR = 2025.0  # profile levels are the ICS-typical value in January 2025
TYPICAL_SHARE_65 = 0.12


@dataclass(frozen=True)
class BoroughProfile:
    share_65: float        # typical share of the registered list aged 65+
    child_factor: float    # children relative to an average NWL list
    diabetes_factor: float  # diabetes prevalence relative to NWL (South Asian populations are higher)
    ethnicity_pct: tuple[float, ...]  # Census-2021-like mix in ETHNICITY order, excluding "Not stated"


BOROUGHS: dict[str, BoroughProfile] = {
    BRENT: BoroughProfile(0.12, 1.05, 1.25, (34, 18, 6, 35, 7)),
    EALING: BoroughProfile(0.12, 1.05, 1.15, (30, 11, 6, 43, 10)),
    HAMMERSMITH: BoroughProfile(0.09, 0.85, 0.80, (11, 12, 8, 63, 6)),
    HARROW: BoroughProfile(0.16, 1.00, 1.25, (46, 8, 5, 37, 4)),
    HILLINGDON: BoroughProfile(0.15, 1.00, 1.00, (33, 8, 5, 49, 5)),
    HOUNSLOW: BoroughProfile(0.11, 1.00, 1.15, (36, 7, 5, 44, 8)),
    KENSINGTON: BoroughProfile(0.10, 0.80, 0.75, (12, 7, 8, 60, 13)),
    WESTMINSTER: BoroughProfile(0.09, 0.80, 0.80, (17, 7, 7, 55, 14)),
}
NOT_STATED_SHARE = 0.06


def cohort_share(cohort: str, share_65: np.ndarray, child_factor: np.ndarray,
                 diabetes_prev: np.ndarray) -> np.ndarray:
    """Expected cohort size per registered patient (per period for flows), from the practice's age mix."""
    old = share_65 / TYPICAL_SHARE_65
    adults = 1.0 - 0.21 * child_factor
    shares = {
        "list": np.ones_like(share_65),
        "adults": adults,
        "age_65": share_65,
        "age_75": 0.45 * share_65 * old ** 0.2,
        "women_53_70": 0.085 * old ** 0.6,
        "women_25_64": 0.29 * old ** -0.1,
        "people_60_74": 0.11 * old ** 0.8,
        "health_check_offered": 0.36 * old ** 0.3 * 0.045,  # a fifth of 40-74s invited over 5 years
        "at_risk_u65": 0.11 * old ** 0.2,
        "pregnant": 0.012 * child_factor,
        "children_2_3": 0.025 * child_factor,
        "children_0_4": 0.045 * child_factor,
        "births_quarter": 0.0033 * child_factor,
        "diabetes_register": adults * diabetes_prev,
        "diabetes_expected": adults * diabetes_prev / 0.80,
        "diabetes_new_12m": adults * diabetes_prev * 0.07,
        "smi_register": np.full_like(share_65, 0.012),
        "ld_register": np.full_like(share_65, 0.005),
        "dementia_expected": 0.07 * share_65 * old ** 0.3,
        "frail_expected": 0.15 * adults,
        # borough-level services, counted per registered resident
        "carers_known": np.full_like(share_65, 0.004),
        "discharges": 0.007 * old ** 0.5,
        "inpatients": 0.0015 * old ** 0.6,
        "reablement": 0.0006 * old,
        "tt_plan": np.full_like(share_65, 0.001),
        "tt_finished": np.full_like(share_65, 0.0004),
    }
    return shares[cohort]


FEMALE_SHARE: dict[str, float] = {
    "adults": 0.50, "age_65": 0.55, "age_75": 0.58, "people_60_74": 0.52,
    "health_check_offered": 0.53, "at_risk_u65": 0.53, "children_2_3": 0.49, "births_quarter": 0.49,
    "diabetes_register": 0.44, "diabetes_new_12m": 0.43,
}


@dataclass(frozen=True)
class AgeBands:
    labels: tuple[str, ...]
    base_shares: tuple[float, ...]
    oldness_elasticity: tuple[float, ...]  # older lists shift people into the older bands


ADULT_BANDS = AgeBands(("18-39", "40-64", "65-79", "80+"), (0.42, 0.38, 0.15, 0.05), (-0.4, 0.0, 0.8, 1.2))
HEALTH_CHECK_BANDS = AgeBands(("40-49", "50-59", "60-74"), (0.40, 0.33, 0.27), (-0.3, 0.1, 0.6))
CERVICAL_BANDS = AgeBands(("25-49", "50-64"), (0.68, 0.32), (-0.1, 0.5))
FLU_65_BANDS = AgeBands(("65-74", "75-84", "85+"), (0.55, 0.32, 0.13), (-0.2, 0.2, 0.5))
COVID_75_BANDS = AgeBands(("75-79", "80-84", "85+"), (0.40, 0.32, 0.28), (-0.2, 0.1, 0.4))
# The European Standard Population 2013's bands from 65 (OHID's for 65+ indicators). Older lists hold many more of
# the oldest old (care homes), so practices' age mixes differ enough for age standardisation to matter.
OLDER_BANDS = AgeBands(("65-69", "70-74", "75-79", "80-84", "85-89", "90+"), (0.29, 0.25, 0.19, 0.13, 0.085, 0.055),
                       (-0.6, -0.3, 0.0, 0.4, 0.9, 1.2))
# The National Diabetes Audit's age groups.
DIABETES_BANDS = AgeBands(("Under 40", "40-64", "65-79", "80+"), (0.08, 0.50, 0.32, 0.10), (-0.3, -0.1, 0.4, 0.7))

# Ethnic-group effects (ETHNICITY order) on the link scale, before centring on the practice value.
ETHNICITY_EFFECTS: dict[str, tuple[float, ...]] = {
    "none": (0, 0, 0, 0, 0, 0),
    "screening": (-0.15, -0.30, -0.30, 0, -0.30, -0.50),
    "bowel": (-0.45, -0.35, -0.25, 0, -0.35, -0.50),
    "health_check": (0.10, -0.10, -0.20, 0, -0.10, -0.40),
    "vaccine": (-0.25, -0.85, -0.50, 0, -0.40, -0.60),
    "childhood": (-0.10, -0.50, -0.30, 0, -0.30, -0.50),
    "obesity": (-0.20, 0.45, 0.10, 0, -0.10, -0.20),
    "wsic": (0.25, 0.15, 0.00, 0, -0.05, -0.40),  # on the odds of not being "Well"
    "urgent_care": (0.05, 0.20, 0.10, 0, 0.05, -0.25),  # on the log rate of A&E attendances
    "diabetes_care": (0.05, -0.20, -0.25, 0, -0.15, -0.55),  # NDA: care processes and targets, by ethnic group
}

FLU_CURVE = (0.12, 0.55, 0.80, 0.90, 0.96, 1.0)  # share of the season's final uptake reached by Sep..Feb
CHILD_FLU_CURVE = (0.04, 0.30, 0.62, 0.85, 0.95, 1.0)
COVID_CURVE = (0.05, 0.60, 0.88, 0.96, 0.99, 1.0)


@dataclass(frozen=True)
class Step:
    """A lasting change in one borough from a date, e.g. after a service redesign."""

    borough_code: str
    start: date
    effect: float


@dataclass(frozen=True)
class Profile:
    level: float  # proportion (0-1) for percent metrics, value per 100,000 for rates (see per_1000), at REFERENCE_YEAR
    cohort: str
    flow: bool = False  # the denominator counts events in the period (Poisson), not a register
    practice_sd: float = 0.25
    deprivation: float = 0.0  # effect at the least deprived end (+) vs the most deprived end (-)
    oldness: float = 0.0  # effect per log of the list's 65+ share relative to typical
    trend: float = 0.0  # per year
    winter: float = 0.0  # seasonal amplitude, peaking in January
    borough_effects: dict[str, float] = field(default_factory=dict)
    steps: tuple[Step, ...] = ()
    outlier_sds: float = 4.0  # a few practices sit this many practice-level SDs from their peers (0 = none)
    ethnicity: str = "none"
    age_bands: AgeBands | None = None
    age_effects: tuple[float, ...] = ()
    sex_effects: tuple[float, float] = (0.0, 0.0)
    curve: tuple[float, ...] = ()  # cumulative within a flu season (monthly) or financial year (quarterly)
    noise_sd: float = 0.04
    # Age bands carry their own rates about NWL's age mix, so an older list has a higher crude rate at the same
    # underlying (age-standardised) rate; otherwise a unit's bands are centred on its own value.
    age_drives_rate: bool = False


def per_1000(rate: float) -> float:
    """A rate per 1,000 as the per-100,000 level a Profile takes (the generator draws every rate per 100,000;
    the catalogue's unit sets how it is shown)."""
    return rate * 100.0


WSIC_METRICS = ("wsic_well", "wsic_stable", "wsic_rising_risk", "wsic_high_risk", "wsic_specialist_eol")
# Split of the not-Well adults across Stable, Rising, High, Specialist/EoL at the reference risk, and how
# strongly each leans with the not-Well log-odds (older, sicker groups sit in the higher segments). The
# split is calibrated so the ICS totals come out near 77 / 19 / 0.6 / 2.9 / 0.7%.
WSIC_NOT_WELL_SPLIT = (0.906, 0.022, 0.061, 0.011)
WSIC_SEGMENT_LOADING = (0.0, 0.4, 0.9, 1.1)
WSIC_NOT_WELL = Profile(
    0.23, "adults", practice_sd=0.2, deprivation=-0.35, oldness=0.8, trend=0.02,
    ethnicity="wsic", age_bands=ADULT_BANDS, age_effects=(-1.3, 0.0, 1.2, 2.1), sex_effects=(0.04, -0.04))

LOW_LONDON_SCREENING = {WESTMINSTER: -0.35, KENSINGTON: -0.3, HAMMERSMITH: -0.2, HARROW: 0.15, HILLINGDON: 0.2}
VACCINE_BOROUGHS = {WESTMINSTER: -0.25, KENSINGTON: -0.25, HAMMERSMITH: -0.15, HARROW: 0.15, HILLINGDON: 0.2}

PROFILES: dict[str, Profile] = {
    **{metric_id: WSIC_NOT_WELL for metric_id in WSIC_METRICS},
    "nhs_health_check_uptake": Profile(
        0.45, "health_check_offered", flow=True, practice_sd=0.35, deprivation=0.2, trend=0.05,
        ethnicity="health_check", age_bands=HEALTH_CHECK_BANDS, age_effects=(-0.3, 0.0, 0.3),
        sex_effects=(0.15, -0.15)),
    "breast_screening_coverage": Profile(
        0.62, "women_53_70", deprivation=0.4, trend=0.03, ethnicity="screening",
        borough_effects={**LOW_LONDON_SCREENING, WESTMINSTER: -0.6}),
    "cervical_screening_coverage": Profile(
        0.65, "women_25_64", deprivation=0.3, trend=-0.03, ethnicity="screening",
        borough_effects=LOW_LONDON_SCREENING, age_bands=CERVICAL_BANDS, age_effects=(-0.2, 0.25)),
    "bowel_screening_coverage": Profile(
        0.60, "people_60_74", practice_sd=0.2, deprivation=0.45, trend=0.08, ethnicity="bowel",
        sex_effects=(0.1, -0.1)),
    "adult_obesity_prevalence": Profile(
        0.18, "adults", practice_sd=0.3, deprivation=-0.35, trend=0.02, ethnicity="obesity",
        borough_effects={KENSINGTON: -0.3, WESTMINSTER: -0.25, HAMMERSMITH: -0.15, HILLINGDON: 0.15},
        age_bands=ADULT_BANDS, age_effects=(-0.35, 0.2, 0.15, -0.45), sex_effects=(0.08, -0.08)),
    "smoking_prevalence": Profile(0.12, "adults", practice_sd=0.3, deprivation=-0.4, trend=-0.04,
                                  sex_effects=(-0.15, 0.15)),
    # NWL practices published about 1,000 per 1,000 in 2021/22 (Fingertips 93930; England 763), spread ~20%.
    "ae_attendances_0_4": Profile(
        per_1000(1000), "children_0_4", practice_sd=0.2, deprivation=-0.25, trend=0.04, ethnicity="urgent_care"),
    "frail_top15_identified": Profile(0.85, "frail_expected", practice_sd=0.4, deprivation=0.1, trend=0.25),
    "frail_mdt_care_plan": Profile(
        0.40, "frail_expected", practice_sd=0.45, deprivation=0.15, trend=0.12,
        steps=(Step(HARROW, INTERVENTION_START, 0.62),)),
    # Admission rates rise steeply with age within 65+ (about 5x from 65-69 to 90+; falls about 13x).
    "emergency_admissions_65_plus": Profile(
        2000, "age_65", practice_sd=0.12, deprivation=-0.25, trend=0.01, winter=0.10,
        borough_effects={HILLINGDON: 0.05}, steps=(Step(HARROW, INTERVENTION_START, float(np.log(0.85))),),
        age_bands=OLDER_BANDS, age_effects=(0.0, 0.26, 0.59, 0.96, 1.28, 1.57), age_drives_rate=True),
    "falls_admissions_65_plus": Profile(
        170, "age_65", practice_sd=0.15, deprivation=-0.1, trend=-0.01, winter=0.06,
        age_bands=OLDER_BANDS, age_effects=(0.0, 0.47, 1.03, 1.61, 2.14, 2.56), age_drives_rate=True),
    "care_home_admissions_65_plus": Profile(
        400, "age_65", practice_sd=0.25, deprivation=-0.15, trend=-0.03, borough_effects={HILLINGDON: 0.15}),
    "carers_identified": Profile(0.02, "list", practice_sd=0.45, trend=0.06),
    "carers_receiving_support": Profile(0.30, "carers_known", practice_sd=0.4, trend=0.05, noise_sd=0.06),
    "avoidable_admissions": Profile(
        70, "list", practice_sd=0.15, deprivation=-0.45, trend=-0.02, winter=0.12),
    "discharged_usual_residence": Profile(
        0.93, "discharges", flow=True, practice_sd=0.3, trend=0.02, winter=-0.08),
    "length_of_stay_14_plus": Profile(0.13, "inpatients", flow=True, practice_sd=0.25, trend=-0.02, winter=0.06),
    "length_of_stay_21_plus": Profile(0.07, "inpatients", flow=True, practice_sd=0.3, trend=-0.02, winter=0.08),
    "reablement_at_home_91_days": Profile(0.82, "reablement", flow=True, practice_sd=0.3, trend=0.02),
    # NDA: younger people with diabetes receive fewer care processes and meet fewer targets.
    "diabetes_8_care_processes": Profile(
        0.45, "diabetes_register", practice_sd=0.4, deprivation=0.2, trend=0.08, ethnicity="diabetes_care",
        age_bands=DIABETES_BANDS, age_effects=(-0.7, -0.1, 0.25, 0.05), sex_effects=(-0.02, 0.02)),
    "diabetes_3_treatment_targets": Profile(
        0.38, "diabetes_register", practice_sd=0.3, deprivation=0.2, trend=0.05, ethnicity="diabetes_care",
        age_bands=DIABETES_BANDS, age_effects=(-0.8, -0.15, 0.3, 0.2), sex_effects=(-0.08, 0.08)),
    "diabetes_diagnosis_rate": Profile(0.80, "diabetes_expected", practice_sd=0.25, deprivation=-0.05, trend=0.03),
    "diabetes_structured_education": Profile(
        0.12, "diabetes_new_12m", flow=True, practice_sd=0.5, deprivation=0.15, trend=0.10,
        ethnicity="diabetes_care", age_bands=DIABETES_BANDS, age_effects=(0.1, 0.1, -0.2, -0.6),
        sex_effects=(0.03, -0.03)),
    "smi_physical_health_checks": Profile(0.50, "smi_register", practice_sd=0.4, deprivation=0.1, trend=0.08),
    "ld_annual_health_checks": Profile(
        0.70, "ld_register", practice_sd=0.35, deprivation=0.1, trend=0.05),
    "talking_therapies_access": Profile(0.90, "tt_plan", practice_sd=0.3, trend=0.06, noise_sd=0.08),
    "talking_therapies_recovery": Profile(0.48, "tt_finished", flow=True, practice_sd=0.2, deprivation=0.15),
    "dementia_diagnosis_rate": Profile(
        0.62, "dementia_expected", practice_sd=0.35, deprivation=0.05, trend=0.06),
    "flu_uptake_65_plus": Profile(
        0.72, "age_65", deprivation=0.35, trend=-0.05, ethnicity="vaccine", borough_effects=VACCINE_BOROUGHS,
        age_bands=FLU_65_BANDS, age_effects=(-0.35, 0.2, 0.25), sex_effects=(-0.03, 0.03), curve=FLU_CURVE),
    "flu_uptake_under_65_at_risk": Profile(
        0.45, "at_risk_u65", deprivation=0.3, ethnicity="vaccine", borough_effects=VACCINE_BOROUGHS,
        sex_effects=(0.08, -0.08), curve=FLU_CURVE),
    "flu_uptake_pregnant": Profile(
        0.35, "pregnant", practice_sd=0.35, deprivation=0.3, ethnicity="vaccine", curve=FLU_CURVE),
    "flu_uptake_age_2_3": Profile(
        0.40, "children_2_3", practice_sd=0.35, deprivation=0.45, ethnicity="childhood", curve=CHILD_FLU_CURVE),
    "covid_autumn_uptake_75_plus": Profile(
        0.65, "age_75", deprivation=0.4, trend=-0.12, ethnicity="vaccine", borough_effects=VACCINE_BOROUGHS,
        age_bands=COVID_75_BANDS, age_effects=(-0.15, 0.1, 0.05), sex_effects=(-0.05, 0.05), curve=COVID_CURVE),
    "mmr1_24_months": Profile(
        0.86, "births_quarter", flow=True, practice_sd=0.3, deprivation=0.35, trend=-0.05, ethnicity="childhood"),
}


# ---------------------------------------------------------------------------------------- population
def named_rng(seed: int, *names: str) -> np.random.Generator:
    """A stream keyed by name (not Python's salted hash), so skipping one metric never shifts another."""
    keys = [int.from_bytes(hashlib.blake2b(n.encode(), digest_size=8).digest(), "little") for n in names]
    return np.random.default_rng(np.random.SeedSequence([seed, *keys]))


@dataclass(frozen=True)
class Units:
    """Practices or boroughs with the population traits that drive denominators and effects."""

    level: str  # practice | borough
    codes: np.ndarray
    borough_codes: np.ndarray
    list_size: np.ndarray
    growth: np.ndarray
    share_65: np.ndarray
    child_factor: np.ndarray
    diabetes_prev: np.ndarray
    deprivation_z: np.ndarray  # -1 most deprived decile .. +1 least deprived
    ethnicity_mix: np.ndarray
    imd_mix: np.ndarray
    female_shift: np.ndarray


@dataclass(frozen=True)
class World:
    seed: int
    practices: Units
    boroughs: Units
    membership: np.ndarray  # borough x practice indicator, to sum practice cohorts to boroughs

    def units(self, level: str) -> Units:
        return self.practices if level == "practice" else self.boroughs


def _practice_units(orgs: pd.DataFrame, seed: int) -> Units:
    rows = orgs[orgs["org_type"] == "practice"].sort_values("org_code")
    rng, n = named_rng(seed, "population"), len(rows)
    codes, borough_codes = rows["org_code"].to_numpy(str), rows["borough_code"].to_numpy(str)
    profiles = [BOROUGHS[b] for b in borough_codes]
    share_65 = np.clip(np.array([p.share_65 for p in profiles]) * np.exp(rng.normal(0, 0.25, n)), 0.06, 0.18)
    child_factor = np.array([p.child_factor for p in profiles]) * np.exp(rng.normal(0, 0.15, n))
    deprivation_z = (rows["imd_decile"].to_numpy(float) - 5.5) / 4.5
    diabetes_prev = np.clip(0.09 * np.array([p.diabetes_factor for p in profiles]) * np.exp(-0.15 * deprivation_z)
                            * (share_65 / TYPICAL_SHARE_65) ** 0.3 * np.exp(rng.normal(0, 0.1, n)), 0.05, 0.14)
    growth = 0.01 + rng.normal(0, 0.01, n)
    ethnic_base = np.array([np.append(np.array(p.ethnicity_pct) / sum(p.ethnicity_pct) * (1 - NOT_STATED_SHARE),
                                      NOT_STATED_SHARE) for p in profiles])
    ethnicity_mix = rng.gamma(25 * ethnic_base + 0.05)
    quintile_centre = (rows["imd_decile"].to_numpy(float) + 1) / 2
    imd_mix = np.exp(-0.5 * (np.arange(1, 6)[None, :] - quintile_centre[:, None]) ** 2) * rng.gamma(20, 1 / 20, (n, 5))
    female_shift = rng.normal(0, 0.015, n)
    young_digital = codes == GP_AT_HAND
    share_65[young_digital], child_factor[young_digital], growth[young_digital] = 0.03, 0.25, 0.05
    return Units("practice", codes, borough_codes, rows["list_size"].to_numpy(float), growth, share_65, child_factor,
                 diabetes_prev, deprivation_z, ethnicity_mix / ethnicity_mix.sum(1, keepdims=True),
                 imd_mix / imd_mix.sum(1, keepdims=True), female_shift)


def _borough_units(practices: Units) -> tuple[Units, np.ndarray]:
    """Boroughs as list-weighted averages of their practices, so both levels tell the same story."""
    codes = np.array(sorted(set(practices.borough_codes)))
    membership = (practices.borough_codes[None, :] == codes[:, None]).astype(float)
    weights = membership * practices.list_size
    weights /= weights.sum(1, keepdims=True)
    return Units("borough", codes, codes, membership @ practices.list_size, weights @ practices.growth,
                 weights @ practices.share_65, weights @ practices.child_factor, weights @ practices.diabetes_prev,
                 weights @ practices.deprivation_z, weights @ practices.ethnicity_mix, weights @ practices.imd_mix,
                 weights @ practices.female_shift), membership


def build_world(orgs: pd.DataFrame, seed: int) -> World:
    """Practice populations drawn once per seed; boroughs are their list-weighted roll-up."""
    practices = _practice_units(orgs, seed)
    boroughs, membership = _borough_units(practices)
    return World(seed, practices, boroughs, membership)


# ---------------------------------------------------------------------------------------- breakdowns
@dataclass(frozen=True)
class Split:
    breakdown: str
    labels: tuple[str, ...]
    shares: np.ndarray  # unit x category
    effects: np.ndarray  # per category, link scale, before centring


def category_splits(breakdowns: tuple[str, ...], profile: Profile, units: Units) -> list[Split]:
    """Per-unit category shares and link-scale effects for each breakdown a metric publishes."""
    splits = []
    for breakdown in breakdowns:
        if breakdown == "ethnicity":
            effects = np.array(ETHNICITY_EFFECTS[profile.ethnicity])
            splits.append(Split(breakdown, ETHNICITY, units.ethnicity_mix, effects))
        elif breakdown == "imd_quintile":
            gradient = profile.deprivation * (np.arange(5) - 2) / 2
            splits.append(Split(breakdown, IMD_QUINTILES, units.imd_mix, gradient))
        elif breakdown == "sex":
            female = np.clip(FEMALE_SHARE.get(profile.cohort, 0.5) + units.female_shift, 0.3, 0.7)
            shares = np.column_stack([female, 1 - female])
            splits.append(Split(breakdown, SEX, shares, np.array(profile.sex_effects)))
        else:
            bands = profile.age_bands
            if bands is None:
                raise ValueError(f"profile for cohort {profile.cohort!r} has no age bands for its age_band breakdown")
            old = units.share_65 / TYPICAL_SHARE_65
            shares = np.array(bands.base_shares) * old[:, None] ** np.array(bands.oldness_elasticity)
            splits.append(Split(breakdown, bands.labels, shares / shares.sum(1, keepdims=True),
                                np.array(profile.age_effects)))
    return splits
