"""Publication gates of a flow-model candidate: computed from its evaluation summary; a
candidate that fails any is registered as rejected (model.registry) with the gates' details."""

from __future__ import annotations

from dataclasses import dataclass

from smart_money.evaluation.metrics import degenerate_intervals


@dataclass(frozen=True)
class GateConfig:
    min_auc_margin: float = 0.005  # test AUC above every baseline's by at least this
    max_ece_vs_oracle: float = 0.02  # simulated source: binned calibration error vs the exact posterior
    max_ece_lower_bound: float = 0.05  # otherwise: the test ECE's 95 % lower bound (date bootstrap)
    max_val_minus_test_auc: float = 0.02  # the plan's no-overfit rule (one-sided: test may beat val)
    leakage_auc: float = 0.70  # any AUC above this blocks publication until audited


def worlds(n: int) -> str:
    """'1 world', '4 worlds'."""
    return f"{n} world" if n == 1 else f"{n} worlds"


def independent_universes(n: int) -> str:
    return f"{n} independent universe" if n == 1 else f"{n} independent universes"


def evaluate_gates(summary: dict, config: GateConfig) -> dict[str, dict[str, object]]:
    """Gate name -> {passed, value, threshold, setting, detail}; `setting` is the GateConfig field
    (the `registered_model` config key) that holds the threshold. The minimum of beats_baselines
    is a lower bound on its value; every other threshold is an upper bound."""
    test = summary["metrics"]["test"]
    val = summary["metrics"]["val"]
    gates: dict[str, dict[str, object]] = {}
    best_name, best = max(((n, b["test_roc_auc"]) for n, b in summary["baselines"].items()), key=lambda nb: nb[1])
    margin = test["roc_auc"] - best
    gates["beats_baselines"] = {
        "passed": bool(margin >= config.min_auc_margin),
        "value": margin,
        "threshold": config.min_auc_margin,
        "setting": "min_auc_margin",
        "detail": f"test AUC {test['roc_auc']:.4f} vs best baseline {best_name} {best:.4f}",
    }
    independent = summary.get("independent_universe")
    if independent and "ece_vs_oracle_public" in independent:
        value = float(independent["ece_vs_oracle_public"])
        gates["calibration"] = {
            "passed": bool(value <= config.max_ece_vs_oracle),
            "value": value,
            "threshold": config.max_ece_vs_oracle,
            "setting": "max_ece_vs_oracle",
            "detail": f"binned ECE against the exact posterior on {independent_universes(independent['worlds'])} "
            f"(realised ECE {independent['model']['ece']:.4f}, oracle's own "
            f"{independent['oracle_public']['ece']:.4f})",
        }
    else:
        lower = float(test.get("ece_ci", [test["ece"], test["ece"]])[0])
        gates["calibration"] = {
            "passed": bool(lower <= config.max_ece_lower_bound),
            "value": lower,
            "threshold": config.max_ece_lower_bound,
            "setting": "max_ece_lower_bound",
            "detail": f"test ECE {test['ece']:.4f}, 95 % lower bound over dates {lower:.4f}"
            + (" (1 test date: the bound is the point value)" if degenerate_intervals(test) else ""),
        }
    gap = val["roc_auc"] - test["roc_auc"]
    gates["no_overfit"] = {
        "passed": bool(gap <= config.max_val_minus_test_auc),
        "value": gap,
        "threshold": config.max_val_minus_test_auc,
        "setting": "max_val_minus_test_auc",
        "detail": f"validation AUC {val['roc_auc']:.4f}, test {test['roc_auc']:.4f}",
    }
    leak = max(test["roc_auc"], val["roc_auc"])
    passed = leak <= config.leakage_auc and not summary.get("warnings")
    gates["no_leakage"] = {
        "passed": bool(passed),
        "value": leak,
        "threshold": config.leakage_auc,
        "setting": "leakage_auc",
        "detail": "; ".join(summary.get("warnings", [])) or "no leakage warning",
    }
    return gates
