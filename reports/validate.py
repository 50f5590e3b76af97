"""report.json is checked against its published JSON Schema before it is written.

The schema (reports/schema/report.schema.json) is the contract with whatever
reads the report (CI dashboards, the baseline comparison of a later run), so
a writer change that breaks it fails the run's report loudly instead of
handing readers a file they cannot parse.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

SCHEMA_PATH = Path(__file__).resolve().parent / "schema" / "report.schema.json"


class ReportSchemaError(ValueError):
    """The report does not match reports/schema/report.schema.json."""


@cache
def validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def problems(report: Any, limit: int = 10) -> list[str]:
    """Where the report breaks the schema, as 'path: message' lines (empty when valid)."""
    errors = sorted(validator().iter_errors(report), key=lambda e: list(e.absolute_path))
    # A message quotes the offending value, which can be a whole test: keep it short.
    return [
        f"/{'/'.join(str(p) for p in e.absolute_path)}: {e.message[:300]}" for e in errors[:limit]
    ]


def validate(report: Any) -> None:
    found = problems(report)
    if found:
        raise ReportSchemaError(
            f"report.json does not match {SCHEMA_PATH.name}:\n" + "\n".join(found)
        )
