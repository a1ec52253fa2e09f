"""Weighted scores: the one check of the weights analysts give (priorities, Champions)."""

from __future__ import annotations


def check_weights(weights: dict, components: tuple[str, ...], what: str) -> dict[str, float]:
    """Every component's weight (0 when not given); an unknown name, a negative weight or all zero is an error
    that names the known components."""
    unknown = set(weights) - set(components)
    if unknown:
        raise ValueError(f"unknown {what} weights {sorted(unknown)}; known: {', '.join(components)}")
    full = {c: float(weights.get(c, 0.0)) for c in components}
    if any(w < 0 for w in full.values()) or sum(full.values()) <= 0:
        raise ValueError(f"{what} weights must be >= 0 and not all 0")
    return full
