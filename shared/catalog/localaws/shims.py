"""Shims for the known gaps of stock moto 5.2.5 that break a Terraform apply/plan/destroy cycle.

Each shim covers one documented gap and nothing else, steps aside when moto already implements the
call (so an upgrade retires it), and is undone on stop. Each has a test in
tests/tooling/test_localaws_shims.py that goes through boto3 against the running server.
"""

from __future__ import annotations

import copy
import json
import threading
from typing import Any

from .patching import Patches

_LOGGING_ATTR = "_catalog_logging_config"
_DLQ_ATTR = "_catalog_dead_letter_config"


def install(patches: Patches) -> None:
    _install_lambda_config_round_trip(patches)
    _install_lambda_copies_share_logs(patches)
    _install_sfn_validate_definition(patches)
    _install_sfn_list_versions(patches)
    _install_iam_managed_policy_on_demand(patches)
    _install_dynamodb_request_isolation(patches)
    _install_event_source_mappings_detached(patches)
    install_events_envelope_account(patches)
    _install_sqs_compact_redrive_policy(patches)


# --- Lambda: LoggingConfig and DeadLetterConfig ------------------------------------------------
# Gap: moto accepts both on CreateFunction/UpdateFunctionConfiguration but never stores or returns
# them, so the provider sees `logging_config`/`dead_letter_config` vanish after every apply (a
# perpetual diff). The shim stores them on the function and adds them to every configuration
# response (Create, Get, GetConfiguration, Update, List, PublishVersion all build it the same way).


def log_group_of(function: Any) -> str:
    """The log group a function writes to (LoggingConfig.LogGroup, else /aws/lambda/<name>)."""
    config = getattr(function, _LOGGING_ATTR, None)
    if config and config.get("LogGroup"):
        return str(config["LogGroup"])
    return f"/aws/lambda/{function.function_name}"


def _logging_config(function: Any) -> dict[str, str]:
    # AWS always returns LoggingConfig: Text format in /aws/lambda/<name> unless configured.
    requested = getattr(function, _LOGGING_ATTR, None) or {}
    config = {key: str(value) for key, value in requested.items() if value}
    config.setdefault("LogFormat", "Text")
    config.setdefault("LogGroup", f"/aws/lambda/{function.function_name}")
    if config["LogFormat"] == "JSON":
        # Log-level filtering exists only for JSON; AWS defaults both levels to INFO.
        config.setdefault("ApplicationLogLevel", "INFO")
        config.setdefault("SystemLogLevel", "INFO")
    return config


def _remember(function: Any, spec: dict[str, Any]) -> None:
    if "LoggingConfig" in spec:
        setattr(function, _LOGGING_ATTR, dict(spec["LoggingConfig"] or {}))
    if "DeadLetterConfig" in spec:
        target = (spec["DeadLetterConfig"] or {}).get("TargetArn")
        # An empty TargetArn is how a client removes the dead-letter queue.
        setattr(function, _DLQ_ATTR, {"TargetArn": target} if target else None)


def _install_lambda_config_round_trip(patches: Patches) -> None:
    from moto.awslambda.models import LambdaFunction

    original_init = LambdaFunction.__init__
    original_get = LambdaFunction.get_configuration
    original_update = LambdaFunction.update_configuration

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        spec = kwargs["spec"] if "spec" in kwargs else args[1]
        _remember(self, spec)

    def get_configuration(self: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        config = original_get(self, *args, **kwargs)
        config.setdefault("LoggingConfig", _logging_config(self))
        dead_letter = getattr(self, _DLQ_ATTR, None)
        if dead_letter:
            config.setdefault("DeadLetterConfig", dict(dead_letter))
        return config

    def update_configuration(self: Any, config_updates: dict[str, Any]) -> dict[str, Any]:
        _remember(self, config_updates)
        return original_update(self, config_updates)

    patches.set(LambdaFunction, "__init__", __init__)
    patches.set(LambdaFunction, "get_configuration", get_configuration)
    patches.set(LambdaFunction, "update_configuration", update_configuration)


# --- Lambda: a copied function shares the account's CloudWatch Logs ----------------------------
# Gap: a moto function object holds the account's whole CloudWatch Logs backend (`logs_backend`),
# and moto deep-copies function objects: CreateFunction with Publish (the answer for the new
# version) and ListFunctions (each $LATEST). Each copy walks every log group, stream and event of
# the account, while other server threads go on creating log groups; when one lands mid-walk the
# copy fails ("dictionary changed size during iteration") and moto answers 500 for a function it
# has already created. A client's retry then gets ResourceConflictException ("Function already
# exist"), which the Terraform provider retries for 5 minutes and then fails the apply. A copy now
# shares that backend, like every other function object; the answer is the same.


def _install_lambda_copies_share_logs(patches: Patches) -> None:
    from moto.awslambda.models import LambdaFunction

    if "__deepcopy__" in vars(LambdaFunction):
        return  # moto copies functions its own way now

    def __deepcopy__(self: Any, memo: dict[int, Any]) -> Any:
        memo[id(self.logs_backend)] = self.logs_backend  # deepcopy reuses what memo holds
        clone = object.__new__(type(self))
        memo[id(self)] = clone
        # What moto's own copy holds: the state its __getstate__ gives (no Docker client).
        clone.__dict__.update(copy.deepcopy(self.__getstate__(), memo))
        return clone

    patches.set(LambdaFunction, "__deepcopy__", __deepcopy__)


# --- Step Functions: ValidateStateMachineDefinition --------------------------------------------
# Gap: not implemented (HTTP 500); the provider calls it before create/update of a state machine.
# The shim answers OK for a parseable definition with the required top-level fields and FAIL with
# a diagnostic otherwise. It is no linter: definitions are linted separately (statelint).


def _diagnose(definition: Any) -> list[dict[str, str]]:
    def error(code: str, message: str) -> list[dict[str, str]]:
        return [{"severity": "ERROR", "code": code, "message": message, "location": "/"}]

    try:
        document = json.loads(definition)
    except (TypeError, ValueError) as exc:
        return error("INVALID_JSON_DESCRIPTION", f"Definition is not valid JSON: {exc}")
    if not isinstance(document, dict):
        return error("SCHEMA_VALIDATION_FAILED", "Definition must be a JSON object")
    states = document.get("States")
    if not isinstance(states, dict) or not states:
        return error("SCHEMA_VALIDATION_FAILED", "These fields are required: [States]")
    start_at = document.get("StartAt")
    if not isinstance(start_at, str):
        return error("SCHEMA_VALIDATION_FAILED", "These fields are required: [StartAt]")
    if start_at not in states:
        return error("MISSING_TRANSITION_TARGET", f"Missing 'Next' target: {start_at}")
    return []


def _install_sfn_validate_definition(patches: Patches) -> None:
    from moto.core.responses import ActionResult
    from moto.stepfunctions.responses import StepFunctionResponse

    if hasattr(StepFunctionResponse, "validate_state_machine_definition"):
        return  # implemented upstream: the shim retires itself

    def validate_state_machine_definition(self: Any) -> ActionResult:
        diagnostics = _diagnose(self._get_param("definition"))
        return ActionResult(
            {
                "result": "FAIL" if diagnostics else "OK",
                "diagnostics": diagnostics,
                "truncated": False,
            }
        )

    patches.set(
        StepFunctionResponse, "validate_state_machine_definition", validate_state_machine_definition
    )


# --- Step Functions: ListStateMachineVersions --------------------------------------------------
# Gap: not implemented (HTTP 500); the provider reads it when refreshing a state machine. The shim
# lists the versions moto keeps for published machines (none unless `publish` was used), newest
# first, and fails like AWS for an unknown machine.


def _install_sfn_list_versions(patches: Patches) -> None:
    from moto.core.responses import ActionResult
    from moto.stepfunctions.responses import StepFunctionResponse

    if hasattr(StepFunctionResponse, "list_state_machine_versions"):
        return

    def list_state_machine_versions(self: Any) -> ActionResult:
        machine = self.stepfunction_backend.describe_state_machine(
            self._get_param("stateMachineArn")
        )
        versions = getattr(machine, "versions", {}) or {}
        listed = [
            {"stateMachineVersionArn": version.arn, "creationDate": version.creation_date}
            for _, version in sorted(versions.items(), reverse=True)
        ]
        return ActionResult({"stateMachineVersions": listed})

    patches.set(StepFunctionResponse, "list_state_machine_versions", list_state_machine_versions)


# --- IAM: AWS managed policies ------------------------------------------------------------------
# Gap: moto knows AWS managed policies only when it loads all ~1,400 of them for every account
# (MOTO_IAM_LOAD_MANAGED_POLICIES, about 2 s per reset), so attaching one (for example
# AWSLambdaBasicDurableExecutionRolePolicy) fails with NoSuchEntity. The shim loads the one being
# attached, from moto's own copy of the AWS data, on demand.


def _install_iam_managed_policy_on_demand(patches: Patches) -> None:
    from moto.iam.aws_managed_policies import aws_managed_policies_data
    from moto.iam.models import AWSManagedPolicy, IAMBackend

    original = IAMBackend.attach_role_policy
    known: dict[str, Any] = {}

    def attach_role_policy(self: Any, policy_arn: str, role_name: str) -> None:
        if policy_arn not in self.managed_policies and ":iam::aws:policy/" in policy_arn:
            if not known:
                known.update(json.loads(aws_managed_policies_data))
            name = policy_arn.rsplit("/", 1)[1]
            if name in known:
                policy = AWSManagedPolicy.from_data(
                    name, self.account_id, self.region_name, known[name]
                )
                self.managed_policies[policy.arn] = policy
        original(self, policy_arn, role_name)

    patches.set(IAMBackend, "attach_role_policy", attach_role_policy)


# --- DynamoDB: request isolation ----------------------------------------------------------------
# Gap: moto's TransactWriteItems snapshots every table it touches and, when a condition fails,
# restores the whole snapshot, undoing writes that other requests made meanwhile; the server
# serves requests on parallel threads. Concurrent orders would then lose or resurrect stock for a
# reason that does not exist on AWS, and a stream read in the middle of a transaction would see
# records of writes that are then rolled back. Serving one DynamoDB or DynamoDB Streams request at
# a time restores the isolation DynamoDB guarantees (each request is atomic on its own; streams
# carry committed writes only).


def _install_dynamodb_request_isolation(patches: Patches) -> None:
    from moto.dynamodb.responses import DynamoHandler
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    lock = threading.Lock()
    for handler in (DynamoHandler, DynamoDBStreamsHandler):
        original = handler.call_action

        def call_action(self: Any, _original: Any = original) -> Any:
            with lock:
                return _original(self)

        patches.set(handler, "call_action", call_action)


# --- Lambda event-source mappings: no inline triggers -------------------------------------------
# Gap: moto fires a mapping inline, inside the request that produced the record: per DynamoDB item
# before a transaction commits (then it empties the shard, so GetRecords never returns those
# records), and inside SendMessage for SQS. Real Lambda polls committed records asynchronously.
# The shim leaves every mapping in the Lambda API (create, get, list, update, delete as before)
# but detaches it from the table or queue, so moto never triggers it and stream records stay
# readable; the embedded AWS's own pollers (event_sources.py) deliver instead.


def _install_event_source_mappings_detached(patches: Patches) -> None:
    from moto.awslambda.models import LambdaBackend

    original = LambdaBackend.create_event_source_mapping

    def create_event_source_mapping(self: Any, spec: dict[str, Any]) -> Any:
        mapping = original(self, spec)
        for source in _trigger_holders(self.account_id, self.region_name):
            triggers = source.lambda_event_source_mappings
            for key, value in list(triggers.items()):
                if value is mapping:
                    del triggers[key]
        return mapping

    patches.set(LambdaBackend, "create_event_source_mapping", create_event_source_mapping)


def _trigger_holders(account_id: str, region: str) -> list[Any]:
    from moto.dynamodb.models import dynamodb_backends
    from moto.sqs.models import sqs_backends

    return [
        *sqs_backends[account_id][region].queues.values(),
        *dynamodb_backends[account_id][region].tables.values(),
    ]


# --- EventBridge: the envelope a rule delivers ----------------------------------------------------
# Gap: moto builds the message a rule sends to its target from a default template without the
# `account` field, which EventBridge always sends (Powertools' EventBridgeModel requires it).


def install_events_envelope_account(patches: Patches) -> None:
    from moto.events.utils import EventTemplateParser

    template = EventTemplateParser.DEFAULT_EVENT_INPUT_TEMPLATE
    if '"account"' not in template:
        patches.set(
            EventTemplateParser,
            "DEFAULT_EVENT_INPUT_TEMPLATE",
            template.replace(
                '"source": "<source>",', '"source": "<source>", "account": "<account>",'
            ),
        )


# --- SQS: RedrivePolicy as AWS writes it -----------------------------------------------------------
# Gap: moto returns RedrivePolicy as JSON with spaces after separators; AWS returns it compact, and
# the Terraform provider compares the strings, so aws_sqs_queue.redrive_policy diffs forever.


def _install_sqs_compact_redrive_policy(patches: Patches) -> None:
    from moto.sqs.models import Queue

    original = Queue.attributes

    def attributes(self: Any) -> dict[str, Any]:
        result = original.fget(self)  # type: ignore[misc]
        policy = result.get("RedrivePolicy")
        if isinstance(policy, str):
            result["RedrivePolicy"] = json.dumps(json.loads(policy), separators=(",", ":"))
        elif isinstance(policy, dict):
            result["RedrivePolicy"] = json.dumps(policy, separators=(",", ":"))
        return result

    patches.set(Queue, "attributes", property(attributes))
