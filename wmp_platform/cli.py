"""`wmp`: the platform's command line, a face on the engine beside Dagster."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from wmp_platform.storage import default_data_dir


def _size(value: str) -> str | int:
    return int(value) if value.isdigit() else value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="wmp", description="wmp-platform command line")
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser(
        "demo", help="generate a synthetic estate and materialise every asset into the data folder"
    )
    demo.add_argument("--data-dir", type=Path, default=None, help="data folder (default: $WMP_DATA_DIR or ~/wmp-data)")
    demo.add_argument("--size", type=_size, default="small", help="tiny | small | medium | large | a row count")
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument("--regenerate", action="store_true", help="replace the landing files with a new estate")

    generate = commands.add_parser("generate", help="write a synthetic estate's landing files and ground truth")
    generate.add_argument("--data-dir", type=Path, default=None)
    generate.add_argument("--size", type=_size, default="small")
    generate.add_argument("--seed", type=int, default=42)
    generate.add_argument("--days", type=int, default=None)

    args = parser.parse_args(argv)
    data_dir = (args.data_dir or default_data_dir()).resolve()
    if args.command == "demo":
        from wmp_platform.demo import run_demo

        print(run_demo(data_dir, size=args.size, seed=args.seed, regenerate=args.regenerate).render())
    elif args.command == "generate":
        from wmp_platform.synthetic import generate_estate

        summary = generate_estate(data_dir, size=args.size, seed=args.seed, days=args.days)
        print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
