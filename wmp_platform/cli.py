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

    link = commands.add_parser("link", help="link an outside list of people: deduplicate it, or match it to the hub")
    link_commands = link.add_subparsers(dest="link_command", required=True)
    for name, text in (("dedupe", "find the rows of a CSV file that are one person"),
                       ("match", "link the rows of a CSV file to the hub's person entities")):
        sub = link_commands.add_parser(name, help=text, description=f"{text[0].upper()}{text[1:]}. OUT keeps every "
                                       "input column and adds entity_id and match_probability.")
        sub.add_argument("input", type=Path, metavar="INPUT.csv")
        sub.add_argument("--out", type=Path, required=True, metavar="OUT.csv")
        sub.add_argument("--map", action="append", default=[], metavar="COLUMN=ATTRIBUTE",
                         help="read COLUMN as ATTRIBUTE (forename, surname, dob, ... or 'none'); repeatable")
        sub.add_argument("--model", type=Path, default=None, help="a trained person model (JSON); "
                         "default: the data folder's hub/person_model.json, else the shipped model")
        sub.add_argument("--data-dir", type=Path, default=None, help="data folder (default: $WMP_DATA_DIR or ~/wmp-data)")

    args = parser.parse_args(argv)
    data_dir = (args.data_dir or default_data_dir()).resolve()
    if args.command == "demo":
        from wmp_platform.demo import run_demo

        print(run_demo(data_dir, size=args.size, seed=args.seed, regenerate=args.regenerate).render())
    elif args.command == "generate":
        from wmp_platform.synthetic import generate_estate

        summary = generate_estate(data_dir, size=args.size, seed=args.seed, days=args.days)
        print(summary)
    elif args.command == "link":
        return _link(args, data_dir)
    return 0


def _link(args: argparse.Namespace, data_dir: Path) -> int:
    from wmp_platform.matching.outside_list import OutsideListError, dedupe_list, match_list

    try:
        mapping = dict(_mapping(item) for item in args.map)
        if args.link_command == "dedupe":
            result = dedupe_list(args.input, args.out, mapping=mapping, model=args.model, data_dir=data_dir)
        else:
            result = match_list(args.input, args.out, data_dir=data_dir, mapping=mapping, model=args.model)
    except (OutsideListError, ValueError) as error:
        print(f"wmp link {args.link_command}: {error}", file=sys.stderr)
        return 2
    print(result)
    return 0


def _mapping(item: str) -> tuple[str, str]:
    column, separator, attribute = item.rpartition("=")
    if not separator or not column or not attribute:
        raise ValueError(f"--map {item!r}: expected COLUMN=ATTRIBUTE")
    return column, attribute.strip()


if __name__ == "__main__":
    sys.exit(main())
