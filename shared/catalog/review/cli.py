"""`catalog review`: the command-line entry point (`main(argv) -> exit code`)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from .discover import UsageError
from .formats import FORMATS, markdown_summary, render

USAGE = (
    "catalog review [PATH ...] [--changed-since GIT_REF] [--format text|json|github|sarif] "
    "[--sarif FILE] [--fail-on error|warning] [--checkov | --no-checkov] [--jobs N]"
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="catalog review",
        usage=USAGE,
        description="Review serverless pattern folders: metadata, hygiene, docs, IaC and code rules "
        "(shared/catalog/review/RULES.md). PATH is a pattern folder, a folder of patterns, or a "
        "repository holding patterns/ (default: the current folder).",
    )
    p.add_argument("paths", nargs="*", metavar="PATH")
    p.add_argument(
        "--changed-since", metavar="GIT_REF", help="only patterns touched since this ref"
    )
    p.add_argument("--format", choices=FORMATS, default="text")
    p.add_argument(
        "--sarif", metavar="FILE", help="also write the report as SARIF to FILE (same run)"
    )
    p.add_argument(
        "--fail-on",
        choices=("error", "warning"),
        default="error",
        help="exit 1 when a finding at or above this severity exists (default: error)",
    )
    group = p.add_mutually_exclusive_group()
    group.add_argument(
        "--checkov",
        dest="checkov",
        action="store_true",
        default=None,
        help="also run checkov on Terraform (slow; on by default with --format github)",
    )
    group.add_argument("--no-checkov", dest="checkov", action="store_false")
    p.add_argument(
        "--jobs", type=int, default=None, metavar="N", help="worker processes (default: cores)"
    )
    return p


PROGRESS_FROM = 50  # folders; a small review finishes before progress would help


def folder_progress(done: int, total: int) -> None:
    """On stderr, only for many folders: every tenth of the way, and the end."""
    if total < PROGRESS_FROM:
        return
    if done == total or done * 10 // total != (done - 1) * 10 // total:
        print(f"catalog review: {done}/{total} folders reviewed", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    from .runner import review

    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parser().parse_args(args_list)
        if args.jobs is not None and args.jobs < 1:
            raise UsageError("--jobs must be at least 1")
        checkov = args.checkov if args.checkov is not None else args.format == "github"
        report = review(
            args.paths,
            changed_since=args.changed_since,
            checkov=checkov,
            jobs=args.jobs,
            progress=folder_progress,
        )
    except UsageError as exc:
        # One line, as every catalog error (README: Exit codes); --help shows the usage.
        message = " ".join(str(exc).split())
        print(f"catalog: error: review: {message} (usage: catalog review --help)", file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    out = render(report, args.format)
    if args.sarif:
        with open(args.sarif, "w", encoding="utf-8") as handle:
            handle.write(render(report, "sarif"))
    if args.format == "github":
        summary = markdown_summary(report)
        target = os.environ.get("GITHUB_STEP_SUMMARY")
        if target:
            with open(target, "a", encoding="utf-8") as handle:
                handle.write(summary + "\n")
        else:
            out += "\n" + summary + "\n"
    try:
        sys.stdout.write(out)
        sys.stdout.flush()
    except BrokenPipeError:
        pass
    return 1 if report.fails(args.fail_on) else 0


if __name__ == "__main__":
    sys.exit(main())
