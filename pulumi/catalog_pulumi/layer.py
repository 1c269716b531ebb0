"""One version of a Lambda layer from a prebuilt zip (Python packages under python/)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_aws as aws

from ._validation import check_choice, check_pattern

_RUNTIMES = ("python3.11", "python3.12", "python3.13")
_ARCHITECTURES = ("x86_64", "arm64")


@dataclass(frozen=True, kw_only=True)
class LambdaLayerArgs:
    """Arguments of `LambdaLayer`, as the Terraform module lambda-layer's inputs; invalid values
    raise ValueError when constructed."""

    layer_name: str
    code_path: str | Path  # a built zip (catalog.packaging.build_layer)
    description: str = ""
    compatible_runtimes: list[str] = field(default_factory=lambda: ["python3.13"])
    compatible_architectures: list[str] = field(default_factory=lambda: ["x86_64"])

    def __post_init__(self) -> None:
        check_pattern(
            "layer_name", self.layer_name, r"[A-Za-z0-9_-]{1,140}",
            "1-140 letters, digits, hyphens or underscores",
        )  # fmt: skip
        if len(self.description) > 256:
            raise ValueError("description must be at most 256 characters")
        if not 1 <= len(self.compatible_runtimes) <= 15:
            raise ValueError("compatible_runtimes must list 1-15 runtimes")
        for runtime in self.compatible_runtimes:
            check_choice("compatible_runtimes", runtime, _RUNTIMES)
        if not 1 <= len(self.compatible_architectures) <= 2:
            raise ValueError("compatible_architectures must list x86_64, arm64 or both")
        for architecture in self.compatible_architectures:
            check_choice("compatible_architectures", architecture, _ARCHITECTURES)
        if not str(self.code_path).endswith(".zip") or not Path(self.code_path).is_file():
            raise ValueError(f"code_path={str(self.code_path)!r} must be a built .zip")


class LambdaLayer(pulumi.ComponentResource):
    """The layer version; destroy deletes it (skip_destroy stated false)."""

    arn: pulumi.Output[str]  # the version's ARN, what a function's `layers` lists
    layer_arn: pulumi.Output[str]
    version: pulumi.Output[str]

    def __init__(
        self, name: str, args: LambdaLayerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("catalog:aws:LambdaLayer", name, None, opts)
        layer = aws.lambda_.LayerVersion(
            name,
            layer_name=args.layer_name,
            description=args.description,
            code=pulumi.FileArchive(str(args.code_path)),
            compatible_runtimes=list(args.compatible_runtimes),
            compatible_architectures=list(args.compatible_architectures),
            skip_destroy=False,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.arn = layer.arn
        self.layer_arn = layer.layer_arn
        self.version = layer.version
        self.register_outputs(
            {"arn": self.arn, "layer_arn": self.layer_arn, "version": self.version}
        )
