"""The synthetic estate: a seeded population rendered by every source system, with ground truth.

    from wmp_platform.synthetic import generate_estate
    summary = generate_estate(Path("data"), size="small", seed=42)
"""

from wmp_platform.synthetic.estate import SIZES, EstateSummary, generate_estate

__all__ = ["SIZES", "EstateSummary", "generate_estate"]
