"""The scenario format of `events/*.json` (see shared/README.md)."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from .metadata import Problem, schema_problems

FaultPhase = Literal["before", "after"]


class ScenarioError(Exception):
    """A scenario file that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class Fault:
    function: str
    error: str
    when: FaultPhase = "before"
    times: int = 1
    message: str | None = None


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    input: Any
    faults: tuple[Fault, ...] = ()
    seed: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    expect: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    @property
    def expected_status(self) -> str | None:
        return self.expect.get("status")

    @property
    def expected_error(self) -> str | None:
        return self.expect.get("error")


def load_scenario(path: Path) -> Scenario:
    try:
        raw = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ScenarioError(f"{path}: {exc}") from exc
    if not isinstance(raw, dict) or "input" not in raw:
        raise ScenarioError(f"{path}: a scenario is an object with at least an 'input' key")
    try:
        faults = tuple(Fault(**f) for f in raw.get("faults", []))
    except TypeError as exc:
        raise ScenarioError(f"{path}: bad fault entry ({exc})") from exc
    for fault in faults:
        if fault.when not in ("before", "after") or fault.times < 1:
            raise ScenarioError(f"{path}: fault {fault} needs when before|after and times >= 1")
    expect = raw.get("expect", {})
    if expect.get("status") not in (None, "SUCCEEDED", "FAILED"):
        raise ScenarioError(f"{path}: expect.status must be SUCCEEDED or FAILED")
    return Scenario(
        name=path.stem,
        description=str(raw.get("description", "")),
        input=raw["input"],
        faults=faults,
        seed=raw.get("seed", {}),
        expect=expect,
        path=path,
    )


def load_scenarios(events_dir: Path) -> dict[str, Scenario]:
    if not events_dir.is_dir():
        return {}
    return {p.stem: load_scenario(p) for p in sorted(events_dir.glob("*.json"))}


# ---------------------------------------------------------------- checks before any deploy
SCENARIO_SCHEMA = "scenario.schema.json"
# Error names a fault may inject besides the pattern's own exception classes: what AWS services
# and the Lambda and Step Functions runtimes answer (a driver or retry policy may match on them).
AWS_ERROR_KINDS = frozenset(
    {
        "ServiceException",
        "ServiceUnavailableException",
        "TooManyRequestsException",
        "ThrottlingException",
        "ThrottledException",
        "RequestLimitExceeded",
        "ProvisionedThroughputExceededException",
        "InternalServerError",
        "InternalFailure",
        "ResourceNotReadyException",
        "Lambda.ServiceException",
        "Lambda.AWSLambdaException",
        "Lambda.SdkClientException",
        "Lambda.TooManyRequestsException",
        "Lambda.Unknown",
        "States.Timeout",
        "States.TaskFailed",
    }
)
_BUILTIN_ERRORS = frozenset(
    name
    for name, value in vars(__import__("builtins")).items()
    if isinstance(value, type) and issubclass(value, BaseException)
)


def check_scenarios(
    pattern_root: Path,
    *,
    table_names: Iterable[str] | None = None,
) -> list[Problem]:
    """Every `events/*.json` of a pattern against the scenario schema and the pattern itself.

    Faults must name a function of the pattern (one that never exists never fires, and the
    scenario would pass testing nothing) and an error kind the pattern defines or AWS answers;
    seed tables must be keys of the `table_names` output: the given names (a deployed stack's
    outputs) or, by default, the keys read statically from the Terraform root (not checked when
    they cannot be read without deploying). Used by `cycle`/`run`/`up` before deploying, by
    `catalog validate` and by `catalog review`.
    """
    events = pattern_root / "events"
    paths = sorted(events.glob("*.json")) if events.is_dir() else []
    if not paths:
        return []
    from .packaging import PackagingError, function_specs

    try:
        functions: set[str] | None = {spec.name for spec in function_specs(pattern_root)}
    except PackagingError:
        functions = None  # the packaging check reports it; no function list to compare with
    kinds = error_kinds(pattern_root / "src") | AWS_ERROR_KINDS | _BUILTIN_ERRORS
    tables = (
        set(table_names)
        if table_names is not None
        else static_output_keys(pattern_root / "terraform", "table_names")
    )
    problems: list[Problem] = []
    for path in paths:
        problems += _scenario_problems(path, functions, kinds, tables)
    return problems


def _scenario_problems(
    path: Path,
    functions: set[str] | None,
    kinds: set[str] | frozenset[str],
    tables: set[str] | None,
) -> list[Problem]:
    try:
        text = path.read_text()
        data = json.loads(text)
    except (OSError, UnicodeDecodeError) as exc:
        return [Problem("scenario.unreadable", path, None, f"cannot read scenario: {exc}")]
    except json.JSONDecodeError as exc:
        return [Problem("scenario.invalid-json", path, exc.lineno, f"invalid JSON: {exc.msg}")]
    problems = schema_problems(data, text, path, SCENARIO_SCHEMA, code="scenario.schema")
    if problems:
        return problems
    for index, fault in enumerate(data.get("faults", [])):
        line = _line_of_value(text, fault["function"])
        if functions is not None and fault["function"] not in functions:
            problems.append(
                Problem(
                    "scenario.fault-function",
                    path,
                    line,
                    f"faults/{index}: function {fault['function']!r} does not exist in the "
                    f"pattern (has: {', '.join(sorted(functions))}); the fault would never fire",
                )
            )
        if fault["error"] not in kinds:
            problems.append(
                Problem(
                    "scenario.fault-error",
                    path,
                    _line_of_value(text, fault["error"]),
                    f"faults/{index}: error {fault['error']!r} is neither an exception class of "
                    "the pattern's src/ nor a known AWS error",
                )
            )
    for table in data.get("seed", {}):
        if tables is not None and table not in tables:
            problems.append(
                Problem(
                    "scenario.seed-table",
                    path,
                    _line_of_value(text, table),
                    f"seed table {table!r} is not a key of the table_names output "
                    f"(has: {', '.join(sorted(tables)) or 'none'})",
                )
            )
    return problems


def _line_of_value(text: str, value: str) -> int | None:
    match = re.search(re.escape(json.dumps(value)), text)
    return text.count("\n", 0, match.start()) + 1 if match else None


def error_kinds(src_dir: Path) -> set[str]:
    """Names of the exception classes defined in a pattern's code (read with ast, not imported)."""
    names: set[str] = set()
    for path in sorted(src_dir.rglob("*.py")) if src_dir.is_dir() else []:
        try:
            tree = ast.parse(path.read_text(), filename=str(path))
        except (SyntaxError, OSError, UnicodeDecodeError):
            continue  # the code check reports it
        classes = {n.name: n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)}
        for name, node in classes.items():
            bases = {
                b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases
            }
            if name.endswith(("Error", "Exception")) or bases & (_BUILTIN_ERRORS | names):
                names.add(name)
    return names


def static_output_keys(terraform_dir: Path, output: str) -> set[str] | None:
    """The keys of a map output, read from the HCL without deploying; None when not static.

    Follows the usual shapes: a literal map, `{ for k, v in module.M : k => ... }` where module M
    has `for_each` over a literal map or a `local.L` literal map, and `module.M.names` where M is
    the catalog's dynamodb-tables module (its keys are those of its `tables` argument).
    """
    documents = []
    for path in sorted(terraform_dir.glob("*.tf")) if terraform_dir.is_dir() else []:
        try:
            documents.append(parse_hcl(path.read_text()))
        except Exception:  # python-hcl2 raises lark errors of several types; parse check reports
            return None
    value = _block_attr(documents, "output", output, "value")
    if isinstance(value, dict):
        return {_unquote(k) for k in value if k != "__is_block__"}
    names = re.fullmatch(r"\$\{module\.(\w+)\.names\}", str(value or ""))
    if names is not None:
        return _literal_keys(documents, _block_attr(documents, "module", names.group(1), "tables"))
    match = re.fullmatch(r"\$\{\{for \w+, ?\w+ in module\.(\w+) ?: .*\}\}", str(value or ""))
    if match is None:
        return None
    return _literal_keys(documents, _block_attr(documents, "module", match.group(1), "for_each"))


@lru_cache(maxsize=256)
def parse_hcl(text: str) -> dict[str, Any]:
    """python-hcl2's parse, once per content: the static checks and the parse check share it.
    Callers must not modify the result."""
    import hcl2

    return hcl2.loads(text)  # type: ignore[no-any-return]


def _literal_keys(documents: list[dict[str, Any]], value: Any) -> set[str] | None:
    if isinstance(value, dict):
        return {_unquote(k) for k in value if k != "__is_block__"}
    match = re.fullmatch(r"\$\{local\.(\w+)\}", str(value or ""))
    if match is None:
        return None
    for document in documents:
        for block in document.get("locals", []):
            if match.group(1) in block and isinstance(block[match.group(1)], dict):
                return {_unquote(k) for k in block[match.group(1)] if k != "__is_block__"}
    return None


def _block_attr(documents: list[dict[str, Any]], kind: str, name: str, attr: str) -> Any:
    for document in documents:
        for block in document.get(kind, []):
            for key, body in block.items():
                if _unquote(key) == name and isinstance(body, dict):
                    return body.get(attr)
    return None


def _unquote(value: str) -> str:
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value
