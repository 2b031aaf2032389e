"""The simulated market: the default, offline data source with known ground truth."""

from smart_money.sources.simulated.params import SimulationParams
from smart_money.sources.simulated.source import SimulatedSource

__all__ = ["SimulatedSource", "SimulationParams"]
