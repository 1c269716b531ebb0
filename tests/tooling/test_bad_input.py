"""The bad-input corpus: every case gets one line on stderr, the exit code of its kind and leaves
nothing behind (no temporary folder, no child process). Cases run the CLI in-process; all of them
fail before anything is deployed.

Kinds and codes (README, "Exit codes"): 2 usage, 3 bad input, 4 environment.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from catalog import cli
from catalog.commands import EXIT_BAD_INPUT, EXIT_ENVIRONMENT, EXIT_USAGE
from catalog.packaging import exclusive
from catalog.patterns import PATTERNS_DIR

SAGA = PATTERNS_DIR / "stepfunctions-saga"
OUTBOX = PATTERNS_DIR / "transactional-outbox"
USAGE, BAD, ENV = EXIT_USAGE, EXIT_BAD_INPUT, EXIT_ENVIRONMENT


@dataclass
class Case:
    argv: list[str]  # {tmp} and {copy} are replaced by the case's folder and pattern copy
    fragment: str
    code: int
    env: dict[str, str | None] = field(default_factory=dict)
    break_copy: Callable[[Path], None] | None = None  # edits a copy of the saga: {copy}
    setup: Callable[[Path], None] | None = None


def _json_edit(relative: str, change: Callable[[dict], None]) -> Callable[[Path], None]:
    def edit(copy: Path) -> None:
        path = copy / relative
        data = json.loads(path.read_text())
        change(data)
        path.write_text(json.dumps(data, indent=2))

    return edit


def _write(relative: str, text: str) -> Callable[[Path], None]:
    def edit(copy: Path) -> None:
        (copy / relative).write_text(text)

    return edit


def _remove(relative: str) -> Callable[[Path], None]:
    def edit(copy: Path) -> None:
        target = copy / relative
        shutil.rmtree(target) if target.is_dir() else target.unlink()

    return edit


def _state_dir(tmp: Path) -> None:
    (tmp / "state" / "serverless-pattern-catalog" / "stepfunctions-saga" / "terraform").mkdir(
        parents=True
    )


def _plugin_dir_without_aws(tmp: Path) -> None:
    (tmp / "mirror" / "registry.terraform.io" / "hashicorp").mkdir(parents=True)


def _a_file(tmp: Path) -> None:
    (tmp / "a-file").write_text("not a folder")


NO_REGION = {
    "AWS_REGION": None,
    "AWS_DEFAULT_REGION": None,
    "AWS_PROFILE": None,
    "AWS_CONFIG_FILE": "{tmp}/no-aws-config",
    "AWS_SHARED_CREDENTIALS_FILE": "{tmp}/no-aws-credentials",
    "AWS_EC2_METADATA_DISABLED": "true",
}
AWS = {**NO_REGION, "AWS_REGION": "eu-west-1", "XDG_STATE_HOME": "{tmp}/state"}
MISSING_FN = _json_edit(
    "events/success.json",
    lambda d: d.setdefault("faults", []).append(
        {"function": "charge-paymnt", "error": "TransientError"}
    ),
)
BAD_KIND = _json_edit(
    "events/success.json",
    lambda d: d.setdefault("faults", []).append({"function": "charge-payment", "error": "Oops!"}),
)

CASES: dict[str, Case] = {
    # ------------------------------------------------------------------ usage (2)
    "no command": Case([], "the following arguments are required: COMMAND", USAGE),
    "unknown command": Case(["deploy"], "invalid choice: 'deploy'", USAGE),
    "unknown top-level flag": Case(["--verbose", "list"], "unrecognized arguments: --verbose", USAGE),
    "build without pattern": Case(["build"], "required: pattern", USAGE),
    "build --out without value": Case(["build", "stepfunctions-saga", "--out"], "expected one argument", USAGE),
    "build --out empty": Case(["build", "stepfunctions-saga", "--out", ""], "--out is empty", USAGE),
    "build unknown flag": Case(["build", "stepfunctions-saga", "--zip"], "unrecognized arguments: --zip", USAGE),
    "up without pattern": Case(["up"], "required: pattern", USAGE),
    "up bad --engine": Case(["up", "stepfunctions-saga", "--engine", "cdk"], "invalid choice: 'cdk'", USAGE),
    "up bad --target": Case(["up", "stepfunctions-saga", "--target", "gcp"], "invalid choice: 'gcp'", USAGE),
    "up --target without value": Case(["up", "stepfunctions-saga", "--target"], "expected one argument", USAGE),
    "down without pattern": Case(["down"], "required: pattern", USAGE),
    "down bad --target": Case(["down", "stepfunctions-saga", "--target", "prod"], "invalid choice: 'prod'", USAGE),
    "down bad --engine": Case(["down", "stepfunctions-saga", "--engine", "sam"], "invalid choice: 'sam'", USAGE),
    "cycle without pattern": Case(["cycle"], "required: pattern", USAGE),
    "cycle bad --engine": Case(["cycle", "stepfunctions-saga", "--engine", "x"], "invalid choice: 'x'", USAGE),
    "cycle --reapply with a value": Case(["cycle", "stepfunctions-saga", "--reapply=yes"], "ignored explicit argument 'yes'", USAGE),
    "cycle --target (not a flag of cycle)": Case(["cycle", "stepfunctions-saga", "--target", "aws"], "unrecognized arguments: --target aws", USAGE),
    "run without arguments": Case(["run"], "required: pattern, scenario", USAGE),
    "run without scenario": Case(["run", "stepfunctions-saga"], "required: scenario", USAGE),
    "run bad --target": Case(["run", "stepfunctions-saga", "success", "--target", "x"], "invalid choice: 'x'", USAGE),
    "run extra argument": Case(["run", "stepfunctions-saga", "success", "again"], "unrecognized arguments: again", USAGE),
    "demo unknown flag": Case(["demo", "--fast"], "unrecognized arguments: --fast", USAGE),
    "validate two patterns": Case(["validate", "stepfunctions-saga", "transactional-outbox"], "unrecognized arguments: transactional-outbox", USAGE),
    "list with an argument": Case(["list", "stepfunctions-saga"], "unrecognized arguments: stepfunctions-saga", USAGE),
    "index with an argument": Case(["index", "README.md"], "unrecognized arguments: README.md", USAGE),
    "bench --repeats not a number": Case(["bench", "--repeats", "many"], "'many' is not a whole number", USAGE),
    "bench --repeats zero": Case(["bench", "--repeats", "0"], "0 must be at least 1", USAGE),
    "bench --soak negative": Case(["bench", "--soak", "-3"], "-3 must be at least 1", USAGE),
    "bench --soak not a number": Case(["bench", "--soak", "ten"], "'ten' is not a whole number", USAGE),
    "bench --out without value": Case(["bench", "--out"], "expected one argument", USAGE),
    "bench unknown flag": Case(["bench", "--warmup"], "unrecognized arguments: --warmup", USAGE),
    "export without dest": Case(["export", "stepfunctions-saga"], "required: dest", USAGE),
    "new without name": Case(["new"], "required: name", USAGE),
    "review bad --format": Case(["review", "--format", "xml"], "argument --format: invalid choice: 'xml'", USAGE),
    "review --jobs zero": Case(["review", "--jobs", "0"], "--jobs must be at least 1", USAGE),
    "review unknown flag": Case(["review", "--bogus"], "unrecognized arguments: --bogus", USAGE),
    "review missing folder": Case(["review", "{tmp}/no-such-folder"], "no such file or folder", USAGE),
    # ------------------------------------------------------------------ bad input (3)
    "build unknown pattern": Case(["build", "nope"], "unknown pattern 'nope'", BAD),
    "up unknown pattern": Case(["up", "nope"], "unknown pattern 'nope'", BAD),
    "down unknown pattern": Case(["down", "nope", "--target", "aws"], "unknown pattern 'nope'", BAD),
    "cycle unknown pattern": Case(["cycle", "nope"], "unknown pattern 'nope'", BAD),
    "run unknown pattern": Case(["run", "nope", "success"], "unknown pattern 'nope'", BAD),
    "run unknown scenario": Case(["run", "stepfunctions-saga", "nope"], "has no scenario 'nope'", BAD),
    "demo unknown pattern": Case(["demo", "nope"], "unknown pattern 'nope'", BAD),
    "validate unknown pattern": Case(["validate", "nope"], "unknown pattern 'nope'", BAD),
    "bench unknown pattern": Case(["bench", "nope"], "unknown pattern 'nope'", BAD),
    "bench --suite-without unknown pattern": Case(["bench", "--suite-without", "nope"], "unknown pattern 'nope'", BAD),
    "build --out is a file": Case(["build", "stepfunctions-saga", "--out", "{tmp}/a-file"], "exists and is not a folder", BAD, setup=_a_file),
    "build --out under a file": Case(["build", "stepfunctions-saga", "--out", "{tmp}/a-file/zips"], "cannot create output folder", BAD, setup=_a_file),
    "build --out unwritable": Case(["build", "stepfunctions-saga", "--out", "/proc/catalog-zips"], "cannot create output folder /proc/catalog-zips", BAD),
    "cycle: metadata not JSON": Case(["cycle", "{copy}"], "metadata.invalid-json", BAD, break_copy=_write("example-pattern.json", "{ not json")),
    "cycle: metadata missing": Case(["cycle", "{copy}"], "metadata file is missing", BAD, break_copy=_remove("example-pattern.json")),
    "cycle: title too long": Case(["cycle", "{copy}"], "metadata.schema", BAD, break_copy=_json_edit("example-pattern.json", lambda d: d.update(title="x" * 90))),
    "cycle: fault on a missing function": Case(["cycle", "{copy}"], "'charge-paymnt' does not exist", BAD, break_copy=MISSING_FN),
    "cycle: unknown error kind": Case(["cycle", "{copy}"], "scenario.schema", BAD, break_copy=BAD_KIND),
    "cycle: error kind nobody raises": Case(["cycle", "{copy}"], "scenario.fault-error", BAD, break_copy=_json_edit("events/success.json", lambda d: d.setdefault("faults", []).append({"function": "charge-payment", "error": "TransientErorr"}))),
    "cycle: seed table not in outputs": Case(["cycle", "{copy}"], "seed table 'stock'", BAD, break_copy=_json_edit("events/success.json", lambda d: d.update(seed={"stock": [{"sku": "A"}]}))),
    "cycle: scenario not JSON": Case(["cycle", "{copy}"], "scenario.invalid-json", BAD, break_copy=_write("events/success.json", '{"input": ')),
    "cycle: scenario without input": Case(["cycle", "{copy}"], "'input' is a required property", BAD, break_copy=_json_edit("events/success.json", lambda d: d.pop("input"))),
    "cycle: fault times zero": Case(["cycle", "{copy}"], "less than the minimum of 1", BAD, break_copy=_json_edit("events/success.json", lambda d: d.setdefault("faults", []).append({"function": "charge-payment", "error": "TransientError", "times": 0}))),
    "cycle: expect status typo": Case(["cycle", "{copy}"], "'SUCCEDED' is not one of", BAD, break_copy=_json_edit("events/success.json", lambda d: d.update(expect={"status": "SUCCEDED"}))),
    "cycle: Terraform does not parse": Case(["cycle", "{copy}"], "terraform.parse", BAD, break_copy=_write("terraform/extra.tf", 'resource "aws_sqs_queue" "q" {\n  name = \n}\n')),
    "cycle: Pulumi does not parse": Case(["cycle", "{copy}"], "pulumi.parse", BAD, break_copy=_write("pulumi/__main__.py", "def broken(:\n")),
    "run: bad scenario in the pattern": Case(["run", "{copy}", "success"], "nothing was deployed", BAD, break_copy=MISSING_FN),
    "up: bad metadata": Case(["up", "{copy}"], "nothing was deployed", BAD, break_copy=_write("example-pattern.json", "[]")),
    "demo: bad pattern": Case(["demo", "{copy}"], "nothing was deployed", BAD, break_copy=MISSING_FN),
    "validate: bad scenario": Case(["validate", "{copy}"], "pattern(s) checked, 1 problem(s)", BAD, break_copy=MISSING_FN),
    "build: no code package": Case(["build", "{copy}"], "expected exactly one package", BAD, break_copy=_remove("src/sfn_saga/__init__.py")),
    "build: no function modules": Case(["build", "{copy}"], "no function modules", BAD, break_copy=lambda c: [p.unlink() for p in (c / "src/sfn_saga/functions").glob("[a-z]*.py")]),
    "run --target aws before up": Case(["run", "stepfunctions-saga", "success", "--target", "aws"], "deploy first: `catalog up stepfunctions-saga --target aws`", BAD, env=AWS),
    "down --target aws before up": Case(["down", "stepfunctions-saga", "--target", "aws"], "no deployment of stepfunctions-saga to AWS found", BAD, env=AWS),
    "export unknown pattern": Case(["export", "nope", "{tmp}/out"], "unknown pattern 'nope'", BAD),
    "export into a folder that is no export": Case(["export", "stepfunctions-saga", "{tmp}"], "is not an earlier export", BAD, setup=_a_file),
    "export under a file": Case(["export", "stepfunctions-saga", "{tmp}/a-file/out"], "is not an existing folder", BAD, setup=_a_file),
    "export into patterns/": Case(["export", "stepfunctions-saga", str(PATTERNS_DIR / "exported-copy")], "inside the catalog's patterns/", BAD),
    "new invalid name": Case(["new", "Bad_Name"], "invalid pattern name 'Bad_Name'", BAD),
    "new unknown model": Case(["new", "fine-name", "--from", "no-such-model"], "unknown model 'no-such-model'", BAD),
    "new existing pattern": Case(["new", "stepfunctions-saga"], "already exists", BAD),
    "run --target aws after a failed up": Case(["run", "stepfunctions-saga", "success", "--target", "aws"], "has no outputs (a failed up?)", BAD, env=AWS, setup=_state_dir),
    # ------------------------------------------------------------------ environment (4)
    "cycle: terraform not on PATH": Case(["cycle", "stepfunctions-saga"], "terraform is not on PATH", ENV, env={"PATH": "{tmp}"}),
    "run: terraform not on PATH": Case(["run", "stepfunctions-saga", "success"], "terraform is not on PATH", ENV, env={"PATH": "{tmp}"}),
    "cycle: CATALOG_TF_PLUGIN_DIR missing folder": Case(["cycle", "stepfunctions-saga"], "holds no registry.terraform.io", ENV, env={"CATALOG_TF_PLUGIN_DIR": "{tmp}/no-mirror"}),
    "cycle: CATALOG_TF_PLUGIN_DIR empty": Case(["cycle", "stepfunctions-saga"], "CATALOG_TF_PLUGIN_DIR is set but empty", ENV, env={"CATALOG_TF_PLUGIN_DIR": ""}),
    "run: CATALOG_TF_PLUGIN_DIR a file": Case(["run", "stepfunctions-saga", "success"], "holds no registry.terraform.io", ENV, env={"CATALOG_TF_PLUGIN_DIR": "{tmp}/a-file"}, setup=_a_file),
    "up: CATALOG_TF_PLUGIN_DIR without aws": Case(["up", "stepfunctions-saga"], "holds no hashicorp/aws provider", ENV, env={"CATALOG_TF_PLUGIN_DIR": "{tmp}/mirror"}, setup=_plugin_dir_without_aws),
    "demo: CATALOG_TF_PLUGIN_DIR missing folder": Case(["demo", "stepfunctions-saga"], "holds no registry.terraform.io", ENV, env={"CATALOG_TF_PLUGIN_DIR": "{tmp}/no-mirror"}),
    "up --target aws without region": Case(["up", "stepfunctions-saga", "--target", "aws"], "no AWS region: set AWS_REGION", ENV, env=NO_REGION),
    "run --target aws without region": Case(["run", "stepfunctions-saga", "success", "--target", "aws"], "no AWS region", ENV, env=NO_REGION),
    "down --target aws without region": Case(["down", "stepfunctions-saga", "--target", "aws"], "no AWS region", ENV, env=NO_REGION),
    "up --target aws AWS_REGION not a region": Case(["up", "stepfunctions-saga", "--target", "aws"], "'moon-base' is not a region name", ENV, env={**NO_REGION, "AWS_REGION": "moon-base"}),
    "up --target aws AWS_DEFAULT_REGION not a region": Case(["up", "stepfunctions-saga", "--target", "aws"], "'US_EAST_1' is not a region name", ENV, env={**NO_REGION, "AWS_DEFAULT_REGION": "US_EAST_1"}),
    "up --target aws unknown AWS_PROFILE": Case(["up", "stepfunctions-saga", "--target", "aws"], "AWS profile not found", ENV, env={**NO_REGION, "AWS_PROFILE": "nobody"}),
    "up --target aws XDG_STATE_HOME relative": Case(["up", "stepfunctions-saga", "--target", "aws"], "must be an absolute path", ENV, env={**AWS, "XDG_STATE_HOME": "relative/state"}),
    "down --target aws XDG_STATE_HOME a file": Case(["down", "stepfunctions-saga", "--target", "aws"], "is not a folder", ENV, env={**AWS, "XDG_STATE_HOME": "{tmp}/a-file"}, setup=_a_file),
    "build: CATALOG_CACHE_DIR a file": Case(["build", "transactional-outbox", "--out", "{tmp}/zips"], "(CATALOG_CACHE_DIR) cannot be used", ENV, env={"CATALOG_CACHE_DIR": "{tmp}/a-file"}, setup=_a_file),
    "up --engine pulumi without the CLI": Case(["up", "stepfunctions-saga", "--engine", "pulumi"], "the Pulumi CLI is not on PATH", ENV, env={"PATH": "{tmp}"}),
    "cycle --engine pulumi without the CLI": Case(["cycle", "stepfunctions-saga", "--engine", "pulumi"], "the Pulumi CLI is not on PATH", ENV, env={"PATH": "{tmp}"}),
    "down --engine pulumi without the CLI": Case(["down", "stepfunctions-saga", "--engine", "pulumi", "--target", "aws"], "the Pulumi CLI is not on PATH", ENV, env={"PATH": "{tmp}"}),
}  # fmt: skip


def _children() -> list[int]:
    found = []
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        children = (task / "children").read_text().split()
        found += [int(pid) for pid in children]
    return found


@pytest.mark.parametrize("name", CASES, ids=list(CASES))
def test_bad_input(
    name: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    case = CASES[name]
    work = tmp_path / "case"
    work.mkdir()
    scratch = tmp_path / "tmpdir"  # the CLI's TMPDIR: must stay empty
    scratch.mkdir()
    copy = tmp_path / "patterns" / "stepfunctions-saga"
    if case.break_copy is not None:
        shutil.copytree(SAGA, copy, ignore=shutil.ignore_patterns("build", "__pycache__"))
        case.break_copy(copy)
    if case.setup is not None:
        case.setup(work)

    def fill(text: str) -> str:
        return text.replace("{tmp}", str(work)).replace("{copy}", str(copy))

    for key, value in case.env.items():
        if value is None:
            monkeypatch.delenv(key, raising=False)
        else:
            monkeypatch.setenv(key, fill(value))
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr(tempfile, "tempdir", None)
    children_before = _children()

    code = cli.main([fill(arg) for arg in case.argv])

    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert code == case.code, err
    assert len(lines) == 1 and lines[0].startswith("catalog: error: "), err
    assert fill(case.fragment) in lines[0]
    assert "Traceback" not in out + err
    assert list(scratch.iterdir()) == []
    assert _children() == children_before
    if case.break_copy is not None:  # a rejected pattern was not built either
        assert not (copy / "build").exists() or case.argv[0] == "build"


def test_corpus_covers_every_kind_and_is_large_enough() -> None:
    kinds = {code: sum(1 for c in CASES.values() if c.code == code) for code in (USAGE, BAD, ENV)}
    assert sum(kinds.values()) >= 60 and all(kinds.values()), kinds


def test_busy_state_folder_refuses_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A second `up --target aws` of one pattern refuses while the first holds the state lock."""
    for key, value in {**AWS, "XDG_STATE_HOME": str(tmp_path / "state")}.items():
        if value is None:
            monkeypatch.delenv(key, raising=False)
        else:
            monkeypatch.setenv(key, value.replace("{tmp}", str(tmp_path)))
    state = tmp_path / "state" / "serverless-pattern-catalog" / "stepfunctions-saga"
    with exclusive(state / "terraform.lock", wait=False):
        code = cli.main(["up", "stepfunctions-saga", "--target", "aws"])
    err = capsys.readouterr().err.strip()
    assert code == EXIT_ENVIRONMENT
    assert err.startswith("catalog: error: another catalog run (pid ") and "is using" in err
    assert not (state / "terraform").exists()  # nothing was started
    assert not (state / "terraform.lock").exists()  # the lock file goes with its holder


def test_a_bad_metadata_file_does_not_break_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from catalog import patterns

    root = tmp_path / "patterns"
    shutil.copytree(SAGA, root / "stepfunctions-saga", ignore=shutil.ignore_patterns("build"))
    shutil.copytree(OUTBOX, root / "transactional-outbox", ignore=shutil.ignore_patterns("build"))
    (root / "stepfunctions-saga" / "example-pattern.json").write_text("{ broken")
    monkeypatch.setattr(
        patterns, "discover", lambda: [patterns.Pattern(p) for p in sorted(root.iterdir())]
    )
    monkeypatch.setattr(cli.console, "width", 300)
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    assert "INVALID" in out
    assert "Transactional outbox" in out  # the other pattern is listed as usual
    assert "1 pattern(s) with invalid metadata" in out


def test_every_exit_code_is_documented_in_the_readme() -> None:
    from catalog.commands import EXIT_CODES
    from catalog.patterns import REPO_ROOT

    readme = (REPO_ROOT / "README.md").read_text()
    section = readme[readme.index("### Exit codes") :].split("\n### ")[0]
    first_cells = [line.split("|")[1] for line in section.splitlines() if line.startswith("| ")]
    documented = {
        int(code) for cell in first_cells for code in cell.split("/") if code.strip().isdigit()
    }
    assert documented == set(EXIT_CODES)


def test_a_failed_aws_up_leaves_no_state_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`up --target aws` whose apply fails: nothing created stays, and no empty state folder
    makes the next `run` or `down` believe a deployment exists."""
    from catalog.engines.terraform import TerraformError, TerraformWorkspace

    for key, value in {**AWS, "XDG_STATE_HOME": str(tmp_path / "state")}.items():
        if value is None:
            monkeypatch.delenv(key, raising=False)
        else:
            monkeypatch.setenv(key, value.replace("{tmp}", str(tmp_path)))
    regions: list[str | None] = []

    def init(self: TerraformWorkspace) -> None:
        regions.append(self._env().get("AWS_REGION"))

    def apply(self: TerraformWorkspace) -> None:
        raise TerraformError(
            "terraform apply failed for stepfunctions-saga (exit 1): Error: denied"
        )

    monkeypatch.setattr(TerraformWorkspace, "init", init)
    monkeypatch.setattr(TerraformWorkspace, "apply", apply)
    monkeypatch.setattr("catalog.deploy.build", lambda pattern, timings=None: {})
    assert cli.main(["up", "stepfunctions-saga", "--target", "aws"]) == 1
    assert capsys.readouterr().err.strip() == (
        "catalog: error: terraform apply failed for stepfunctions-saga (exit 1): Error: denied"
    )
    assert regions == ["eu-west-1"]  # the region boto3 resolution found, passed to terraform
    state = tmp_path / "state" / "serverless-pattern-catalog" / "stepfunctions-saga"
    assert list(state.iterdir()) == []  # no state folder, no lock
    assert cli.main(["run", "stepfunctions-saga", "success", "--target", "aws"]) == BAD
    assert "deploy first" in capsys.readouterr().err
