"""Ranking metrics (MRR@K, HR@K, NDCG@K) of factor models, dense scorers and baselines."""

from __future__ import annotations

from tuner.metrics.baselines import popularity_baseline, popularity_scores
from tuner.metrics.ranking import RankingMetrics, Scorer, evaluate, evaluate_scorer

__all__ = [
    "RankingMetrics",
    "Scorer",
    "evaluate",
    "evaluate_scorer",
    "popularity_baseline",
    "popularity_scores",
]
