"""diabetes priority page: the shared priority template for this priority."""

from app_pages._priority import render

render("diabetes")
