"""`python -m smart_money.cli`: the same as `smart-money`."""

from smart_money.cli import app

app(prog_name="smart-money")
