"""Drawing values at random, quickly and reproducibly, from a seeded random.Random."""

from __future__ import annotations

import random
import zlib
from bisect import bisect
from collections.abc import Sequence
from itertools import accumulate
from typing import TypeVar

T = TypeVar("T")


def rng_for(seed: int, *parts: object) -> random.Random:
    """An independent generator for one part of the estate (a feed on a day, the population, ...).

    Seeded from the estate seed and the parts' text with CRC-32, not hash(), so it is the same
    in every process and on every run.
    """
    text = ":".join(str(p) for p in (seed, *parts))
    return random.Random(zlib.crc32(text.encode()) * 1_000_003 + len(text))


def pick(rng: random.Random, values: Sequence[T]) -> T:
    """One value, uniformly (rng.choice without its rejection loop: faster, equally fair here)."""
    return values[int(rng.random() * len(values))]


class WeightedChoice:
    """Repeated draws from fixed (value, weight) pairs."""

    def __init__(self, options):
        self.values, weights = zip(*options)
        self.cumulative = list(accumulate(weights))
        self.total = self.cumulative[-1]

    def __call__(self, rng: random.Random):
        return self.values[bisect(self.cumulative, rng.random() * self.total)]

    @property
    def probabilities(self) -> list[float]:
        previous = [0.0, *self.cumulative[:-1]]
        return [(c - p) / self.total for c, p in zip(self.cumulative, previous)]

