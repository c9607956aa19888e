"""Data quality: rules derived from a feed's declaration, run by great-expectations in DuckDB.

    rules = derive_rules(feed, date.today())
    result = run_gate(staged_file, rules, lake_dir, personal_columns=personal_columns(feed))
    result.failures  # lineage of every failing row and the rules it broke

great-expectations is imported only when a gate first runs (it takes seconds to import).
"""

from wmp_platform.quality.gate import GateError, GateResult, RuleResult, run_gate
from wmp_platform.quality.rules import CATEGORIES, Rule, derive_rules, personal_columns

__all__ = [
    "CATEGORIES", "GateError", "GateResult", "Rule", "RuleResult", "derive_rules", "personal_columns", "run_gate",
]
