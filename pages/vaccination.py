"""vaccination priority page: the shared priority template for this priority."""

from pages._priority import render

render("vaccination")
