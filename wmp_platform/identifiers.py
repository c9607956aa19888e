"""UK policing identifiers: normal forms, validity checks and generators.

Formats follow docs/domain.md, "Identifiers and their formats".

Every normaliser exists twice, as a Python function and as a DuckDB SQL macro in
``SQL_MACROS`` (see ``install_macros``), so staging can normalise in bulk without
Python UDFs. The two return the same result for the same input because they share the
regular expressions below, written in the syntax common to Python ``re`` and RE2: no
look-around, and ``[0-9]`` rather than ``\\d`` (which is Unicode-aware in Python).
Known gap: about thirty rare characters (``ß``, ``İ``, Greek letters with iota
subscript) whose Python case mapping changes the string length.

Normalisers never raise: a value that does not parse comes back upper-cased and
whitespace-collapsed (``normalise_name`` keeps its own casing), blanks become None. They are
idempotent, so the validity macros (``wmp_valid_*``) take a value already in normal form, as
staged columns hold it: checking a normal form is a few times cheaper than normalising again.
For raw text, normalise first: ``wmp_valid_pnc(wmp_pnc(x))`` is ``is_valid_pnc(x)``.
"""

from __future__ import annotations

import re
from datetime import date

from wmp_platform.sql import sql_literal

CHECK_ALPHABET = "ZABCDEFGHJKLMNPQRTUVWXY"

_WS = r"[ \t\n\r\f\v\xA0]+"
# Input shapes the normalisers recognise (on the upper-cased value, spaces removed
# except for the phone, where they are punctuation).
_POSTCODE_SHAPE = "[A-Z0-9]{2,4}[0-9][A-Z]{2}"
_PNC_IN = "([0-9]{2}|[0-9]{4})/?([0-9]{1,7})([A-Z])"
_CRO_IN = "[0-9]{1,6}/[0-9]{2}[A-Z]"
_CRO_SF = "SF[0-9]{2}/[0-9]{1,6}[A-Z]"
_NI_SHAPE = "[A-Z]{2}[0-9]{6}[A-Z]?"
_PHONE_SHAPE = r"\+?[()./ -]*[0-9][0-9()./ -]*"
_NAME_PART = "[^ '’-]*[ '’-]|[^ '’-]+"  # a part of a name and the break after it
_ADDRESS_PUNCTUATION = "[,.]"
_SEX = {"M": ("M", "MALE", "1", "MAN"), "F": ("F", "FEMALE", "2", "WOMAN")}

# Validity patterns, matched against the normal form.
_VRM = (
    "[A-HJ-PR-Y]{2}(?:0[2-9]|[1-46-9][0-9]|5[1-9])[A-HJ-PR-Z]{3}"  # current: no age 00/01/50
    "|[A-HJ-NPR-Y][1-9][0-9]{0,2}[A-HJ-PR-Y]{3}"  # prefix, 1983-2001
    "|[A-HJ-PR-Y]{3}[1-9][0-9]{0,2}[A-HJ-NPR-Y]"  # suffix, 1963-83
)
_POSTCODE = (
    "GIR 0AA|(?:[A-Z][0-9]{1,2}|[A-Z][A-HJ-Y][0-9]{1,2}|[A-Z][0-9][A-Z]"
    "|[A-Z][A-HJ-Y][0-9][A-Z]?) [0-9][A-Z]{2}"
)
_NI = "[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z][0-9]{6}[A-D]"
_NI_BARRED = ("BG", "GB", "KN", "NK", "NT", "TN", "ZZ")  # prefixes never issued
_PHONE = "0[0-9]{9,10}"
_UPRN = "[0-9]{1,12}"
# Check-letter layouts: (pattern, year group, serial group, serial width); the letter
# is group 3.
_PNC_CHECK = (("[0-9]{2}([0-9]{2})/([0-9]{7})([A-Z])", 1, 2, 7),)
_CRO_CHECK = (
    ("([0-9]{6})/([0-9]{2})([A-Z])", 2, 1, 6),
    ("SF([0-9]{2})/([0-9]{1,6})([A-Z])", 1, 2, 6),
)


def _collapse(x: str | None) -> str | None:
    """Trim and collapse whitespace runs to one space; None if blank."""
    return None if x is None else re.sub(_WS, " ", x).strip(" ") or None


def _squash(x: str | None) -> str | None:
    s = _collapse(x)
    return s and s.upper()


# --- normal forms -------------------------------------------------------------------


def normalise_postcode(x: str | None) -> str | None:
    """Upper-case, one space before the inward code: ``"b11aa"`` -> ``"B1 1AA"``."""
    s = _squash(x)
    if s is None:
        return None
    c = s.replace(" ", "")
    return f"{c[:-3]} {c[-3:]}" if re.fullmatch(_POSTCODE_SHAPE, c) else s


def normalise_vrm(x: str | None) -> str | None:
    """Upper-case, keep only A-Z and 0-9: ``"ab12 cde"`` -> ``"AB12CDE"``."""
    s = _squash(x)
    return s and (re.sub("[^A-Z0-9]", "", s) or s)


def normalise_pnc(x: str | None) -> str | None:
    """Canonical PNC ID ``YYYY/NNNNNNNL``: ``"79/163001B"`` -> ``"1979/0163001B"``.

    A two-digit year is taken as 20YY up to the current year, else 19YY.
    """
    s = _squash(x)
    m = s and re.fullmatch(_PNC_IN, s.replace(" ", ""))
    if not m:
        return s
    year, serial, letter = m.groups()
    if len(year) == 2:
        year = ("20" if year <= date.today().strftime("%y") else "19") + year
    return f"{year}/{serial.zfill(7)}{letter}"


def normalise_cro(x: str | None) -> str | None:
    """Canonical CRO number, serial padded to 6: ``"65656/91H"`` -> ``"065656/91H"``.

    The SF form (``SF05/482703J``) is only upper-cased.
    """
    s = _squash(x)
    if s is None:
        return None
    c = s.replace(" ", "")
    if re.fullmatch(_CRO_IN, c):
        serial, rest = c.split("/")
        return f"{serial.zfill(6)}/{rest}"
    return c if re.fullmatch(_CRO_SF, c) else s


def normalise_ni(x: str | None) -> str | None:
    """Upper-case, spaces removed: ``"ab 12 34 56 c"`` -> ``"AB123456C"``."""
    s = _squash(x)
    if s is None:
        return None
    c = s.replace(" ", "")
    return c if re.fullmatch(_NI_SHAPE, c) else s


def normalise_phone(x: str | None) -> str | None:
    """UK number in national form, digits only: ``"+44 (0)121 626 5000"`` -> ``"01216265000"``.

    A foreign number (``+33...``, ``0033...``) becomes ``+`` and its digits.
    """
    s = _squash(x)
    if s is None or not re.fullmatch(_PHONE_SHAPE, s):
        return s
    digits = ("00" if s.startswith("+") else "") + re.sub("[^0-9]", "", s)
    if digits.startswith("0044"):
        digits = digits[4:]
    elif digits.startswith("00"):
        return "+" + digits[2:]
    # lstrip also drops the trunk 0 written after the country code: "+44 (0)121".
    return "0" + digits.lstrip("0")


def normalise_name(x: str | None) -> str | None:
    """Trimmed, whitespace collapsed, each part capitalised.

    ``"  o'brien-SMITH "`` -> ``"O'Brien-Smith"`` (parts break at spaces, hyphens and
    apostrophes).
    """
    s = _collapse(x)
    if s is None:
        return None
    return "".join(part[:1].upper() + part[1:] for part in re.findall(_NAME_PART, s.lower()))


def normalise_address(x: str | None) -> str | None:
    """Upper-case, commas and full stops as spaces, whitespace collapsed: ``"1 High St., Aston"`` -> ``"1 HIGH ST ASTON"``."""
    return None if x is None else _squash(re.sub(_ADDRESS_PUNCTUATION, " ", x))


def normalise_sex(x: str | None) -> str | None:
    """``"M"``, ``"F"`` or ``"U"`` (any other non-blank value)."""
    s = _squash(x)
    if s is None:
        return None
    return next((code for code, words in _SEX.items() if s in words), "U")


# --- validity -----------------------------------------------------------------------


def _check_letter(yy: int, serial: int, width: int) -> str:
    if not 0 <= serial < 10**width:
        raise ValueError(f"serial {serial} does not fit in {width} digits")
    return CHECK_ALPHABET[((yy % 100) * 10**width + serial) % 23]


def _has_check_letter(n: str | None, layouts: tuple) -> bool:
    for pattern, yy, serial, width in layouts:
        m = re.fullmatch(pattern, n or "")
        if m:
            return _check_letter(int(m[yy]), int(m[serial]), width) == m[3]
    return False


def _matches(pattern: str, n: str | None) -> bool:
    return n is not None and re.fullmatch(pattern, n) is not None


def is_valid_pnc(x: str | None) -> bool:
    """True if ``x`` is a PNC ID with the right check letter."""
    return _has_check_letter(normalise_pnc(x), _PNC_CHECK)


def is_valid_cro(x: str | None) -> bool:
    """True if ``x`` is a CRO number (standard or SF form) with the right check letter."""
    return _has_check_letter(normalise_cro(x), _CRO_CHECK)


def is_valid_vrm(x: str | None) -> bool:
    """True if ``x`` is a current, prefix or suffix style registration."""
    return _matches(_VRM, normalise_vrm(x))


def is_valid_postcode(x: str | None) -> bool:
    """True if ``x`` has the shape of a UK postcode."""
    return _matches(_POSTCODE, normalise_postcode(x))


def is_valid_ni(x: str | None) -> bool:
    """True if ``x`` is a National Insurance number with an issuable prefix."""
    n = normalise_ni(x)
    return _matches(_NI, n) and n[:2] not in _NI_BARRED


def is_valid_phone(x: str | None) -> bool:
    """True if ``x`` is a UK number: 0 followed by 9 or 10 digits once normalised."""
    return _matches(_PHONE, normalise_phone(x))


def is_valid_uprn(x: str | int | None) -> bool:
    """True if ``x`` is a UPRN: 1 to 12 digits."""
    return x is not None and _matches(_UPRN, str(x).strip())


# --- generators ---------------------------------------------------------------------


def pnc_check_letter(year: int, serial: int) -> str:
    """Check letter of the PNC ID for ``year`` (two or four digits) and ``serial``."""
    return _check_letter(year, serial, 7)


def make_pnc(year: int, serial: int) -> str:
    """A valid canonical PNC ID, e.g. ``make_pnc(2008, 56560)`` -> ``"2008/0056560Z"``."""
    return f"{year:04d}/{serial:07d}{pnc_check_letter(year, serial)}"


def cro_check_letter(yy: int, serial: int) -> str:
    """Check letter of the CRO number for year ``yy`` and ``serial``."""
    return _check_letter(yy, serial, 6)


def make_cro(serial: int, yy: int) -> str:
    """A valid canonical CRO number, e.g. ``make_cro(65656, 91)`` -> ``"065656/91H"``."""
    return f"{serial:06d}/{yy % 100:02d}{cro_check_letter(yy, serial)}"


# --- DuckDB macros ------------------------------------------------------------------


def _in(values) -> str:
    return "(" + ", ".join(map(sql_literal, values)) + ")"


def _group(expr: str, pattern: str, i: int) -> str:
    return f"regexp_extract({expr}, {sql_literal(f'^(?:{pattern})$')}, {i})"


def _sql_has_check_letter(n: str, layouts: tuple) -> str:
    return " OR ".join(
        f"(regexp_full_match({n}, {sql_literal(p)}) AND wmp__check_letter("
        f"TRY_CAST({_group(n, p, yy)} AS BIGINT), TRY_CAST({_group(n, p, serial)} AS BIGINT),"
        f" {width}) = {_group(n, p, 3)})"
        for p, yy, serial, width in layouts
    )


_S = "wmp__squash(x)"
_C = f"replace({_S}, ' ', '')"
_DIGITS = (
    f"CASE WHEN starts_with({_S}, '+') THEN '00' ELSE '' END"
    f" || regexp_replace({_S}, '[^0-9]', '', 'g')"
)
_YEAR = _group(_C, _PNC_IN, 1)

SQL_MACROS: tuple[str, ...] = tuple(
    f"CREATE OR REPLACE MACRO {head} AS ({body})"
    for head, body in (
        ("wmp__collapse(x)", f"nullif(trim(regexp_replace(x, {sql_literal(_WS)}, ' ', 'g'), ' '), '')"),
        ("wmp__squash(x)", "upper(wmp__collapse(x))"),
        (
            "wmp__check_letter(yy, serial, width)",
            f"substr({sql_literal(CHECK_ALPHABET)},"
            " CAST(((yy % 100) * CAST(10 ** width AS BIGINT) + serial) % 23 AS INTEGER) + 1, 1)",
        ),
        (
            "wmp_postcode(x)",
            f"CASE WHEN regexp_full_match({_C}, {sql_literal(_POSTCODE_SHAPE)})"
            f" THEN left({_C}, length({_C}) - 3) || ' ' || right({_C}, 3) ELSE {_S} END",
        ),
        ("wmp_vrm(x)", f"coalesce(nullif(regexp_replace({_S}, '[^A-Z0-9]', '', 'g'), ''), {_S})"),
        (
            "wmp_pnc(x)",
            f"CASE WHEN regexp_full_match({_C}, {sql_literal(_PNC_IN)}) THEN"
            # lpad leaves a four-digit year alone and puts the century before a two-digit one.
            f" lpad({_YEAR}, 4,"
            f" CASE WHEN {_YEAR} <= strftime(current_date, '%y') THEN '20' ELSE '19' END)"
            f" || '/' || lpad({_group(_C, _PNC_IN, 2)}, 7, '0') || {_group(_C, _PNC_IN, 3)}"
            f" ELSE {_S} END",
        ),
        (
            "wmp_cro(x)",
            f"CASE WHEN regexp_full_match({_C}, {sql_literal(_CRO_IN)})"
            f" THEN lpad(split_part({_C}, '/', 1), 6, '0') || '/' || split_part({_C}, '/', 2)"
            f" WHEN regexp_full_match({_C}, {sql_literal(_CRO_SF)}) THEN {_C} ELSE {_S} END",
        ),
        (
            "wmp_ni(x)",
            f"CASE WHEN regexp_full_match({_C}, {sql_literal(_NI_SHAPE)}) THEN {_C} ELSE {_S} END",
        ),
        (
            "wmp_phone(x)",
            f"CASE WHEN NOT regexp_full_match({_S}, {sql_literal(_PHONE_SHAPE)}) THEN {_S}"
            f" WHEN starts_with({_DIGITS}, '0044') THEN '0' || ltrim(substr({_DIGITS}, 5), '0')"
            f" WHEN starts_with({_DIGITS}, '00') THEN '+' || substr({_DIGITS}, 3)"
            f" ELSE '0' || ltrim({_DIGITS}, '0') END",
        ),
        (
            "wmp_name(x)",
            f"array_to_string(list_transform("
            f"regexp_extract_all(lower(wmp__collapse(x)), {sql_literal(_NAME_PART)}),"
            " lambda part: upper(substr(part, 1, 1)) || substr(part, 2)), '')",
        ),
        ("wmp_address(x)", f"wmp__squash(regexp_replace(x, {sql_literal(_ADDRESS_PUNCTUATION)}, ' ', 'g'))"),
        (
            "wmp_sex(x)",
            "CASE "
            + " ".join(f"WHEN {_S} IN {_in(w)} THEN {sql_literal(code)}" for code, w in _SEX.items())
            + f" WHEN {_S} IS NOT NULL THEN 'U' END",
        ),
        # The validity checks take the normal form (see the module docstring).
        ("wmp_valid_pnc(x)", _sql_has_check_letter("x", _PNC_CHECK)),
        ("wmp_valid_cro(x)", _sql_has_check_letter("x", _CRO_CHECK)),
        ("wmp_valid_vrm(x)", f"regexp_full_match(x, {sql_literal(_VRM)})"),
        ("wmp_valid_postcode(x)", f"regexp_full_match(x, {sql_literal(_POSTCODE)})"),
        ("wmp_valid_ni(x)", f"regexp_full_match(x, {sql_literal(_NI)}) AND left(x, 2) NOT IN {_in(_NI_BARRED)}"),
        ("wmp_valid_phone(x)", f"regexp_full_match(x, {sql_literal(_PHONE)})"),
    )
)


def install_macros(con) -> None:
    """Create the ``wmp_*`` macros (see ``SQL_MACROS``) on a DuckDB connection."""
    for statement in SQL_MACROS:
        con.execute(statement)
