"""Plain-English sentences for board papers, built from a scorecard row.

e.g. "Flu uptake 65+ in Harrow was 71.2% in Feb 2026, below the 75.0% target; the target will not be
met without change (consistent fail); no sign of special-cause change."
"""

from __future__ import annotations

from metrics.catalogue import Metric

VARIATION_PHRASE = {
    "common_cause": "no sign of special-cause change",
    "improvement_high": "a special-cause improvement (unusually high recent values)",
    "improvement_low": "a special-cause improvement (unusually low recent values)",
    "concern_high": "special-cause concern (unusually high recent values)",
    "concern_low": "special-cause concern (unusually low recent values)",
    "neutral_high": "a special-cause rise",
    "neutral_low": "a special-cause fall",
}
ASSURANCE_PHRASE = {
    "consistent_pass": "the target will consistently be met (consistent pass)",
    "consistent_fail": "the target will not be met without change (consistent fail)",
    "inconsistent": "the target may or may not be met (inconsistent)",
}


def _against_target(metric: Metric, value: float, target: float | None) -> str | None:
    if target is None or target != target:
        return None
    shown = metric.format_value(target)
    if value == target:
        return f"on the {shown} target"
    return f"{'above' if value > target else 'below'} the {shown} target"


def summary_sentence(metric: Metric, row: dict, area_name: str) -> str:
    """One sentence: value and period, against target, assurance, SPC variation, and NWL if it differs."""
    parts = [f"{metric.short_title} in {area_name} was {metric.format_value(row['value'])} in {row['period']}"]
    target_clause = _against_target(metric, row["value"], row.get("target"))
    if target_clause and metric.season_months and row.get("rag_basis") not in (None, "target"):
        # A season in progress is judged against the same point last season, not yet against its target.
        target_clause = f"the {metric.format_value(row['target'])} target applies at the season's end"
    head = parts[0] + (f", {target_clause}" if target_clause else "")
    clauses = [head]
    if row.get("assurance") in ASSURANCE_PHRASE:
        clauses.append(ASSURANCE_PHRASE[row["assurance"]])
    if row.get("variation") in VARIATION_PHRASE:
        clauses.append(VARIATION_PHRASE[row["variation"]])
    elif metric.season_months:
        clauses.append("cumulative seasonal uptake, so compared with the same point last season "
                       f"({'better' if row.get('direction') == 'improving' else 'not better'})")
    if row.get("vs_nwl_998") == "worse":
        clauses.append("significantly worse than NWL")
    elif row.get("vs_nwl_998") == "better":
        clauses.append("significantly better than NWL")
    return "; ".join(clauses) + "."


def sii_sentence(metric: Metric, area_name: str, sii: float, lower: float, upper: float) -> str:
    """Reading of a slope index of inequality fitted from most deprived (rank 0) to least deprived (rank 1)."""
    size = f"{abs(sii):,.1f} {metric.units.difference} (95% CI {lower:,.1f} to {upper:,.1f})"
    if lower <= 0 <= upper:
        return (f"Across the deprivation quintiles of {area_name}, the estimated gap in {metric.short_title} "
                f"between the most and least deprived ends is {size}; the confidence interval includes zero, so "
                "there is no clear social gradient.")
    higher_where = "least" if sii > 0 else "most"
    # A positive slope: higher at the least deprived end; if higher is better, the most deprived fare worse.
    judgement = {"better": " The most deprived residents fare worse.",
                 "worse": " The least deprived residents fare worse.", None: ""}[metric.judge(sii)]
    return (f"Across the deprivation quintiles of {area_name}, {metric.short_title} is {size} higher at the "
            f"{higher_where} deprived end of the population than at the other end.{judgement}")
