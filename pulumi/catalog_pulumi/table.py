"""An on-demand, encrypted DynamoDB table; deletion protection is one argument away."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from ._validation import check_choice, check_pattern

_KEY_TYPES = ("S", "N", "B")
_STREAM_VIEWS = ("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES")


@dataclass(frozen=True, kw_only=True)
class TableArgs:
    """Arguments of `Table`; invalid values raise ValueError when constructed."""

    name: str
    hash_key: str
    hash_key_type: str = "S"
    range_key: str | None = None
    range_key_type: str = "S"
    ttl_attribute: str | None = None
    stream_view_type: str | None = None  # None: no stream
    deletion_protection: bool = False  # False so demos destroy cleanly; True in production
    point_in_time_recovery: bool = False

    def __post_init__(self) -> None:
        check_pattern(
            "name", self.name, r"[A-Za-z0-9_.-]{3,255}",
            "3-255 letters, digits, underscores, hyphens or dots",
        )  # fmt: skip
        for argument in ("hash_key", "range_key", "ttl_attribute"):
            value = getattr(self, argument)
            if value is not None and not 1 <= len(value) <= 255:
                raise ValueError(f"{argument}={value!r} must be 1-255 characters")
        check_choice("hash_key_type", self.hash_key_type, _KEY_TYPES)
        check_choice("range_key_type", self.range_key_type, _KEY_TYPES)
        if self.stream_view_type is not None:
            check_choice("stream_view_type", self.stream_view_type, _STREAM_VIEWS)


class Table(pulumi.ComponentResource):
    """PAY_PER_REQUEST billing, server-side encryption on, optional TTL, stream and PITR."""

    name: pulumi.Output[str]
    arn: pulumi.Output[str]
    stream_arn: pulumi.Output[str]  # empty when there is no stream

    def __init__(
        self, name: str, args: TableArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("catalog:aws:Table", name, None, opts)

        attributes = [aws.dynamodb.TableAttributeArgs(name=args.hash_key, type=args.hash_key_type)]
        if args.range_key is not None:
            attributes.append(
                aws.dynamodb.TableAttributeArgs(name=args.range_key, type=args.range_key_type)
            )
        table = aws.dynamodb.Table(
            name,
            name=args.name,
            billing_mode="PAY_PER_REQUEST",
            hash_key=args.hash_key,
            range_key=args.range_key,
            attributes=attributes,
            deletion_protection_enabled=args.deletion_protection,
            stream_enabled=args.stream_view_type is not None,
            stream_view_type=args.stream_view_type,
            ttl=(
                aws.dynamodb.TableTtlArgs(attribute_name=args.ttl_attribute, enabled=True)
                if args.ttl_attribute is not None
                else None
            ),
            # Encrypted at rest with the AWS managed key for DynamoDB.
            server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(enabled=True),
            point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(
                enabled=args.point_in_time_recovery
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

        self.name = table.name
        self.arn = table.arn
        self.stream_arn = table.stream_arn
        self.register_outputs({"name": self.name, "arn": self.arn, "stream_arn": self.stream_arn})
