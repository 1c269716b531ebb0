"""`catalog review`: static review of serverless pattern folders, this catalog's and the public
catalogue's (SAM, CDK, Terraform, Pulumi, Serverless Framework; any language).

    from catalog.review import review
    report = review(["patterns"], changed_since=None, checkov=False)

Rules are documented in RULES.md next to this file.
"""

from collections.abc import Sequence

from .model import RULES, Finding, Notice, Report
from .runner import review


def main(argv: Sequence[str] | None = None) -> int:
    """`catalog review ...` (see `catalog.review.cli`)."""
    from .cli import main as cli_main

    return cli_main(argv)


__all__ = ["RULES", "Finding", "Notice", "Report", "main", "review"]
