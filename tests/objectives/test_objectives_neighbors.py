"""Item-based objectives (SLIM, cosine item-kNN): parameters from the neighbour function's
signature, one report per trial, the value is the item-based recommender's validation MRR@100."""

from __future__ import annotations

import inspect
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from tuner.errors import ConfigError
from tuner.objectives import OBJECTIVES, CosineObjective, NeighborObjective, SLIMObjective
from tuner.study.spaces import default_space_path, load_space, parse_space

COSINE_SPACE = """
model = "cosine"
[params.top_k]
type = "int"
low = 5
high = 200
log = true
[params.shrinkage]
type = "float"
low = 0.0
high = 50.0
"""


@pytest.mark.parametrize(
    ("cls", "function"),
    [(SLIMObjective, "slim_neighbors"), (CosineObjective, "cosine_neighbors")],
)
def test_parameters_are_the_neighbour_functions_keyword_arguments(
    cls: type[NeighborObjective], function: str
) -> None:
    import tuner.similarities as sims

    signature = inspect.signature(getattr(sims, function)).parameters
    keywords = {n for n, p in signature.items() if p.kind == inspect.Parameter.KEYWORD_ONLY}
    assert cls.parameters == keywords - {"num_threads", "progress", "items"}
    assert cls.kind == "items" and OBJECTIVES[cls.name] is cls


def test_slim_and_cosine_parameters_are_the_ones_a_user_tunes() -> None:
    assert {"alpha", "l1_ratio", "top_k"} <= SLIMObjective.parameters
    assert {"top_k", "shrinkage"} == CosineObjective.parameters
    # the shipped spaces load against them
    for model in ("slim", "cosine"):
        load_space(default_space_path(model), known=OBJECTIVES[model].parameters, model=model)
        assert default_space_path(model, wide=True) == default_space_path(model)


def test_an_unknown_parameter_is_one_line() -> None:
    import scipy.sparse as sp

    with pytest.raises(ConfigError, match=r"Method 'cosine' takes no parameter\(s\) \['alpha'\]"):
        CosineObjective.fit_neighbors(sp.csr_matrix((3, 3), dtype="float32"), {"alpha": 1.0})


def test_trial_value_is_the_item_based_recommenders_validation_mrr(prepared_small: Path) -> None:
    from tuner.data import load_prepared
    from tuner.metrics import evaluate_scorer
    from tuner.similarities import cosine_neighbors
    from tuner.similarities.compare import item_recommender_scorer

    data = load_prepared(prepared_small)
    space = parse_space(COSINE_SPACE, known=CosineObjective.parameters, model="cosine")
    objective = CosineObjective(data, space, num_threads=1, report_users=50, seed=3)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(0))
    study.optimize(objective, n_trials=2)
    values = set()
    for trial in study.trials:
        assert trial.state == TrialState.COMPLETE
        # one report, at step 1: nothing to prune between iterations
        assert trial.intermediate_values == {1: trial.value}
        nb = cosine_neighbors(data.train, **trial.params)
        scorer = item_recommender_scorer(nb, data.train)
        # every validation user (report_users does not apply), training likes excluded
        full = evaluate_scorer(scorer, data.train, data.val, k=100)
        assert trial.value == full.mrr
        attrs = trial.user_attrs
        assert attrs["val_mrr_se"] == full.mrr_se > 0
        assert attrs["n_val_users"] == full.n_users == int((data.val.getnnz(axis=1) > 0).sum())
        assert attrs["fit_seconds"] > 0 and attrs["eval_seconds"] > 0
        assert attrs["hr_at_100"] == full.hr and attrs["neighbours_mean"] > 0
        values.add(trial.value)
    assert len(values) == 2  # the parameters matter
