"""Lambda layers on the embedded AWS: a function imports what its zip, its layers (extracted in
order into its own /opt, python/ and python/lib/python3.13/site-packages) and the runtime provide,
and nothing else, as on Lambda."""

from __future__ import annotations

import io
import json
import sys
import zipfile
from collections.abc import Callable
from typing import Any

import pytest

from catalog.localaws import LocalAws

# Installed nowhere in this interpreter: only a layer can provide it.
LAYER_ONLY = "catalog_layer_probe"
IMPORTS_LAYER_ONLY = f"""\
import {LAYER_ONLY}


def handler(event, context):
    return {{"value": {LAYER_ONLY}.VALUE, "file": {LAYER_ONLY}.__file__}}
"""


def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in sorted(files.items()):
            archive.writestr(name, text)
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def _clean(aws: LocalAws) -> None:
    aws.reset()


@pytest.fixture
def publish(aws: LocalAws) -> Callable[[str, dict[str, str]], str]:
    def make(name: str, files: dict[str, str]) -> str:
        published = aws.client("lambda").publish_layer_version(
            LayerName=name, Content={"ZipFile": _zip(files)}, CompatibleRuntimes=["python3.13"]
        )
        return str(published["LayerVersionArn"])

    return make


def invoke(aws: LocalAws, name: str) -> tuple[Any, str | None]:
    answer = aws.client("lambda").invoke(FunctionName=name, Payload=b"{}")
    return json.loads(answer["Payload"].read()), answer.get("FunctionError")


def test_a_module_only_a_layer_holds_is_imported_from_that_layer(
    aws: LocalAws, make_function: Callable[..., str], publish: Callable[..., str]
) -> None:
    assert LAYER_ONLY not in sys.modules
    layer = publish("probe", {f"python/{LAYER_ONLY}/__init__.py": "VALUE = 'from the layer'\n"})
    make_function("with-layer", IMPORTS_LAYER_ONLY, Layers=[layer])
    result, error = invoke(aws, "with-layer")
    assert error is None, result
    assert result["value"] == "from the layer"
    assert "/opt-" in result["file"] and result["file"].endswith(f"python/{LAYER_ONLY}/__init__.py")

    # The same code without the layer fails its cold start, as on Lambda, although the module
    # is now loaded in this process.
    make_function("without-layer", IMPORTS_LAYER_ONLY)
    payload, error = invoke(aws, "without-layer")
    assert error
    assert payload["errorType"] == "Runtime.ImportModuleError"
    assert f"No module named '{LAYER_ONLY}'" in payload["errorMessage"]


def test_installed_here_is_not_enough_the_zip_a_layer_or_the_runtime_must_provide_it(
    aws: LocalAws, make_function: Callable[..., str], publish: Callable[..., str]
) -> None:
    code = "import jsonschema\n\ndef handler(event, context):\n    return jsonschema.__name__\n"
    make_function("bare", code)
    payload, error = invoke(aws, "bare")
    assert error and payload["errorType"] == "Runtime.ImportModuleError"
    assert "No module named 'jsonschema'" in payload["errorMessage"]

    # In a layer's site-packages folder it is found (the module itself loads from this
    # interpreter: a layer's compiled wheels are built for the Lambda platform).
    layer = publish(
        "schema", {"python/lib/python3.13/site-packages/jsonschema/__init__.py": "VALUE = 1\n"}
    )
    make_function("layered", code, Layers=[layer])
    assert invoke(aws, "layered") == ("jsonschema", None)

    # boto3 comes with the runtime; imports made late, in the handler, are checked too.
    late = "def handler(event, context):\n    import boto3\n    import jsonschema\n    return 1\n"
    make_function("late", late)
    payload, error = invoke(aws, "late")
    assert error and "No module named 'jsonschema'" in payload["errorMessage"]
    make_function("runtime", "import boto3\n\ndef handler(event, context):\n    return 2\n")
    assert invoke(aws, "runtime") == (2, None)


def test_later_layers_replace_the_files_of_earlier_ones(
    aws: LocalAws, make_function: Callable[..., str], publish: Callable[..., str]
) -> None:
    module = f"python/{LAYER_ONLY}/__init__.py"
    first = publish("first", {module: "VALUE = 'first'\n", "python/only_first.py": "X = 1\n"})
    second = publish("second", {module: "VALUE = 'second'\n"})
    make_function("ordered", IMPORTS_LAYER_ONLY, Layers=[first, second])
    result, error = invoke(aws, "ordered")
    assert error is None and result["value"] == "second"
    code = "import only_first\n\ndef handler(event, context):\n    return only_first.X\n"
    make_function("merged", code, Layers=[first, second])
    assert invoke(aws, "merged") == (1, None)  # both layers' files share one /opt
