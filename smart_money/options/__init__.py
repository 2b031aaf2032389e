"""Options-flow smart-money engine (pure: no Dagster imports).

prints + NBBO -> parent events (reconstruction) -> features -> six-profile rules and calibration
(scoring) -> SmartMoneyEvent rows -> ClickHouse `smart_money_events` (store). The synthetic market
(synthetic) and its evaluation (evaluation) live here too; their hidden labels never reach the
engine modules.
"""
