"""Quoting for the few SQL texts built from declarations (names and formats, never user queries)."""


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
