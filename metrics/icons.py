"""Making Data Count style icons (variation and assurance) as small SVGs, plus their plain-English meaning.

Drawn after the NHS England Making Data Count icons: a coloured circle with a letter, blue for
improvement, orange for concern, purple for change that is neither, grey for common cause.
"""

from __future__ import annotations

import base64

from metrics.charts import SPC_COLOURS

IMPROVEMENT, CONCERN, NEUTRAL, COMMON = (SPC_COLOURS["special_cause_improvement"], SPC_COLOURS[
    "special_cause_concern"], SPC_COLOURS["special_cause_neutral_high"], SPC_COLOURS["common_cause"])

VARIATION = {  # code: (colour, letter, arrow, meaning)
    "common_cause": (COMMON, "", "", "Common cause variation: no significant change"),
    "improvement_high": (IMPROVEMENT, "H", "up", "Special cause variation: improvement (higher)"),
    "improvement_low": (IMPROVEMENT, "L", "down", "Special cause variation: improvement (lower)"),
    "concern_high": (CONCERN, "H", "up", "Special cause variation: concern (higher)"),
    "concern_low": (CONCERN, "L", "down", "Special cause variation: concern (lower)"),
    "neutral_high": (NEUTRAL, "H", "up", "Special cause variation: higher, neither better nor worse"),
    "neutral_low": (NEUTRAL, "L", "down", "Special cause variation: lower, neither better nor worse"),
}
ASSURANCE = {
    "consistent_pass": (IMPROVEMENT, "P", "The target will consistently be met"),
    "consistent_fail": (CONCERN, "F", "The target will not be met without change (consistent fail)"),
    "inconsistent": (COMMON, "?", "The target may or may not be met (inconsistent)"),
}


def _svg(colour: str, letter: str, arrow: str = "") -> str:
    arrow_path = {"up": "M15 11 L20 6 L25 11", "down": "M15 29 L20 34 L25 29"}.get(arrow, "")
    dots = "" if letter else "".join(f'<circle cx="{x}" cy="20" r="2.6" fill="white"/>' for x in (11, 20, 29))
    y = {"up": 29, "down": 24}.get(arrow, 26)
    text = (f'<text x="20" y="{y}" font-family="Arial" font-size="15" font-weight="bold" fill="white" '
            f'text-anchor="middle">{letter}</text>') if letter else ""
    arrow_svg = f'<path d="{arrow_path}" stroke="white" stroke-width="2.5" fill="none"/>' if arrow_path else ""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40" viewBox="0 0 40 40">'
            f'<circle cx="20" cy="20" r="19" fill="{colour}"/>{dots}{text}{arrow_svg}</svg>')


def _data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


# An empty image for table cells without an icon (a missing image shows as the text "None").
BLANK = "data:image/svg+xml;base64," + base64.b64encode(
    b'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40"></svg>').decode()


def variation_icon(code: str | None) -> str | None:
    """Data URI of the variation icon for an XmR ``variation`` code (None when there is no SPC)."""
    if code not in VARIATION:
        return None
    colour, letter, arrow, _ = VARIATION[code]
    return _data_uri(_svg(colour, letter, arrow))


def assurance_icon(code: str | None) -> str | None:
    """Data URI of the assurance icon (None without a target or for a neutral metric)."""
    if code not in ASSURANCE:
        return None
    colour, letter, _ = ASSURANCE[code]
    return _data_uri(_svg(colour, letter))


def variation_meaning(code: str | None) -> str:
    return VARIATION[code][3] if code in VARIATION else "No SPC (too few points or a cumulative seasonal measure)"


def assurance_meaning(code: str | None) -> str:
    return ASSURANCE[code][2] if code in ASSURANCE else "No assurance (no target)"
