import base64

import pytest

from metrics import icons


@pytest.mark.parametrize("code", list(icons.VARIATION))
def test_every_variation_code_has_an_svg_icon(code):
    uri = icons.variation_icon(code)
    svg = base64.b64decode(uri.split(",", 1)[1]).decode()
    assert uri.startswith("data:image/svg+xml;base64,") and svg.startswith("<svg")
    assert icons.VARIATION[code][0] in svg


@pytest.mark.parametrize("code, letter", [("consistent_pass", ">P<"), ("consistent_fail", ">F<"),
                                          ("inconsistent", ">?<")])
def test_assurance_icons_carry_their_letter(code, letter):
    assert letter in base64.b64decode(icons.assurance_icon(code).split(",", 1)[1]).decode()


def test_missing_codes_have_no_icon_but_a_meaning():
    assert icons.variation_icon(None) is None and icons.assurance_icon(None) is None
    assert "No SPC" in icons.variation_meaning(None)
