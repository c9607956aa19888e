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
                         "default: the data folder's models/person/current.json, else the shipped model")
        sub.add_argument("--data-dir", type=Path, default=None, help="data folder (default: $WMP_DATA_DIR or ~/wmp-data)")

    search = commands.add_parser("search", help="look up a person, a vehicle or a place in the published snapshot",
                                 description="Search the published read-only snapshot; a hit carries its 360 view. "
                                 "Exit status: 0 found, 1 nothing found, 2 bad input or nothing published.")
    search_kinds = search.add_subparsers(dest="search_kind", required=True)
    person = search_kinds.add_parser("person", help="by name (fuzzy: typos, nicknames, initials, sounds-alike) and "
                                     "date of birth, or by PNC ID, CRO number, NI number or phone number")
    person.add_argument("query", metavar="NAME_OR_IDENTIFIER", help='e.g. "jon smith", "Smith, Jon" or "2008/0056560Z"')
    person.add_argument("--dob", default=None, metavar="DATE", help="date of birth, YYYY-MM-DD or DD/MM/YYYY")
    vehicle = search_kinds.add_parser("vehicle", help="by registration (any spacing and case)")
    vehicle.add_argument("query", metavar="REGISTRATION")
    location = search_kinds.add_parser("location", help="by postcode, UPRN or address text")
    location.add_argument("query", metavar="POSTCODE_OR_ADDRESS")
    for sub in (person, vehicle, location):
        sub.add_argument("--json", action="store_true", help="print the result as JSON, for machines")
        sub.add_argument("--limit", type=int, default=10, help="hits to return (1-100; default 10)")
        sub.add_argument("--views", type=int, default=1, help="how many of the first hits carry their 360 view "
                         "(default 1)")
        sub.add_argument("--data-dir", type=Path, default=None, help="data folder (default: $WMP_DATA_DIR or ~/wmp-data)")

    serve = commands.add_parser("serve", help="run the officer search service (HTTP API and web page) on the "
                                "published snapshot", description="Serve the officer search API and web page with "
                                "uvicorn. Demo tokens (demo only): demo-response-token, demo-investigator-token, "
                                "demo-analyst-token, demo-auditor-token, demo-admin-token.")
    serve.add_argument("--data-dir", type=Path, default=None, help="data folder (default: $WMP_DATA_DIR or ~/wmp-data)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    serve.add_argument("--users", type=Path, default=None, help="users file (default: the embedded demo users)")
    serve.add_argument("--log-level", default="warning", help="uvicorn log level (default warning)")

    audit = commands.add_parser("audit", help="check the officer search service's audit log")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_commands.add_parser("verify", help="walk the audit log's hash chain; exit 1 when it was tampered with")
    verify.add_argument("--data-dir", type=Path, default=None, help="data folder (default: $WMP_DATA_DIR or ~/wmp-data)")
    verify.add_argument("--head", default=None, metavar="SEQ:HASH", help="a head noted earlier, to detect entries "
                        "cut off the end")

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
    elif args.command == "search":
        return _search(args, data_dir)
    elif args.command == "serve":
        return _serve(args, data_dir)
    elif args.command == "audit":
        return _audit_verify(args, data_dir)
    return 0


def _serve(args: argparse.Namespace, data_dir: Path) -> int:
    import os

    import uvicorn

    from wmp_platform.service.app import USERS_VARIABLE
    from wmp_platform.storage import DATA_DIR_VARIABLE

    if args.workers < 1:
        print(f"wmp serve: --workers {args.workers}: at least 1", file=sys.stderr)
        return 2
    # each worker process builds its app from the environment (uvicorn's factory), so pass both through it
    os.environ[DATA_DIR_VARIABLE] = str(data_dir)
    if args.users:
        os.environ[USERS_VARIABLE] = str(args.users.resolve())
    print(f"wmp serve: http://{args.host}:{args.port}/ on {data_dir} ({args.workers} worker(s)); API docs at /docs",
          flush=True)
    uvicorn.run("wmp_platform.service.app:app_from_env", factory=True, host=args.host, port=args.port,
                workers=args.workers, log_level=args.log_level)
    return 0


def _audit_verify(args: argparse.Namespace, data_dir: Path) -> int:
    from wmp_platform.service.audit import audit_path, verify

    path = audit_path(data_dir)
    if not path.exists():
        print(f"wmp audit verify: {path}: no audit log", file=sys.stderr)
        return 2
    head = None
    if args.head:
        seq, _, digest = args.head.partition(":")
        if not seq.isdigit() or len(digest) != 64:
            print(f"wmp audit verify: --head {args.head!r}: expected SEQ:HASH (the hash in hex)", file=sys.stderr)
            return 2
        head = {"seq": int(seq), "hash": digest}
    result = verify(path, head)
    print(result)
    return 0 if result.ok else 1


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


def _search(args: argparse.Namespace, data_dir: Path) -> int:
    from wmp_platform.search import SearchError, search_location, search_person, search_vehicle
    from wmp_platform.snapshot import SnapshotError, open_published
    from wmp_platform.storage import DataLayout

    try:
        with open_published(DataLayout(data_dir)) as con:
            options = {"limit": args.limit, "views": args.views}
            if args.search_kind == "person":
                result = search_person(con, args.query, args.dob, **options)
            elif args.search_kind == "vehicle":
                result = search_vehicle(con, args.query, **options)
            else:
                result = search_location(con, args.query, **options)
    except (SearchError, SnapshotError) as error:
        print(f"wmp search {args.search_kind}: {error}", file=sys.stderr)
        return 2
    print(result.to_json() if args.json else result.render())
    return 0 if result.hits else 1


def _mapping(item: str) -> tuple[str, str]:
    column, separator, attribute = item.rpartition("=")
    if not separator or not column or not attribute:
        raise ValueError(f"--map {item!r}: expected COLUMN=ATTRIBUTE")
    return column, attribute.strip()


if __name__ == "__main__":
    sys.exit(main())
