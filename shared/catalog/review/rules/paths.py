"""paths: code paths referenced from IaC that do not exist, or exist only with another casing."""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from .. import pathcase
from ..context import PatternContext
from ..discover import detect
from ..iac import cdk, cfn, terraform
from ..iac.units import serverless_doc
from ..jsscan import JS_SUFFIXES, JsFile
from ..loaders import key_line, line_at
from ..model import rule
from . import check

rule(
    "PATH001",
    "paths",
    "error",
    "code path referenced from IaC does not exist",
    "CodeUri: src/orders/ (no such folder); handler app.lambda_handler but no src/app.py",
)
rule(
    "PATH002",
    "paths",
    "error",
    "code path differs in case from the file on disk",
    "path.join(__dirname, 'functions', 'allocateInventory', 'index.ts') exists as "
    "functions/AllocateInventory/index.ts",
)

_HANDLER_SUFFIXES = {
    "python": (".py",),
    "nodejs": (".js", ".mjs", ".cjs", ".ts"),
    "ruby": (".rb",),
}
_TF_PATH_ATTRS = ("source_dir", "source_file", "source_path", "filename")
_TF_FILE_FN = re.compile(
    r"\b(?:file|templatefile|filebase64|filebase64sha256|filemd5|filesha256)\(\s*\"([^\"]+)\""
)
_JS_PATH_CALL = re.compile(r"\bpath\s*\.\s*(?:join|resolve)\s*\(")
_JS_ASSET = re.compile(
    r"\b(?:fromAsset|fromImageAsset|fromDockerBuild|asset|fromFile)\s*\(\s*(['\"])([^'\"\n]+)\1"
)
_JS_ENTRY = re.compile(r"\b(entry|depsLockFilePath|projectRoot)\s*:\s*(['\"])([^'\"\n]+)\2")
_TEMPLATE_DIRNAME = re.compile(r"`\$\{__dirname\}([^`$]*)`")
_PULUMI_ASSET = re.compile(r"\b(?:FileArchive|FileAsset)\s*\(\s*(['\"])([^'\"\n]+)\1")
_BUILD_DIRS = {
    "build",
    "dist",
    ".build",
    "target",
    "out",
    "bin",
    "artifacts",
    "cdk.out",
    ".aws-sam",
}


@dataclass(frozen=True)
class Ref:
    source: str  # file holding the reference, relative to the pattern
    line: int | None
    base: Path  # folder the path is relative to
    target: str  # the path as written (posix)
    what: str  # how it was referenced, for the message


def _alternatives(target: str) -> list[str]:
    """`src/index{.js,.ts}` -> [`src/index.js`, `src/index.ts`]."""
    m = re.fullmatch(r"(.*)\{([^{}]*)\}", target)
    return [m.group(1) + alt for alt in m.group(2).split(",")] if m else [target]


def _report(ctx: PatternContext, ref: Ref) -> None:
    target = ref.target.replace("\\", "/")
    if not target or "${" in target or "*" in target or target.startswith(("s3://", "http")):
        return
    if os.path.isabs(target):
        base, target = Path("/"), target.lstrip("/")
    else:
        base = ref.base
    options = _alternatives(target)
    results = [(alt, pathcase.resolve(base, alt)) for alt in options]
    if any(found.status == "ok" for _, found in results):
        return
    case = next(((alt, found) for alt, found in results if found.status == "case"), None)
    shown = os.path.relpath(os.path.normpath(base / options[0]), ctx.root)
    if len(options) > 1:
        stem = shown[: len(shown) - len(options[0]) + len(target.split("{")[0])]
        shown = f"{stem}({'|'.join(o[len(target.split('{')[0]) :] for o in options)})"
    if case is not None:
        actual = os.path.relpath(os.path.normpath(base / case[1].actual), ctx.root)
        ctx.report(
            "PATH002",
            ref.source,
            ref.line,
            f"{ref.what} -> {shown} does not exist: it exists as {actual} "
            "(differs in case; Lambda builds on case-sensitive Linux fail)",
            f"write the path exactly as on disk: {actual}",
        )
        return
    parts = PurePosixPath(target).parts
    if (
        any(p in _BUILD_DIRS for p in parts)
        or target.endswith((".zip", ".jar"))
        or parts[-1:] == ("bootstrap",)
    ):
        return  # a build output (archive, custom-runtime binary), created at deploy time
    ctx.report(
        "PATH001",
        ref.source,
        ref.line,
        f"{ref.what} -> {shown} does not exist",
        "fix the path or add the missing code",
    )


@check("paths", "PATH001", "PATH002")
def check_paths(ctx: PatternContext) -> None:
    fw = detect(ctx)
    refs: list[Ref] = []
    refs += _template_refs(ctx, fw.templates)
    refs += _terraform_refs(ctx, fw.terraform)
    for app in cdk.load_apps(ctx, fw.cdk):
        for rel, text in app.files.items():
            base = ctx.root / (app.folder or ".")
            if app.language == "python":
                refs += _python_cdk_refs(ctx, rel, text, base)
            else:
                refs += _js_refs(ctx, rel, text, base)
    for folder, _runtime in fw.pulumi:
        base = ctx.root / (folder or ".")
        prefix = f"{folder}/" if folder else ""
        for rel in ctx.code_files(".py", *JS_SUFFIXES):
            if rel.startswith(prefix):
                text = ctx.read_text(rel) or ""
                for m in _PULUMI_ASSET.finditer(text):
                    call = m.group(0).split("(")[0].strip()
                    refs.append(
                        Ref(
                            rel, _line(text, m.start()), base, m.group(2), f"{call}({m.group(2)!r})"
                        )
                    )
    for rel in fw.serverless:
        refs += _serverless_refs(ctx, rel)
    seen: set[tuple[str, int | None, str]] = set()
    for ref in refs:
        key = (ref.source, ref.line, os.path.normpath(ref.base / ref.target))
        if key not in seen:
            seen.add(key)
            _report(ctx, ref)


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


# ------------------------------------------------------------------ SAM / CloudFormation
def _template_refs(ctx: PatternContext, rels: list[str]) -> Iterator[Ref]:
    for template in cfn.templates(ctx, rels):
        base = (ctx.root / template.rel).parent
        for logical, body in template.resources.items():
            if not isinstance(body, dict):
                continue
            props = cfn.properties(template, body)
            type_ = body.get("Type")
            path = ["Resources", logical, "Properties"]
            for key in ("CodeUri", "ContentUri", "DefinitionUri"):
                value = props.get(key)
                if isinstance(value, str):
                    line = (
                        line_at(template.data, [*path, key])
                        if key in (body.get("Properties") or {})
                        else (line_at(template.data, ["Globals", "Function", key]))
                    )
                    yield Ref(template.rel, line, base, value, f"{logical}.{key} {value!r}")
            code = props.get("Code")
            if type_ == "AWS::Lambda::Function" and isinstance(code, str):
                yield Ref(
                    template.rel,
                    line_at(template.data, [*path, "Code"]),
                    base,
                    code,
                    f"{logical}.Code",
                )
            if type_ == "AWS::Serverless::Function":
                yield from _sam_handler(template, logical, body, props, base)


def _sam_handler(
    template: cfn.Template, logical: str, body: dict[str, Any], props: dict[str, Any], base: Path
) -> Iterator[Ref]:
    code_uri, handler, runtime = (
        props.get("CodeUri"),
        props.get("Handler"),
        str(props.get("Runtime", "")),
    )
    if props.get("PackageType") == "Image" or not isinstance(handler, str) or "InlineCode" in props:
        return
    if handler.endswith((".sh", ".bash")):
        return  # a wrapper script (Lambda Web Adapter and friends), not a module
    if not isinstance(code_uri, str):
        code_uri = "." if code_uri is None and "InlineCode" not in props else None
    if code_uri is None or code_uri.endswith((".zip", ".jar")) or not (base / code_uri).is_dir():
        return  # a missing CodeUri is reported once, by itself
    entry_points = ((body.get("Metadata") or {}).get("BuildProperties") or {}).get("EntryPoints")
    line = line_at(template.data, ["Resources", logical, "Properties", "Handler"])
    if isinstance(entry_points, list):
        for entry in entry_points:
            if isinstance(entry, str):
                yield Ref(
                    template.rel, line, base / code_uri, entry, f"{logical} EntryPoints {entry!r}"
                )
        return
    module = _handler_module(handler, runtime)
    if module is not None:
        yield Ref(template.rel, line, base / code_uri, module, f"{logical}.Handler {handler!r}")


def _handler_module(handler: str, runtime: str) -> str | None:
    """`app.lambda_handler` -> `app.py`; `src/index.handler` -> `src/index.*` (first that exists)."""
    family = next((f for f in _HANDLER_SUFFIXES if runtime.startswith(f)), None)
    if family is None or "." not in handler:
        return None
    module = handler.rsplit(".", 1)[0]
    if family == "python":
        module = module.replace(".", "/")
    return f"{module}{{{','.join(_HANDLER_SUFFIXES[family])}}}"


# ------------------------------------------------------------------ Terraform
def _terraform_refs(ctx: PatternContext, folders: list[str]) -> Iterator[Ref]:
    for project in terraform.projects(ctx, folders):
        archives: dict[str, str] = {}
        for block in project.blocks:
            if block.block not in ("resource", "data"):
                continue
            body = block.scope.evaluate(block.body)
            rel = terraform.rel_to(ctx, block.file)
            for attr in _TF_PATH_ATTRS:
                value = body.get(attr)
                if isinstance(value, str) and not (
                    attr == "filename" and value.endswith((".zip", ".jar"))
                ):
                    line = terraform.attr_line(block.file, block.line, attr)
                    yield Ref(rel, line, project.root, value, f"{block.type}.{block.name}.{attr}")
            if block.block == "data" and block.type == "archive_file":
                source = body.get("source_dir") or body.get("source_file")
                if isinstance(source, str):
                    archives[block.name] = source
        for block in project.blocks:
            if block.block == "resource" and block.type == "aws_lambda_function":
                yield from _tf_handler(ctx, project, block, archives)
        for tf in sorted({b.file for b in project.blocks}):
            text = terraform.parse_file(tf)[1]
            scope = next(b.scope for b in project.blocks if b.file == tf)
            for m in _TF_FILE_FN.finditer(text):
                value = scope.evaluate(f'"{m.group(1)}"')
                if isinstance(value, str):
                    yield Ref(
                        terraform.rel_to(ctx, tf),
                        _line(text, m.start()),
                        project.root,
                        value,
                        m.group(0).split("(")[0] + f"({m.group(1)!r})",
                    )


def _tf_handler(
    ctx: PatternContext,
    project: terraform.Project,
    block: terraform.Block,
    archives: dict[str, str],
) -> Iterator[Ref]:
    body = block.scope.evaluate(block.body)
    handler, runtime, filename = (
        body.get("handler"),
        str(body.get("runtime", "")),
        str(body.get("filename", "")),
    )
    m = re.search(r"data\.archive_file\.([\w-]+)\.output_path", filename)
    if not isinstance(handler, str) or m is None or m.group(1) not in archives:
        return
    source = archives[m.group(1)]
    module = _handler_module(handler, runtime)
    if module is None or not (project.root / source).is_dir():
        return  # a single-file archive, or a missing source_dir reported by itself
    line = terraform.attr_line(block.file, block.line, "handler")
    yield Ref(
        terraform.rel_to(ctx, block.file),
        line,
        project.root / source,
        module,
        f"{block.type}.{block.name}.handler {handler!r}",
    )


# ------------------------------------------------------------------ CDK / JavaScript
def _js_literal(src: str) -> str | None:
    s = src.strip()
    if len(s) >= 2 and s[0] == s[-1] and s[0] in "'\"" and "\\" not in s:
        return s[1:-1]
    if len(s) >= 2 and s[0] == s[-1] == "`" and "${" not in s:
        return s[1:-1]
    return None


def _js_refs(ctx: PatternContext, rel: str, text: str, app_base: Path) -> Iterator[Ref]:
    js = JsFile(text)
    file_dir = (ctx.root / rel).parent
    for m in js.find(_JS_PATH_CALL):
        args = js.call_args(m.end() - 1)
        if args is None:
            continue
        items = [js.text(a, b).strip() for a, b in js.split_top(*args)]
        if not items or items[0] not in ("__dirname", "import.meta.dirname"):
            continue
        parts = [_js_literal(i) for i in items[1:]]
        if parts and all(p is not None for p in parts):
            literal = [p for p in parts if p is not None]
            if "resolve" in m.group(0):  # a later absolute segment restarts path.resolve
                starts = [i for i, p in enumerate(literal) if p.startswith("/")]
                literal = literal[starts[-1] :] if starts else literal
            target = "/".join(literal)
            if not ("resolve" in m.group(0) and target.startswith("/")):
                target = target.lstrip("/")  # path.join: "/x" is just a segment
            call = "path.resolve" if "resolve" in m.group(0) else "path.join"
            shown = f"{call}(__dirname, " + ", ".join(repr(p) for p in literal) + ")"
            yield Ref(rel, js.line(m.start()), file_dir, target, shown)
    for m in _TEMPLATE_DIRNAME.finditer(text):
        yield Ref(rel, _line(text, m.start()), file_dir, m.group(1).lstrip("/"), m.group(0))
    for m in _JS_ASSET.finditer(text):
        if js.code[m.start()] == text[m.start()]:  # not inside a comment or string
            call = m.group(0).split("(")[0].strip()
            yield Ref(rel, _line(text, m.start()), app_base, m.group(2), f"{call}({m.group(2)!r})")
    for m in _JS_ENTRY.finditer(text):
        if js.code[m.start()] == text[m.start()]:
            yield Ref(rel, _line(text, m.start()), app_base, m.group(3), m.group(0))


def _python_cdk_refs(ctx: PatternContext, rel: str, text: str, app_base: Path) -> Iterator[Ref]:
    tree = ctx.python_ast(rel)
    if tree is None:
        return
    file_dir = (ctx.root / rel).parent
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = ast.unparse(node.func)
        if name.endswith(("from_asset", "from_image_asset", "Source.asset")) and node.args:
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                yield Ref(rel, node.lineno, app_base, arg.value, f"{name}({arg.value!r})")
        elif name == "os.path.join" and node.args:
            first = ast.unparse(node.args[0])
            rest = node.args[1:]
            if "__file__" in first and all(
                isinstance(a, ast.Constant) and isinstance(a.value, str) for a in rest
            ):
                target = "/".join(str(a.value) for a in rest if isinstance(a, ast.Constant))
                yield Ref(rel, node.lineno, file_dir, target, f"os.path.join({first}, {target!r})")


# ------------------------------------------------------------------ Serverless Framework
def _serverless_refs(ctx: PatternContext, rel: str) -> Iterator[Ref]:
    if not rel.endswith((".yml", ".yaml")):
        return
    doc = serverless_doc(ctx, rel)
    if doc is None:
        return
    provider = doc.get("provider") if isinstance(doc.get("provider"), dict) else {}
    default_runtime = str((provider or {}).get("runtime", ""))
    functions = doc.get("functions")
    if not isinstance(functions, dict):
        return
    base = (ctx.root / rel).parent
    for name, fn in functions.items():
        if not isinstance(fn, dict) or not isinstance(fn.get("handler"), str):
            continue
        runtime = str(fn.get("runtime", default_runtime))
        module = _handler_module(fn["handler"], runtime or "nodejs")
        if module is not None:
            yield Ref(rel, key_line(fn, "handler"), base, module, f"functions.{name}.handler")
