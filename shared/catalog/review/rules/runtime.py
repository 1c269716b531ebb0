"""runtime: deprecated or outdated Lambda runtimes, and hard-coded AWS regions."""

from __future__ import annotations

import ast
import re
from pathlib import PurePosixPath

from ..context import PatternContext
from ..jsscan import JS_SUFFIXES
from ..model import rule
from . import check
from .iam import iac_files

rule(
    "RT001",
    "runtime",
    "error",
    "deprecated or outdated Lambda runtime",
    "Runtime: python3.9 (minimum python3.11); nodejs18.x (minimum nodejs20.x); go1.x; java8",
)
rule(
    "RT002",
    "runtime",
    "warning",
    "hard-coded AWS region",
    "provider \"aws\" { region = \"us-east-1\" }; boto3.client('s3', region_name='eu-west-1')",
)

rule(
    "RT003",
    "runtime",
    "error",
    "Lambda runtime identifier that does not exist",
    "Runtime: provided.al2023023 (a typo of provided.al2023); python3.1O",
)

MIN_PYTHON = (3, 11)
# Every identifier Lambda has ever had (deprecated ones included: RT001 reports those).
_EXISTING_RUNTIME = re.compile(
    r"python3\.\d{1,2}|python2\.7|nodejs\d{1,2}\.x|nodejs(?:4\.3|6\.10|8\.10)?|"
    r"java(?:8|8\.al2|11|17|21|25)|dotnet(?:6|8|10)|dotnetcore(?:1\.0|2\.0|2\.1|3\.1)|"
    r"ruby(?:2\.5|2\.7|3\.2|3\.3|3\.4)|go1\.x|provided(?:\.al2|\.al2023)?"
)
_RUNTIME_VALUE = re.compile(
    r"\b[Rr]untime[\"']?\s*[:=]\s*[\"']?((?:python|nodejs|java|dotnet|ruby|go|provided)[\w.-]*)"
    r"(?=[\"'\s,}]|$)"
)
MIN_NODE = 20
MIN_RUBY = (3, 3)
_RUNTIME = re.compile(
    r"(?:['\"]|\b[Rr]untime[\"']?\s*[:=]\s*)"
    r"(python[23]\.\d+|nodejs(?:\d+\.x)?|java8(?:\.al2)?|go1\.x|dotnetcore\d\.\d|dotnet[5-7]|"
    r"ruby\d\.\d|provided)(?![\w.-])"
)
_CDK_RUNTIME = re.compile(
    r"\bRuntime\s*\.\s*(PYTHON_3_\d+|PYTHON3D\d+|NODEJS_\d+_X|NODE_JS\d+D_X|JAVA_8(?:_CORRETTO)?|JAVA8(?:_AL2)?|"
    r"GO_1_X|GO1DX|DOTNET_CORE_\d_\d|DOTNET_6|DOTNET6|DOTNET_7|RUBY_2_7|RUBY_3_2|RUBY2D7|RUBY3D2|PROVIDED)\b"
)
_REGION = re.compile(
    r"(?<![\w-])((?:us|eu|ap|sa|ca|me|af|il|mx|cn)-(?:gov-)?"
    r"(?:east|west|north|south|central|northeast|southeast|northwest|southwest)-\d)(?![\w-])"
)
# Every region _REGION matches contains one of these: a cheap test before the regex.
_REGION_WORDS = ("east-", "west-", "north-", "south-", "central-")
_CODE_SKIP_DIRS = {"tests", "test", "__tests__", "events", "docs", ".github", "scripts"}
_CODE_SKIP_NAMES = {
    "samconfig.toml",
    "samconfig.yaml",
    "samconfig.yml",
    "cdk.context.json",
    "package-lock.json",
}


def _cdk_token(member: str) -> str:
    """`PYTHON_3_9` / `PYTHON3D9` / `NODEJS_18_X` / `NODE_JS18D_X` -> a runtime id."""
    m = re.fullmatch(r"PYTHON_?3_?D?(\d+)", member)
    if m:
        return f"python3.{m.group(1)}"
    m = re.fullmatch(r"NODE_?JS_?(\d+)(?:D)?_X", member)
    if m:
        return f"nodejs{m.group(1)}.x"
    m = re.fullmatch(r"RUBY_?(\d)_?D?(\d)", member)
    if m:
        return f"ruby{m.group(1)}.{m.group(2)}"
    if member.startswith("JAVA"):
        return "java8"
    if member.startswith("GO"):
        return "go1.x"
    if member.startswith("DOTNET"):
        return "dotnet6" if "6" in member else "dotnetcore3.1" if "CORE" in member else "dotnet7"
    return "provided"


def _comment(line: str) -> bool:
    return line.lstrip().startswith(("#", "//", "*", "/*"))


@check("runtime", "RT001", "RT003")
def check_runtimes(ctx: PatternContext) -> None:
    for rel in iac_files(ctx):
        text = ctx.read_text(rel)
        if text is None or not (
            _RUNTIME.search(text) or _CDK_RUNTIME.search(text) or _RUNTIME_VALUE.search(text)
        ):
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            if _comment(line):
                continue
            for m in _RUNTIME_VALUE.finditer(line):
                if not _EXISTING_RUNTIME.fullmatch(m.group(1)):
                    ctx.report(
                        "RT003",
                        rel,
                        number,
                        f"runtime {m.group(1)!r} is not a Lambda runtime identifier",
                        "use an existing identifier (python3.13, nodejs22.x, java21, "
                        "provided.al2023, ...)",
                    )
            tokens = [m.group(1) for m in _RUNTIME.finditer(line)]
            tokens += [_cdk_token(m.group(1)) for m in _CDK_RUNTIME.finditer(line)]
            for token in tokens:
                why = _why(token)
                if why:
                    ctx.report(
                        "RT001",
                        rel,
                        number,
                        f"runtime {token}: {why}",
                        "use python3.13 / nodejs22.x (or the newest the code supports)",
                    )


def _why(token: str) -> str | None:
    m = re.fullmatch(r"python(\d)\.(\d+)", token)
    if m:
        version = (int(m.group(1)), int(m.group(2)))
        return (
            f"older than the minimum python{MIN_PYTHON[0]}.{MIN_PYTHON[1]}"
            if version < MIN_PYTHON
            else None
        )
    m = re.fullmatch(r"nodejs(\d+)\.x", token)
    if m:
        return f"older than the minimum nodejs{MIN_NODE}.x" if int(m.group(1)) < MIN_NODE else None
    m = re.fullmatch(r"ruby(\d)\.(\d)", token)
    if m:
        return (
            "deprecated: use ruby3.3 or later"
            if (int(m.group(1)), int(m.group(2))) < MIN_RUBY
            else None
        )
    return {
        "nodejs": "deprecated (Node.js 0.10)",
        "java8": "deprecated: use java21",
        "java8.al2": "deprecated: use java21",
        "go1.x": "deprecated: build for provided.al2023",
        "provided": "deprecated (Amazon Linux 1): use provided.al2023",
    }.get(token) or ("deprecated: use dotnet8" if token.startswith("dotnet") else None)


def region_files(ctx: PatternContext) -> list[str]:
    """IaC files and Lambda code; tests, events, docs and tool configs are left out."""
    iac = set(iac_files(ctx))
    out = []
    for rel in ctx.source_files(
        ".py", *JS_SUFFIXES, ".tf", ".yaml", ".yml", ".json", ".java", ".go", ".cs"
    ):
        parts = PurePosixPath(rel).parts
        name = parts[-1]
        if rel in iac:
            out.append(rel)
            continue
        if name in _CODE_SKIP_NAMES or _CODE_SKIP_DIRS & set(parts[:-1]) or rel.endswith(".d.ts"):
            continue
        if name.startswith("test_") or name.endswith(
            ("_test.py", ".test.ts", ".test.js", ".spec.ts", ".spec.js")
        ):
            continue
        if rel.endswith((".json", ".yaml", ".yml")):
            continue  # data and config files; templates are in `iac`
        out.append(rel)
    return out


# Keys whose values are prose or a list of choices, not a deployed setting.
_PROSE_KEYS = frozenset(
    {
        "Description",
        "AllowedValues",
        "ConstraintDescription",
        "Mappings",
        "Metadata",
        "Conditions",
        "Regions",  # Route 53 health checkers' regions: a choice of checkers, not a deployment
    }
)
# A region read from the environment first: the literal is only its fallback.
_FROM_ENVIRONMENT = re.compile(
    r"AWS_REGION|AWS_DEFAULT_REGION|CDK_DEFAULT_REGION|opt:region|getenv|environ|process\.env"
    r"|System\.getenv|Environment\.GetEnvironmentVariable|os\.Getenv"
)
_TF_PROSE = re.compile(r"^\s*(?:description|error_message|condition)\s*=")
_EXAMPLE = re.compile(
    r"\b(?:e\.g\.|eg\.|i\.e\.|for example|for instance|such as|like)[\s:,(]*\S*$", re.I
)
_BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_YAML_KEY = re.compile(r"^(\s*)(?:-\s+)?([A-Za-z0-9_.-]+)\s*:")


def _strip_comment(line: str) -> str:
    """The line without a trailing `#` / `//` comment (outside quotes)."""
    quote = ""
    for i, ch in enumerate(line):
        if quote:
            if ch == quote and line[i - 1] != "\\":
                quote = ""
        elif ch in "'\"`":
            quote = ch
        elif (ch == "#" and (i == 0 or line[i - 1].isspace())) or (
            ch == "/" and line[i : i + 2] == "//" and (i == 0 or line[i - 1].isspace())
        ):
            return line[:i]
    return line


def _yaml_prose_lines(lines: list[str]) -> set[int]:
    """Lines below a prose/choice key (Description, AllowedValues, Mappings, ...)."""
    out: set[int] = set()
    stack: list[tuple[int, str]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indent = len(line) - len(line.lstrip(" -"))
        while stack and stack[-1][0] >= indent:
            stack.pop()
        if any(key in _PROSE_KEYS for _, key in stack):
            out.add(number)
        m = _YAML_KEY.match(line)
        if m:
            stack.append((indent, m.group(2)))
            if m.group(2) in _PROSE_KEYS:
                out.add(number)
    return out


def _python_prose_lines(ctx: PatternContext, rel: str) -> set[int]:
    """Docstrings and other bare string statements."""
    tree = ctx.python_ast(rel)
    out: set[int] = set()
    if tree is None:
        return out
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            out.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return out


def _prose_lines(ctx: PatternContext, rel: str, lines: list[str]) -> set[int]:
    if rel.endswith((".yaml", ".yml", ".template")):
        return _yaml_prose_lines(lines)
    if rel.endswith(".py"):
        return _python_prose_lines(ctx, rel)
    if rel.endswith(".tf"):
        return {n for n, line in enumerate(lines, start=1) if _TF_PROSE.match(line)}
    return set()


@check("regions", "RT002")
def check_regions(ctx: PatternContext) -> None:
    for rel in region_files(ctx):
        text = ctx.read_text(rel)
        if text is None or not any(w in text for w in _REGION_WORDS) or not _REGION.search(text):
            continue
        if rel.endswith((*JS_SUFFIXES, ".java", ".cs", ".go")) and "/*" in text:
            text = _BLOCK_COMMENT.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
        lines = text.splitlines()
        prose = _prose_lines(ctx, rel, lines)
        for number, line in enumerate(lines, start=1):
            if _comment(line) or number in prose:
                continue
            code = _strip_comment(line)
            m = _REGION.search(code)
            if m and _EXAMPLE.search(code[: m.start()]):
                continue  # "e.g. us-east-1": an example in a message
            if m and _FROM_ENVIRONMENT.search(code[: m.start()]):
                continue  # os.environ.get("AWS_REGION", "us-east-1"): a fallback
            if m:
                ctx.report(
                    "RT002",
                    rel,
                    number,
                    f"hard-coded region {m.group(1)!r}",
                    "take the region from the environment / provider configuration "
                    "(AWS_REGION, the stack's region, Aws.REGION)",
                )
