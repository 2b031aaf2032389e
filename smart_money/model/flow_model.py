"""The flow model: a LightGBM binary classifier boosted from a volatility-based prior.

Why this shape (measured on the simulated market, see docs/model.md): P(14-day return > 5 %)
is driven mostly by how volatile the stock will be over the window, and the label of one date
shares one market move, so with a few dozen training dates a classifier fitted to the binary
label alone chases date-level noise and generalises worse than a plain volatility feature.
The model therefore

1. forecasts the window's realised volatility with a LightGBM regressor (a low-noise target:
   ten squared daily returns, not one coin flip per sample) from the price context, trained on
   every fifth session of the training window rather than only the monthly sample dates
   (prices are daily; five times more dates of a target that needs no filing data);
2. turns it into a prior probability with a Student-t link whose scale is fitted on training
   data and whose drift is beta x a long-run market drift (a stated prior, not the realised
   mean of a few dozen dates, which is mostly one market path's luck);
3. boosts a LightGBM binary classifier with the plan's parameters from that prior (init score)
   over the directional smart-money features (trades and position changes) and the missingness
   indicators, with early stopping on validation: it keeps only what the validation window
   confirms. Ownership and ETF levels stay out of it: the literature finds no direction in them
   and their trending levels let trees fit one period's structure (measured in docs/model.md);
   date-level market features stay out because they let a classifier memorise dates;
4. calibrates on the validation window with an anchored Platt map (slope fitted, level kept),
   because a validation window's level is one market path's luck while its slope is not.

The plan's z-score normalizer (fitted on training rows) is applied first, so callers can send
raw features. Every part serialises to text/JSON; nothing is pickled.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from functools import cached_property

import lightgbm as lgb
import numpy as np
import pandas as pd
from scipy.optimize import minimize_scalar
from scipy.special import expit, logit
from scipy.stats import t as student_t
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from upath import UPath

from smart_money.data import calendar as cal
from smart_money.data import storage
from smart_money.dataset.catalogue import (
    ANALYSIS_FEATURES,
    DATE_LEVEL_FEATURES,
    DIRECTIONAL_FEATURES,
    FEATURES,
    LEVEL_FEATURES,
    MISSING_INDICATORS,
    MODEL_FEATURES,
    PRICE_FEATURES,
)
from smart_money.dataset.features import PriceMatrix, price_block
from smart_money.dataset.labels import THRESHOLD
from smart_money.model.identity import MODEL_ARTIFACTS

VOLATILITY_FEATURES = PRICE_FEATURES
CLASSIFIER_FEATURES = DIRECTIONAL_FEATURES + MISSING_INDICATORS
# what callers send (the normalizer covers all of them): every catalogue feature but the analysis
# columns, which are stored with the features and left out of the model (and of its registered
# feature list, so adding them changed no model version)
INPUT_FEATURES = MODEL_FEATURES
PLAN_PARAMS = {
    "num_leaves": 31,
    "learning_rate": 0.05,
    "n_estimators": 200,
    "max_depth": 6,
    "min_child_samples": 20,
    "subsample": 0.8,
    "colsample_bytree": 0.8,
    "reg_alpha": 0.1,
    "reg_lambda": 0.1,
    "random_state": 42,
}
SESSIONS_PER_YEAR = 252.0
PROB_CLIP = 1e-6
# one thread, as in training: a loaded Booster otherwise predicts with every OpenMP thread, which
# costs ~3 ms of thread start-up per call on a small batch (measured: 3.5 ms vs 0.05 ms for one row)
PREDICT_THREADS = 1


@dataclass
class TrainConfig:
    params: dict = field(default_factory=lambda: dict(PLAN_PARAMS))
    early_stopping_rounds: int = 20
    class_weight: str | None = None  # "balanced" reweights classes (distorts probabilities; recalibrate)
    use_prior: bool = True  # boost from the volatility prior (False: the plan's plain classifier)
    volatility_rounds: int = 3000
    volatility_fixed_rounds: int | None = None  # skip early stopping (refits of a known model)
    volatility_step: int = 5  # sessions between volatility-model training dates
    market_drift: float = 0.07  # long-run annual market drift used for the prior's mean
    link_dof: float = 6.0  # Student-t degrees of freedom of the prior's link
    calibration: str = "anchored_platt"  # anchored_platt | platt | isotonic | none
    label: str = "label"  # or "label_mirror": the same pipeline on falls > 5 %
    features: tuple[str, ...] = CLASSIFIER_FEATURES
    cross_fit_folds: int = 5
    winsorize: float | None = None  # clip inputs to the training rows' [q, 1 - q] quantiles


def lgb_params(params: dict, objective: str) -> dict:
    """The sklearn-style plan parameters as native LightGBM parameters."""
    p = {k: v for k, v in params.items() if k != "n_estimators"}
    # one thread by default: these data sets are small, and OpenMP threads spin-waiting against
    # another busy process can slow training a hundredfold
    p.update(
        objective=objective,
        verbosity=-1,
        subsample_freq=1 if p.get("subsample", 1.0) < 1.0 else 0,
        deterministic=True,
        num_threads=p.get("num_threads", 1),
    )
    return p


# -- normalizer --------------------------------------------------------------------------------
@dataclass
class Normalizer:
    """The plan's z-score normalizer: (x - mean) / std per feature, fitted on training rows;
    NaN stays NaN (LightGBM routes missing values itself). With `winsorize`, values are first
    clipped to the training rows' [q, 1 - q] quantiles."""

    features: list[str]
    mean: list[float]
    std: list[float]
    lower: list[float] | None = None
    upper: list[float] | None = None

    @classmethod
    def fit(cls, frame: pd.DataFrame, features: list[str], winsorize: float | None = None) -> Normalizer:
        values = frame[features].astype(float)
        lower = upper = None
        if winsorize:
            lower_s, upper_s = values.quantile(winsorize), values.quantile(1 - winsorize)
            values = values.clip(lower_s, upper_s, axis=1)
            lower, upper = lower_s.fillna(-np.inf).tolist(), upper_s.fillna(np.inf).tolist()
        mean = values.mean().fillna(0.0)
        std = values.std(ddof=0).replace(0.0, 1.0).fillna(1.0)
        return cls(list(features), mean.tolist(), std.tolist(), lower, upper)

    def matrix(self, frame: pd.DataFrame) -> np.ndarray:
        """The z-scores as an array, columns in `features` order."""
        if list(frame.columns) == self.features:  # already in order (the serving path): no reindexing
            values = frame.to_numpy(dtype=float)
        else:
            missing = [f for f in self.features if f not in frame.columns]
            if missing:
                raise KeyError(f"features missing from the input: {missing}")
            values = frame[self.features].astype(float).to_numpy()
        if self.lower is not None and self.upper is not None:
            values = np.clip(values, np.asarray(self.lower), np.asarray(self.upper))
        return (values - np.asarray(self.mean)) / np.asarray(self.std)

    def transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame(self.matrix(frame), columns=self.features, index=frame.index)

    def to_json(self) -> dict:
        return {"kind": "zscore", **asdict(self)}

    @classmethod
    def from_json(cls, payload: dict) -> Normalizer:
        return cls(payload["features"], payload["mean"], payload["std"], payload.get("lower"), payload.get("upper"))


# -- prior -------------------------------------------------------------------------------------
@dataclass
class Prior:
    """P(R > log 1.05) (or < log 0.95 for the mirror label) with R ~ mu + k * vol * t(dof)."""

    scale: float
    dof: float
    market_drift_14d: float
    mirror: bool

    def probability(self, vol_forecast: np.ndarray, beta: np.ndarray) -> np.ndarray:
        mu = np.clip(np.nan_to_num(beta, nan=1.0), 0.0, 3.0) * self.market_drift_14d
        sd = self.scale * vol_forecast
        if self.mirror:
            p = student_t.cdf((np.log(1.0 - THRESHOLD) - mu) / sd, df=self.dof)
        else:
            p = student_t.sf((np.log(1.0 + THRESHOLD) - mu) / sd, df=self.dof)
        return np.clip(p, PROB_CLIP, 1 - PROB_CLIP)

    @classmethod
    def fit(cls, vol_forecast: np.ndarray, beta: np.ndarray, y: np.ndarray, config: TrainConfig, mirror: bool) -> Prior:
        drift = config.market_drift * 10.0 / SESSIONS_PER_YEAR  # ~10 sessions per label window

        def nll(log_scale: float) -> float:
            p = cls(float(np.exp(log_scale)), config.link_dof, drift, mirror).probability(vol_forecast, beta)
            return -float(np.mean(y * np.log(p) + (1 - y) * np.log1p(-p)))

        best = minimize_scalar(nll, bounds=(np.log(0.3), np.log(3.0)), method="bounded")
        return cls(float(np.exp(best.x)), config.link_dof, drift, mirror)


# -- calibrator -------------------------------------------------------------------------------
@dataclass
class Calibrator:
    method: str
    params: dict

    def apply(self, p: np.ndarray) -> np.ndarray:
        p = np.clip(p, PROB_CLIP, 1 - PROB_CLIP)
        if self.method == "none":
            return p
        if self.method == "anchored_platt":
            z = logit(p)
            return expit(self.params["center"] + self.params["slope"] * (z - self.params["center"]))
        if self.method == "platt":
            return expit(self.params["intercept"] + self.params["slope"] * logit(p))
        if self.method == "isotonic":
            return np.clip(np.interp(p, self.params["x"], self.params["y"]), PROB_CLIP, 1 - PROB_CLIP)
        raise ValueError(f"unknown calibration method {self.method!r}")

    @classmethod
    def fit(cls, p: np.ndarray, y: np.ndarray, method: str) -> Calibrator:
        p = np.clip(p, PROB_CLIP, 1 - PROB_CLIP)
        if method == "none":
            return cls("none", {})
        if method == "anchored_platt":
            z = logit(p)
            center = float(z.mean())

            def nll(slope: float) -> float:
                q = np.clip(expit(center + slope * (z - center)), PROB_CLIP, 1 - PROB_CLIP)
                return -float(np.mean(y * np.log(q) + (1 - y) * np.log1p(-q)))

            slope = minimize_scalar(nll, bounds=(0.1, 5.0), method="bounded").x
            return cls("anchored_platt", {"center": center, "slope": float(slope)})
        if method == "platt":
            model = LogisticRegression(C=1e6).fit(logit(p)[:, None], y)
            return cls("platt", {"intercept": float(model.intercept_[0]), "slope": float(model.coef_[0, 0])})
        if method == "isotonic":
            iso = IsotonicRegression(out_of_bounds="clip", y_min=PROB_CLIP, y_max=1 - PROB_CLIP).fit(p, y)
            return cls("isotonic", {"x": iso.X_thresholds_.tolist(), "y": iso.y_thresholds_.tolist()})
        raise ValueError(f"unknown calibration method {method!r}")

    def to_json(self) -> dict:
        return {"method": self.method, **self.params}

    @classmethod
    def from_json(cls, payload: dict) -> Calibrator:
        payload = dict(payload)
        return cls(payload.pop("method"), payload)


# -- the model ---------------------------------------------------------------------------------
@dataclass
class FlowModel:
    normalizer: Normalizer
    classifier: lgb.Booster
    volatility: lgb.Booster | None
    prior: Prior | None
    calibrator: Calibrator
    features: list[str]

    @cached_property
    def _position(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.normalizer.features)}

    def _columns(self, z: np.ndarray, names) -> np.ndarray:
        return z[:, [self._position[name] for name in names]]

    def predict_frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Columns: volatility_forecast, prior, score (uncalibrated), probability. Works on
        arrays inside (a one-row call is dominated by per-call overhead, not arithmetic)."""
        z = self.normalizer.matrix(frame)
        out: dict[str, np.ndarray] = {}
        init = np.zeros(len(frame))
        if self.volatility is not None and self.prior is not None:
            vol = np.exp(self.volatility.predict(self._columns(z, VOLATILITY_FEATURES), num_threads=PREDICT_THREADS))
            prior = self.prior.probability(vol, frame["beta_250d"].to_numpy(dtype=float))
            out["volatility_forecast"] = vol
            out["prior"] = prior
            init = logit(prior)
        raw = self.classifier.predict(self._columns(z, self.features), raw_score=True, num_threads=PREDICT_THREADS)
        out["score"] = expit(init + raw)
        out["probability"] = self.calibrator.apply(out["score"])
        return pd.DataFrame(out, index=frame.index)

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        return self.predict_frame(frame)["probability"].to_numpy()

    # -- artifacts -----------------------------------------------------------------------
    ARTIFACTS = MODEL_ARTIFACTS

    def save(self, folder: str | os.PathLike[str]) -> list[UPath]:
        """Write the artifacts (text and JSON) into `folder`, a local path or an fsspec URL;
        returns the paths written."""
        texts = {
            "model.txt": self.classifier.model_to_string(),
            "normalizer.json": json.dumps(self.normalizer.to_json(), indent=2),
            "calibrator.json": json.dumps(self.calibrator.to_json(), indent=2),
            "prior.json": json.dumps(
                {
                    "features": self.features,
                    "volatility_features": list(VOLATILITY_FEATURES),
                    "prior": asdict(self.prior) if self.prior else None,
                },
                indent=2,
            ),
        }
        if self.volatility is not None:
            texts["volatility_model.txt"] = self.volatility.model_to_string()
        written = [storage.as_path(folder) / name for name in texts]
        for path, text in zip(written, texts.values(), strict=True):
            storage.write_text(path, text)
        return written

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> FlowModel:
        root = storage.as_path(folder)
        spec = json.loads((root / "prior.json").read_text())
        volatility_path = root / "volatility_model.txt"
        return cls(
            normalizer=Normalizer.from_json(json.loads((root / "normalizer.json").read_text())),
            classifier=lgb.Booster(model_str=(root / "model.txt").read_text()),
            volatility=lgb.Booster(model_str=volatility_path.read_text()) if volatility_path.exists() else None,
            prior=Prior(**spec["prior"]) if spec["prior"] else None,
            calibrator=Calibrator.from_json(json.loads((root / "calibrator.json").read_text())),
            features=spec["features"],
        )


def volatility_samples(
    prices: pd.DataFrame, market_index: str, first: pd.Timestamp, last: pd.Timestamp, step: int = 5
) -> pd.DataFrame:
    """Price-context features and the realised volatility of the following label window, for
    every `step`-th session in [first, last] whose window ends by `last` (training data for the
    volatility model; the same price_block the features use)."""
    px = PriceMatrix(prices)
    sessions = px.dates[(px.dates >= first) & (px.dates <= last)][::step]
    frames = []
    for t in sessions:
        end = cal.label_end_date(t)
        if end > last:
            continue
        r0, r1 = px.row_on_or_before(t), int(px.dates.searchsorted(end))
        if r1 >= len(px.dates):
            continue
        block = price_block(px, t, market_index)
        with np.errstate(invalid="ignore"):
            block["realized_volatility_14d"] = np.sqrt(np.nansum(px.log_returns[r0 + 1 : r1 + 1] ** 2, axis=0))
        block["sample_date"] = t
        frames.append(block.reset_index())
    if not frames:
        return pd.DataFrame(columns=["symbol", "sample_date", *VOLATILITY_FEATURES, "realized_volatility_14d"])
    out = pd.concat(frames, ignore_index=True)
    out = out[(out["symbol"] != market_index) & (out["prices_missing"] == 0) & out["realized_volatility_14d"].gt(0)]
    return out[["symbol", "sample_date", *VOLATILITY_FEATURES, "realized_volatility_14d"]].reset_index(drop=True)


@dataclass
class VolatilityFit:
    """The volatility model and its out-of-fold forecasts for the training rows (reusable by
    another label's pipeline on the same rows: the volatility target does not depend on it)."""

    booster: lgb.Booster
    train_forecast: np.ndarray
    iteration: int


@dataclass
class TrainedFlowModel:
    model: FlowModel
    best_iteration: int
    volatility_best_iteration: int
    config: TrainConfig
    train_rows: int
    val_rows: int
    volatility_fit: VolatilityFit | None = None


def _fit_volatility(
    train_z: pd.DataFrame,
    train_target: np.ndarray,
    val_z: pd.DataFrame,
    val_target: np.ndarray,
    config: TrainConfig,
    rounds: int | None = None,
) -> lgb.Booster:
    params = lgb_params(config.params, "regression")
    dtrain = lgb.Dataset(train_z[list(VOLATILITY_FEATURES)], train_target, free_raw_data=False)
    if rounds is not None:
        return lgb.train(params, dtrain, max(rounds, 1))
    dval = lgb.Dataset(val_z[list(VOLATILITY_FEATURES)], val_target, reference=dtrain)
    return lgb.train(
        params,
        dtrain,
        config.volatility_rounds,
        valid_sets=[dval],
        callbacks=[lgb.early_stopping(max(config.early_stopping_rounds, 30), verbose=False)],
    )


def _log_vol(frame: pd.DataFrame) -> np.ndarray:
    return np.log(frame["realized_volatility_14d"].clip(lower=1e-4).to_numpy(dtype=float))


def _cross_fit_volatility(
    samples: pd.DataFrame,
    samples_z: pd.DataFrame,
    rows: pd.DataFrame,
    rows_z: pd.DataFrame,
    rounds: int,
    config: TrainConfig,
) -> np.ndarray:
    """Out-of-fold volatility forecasts for the training rows: time blocks of the volatility
    samples are held out in turn (with the label horizon purged around them), so the classifier
    trains on forecasts as honest as the ones it will see later."""
    dates = np.sort(rows["sample_date"].unique())
    blocks = np.array_split(dates, min(config.cross_fit_folds, len(dates)))
    out = np.zeros(len(rows))
    horizon = pd.Timedelta(days=21)
    for block in blocks:
        lo, hi = pd.Timestamp(block[0]), pd.Timestamp(block[-1])
        keep = (samples["sample_date"] < lo - horizon) | (samples["sample_date"] > hi + horizon)
        booster = _fit_volatility(
            samples_z[keep.to_numpy()], _log_vol(samples[keep]), rows_z, _log_vol(rows), config, rounds
        )
        in_block = rows["sample_date"].between(lo, hi).to_numpy()
        out[in_block] = booster.predict(rows_z.loc[in_block, list(VOLATILITY_FEATURES)])
    return out


def train_flow_model(
    train: pd.DataFrame,
    val: pd.DataFrame,
    config: TrainConfig | None = None,
    vol_samples: pd.DataFrame | None = None,
    volatility_fit: VolatilityFit | None = None,
) -> TrainedFlowModel:
    """Fit normalizer, volatility model, prior, classifier and calibrator on training rows
    (validation is used for early stopping and calibration). `vol_samples` (from
    volatility_samples over the training window) feeds the volatility model; without it the
    training rows themselves do."""
    config = config or TrainConfig()
    features = list(config.features)
    if len(train) == 0 or len(val) == 0:
        raise ValueError("training needs non-empty train and validation splits")
    mirror = config.label == "label_mirror"
    normalizer = Normalizer.fit(train, list(dict.fromkeys([*INPUT_FEATURES, *features])), config.winsorize)
    train_z, val_z = normalizer.transform(train), normalizer.transform(val)
    y_train = train[config.label].astype(int).to_numpy()
    y_val = val[config.label].astype(int).to_numpy()

    volatility, prior, vol_iter = None, None, 0
    init_train = init_val = None
    if config.use_prior:
        if volatility_fit is None:
            samples = (
                train
                if vol_samples is None or vol_samples.empty
                else vol_samples[vol_samples["sample_date"] < val["sample_date"].min()]
            )
            samples_z = normalizer.transform(samples.reindex(columns=normalizer.features).set_index(samples.index))
            booster = _fit_volatility(
                samples_z, _log_vol(samples), val_z, _log_vol(val), config, config.volatility_fixed_rounds
            )
            iteration = config.volatility_fixed_rounds or booster.best_iteration
            forecast = _cross_fit_volatility(samples, samples_z, train, train_z, iteration, config)
            volatility_fit = VolatilityFit(booster, forecast, int(iteration))
        volatility, vol_iter = volatility_fit.booster, volatility_fit.iteration
        vol_train = np.exp(volatility_fit.train_forecast)
        vol_val = np.exp(volatility.predict(val_z[list(VOLATILITY_FEATURES)]))
        beta_train, beta_val = train["beta_250d"].to_numpy(dtype=float), val["beta_250d"].to_numpy(dtype=float)
        prior = Prior.fit(vol_train, beta_train, y_train, config, mirror)
        init_train = logit(prior.probability(vol_train, beta_train))
        init_val = logit(prior.probability(vol_val, beta_val))

    params = lgb_params(config.params, "binary")
    weights = None
    if config.class_weight == "balanced":
        pos = y_train.mean()
        weights = np.where(y_train == 1, 0.5 / pos, 0.5 / (1 - pos))
    dtrain = lgb.Dataset(train_z[features], y_train, init_score=init_train, weight=weights, free_raw_data=False)
    dval = lgb.Dataset(val_z[features], y_val, init_score=init_val, reference=dtrain)
    classifier = lgb.train(
        params,
        dtrain,
        int(config.params.get("n_estimators", 200)),
        valid_sets=[dval],
        callbacks=[lgb.early_stopping(config.early_stopping_rounds, verbose=False)],
    )

    uncalibrated = FlowModel(normalizer, classifier, volatility, prior, Calibrator("none", {}), features)
    score_val = uncalibrated.predict_frame(val)["score"].to_numpy()
    calibrator = Calibrator.fit(score_val, y_val, config.calibration)
    model = FlowModel(normalizer, classifier, volatility, prior, calibrator, features)
    return TrainedFlowModel(
        model,
        int(classifier.best_iteration or classifier.current_iteration()),
        int(vol_iter),
        config,
        len(train),
        len(val),
        volatility_fit,
    )


def feature_importance(model: FlowModel) -> dict[str, float]:
    """Gain importance of the classifier; volatility-model gain is reported under `vol:`."""
    gains = dict(zip(model.features, model.classifier.feature_importance("gain").tolist()))
    if model.volatility is not None:
        for name, gain in zip(VOLATILITY_FEATURES, model.volatility.feature_importance("gain").tolist()):
            gains[f"vol:{name}"] = gain
    return {k: float(v) for k, v in sorted(gains.items(), key=lambda kv: -kv[1])}


def feature_roles(features: tuple[str, ...] = CLASSIFIER_FEATURES) -> dict[str, str]:
    """Where each catalogue feature goes in the model, and why (shown in the report)."""
    roles = {}
    for name in FEATURES:
        if name in features:
            roles[name] = "classifier"
        elif name in DATE_LEVEL_FEATURES:
            roles[name] = "volatility model only (one value per date: would let the classifier memorise dates)"
        elif name in VOLATILITY_FEATURES:
            roles[name] = "volatility model (prior)"
        elif name in LEVEL_FEATURES:
            roles[name] = "reported, not modelled (ownership level: no direction in the literature, trends over time)"
        elif name in ANALYSIS_FEATURES:
            roles[name] = (
                "analysis column, not a model input (insider trades split: history or 10b5-1 box often missing)"
            )
        else:
            roles[name] = "not used"
    return roles
