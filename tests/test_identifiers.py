"""Tests for wmp_platform.identifiers: domain examples, normalisers, check letters,
and Python / DuckDB macro parity."""

import ast
import random
from datetime import date
from pathlib import Path

import duckdb
import pytest

from wmp_platform import identifiers as ids

# --- domain.md examples -------------------------------------------------------------


@pytest.mark.parametrize("value", ["2008/0056560Z", "79/163001B", "1979/0163001B"])
def test_domain_valid_pnc(value):
    assert ids.is_valid_pnc(value)


def test_domain_invalid_pnc():
    assert not ids.is_valid_pnc("2001/0171310S")


@pytest.mark.parametrize("value", ["265416/21G", "65656/91H", "065656/91H", "SF05/482703J"])
def test_domain_valid_cro(value):
    assert ids.is_valid_cro(value)


@pytest.mark.parametrize(
    "func, raw, expected",
    [
        (ids.normalise_pnc, "79/163001B", "1979/0163001B"),
        (ids.normalise_pnc, "2008/0056560Z", "2008/0056560Z"),
        (ids.normalise_cro, "65656/91H", "065656/91H"),
        (ids.normalise_postcode, "b11aa", "B1 1AA"),
    ],
)
def test_domain_normal_forms(func, raw, expected):
    assert func(raw) == expected


# --- normalisers on messy input -----------------------------------------------------

ALL_NORMALISERS = [
    ids.normalise_postcode,
    ids.normalise_vrm,
    ids.normalise_pnc,
    ids.normalise_cro,
    ids.normalise_ni,
    ids.normalise_phone,
    ids.normalise_name,
    ids.normalise_sex,
]


@pytest.mark.parametrize("func", ALL_NORMALISERS)
@pytest.mark.parametrize("blank", [None, "", "   ", "\t\n\xa0"])
def test_blank_is_none(func, blank):
    assert func(blank) is None


@pytest.mark.parametrize(
    "func, raw, expected",
    [
        (ids.normalise_postcode, "  wv10   9aa ", "WV10 9AA"),
        (ids.normalise_postcode, "sw1a1aa", "SW1A 1AA"),
        (ids.normalise_postcode, "not  a\tpostcode", "NOT A POSTCODE"),
        (ids.normalise_vrm, "ab12 cde", "AB12CDE"),
        (ids.normalise_vrm, " bd-51 smr. ", "BD51SMR"),
        (ids.normalise_vrm, " -- ", "--"),
        (ids.normalise_pnc, " 79 / 163001 b ", "1979/0163001B"),
        (ids.normalise_pnc, "20080056560z", "2008/0056560Z"),
        (ids.normalise_pnc, "08/56560Z", "2008/0056560Z"),
        (ids.normalise_pnc, "unknown  pnc", "UNKNOWN PNC"),
        (ids.normalise_cro, " 65656 / 91h", "065656/91H"),
        (ids.normalise_cro, "sf05/482703j", "SF05/482703J"),
        (ids.normalise_cro, "1234567/91H", "1234567/91H"),
        (ids.normalise_ni, "ab 12 34 56 c", "AB123456C"),
        (ids.normalise_ni, "n/k", "N/K"),
        (ids.normalise_phone, "+44 121 626 5000", "01216265000"),
        (ids.normalise_phone, "0044121 626 5000", "01216265000"),
        (ids.normalise_phone, "(0121) 626-5000", "01216265000"),
        (ids.normalise_phone, "+44 (0)7700 900123", "07700900123"),
        (ids.normalise_phone, "1216265000", "01216265000"),
        (ids.normalise_phone, "+33 1 23 45 67 89", "+33123456789"),
        (ids.normalise_phone, "0033 1 23 45 67 89", "+33123456789"),
        (ids.normalise_phone, "ext 123", "EXT 123"),
        (ids.normalise_name, "  o'brien-SMITH ", "O'Brien-Smith"),
        (ids.normalise_name, "mcdonald", "Mcdonald"),
        (ids.normalise_name, "MARY   ann\td’arcy", "Mary Ann D’Arcy"),
        (ids.normalise_name, "zoË  éMILE", "Zoë Émile"),
        (ids.normalise_address, " 12,  High St.,Aston ", "12 HIGH ST ASTON"),
        (ids.normalise_sex, " male ", "M"),
        (ids.normalise_sex, "1", "M"),
        (ids.normalise_sex, "Man", "M"),
        (ids.normalise_sex, "FEMALE", "F"),
        (ids.normalise_sex, "2", "F"),
        (ids.normalise_sex, "woman", "F"),
        (ids.normalise_sex, "not stated", "U"),
    ],
)
def test_normalisers(func, raw, expected):
    assert func(raw) == expected


def test_pnc_two_digit_year_pivot():
    yy = date.today().year % 100
    assert ids.normalise_pnc(f"{yy:02d}/1A").startswith(f"20{yy:02d}/")
    if yy < 99:
        assert ids.normalise_pnc(f"{yy + 1:02d}/1A").startswith(f"19{yy + 1:02d}/")


# --- validity -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "func, good, bad",
    [
        (
            ids.is_valid_vrm,
            ["BD51 SMR", "ab12cde", "AB02CDE", "A123 BCD", "ABC 123D", "B1ABC"],
            ["AB00CDE", "AB01CDE", "AB50CDE", "IB12CDE", "A0BCD", "ABC0D", "AB12CD", "12"],
        ),
        (
            ids.is_valid_postcode,
            ["B1 1AA", "b11aa", "WV10 9AA", "SW1A 1AA", "EC1A1BB", "GIR 0AA"],
            ["B1 1A", "11 1AA", "B1", "BI1 1AA"],
        ),
        (
            ids.is_valid_ni,
            ["AB123456C", "ab 12 34 56 c", "JG103759A"],
            ["BG123456C", "GB123456C", "ZZ123456D", "AB123456E", "DA123456A", "AO123456A"],
        ),
        (
            ids.is_valid_phone,
            ["0121 626 5000", "+44 7700 900123", "01632 96 0983"],
            ["+33 1 23 45 67 89", "0121 626", "phone"],
        ),
        (ids.is_valid_uprn, ["100023336956", "1", 100023336956], ["1000233369561", "", "12a", -1]),
        (ids.is_valid_pnc, ["2008/56560Z", "08 0056560 z"], ["2008/0056560A", "PNC", "123/1A"]),
        (ids.is_valid_cro, ["265416/21g", "sf 05/482703 j"], ["265416/21H", "SF05/482703K", "CRO"]),
    ],
)
def test_validity(func, good, bad):
    assert all(func(v) for v in good), [v for v in good if not func(v)]
    assert not any(func(v) for v in bad), [v for v in bad if func(v)]
    assert func(None) is False


# --- check letters and generators ---------------------------------------------------


def test_check_letters():
    assert ids.pnc_check_letter(2008, 56560) == "Z"
    assert ids.pnc_check_letter(1979, 163001) == "B"
    assert ids.pnc_check_letter(2001, 171310) != "S"
    assert ids.cro_check_letter(21, 265416) == "G"
    assert ids.cro_check_letter(91, 65656) == "H"
    assert ids.cro_check_letter(5, 482703) == "J"
    assert ids.make_pnc(2008, 56560) == "2008/0056560Z"
    assert ids.make_cro(65656, 91) == "065656/91H"


def test_generated_ids_are_canonical_and_valid():
    rng = random.Random(7)
    for _ in range(200):
        pnc = ids.make_pnc(rng.randint(1960, 2026), rng.randrange(10**7))
        cro = ids.make_cro(rng.randrange(10**6), rng.randrange(100))
        assert ids.normalise_pnc(pnc) == pnc and ids.is_valid_pnc(pnc)
        assert ids.normalise_cro(cro) == cro and ids.is_valid_cro(cro)
        wrong = next(c for c in ids.CHECK_ALPHABET if c != pnc[-1])
        assert not ids.is_valid_pnc(pnc[:-1] + wrong)


def test_generator_rejects_oversized_serial():
    with pytest.raises(ValueError):
        ids.make_pnc(2020, 10**7)
    with pytest.raises(ValueError):
        ids.make_cro(10**6, 20)


def test_module_does_not_import_dagster():
    tree = ast.parse(Path(ids.__file__).read_text())
    modules = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    modules += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert not [m for m in modules if m.split(".")[0] == "dagster"]


# --- Python / SQL parity ------------------------------------------------------------

LETTERS, DIGITS = "ABCDEFGHJKLMNPRSTUVWXYZIOQ", "0123456789"
# Garbage alphabet. Leaves out the characters whose case mapping differs between Python
# and DuckDB (see the module docstring).
JUNK = LETTERS + DIGITS + "abcz /-+().,'’_?é\t\n\xa0ñØ"
DOMAIN_EXAMPLES = [
    *["2008/0056560Z", "79/163001B", "2001/0171310S", "265416/21G", "65656/91H", "SF05/482703J"],
    *["b11aa", "+44 121 626 5000", "0044121 626 5000", "(0121) 626-5000", "  o'brien-SMITH "],
]


def _candidates(rng: random.Random) -> list:
    """One plausible raw value of each identifier kind, plus a piece of garbage."""

    def pick(alphabet, k):
        return "".join(rng.choice(alphabet) for _ in range(k))

    year, serial, yy = rng.randint(1950, 2030), rng.randrange(10**7), rng.randrange(100)
    pnc, cro = ids.make_pnc(year, serial), ids.make_cro(serial // 10, yy)
    return [
        rng.choice([pnc, pnc[2:], pnc.replace("/", ""), f"{yy}/{serial}{pick(LETTERS, 1)}"]),
        rng.choice([cro, cro.lstrip("0"), f"SF{yy:02d}/{serial % 10**6}{pick(LETTERS, 1)}"]),
        pick(LETTERS, 2) + pick(DIGITS, 2) + " " + pick(LETTERS, 3),  # VRM, current style
        pick(LETTERS, 1) + pick(DIGITS, rng.randint(1, 3)) + pick(LETTERS, 3),  # prefix style
        pick(LETTERS, 3) + pick(DIGITS, rng.randint(1, 3)) + pick(LETTERS, 1),  # suffix style
        rng.choice(["B", "WV", "DY", "SW1A", "EC1A", "WS"])
        + f"{rng.randint(1, 99)} {pick(DIGITS, 1)}{pick(LETTERS, 2)}",
        " ".join([pick(LETTERS, 2), *(pick(DIGITS, 2) for _ in range(3)), pick("ABCDE", 1)]),
        rng.choice(["+44 ", "0044 ", "+44 (0)", "0", "", "+33 ", "0033 ", "(0"])
        + rng.choice(["121) 626 ", "7700 900", "1632-96", "20 7946 "])
        + pick(DIGITS, rng.randint(3, 5)),
        " ".join(
            rng.choice(["o'brien", "SMITH-jones", "mcdonald", "d’arcy", "ÉMILE", "zoë", "a  b"])
            for _ in range(rng.randint(1, 3))
        ),
        rng.choice(["M", "male", "1", "MAN", "f", "Female", "2", "woman", "u", "unknown", "0"]),
        pick(JUNK, rng.randint(1, 14)),
    ]


def _messy(rng: random.Random, value: str) -> str:
    """Random case, stray whitespace and punctuation, as seen in source feeds."""
    out = []
    for ch in value:
        if rng.random() < 0.12:
            out.append(rng.choice([" ", "  ", "\t", "\xa0"]))
        elif rng.random() < 0.03:
            out.append(rng.choice("-./"))
        out.append(ch.lower() if rng.random() < 0.4 else ch)
    return rng.choice(["", " ", "\n"]) + "".join(out) + rng.choice(["", " ", "  "])


def _parity_inputs(seed: int = 20240601, n: int = 600) -> list:
    rng = random.Random(seed)
    values = [None, "", " ", "\t\n", "\xa0", *DOMAIN_EXAMPLES]
    while len(values) < n:
        value = rng.choice(_candidates(rng))
        values.append(_messy(rng, value) if rng.random() < 0.6 else value)
    return values


PARITY_INPUTS = _parity_inputs()

NORMAL_FORMS = {
    "wmp_postcode": ids.normalise_postcode,
    "wmp_vrm": ids.normalise_vrm,
    "wmp_pnc": ids.normalise_pnc,
    "wmp_cro": ids.normalise_cro,
    "wmp_ni": ids.normalise_ni,
    "wmp_phone": ids.normalise_phone,
    "wmp_name": ids.normalise_name,
    "wmp_sex": ids.normalise_sex,
    "wmp_address": ids.normalise_address,
}
CHECKS = {  # macro: (Python check, normaliser that decides NULL, normalising macro)
    "wmp_valid_pnc": (ids.is_valid_pnc, ids.normalise_pnc, "wmp_pnc"),
    "wmp_valid_cro": (ids.is_valid_cro, ids.normalise_cro, "wmp_cro"),
    "wmp_valid_vrm": (ids.is_valid_vrm, ids.normalise_vrm, "wmp_vrm"),
    "wmp_valid_postcode": (ids.is_valid_postcode, ids.normalise_postcode, "wmp_postcode"),
    "wmp_valid_ni": (ids.is_valid_ni, ids.normalise_ni, "wmp_ni"),
    "wmp_valid_phone": (ids.is_valid_phone, ids.normalise_phone, "wmp_phone"),
}


@pytest.fixture(scope="module")
def sql_results():
    """Every macro applied to every parity input, on a real in-memory DuckDB."""
    con = duckdb.connect()
    ids.install_macros(con)
    ids.install_macros(con)  # CREATE OR REPLACE: installing twice is harmless
    con.execute("CREATE TABLE inputs AS SELECT unnest(?::VARCHAR[]) AS v", [PARITY_INPUTS])
    # A check takes the normal form, as staged columns hold it.
    calls = [f"{m}(v)" for m in NORMAL_FORMS] + [f"{m}({CHECKS[m][2]}(v))" for m in CHECKS]
    macros = [*NORMAL_FORMS, *CHECKS]
    rows = con.execute(f"SELECT v, {', '.join(calls)} FROM inputs").fetchall()
    con.close()
    assert len(rows) == len(PARITY_INPUTS)
    return {m: [(row[0], row[i + 1]) for row in rows] for i, m in enumerate(macros)}


@pytest.mark.parametrize("macro", NORMAL_FORMS)
def test_sql_normal_form_matches_python(sql_results, macro):
    func = NORMAL_FORMS[macro]
    diffs = [(v, got, func(v)) for v, got in sql_results[macro] if got != func(v)]
    assert not diffs


@pytest.mark.parametrize("macro", NORMAL_FORMS)
def test_normal_forms_are_idempotent(sql_results, macro):
    """The validity checks rely on it: a staged value, already normal, normalises to itself."""
    func = NORMAL_FORMS[macro]
    assert [v for _, v in sql_results[macro] if func(v) != v] == []


@pytest.mark.parametrize("macro", CHECKS)
def test_sql_check_matches_python(sql_results, macro):
    check, normalise, _ = CHECKS[macro]

    def expected(v):
        return None if normalise(v) is None else check(v)

    diffs = [(v, got, expected(v)) for v, got in sql_results[macro] if got is not expected(v)]
    assert not diffs


def test_parity_inputs_exercise_both_outcomes(sql_results):
    for macro in CHECKS:
        outcomes = {got for _, got in sql_results[macro]}
        assert outcomes == {True, False, None}, macro
