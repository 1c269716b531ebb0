"""`catalog review`: static review of serverless pattern folders, this catalog's and the public
catalogue's (SAM, CDK, Terraform, Pulumi, Serverless Framework; any language).

    from catalog.review import review
    report = review(["patterns"], changed_since=None, checkov=False)

Rules are documented in RULES.md next to this file.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .model import RULES, Finding, Notice, Report
    from .runner import review

_EXPORTS = ("RULES", "Finding", "Notice", "Report", "review")


def __getattr__(name: str) -> Any:
    """The runner (and the rules it registers) imported on first use: the cfn-lint worker
    (`python -m catalog.review.cfnlint_worker`) imports this package too, and needs none of it."""
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    runner = importlib.import_module(".runner", __name__)
    model = importlib.import_module(".model", __name__)
    return runner.review if name == "review" else getattr(model, name)


def main(argv: Sequence[str] | None = None) -> int:
    """`catalog review ...` (see `catalog.review.cli`)."""
    from .cli import main as cli_main

    return cli_main(argv)


__all__ = ["RULES", "Finding", "Notice", "Report", "main", "review"]
