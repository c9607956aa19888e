"""Command line: python -m wmp_platform.synthetic ROOT [--size small] [--seed 42] [--start 2026-10-01] [--days N]."""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path

from wmp_platform.synthetic.estate import SIZES, generate_estate


def main(argv: list[str] | None = None) -> None:
    """Generate an estate and print rows per feed."""
    parser = argparse.ArgumentParser(prog="python -m wmp_platform.synthetic", description=__doc__)
    parser.add_argument("root", type=Path, help="folder to write landing/ and ground_truth/ into")
    parser.add_argument("--size", default="tiny", help=f"{', '.join(SIZES)} or a number of rows")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2026, 10, 1))
    parser.add_argument("--days", type=int)
    args = parser.parse_args(argv)
    size = int(args.size) if args.size.isdigit() else args.size
    began = time.perf_counter()
    summary = generate_estate(args.root, size=size, seed=args.seed, start=args.start, days=args.days)
    print(summary)
    print(f"generated in {time.perf_counter() - began:.1f} s")


if __name__ == "__main__":
    main()
