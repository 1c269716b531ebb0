"""Lambda dependencies come from a hashed lock: every pattern has a current one, and packaging
refuses a stale or missing lock and installs nothing whose hash differs from the lock's."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

from catalog import packaging
from catalog.patterns import discover
from catalog.scaffold import MODEL_DIR

SOURCES = [p.root / "src" for p in discover()] + [MODEL_DIR / "src"]
SAGA_LOCK = next(s for s in SOURCES if s.parent.name == "stepfunctions-saga") / packaging.LOCK


@pytest.mark.parametrize("src", SOURCES, ids=lambda s: s.parent.name)
def test_every_lock_pins_its_requirements_with_hashes(src: Path) -> None:
    packaging.check_lock(src / packaging.REQUIREMENTS, src / packaging.LOCK)
    lock = (src / packaging.LOCK).read_text()
    assert packaging.LOCK_COMMAND in lock  # made by the documented command, for the Lambda platform
    blocks = re.split(r"\n(?=[a-z0-9])", lock.split("\n", 2)[2])
    assert blocks and all("--hash=sha256:" in block for block in blocks), "a pin without hashes"


def _copy_saga_requirements(tmp_path: Path, requirements: str) -> tuple[Path, Path]:
    (tmp_path / packaging.REQUIREMENTS).write_text(requirements)
    lock = tmp_path / packaging.LOCK
    lock.write_text(SAGA_LOCK.read_text())
    return tmp_path / packaging.REQUIREMENTS, lock


def test_a_stale_or_missing_lock_is_refused_with_the_command(tmp_path: Path) -> None:
    requirements, lock = _copy_saga_requirements(tmp_path, "aws-lambda-powertools==3.36.0\n")
    with pytest.raises(packaging.PackagingError, match="does not pin aws-lambda-powertools") as e:
        packaging.install_requirements(requirements, lock)
    assert packaging.LOCK_COMMAND in str(e.value)
    requirements.write_text("aws_lambda_powertools==3.37.0\nrequests\n")  # names normalized
    with pytest.raises(packaging.PackagingError, match="does not pin requests as"):
        packaging.install_requirements(requirements, lock)
    lock.unlink()
    with pytest.raises(packaging.PackagingError, match="is missing: run `uv pip compile"):
        packaging.install_requirements(requirements, lock)


def _only_jmespath(lock: Path, tamper: bool) -> None:
    """The saga lock cut down to jmespath (a small wheel), optionally with a wrong hash."""
    block = re.search(r"^jmespath==.*?(?=^\S)", SAGA_LOCK.read_text(), re.M | re.S)
    assert block is not None
    text = block.group(0)
    if tamper:
        text = re.sub(r"sha256:[0-9a-f]{64}", "sha256:" + "0" * 64, text)
    lock.write_text(text)


def test_the_lock_is_what_gets_installed_and_its_hashes_are_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CATALOG_CACHE_DIR", str(tmp_path / "cache"))
    # requirements.txt names only jmespath, so an install of the lock adds nothing else either.
    requirements, lock = _copy_saga_requirements(tmp_path, "jmespath\n")
    _only_jmespath(lock, tamper=True)
    with pytest.raises(packaging.PackagingError, match=r"(?i)hash"):
        packaging.install_requirements(requirements, lock)
    _only_jmespath(lock, tamper=False)
    deps = packaging.install_requirements(requirements, lock)
    assert deps is not None
    # Dotfiles are the cache's and uv's own; bin/ (console scripts) is left out of every zip.
    installed = sorted(
        p.name for p in deps.iterdir() if p.name != "bin" and not p.name.startswith(".")
    )
    assert installed == ["jmespath", "jmespath-1.1.0.dist-info"]


def test_a_built_zip_holds_exactly_the_locked_distributions(tmp_path: Path) -> None:
    locked = {name.replace("-", "_") for name in packaging._pins(SAGA_LOCK)}
    zips = packaging.build_pattern(SAGA_LOCK.parent.parent, tmp_path)
    with zipfile.ZipFile(next(iter(zips.values()))) as archive:
        dists = {
            n.split("/")[0].split("-")[0].lower()
            for n in archive.namelist()
            if n.split("/")[0].endswith(".dist-info")
        }
    assert dists == locked


def _layer_pattern(root: Path) -> Path:
    """A pattern whose dependencies (jmespath, from the saga's lock) ship as a layer."""
    package = root / "src" / "probe"
    (package / "functions").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "functions" / "__init__.py").write_text("")
    for name in ("one", "two"):
        (package / "functions" / f"{name}.py").write_text(
            "import jmespath\n\ndef handler(e, c):\n    return 1\n"
        )
    (root / packaging.METADATA).write_text('{"catalog": {"dependencies": "layer"}}')
    (root / "src" / packaging.REQUIREMENTS).write_text("jmespath\n")
    _only_jmespath(root / "src" / packaging.LOCK, tamper=False)
    return root


def test_a_layer_pattern_ships_the_lock_once_under_python_and_code_only_zips(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CATALOG_CACHE_DIR", str(tmp_path / "cache"))
    pattern = _layer_pattern(tmp_path / "pattern")
    zips = packaging.build_pattern(pattern, tmp_path / "a")
    layer = tmp_path / "a" / packaging.LAYER_ZIP
    with zipfile.ZipFile(layer) as archive:
        tops = {n.split("/")[1] for n in archive.namelist()}
        assert {n.split("/")[0] for n in archive.namelist()} == {"python"}
    assert tops == {"jmespath", "jmespath-1.1.0.dist-info"}
    for name, path in zips.items():
        with zipfile.ZipFile(path) as archive:
            assert sorted(archive.namelist()) == [
                "probe/__init__.py",
                "probe/functions/__init__.py",
                f"probe/functions/{name}.py",
            ]
    # Same lock, same bytes; build_layer alone gives the same zip.
    again = packaging.build_layer(pattern, tmp_path / "b")
    assert again.read_bytes() == layer.read_bytes()
    # Without the metadata flag there is no layer, and the lock goes into every function zip.
    (pattern / packaging.METADATA).write_text('{"catalog": {}}')
    with pytest.raises(packaging.PackagingError, match="no layer"):
        packaging.build_layer(pattern, tmp_path / "c")
    plain = packaging.build_pattern(pattern, tmp_path / "c")
    assert not (tmp_path / "c" / packaging.LAYER_ZIP).exists()
    with zipfile.ZipFile(plain["one"]) as archive:
        assert "jmespath/__init__.py" in archive.namelist()
    (pattern / packaging.METADATA).write_text('{"catalog": {"dependencies": "vendored"}}')
    with pytest.raises(packaging.PackagingError, match="must be function or layer"):
        packaging.build_pattern(pattern, tmp_path / "d")


def test_the_durable_pattern_functions_are_code_only_and_under_1_mb() -> None:
    pattern = next(s.parent for s in SOURCES if s.parent.name == "durable-function-chaining")
    zips = packaging.build_pattern(pattern)
    for path in zips.values():
        with zipfile.ZipFile(path) as archive:
            assert not [n for n in archive.namelist() if ".dist-info/" in n], path.name
        assert path.stat().st_size <= 1_000_000, path.name
    with zipfile.ZipFile(packaging.build_layer(pattern)) as archive:
        dists = {
            n.split("/")[1] for n in archive.namelist() if n.split("/")[1].endswith(".dist-info")
        }
    locked = {name.replace("-", "_") for name in packaging._pins(pattern / "src" / packaging.LOCK)}
    assert {d.split("-")[0].lower() for d in dists} == locked
