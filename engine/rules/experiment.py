"""Champion/challenger assignment: which arm of a strategy's experiment a customer is in.

Deterministic and stable: a 64-bit mix (splitmix64) of the customer id and a SHA-256 of the
experiment name, taken modulo 10,000 basis points. The same customer stays in the same arm on
every run, on every process, with either evaluator; another experiment reshuffles everyone."""

from __future__ import annotations

import hashlib

import numpy as np
import numpy.typing as npt

from engine.rules.compiler import CompiledStrategy

_M1, _M2, _GOLDEN = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB), np.uint64(0x9E3779B97F4A7C15)


def buckets(experiment: str, customer_ids: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """0..9999 per customer: hash(customer, experiment name)."""
    salt = np.uint64(int.from_bytes(hashlib.sha256(experiment.encode()).digest()[:8], "big"))
    with np.errstate(over="ignore"):
        x = np.asarray(customer_ids, dtype=np.int64).astype(np.uint64) * _GOLDEN + salt
        x = (x ^ (x >> np.uint64(30))) * _M1
        x = (x ^ (x >> np.uint64(27))) * _M2
        x = x ^ (x >> np.uint64(31))
    return (x % np.uint64(10_000)).astype(np.int64)


def arm_index(compiled: CompiledStrategy, customer_ids: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Index into `compiled.arms` per customer (a strategy without an experiment: all 0)."""
    experiment = compiled.strategy.experiment
    if experiment is None or not compiled.arms:
        return np.zeros(len(customer_ids), dtype=np.int64)
    shares = ([experiment.holdout] if experiment.holdout else []) + [v.weight for v in experiment.variants]
    edges = np.cumsum(np.asarray(shares, dtype=np.int64) * 100)
    return np.searchsorted(edges, buckets(experiment.name, customer_ids), side="right").astype(np.int64)


def arms_of(
    compiled: CompiledStrategy, customer_ids: npt.NDArray[np.int64]
) -> list[tuple[CompiledStrategy, npt.NDArray[np.bool_]]]:
    """(the compiled arm, a mask of the rows it decides) for every arm with rows; without an
    experiment, the strategy itself for every row."""
    if not compiled.arms:
        return [(compiled, np.ones(len(customer_ids), dtype=bool))]
    index = arm_index(compiled, customer_ids)
    return [(arm, index == k) for k, arm in enumerate(compiled.arms) if (index == k).any()]
