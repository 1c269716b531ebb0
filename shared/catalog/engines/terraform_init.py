"""`terraform init` once per configuration shape, reused by every later workspace of this process.

What init writes (`.terraform/`: the module manifest and links to the provider packages, plus
`.terraform.lock.hcl`) depends only on the module sources and the provider requirements, not on the
rest of the code. So a workspace whose `.tf` files declare the same sources and versions as one
already initialised gets a copy of that result instead of another init (which hashes the 700 MB
provider and reads its schema). The copy is held in memory: no cache folder is left behind.
"""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass
from pathlib import Path

# The lines of a configuration that init reads: module sources and provider/version constraints.
_INIT_INPUT = re.compile(
    r"^\s*(source|version|required_version)\s*=.*$|^\s*[a-z0-9_-]+\s*=\s*\{", re.M
)


@dataclass(frozen=True)
class _Entry:
    relative: str
    content: bytes | None  # None: a symbolic link
    link: str | None = None
    mode: int = 0o644


_CACHE: dict[str, list[_Entry]] = {}
_LOCK = threading.Lock()


def init_key(base: Path, root: Path, plugin_dir: str | None) -> str:
    """A digest of everything init depends on in this workspace (sources, versions, plugin dir)."""
    digest = hashlib.sha256(f"{root.relative_to(base)}\n{plugin_dir}\n".encode())
    for path in sorted([*base.rglob("*.tf"), *base.rglob("*.tf.json")]):
        if ".terraform" in path.parts:
            continue
        text = path.read_text()
        # A JSON file (module calls of the runner's variants) counts whole: its module sources.
        lines = [m.group(0).strip() for m in _INIT_INPUT.finditer(text)]
        digest.update(f"{path.relative_to(base)}\n".encode())
        digest.update((text if path.suffix == ".json" else "\n".join(lines)).encode())
    return digest.hexdigest()


def restore(key: str, root: Path) -> bool:
    """Write a cached init result into `root`; False when this shape was never initialised."""
    with _LOCK:
        entries = _CACHE.get(key)
    if entries is None:
        return False
    for entry in entries:
        target = root / entry.relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if entry.link is not None:
            target.symlink_to(entry.link)
        else:
            target.write_bytes(entry.content or b"")
            target.chmod(entry.mode)
    return True


def remember(key: str, root: Path, plugin_dir: str | None) -> None:
    """Keep what init wrote in `root`: small files as bytes, provider packages as links.

    A provider file init placed as a link (plugin cache) stays that link; one it copied from the
    plugin directory becomes a link to that original. Anything else is not cached (init runs again).
    """
    entries = [_Entry(".terraform.lock.hcl", (root / ".terraform.lock.hcl").read_bytes())]
    providers = root / ".terraform" / "providers"
    for path in _walk(root / ".terraform"):
        relative = path.relative_to(root).as_posix()
        if path.is_symlink():
            entries.append(_Entry(relative, None, str(path.resolve())))
        elif path.is_relative_to(providers):
            original = Path(plugin_dir or "/nonexistent", path.relative_to(providers))
            if not original.is_file():
                return
            entries.append(_Entry(relative, None, str(original)))
        else:
            entries.append(_Entry(relative, path.read_bytes(), mode=path.stat().st_mode & 0o777))
    with _LOCK:
        _CACHE[key] = entries


def _walk(directory: Path) -> list[Path]:
    """Files and links under `directory`, not descending into linked folders."""
    found = []
    for path in sorted(directory.iterdir()):
        if path.is_dir() and not path.is_symlink():
            found += _walk(path)
        else:
            found.append(path)
    return found
