"""Early warning: each unit's probability of being on next quarter's warning list (methodology §6).

Data: the published quarterly scores of every quarter (metrics.panel.score_panel — the same
numbers as compute_score). One row per unit × quarter t in which the unit was assessed;
features use quarters up to t only, the label is "warned in quarter t + 1" (rows whose next
quarter has no list for the unit — not assessed, or too few peers — are not labelled).

Features (``feature_names``; Chinese names for the drivers), all known at the end of quarter t:
  gap (published score − the warning threshold), change (score − previous quarter's), trend
  (least-squares slope of the score over the last 4 quarters, points per quarter), rank_share
  (place among the peers, 0 = first, 1 = last), warned_recent (times on the list in the last 4
  quarters, t included), the points lost on each score item (item points − points scored), the
  overdue major-hazard backlog (the deduction's indicator) and its change. (The score itself,
  "warned now" and the deduction are left out: they duplicate gap, warned_recent and the backlog,
  and duplicated features make the drivers unreadable.)

Model: standardise, then L2-regularised logistic regression (scikit-learn, C = 0.5, Newton solver). Logistic
loss makes its outputs probabilities fitted to the observed warning rates; the backtest reports
the Brier score and a reliability table so the calibration can be checked, not assumed.

Backtest (rolling origin): for each quarter T that has labels, from the ``min_train``-th
labelled quarter on, the model is trained only on rows whose label quarter is strictly before T
(so features of quarters ≤ T − 2 — the quarter being predicted is never in training, nor is
anything known only at T) and predicts T from the features of T − 1. Each fold is recorded
(``Backtest.folds``: predicted quarter, its feature quarter, the training label quarters).
Pooled over the folds: ROC AUC, precision and recall at 0.5, and precision and recall of
"the ``last`` (3) most likely units of each peer group per quarter" (the size of a warning
list), beside two baselines — persistence (warned next = warned now) and the lowest current
score (AUC of −score).

Drivers: for each unit, the features that push its probability up most: coefficient ×
standardised value (the change in log-odds against an average unit), the top three positive
ones named with the unit's own figure.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from metrics.periods import Period
from metrics.scheme import Scheme

BASE_FEATURES = {
    "gap": "得分与预警线之差",
    "change": "得分较上季变化",
    "trend": "近4季度得分趋势（每季）",
    "rank_share": "同级排名位置",
    "warned_recent": "近4季度进入预警名单次数",
    "backlog": "逾期未整改重大隐患",
    "backlog_change": "逾期重大隐患较上季变化",
}


def feature_names(scheme: Scheme) -> dict[str, str]:
    """Feature code → Chinese name (base features + points lost per score item)."""
    out = dict(BASE_FEATURES)
    for it in scheme.require_score().items:
        out[f"lost_{it.indicator}"] = f"{scheme.indicator(it.indicator).name}失分"
    return out


def _slope(Y: np.ndarray) -> np.ndarray:
    """Least-squares slope of each row over its columns (equally spaced), ignoring NaN; NaN when
    fewer than two values."""
    x = np.arange(Y.shape[1], dtype=float)
    ok = ~np.isnan(Y)
    n = ok.sum(axis=1)
    xm = np.where(ok, x, 0).sum(axis=1) / np.maximum(n, 1)
    ym = np.where(ok, Y, 0).sum(axis=1) / np.maximum(n, 1)
    dx = np.where(ok, x - xm[:, None], 0)
    dy = np.where(ok, Y - ym[:, None], 0)
    var = (dx ** 2).sum(axis=1)
    return np.where((n >= 2) & (var > 0), (dx * dy).sum(axis=1) / np.where(var > 0, var, 1), np.nan)


def build_features(scores: pd.DataFrame, scheme: Scheme, window: int = 4) -> pd.DataFrame:
    """One row per unit × quarter (assessed): period, code, name, group, the features, and the
    label columns next_period, has_label, next_warned (``scores``: metrics.panel.score_panel)."""
    spec = scheme.require_score()
    quarters = sorted(scores["period"].unique(), key=Period.parse)
    qi = {q: i for i, q in enumerate(quarters)}
    s = scores.assign(qi=scores["period"].map(qi))
    S = s.pivot(index="code", columns="qi", values="score").reindex(columns=range(len(quarters))).astype(float)
    W = s.pivot(index="code", columns="qi", values="warned").reindex(index=S.index, columns=range(len(quarters)))
    W = W.astype("boolean").fillna(False).astype(float).to_numpy()
    Sv = S.to_numpy()
    trend = np.full(Sv.shape, np.nan)
    recent = np.zeros(Sv.shape)
    for t in range(len(quarters)):
        lo = max(0, t - window + 1)
        trend[:, t] = _slope(Sv[:, lo:t + 1])
        recent[:, t] = W[:, lo:t + 1].sum(axis=1)
    prev = np.column_stack([np.full(len(S), np.nan), Sv[:, :-1]]) if len(quarters) else Sv
    long = lambda a, name: pd.DataFrame(a, index=S.index).stack(future_stack=True).rename(name)  # noqa: E731
    extra = pd.concat([long(trend, "trend"), long(recent, "warned_recent"), long(Sv - prev, "change")], axis=1)
    extra.index.names = ["code", "qi"]
    df = s.merge(extra.reset_index(), on=["code", "qi"], how="left")
    df = df[df["assessed"].astype(bool)].copy()
    df["gap"] = scheme.warning.gap(df["score"])
    df["rank_share"] = ((df["rank"].astype(float) - 1) / (df["peers"].astype(float) - 1).where(df["peers"] > 1)).fillna(0.0)
    df["warned"] = df["warned"].astype("boolean").fillna(False)
    for it in spec.items:
        df[f"lost_{it.indicator}"] = it.points - df[f"{it.indicator}_points"].astype(float)
    back = next((a.indicator for a in spec.deductions), None)
    df["backlog"] = df[f"{back}_value"].astype(float) if back else 0.0
    bk = s.pivot(index="code", columns="qi", values=f"{back}_value") if back else None
    if bk is not None:
        bprev = bk.shift(1, axis=1).stack(future_stack=True).rename("bprev").reset_index()
        df = df.merge(bprev, on=["code", "qi"], how="left")
        df["backlog_change"] = (df["backlog"] - df["bprev"]).fillna(0.0)
        df = df.drop(columns="bprev")
    else:
        df["backlog_change"] = 0.0
    df["change"] = df["change"].fillna(0.0)
    df["trend"] = df["trend"].fillna(0.0)
    # the label: on the list in the next quarter (only where that quarter has a list for the unit)
    nxt = s[["code", "qi", "warned", "assessed", "peers"]].assign(qi=s["qi"] - 1)
    nxt = nxt.rename(columns={"warned": "next_warned", "assessed": "next_assessed", "peers": "next_peers"})
    df = df.merge(nxt, on=["code", "qi"], how="left")
    df["next_period"] = df["qi"].map(lambda i: quarters[i + 1] if i + 1 < len(quarters) else None)
    df["has_label"] = (df["next_assessed"].astype("boolean").fillna(False).astype(bool)
                       & scheme.warning.has_list(df["next_peers"].fillna(0)))
    df["next_warned"] = df["next_warned"].astype("boolean").fillna(False).astype(int).where(df["has_label"], -1)
    df["label_qi"] = df["qi"] + 1
    cols = ["period", "code", "name", "group", "score", "rank", "peers", "warned", *feature_names(scheme),
            "next_period", "has_label", "next_warned", "label_qi"]
    return df.sort_values(["qi", "code"])[cols].reset_index(drop=True)


def make_model(C: float = 0.5):
    return make_pipeline(StandardScaler(), LogisticRegression(C=C, solver="newton-cholesky", max_iter=200))


def drivers(model, X: pd.DataFrame, names: dict[str, str], top: int = 3) -> list[list[tuple[str, str, float, float]]]:
    """Per row: the ``top`` features raising the log-odds most (code, Chinese name, value,
    contribution = coefficient × standardised value); only positive contributions."""
    scaler, lr = model[0], model[-1]
    Z = (X.to_numpy(dtype=float) - scaler.mean_) / np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    contrib = Z * lr.coef_[0]
    out = []
    for i in range(len(X)):
        order = np.argsort(-contrib[i])[:top]
        out.append([(X.columns[j], names[X.columns[j]], float(X.iat[i, j]), float(contrib[i, j]))
                    for j in order if contrib[i, j] > 0])
    return out


def _fmt_driver(code: str, name: str, value: float, row: pd.Series | None = None) -> str:
    if code == "rank_share" and row is not None and pd.notna(row.get("rank")):
        return f"同级排名第{int(row['rank'])}/{int(row['peers'])}位"
    if code in ("warned_recent", "backlog"):
        return f"{name} {value:.0f}"
    if code in ("trend", "change", "gap", "backlog_change"):
        return f"{name} {value:+.1f}"
    if code.startswith("lost_"):
        return f"{name} {value:.1f}分"
    return f"{name} {value:.2f}"


def _top_k(frame: pd.DataFrame, k: int) -> pd.Series:
    """Flag the k highest probabilities of each peer group in each quarter (ties included)."""
    r = frame.groupby(["next_period", "group"])["probability"].rank(method="min", ascending=False)
    return r <= k


def _rates(pred: pd.Series, truth: pd.Series) -> tuple[float, float]:
    tp = int((pred & truth).sum())
    p = int(pred.sum())
    t = int(truth.sum())
    return (tp / p if p else float("nan")), (tp / t if t else float("nan"))


@dataclasses.dataclass
class Backtest:
    folds: pd.DataFrame        # predicted, features_from, train_quarters (tuple), n_train, train_positives, n_test, positives
    predictions: pd.DataFrame  # next_period (predicted quarter), period (features), code, name, group, probability, next_warned
    metrics: dict              # auc, precision/recall at 0.5 and top-k, brier, base rate, baselines
    reliability: pd.DataFrame  # bin, predicted (mean), observed (rate), n


def backtest(features: pd.DataFrame, names: dict[str, str], min_train: int = 4, last: int = 3,
             C: float = 0.5) -> Backtest:
    """Rolling-origin backtest (see the module docstring)."""
    cols = list(names)
    lab = features[features["has_label"]]
    folds, preds = [], []
    for T_qi in sorted(lab["label_qi"].unique()):
        train = lab[lab["label_qi"] < T_qi]          # label quarters strictly before the predicted one
        test = lab[lab["label_qi"] == T_qi]
        T = test["next_period"].iloc[0]
        train_q = tuple(train.drop_duplicates("label_qi").sort_values("label_qi")["next_period"])
        if len(train_q) < min_train or train["next_warned"].nunique() < 2 or test.empty:
            continue
        model = make_model(C).fit(train[cols], train["next_warned"])
        p = model.predict_proba(test[cols])[:, 1]
        folds.append(dict(predicted=T, features_from=test["period"].iloc[0], train_quarters=train_q,
                          last_train_quarter=train_q[-1], n_train=len(train),
                          train_positives=int(train["next_warned"].sum()),
                          n_test=len(test), positives=int(test["next_warned"].sum())))
        preds.append(test[["next_period", "period", "code", "name", "group", "next_warned", "score", "warned"]]
                     .assign(probability=p))
    folds = pd.DataFrame(folds, columns=["predicted", "features_from", "train_quarters", "last_train_quarter",
                                         "n_train", "train_positives", "n_test", "positives"])
    if not preds:
        return Backtest(folds, pd.DataFrame(), {}, pd.DataFrame())
    pr = pd.concat(preds, ignore_index=True)
    y = pr["next_warned"].astype(bool)
    both = y.nunique() == 2
    m = {"folds": len(folds), "predictions": len(pr), "positives": int(y.sum()), "base_rate": float(y.mean()),
         "auc": float(roc_auc_score(y, pr["probability"])) if both else float("nan"),
         "brier": float(brier_score_loss(y, pr["probability"]))}
    m["precision_50"], m["recall_50"] = _rates(pr["probability"] >= 0.5, y)
    m["precision_top"], m["recall_top"] = _rates(_top_k(pr, last), y)
    m["top_k"] = last
    m["baseline_persistence_precision"], m["baseline_persistence_recall"] = _rates(pr["warned"].astype(bool), y)
    m["baseline_score_auc"] = float(roc_auc_score(y, -pr["score"])) if both else float("nan")
    bins = pd.cut(pr["probability"], [0, 0.05, 0.2, 0.5, 1.0], include_lowest=True,
                  labels=["0–5%", "5%–20%", "20%–50%", "50%–100%"])
    rel = pr.groupby(bins, observed=True).agg(predicted=("probability", "mean"), observed=("next_warned", "mean"),
                                              n=("probability", "size")).reset_index(names="bin")
    rel["bin"] = rel["bin"].astype(str)
    pr["top"] = _top_k(pr, last)
    return Backtest(folds, pr, m, rel)


@dataclasses.dataclass
class EarlyWarning:
    as_of: str                 # the quarter whose features are used
    target: str                # the quarter predicted (as_of + 1)
    risk: pd.DataFrame         # code, name, group, score, warned, probability, drivers (text), driver_list, actual
    backtest: Backtest
    coefficients: pd.DataFrame  # feature, name, coefficient (per standard deviation)
    trained_on: tuple          # label quarters of the final model


def early_warning(scores: pd.DataFrame, scheme: Scheme, as_of: str | None = None, min_train: int = 4,
                  C: float = 0.5) -> EarlyWarning:
    """Probabilities for the quarter after ``as_of`` (default: the last quarter in ``scores``),
    from a model trained on every label quarter up to ``as_of`` (so never on the predicted one),
    with the drivers, the rolling-origin backtest over the quarters up to ``as_of``, and the
    actual outcome when the predicted quarter is already in ``scores``."""
    names = feature_names(scheme)
    cols = list(names)
    feats = build_features(scores, scheme)
    quarters = sorted(scores["period"].unique(), key=Period.parse)
    as_of = str(Period.parse(as_of)) if as_of else quarters[-1]
    cut = Period.parse(as_of)
    target = str(_next(cut))
    if as_of not in quarters:
        raise ValueError(f"no scores for {as_of}")
    known = feats[feats["has_label"] & (feats["label_qi"] <= quarters.index(as_of))]
    bt = backtest(known, names, min_train=min_train, last=scheme.warning.last, C=C)
    now = feats[feats["period"] == as_of].reset_index(drop=True)
    risk = now[["code", "name", "group", "score", "warned"]].copy()
    coef = pd.DataFrame(columns=["feature", "name", "coefficient"])
    trained = tuple(known.drop_duplicates("label_qi").sort_values("label_qi")["next_period"])
    if known["next_warned"].nunique() == 2 and len(now):
        model = make_model(C).fit(known[cols], known["next_warned"])
        risk["probability"] = model.predict_proba(now[cols])[:, 1]
        d = drivers(model, now[cols], names)
        risk["driver_list"] = d
        risk["drivers"] = ["；".join(_fmt_driver(c, n, v, now.iloc[i]) for c, n, v, _ in row) for i, row in enumerate(d)]
        coef = pd.DataFrame({"feature": cols, "name": [names[c] for c in cols], "coefficient": model[-1].coef_[0]})
        coef = coef.reindex(coef["coefficient"].abs().sort_values(ascending=False).index).reset_index(drop=True)
    else:
        risk["probability"] = np.nan
        risk["driver_list"] = [[] for _ in range(len(risk))]
        risk["drivers"] = ""
    actual = feats[(feats["period"] == as_of) & feats["has_label"]].set_index("code")["next_warned"]
    risk["actual"] = risk["code"].map(actual).astype("Int64")
    risk = risk.sort_values(["probability", "code"], ascending=[False, True], na_position="last").reset_index(drop=True)
    return EarlyWarning(as_of, target, risk, bt, coef, trained)


def _next(p: Period) -> Period:
    return Period(p.year + 1, "quarter", 1) if p.number == 4 else Period(p.year, "quarter", p.number + 1)
