"""CloudFormation: one stack per service, changed through change sets, watched event by event.

This module speaks only CloudFormation. It knows nothing about ECS or the spec: callers
hand it a template body and parameters, and get :class:`StackInfo` values back.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import botocore.exceptions

from fluoride.aws import Aws, client_error_code, translate
from fluoride.errors import AwsError, ServiceExists, ServiceNotFound, StackFailed
from fluoride.events import Note, PlannedChange, PlanReady, Reporter, StackEventSeen
from fluoride.names import MAX_INLINE_TEMPLATE, SERVICE_TAG
from fluoride.waiting import Clock, Deadline, SystemClock, poll

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_cloudformation.type_defs import (
        DescribeChangeSetOutputTypeDef,
        ParameterTypeDef,
        StackEventTypeDef,
    )

__all__ = [
    "Stack",
    "StackInfo",
    "StackState",
    "list_service_stacks",
    "reduce_status",
]



class StackState(enum.Enum):
    """CloudFormation's many statuses, reduced to what a user acts on."""

    COMPLETE = "complete"  #: the last operation succeeded; the stack is usable
    IN_PROGRESS = "in progress"  #: an operation is running
    ROLLED_BACK = "rolled back"  #: the last update failed and was undone; the stack is usable
    FAILED = "failed"  #: the stack is broken and needs attention
    REVIEW = "review"  #: a change set exists but nothing was created yet


_C, _P, _R, _F = (
    StackState.COMPLETE,
    StackState.IN_PROGRESS,
    StackState.ROLLED_BACK,
    StackState.FAILED,
)
#: Every CloudFormation stack status; an unknown status raises rather than guessing.
_STATUS_STATES: Mapping[str, StackState] = {
    "CREATE_IN_PROGRESS": _P,
    "CREATE_COMPLETE": _C,
    "CREATE_FAILED": _F,
    "ROLLBACK_IN_PROGRESS": _P,
    "ROLLBACK_COMPLETE": _F,
    "ROLLBACK_FAILED": _F,
    "DELETE_IN_PROGRESS": _P,
    "DELETE_COMPLETE": _C,
    "DELETE_FAILED": _F,
    "UPDATE_IN_PROGRESS": _P,
    "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS": _P,
    "UPDATE_COMPLETE": _C,
    "UPDATE_FAILED": _P,  # transient: always followed by an update rollback
    "UPDATE_ROLLBACK_IN_PROGRESS": _P,
    "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS": _P,
    "UPDATE_ROLLBACK_COMPLETE": _R,
    "UPDATE_ROLLBACK_FAILED": _F,
    "REVIEW_IN_PROGRESS": StackState.REVIEW,
    "IMPORT_IN_PROGRESS": _P,
    "IMPORT_COMPLETE": _C,
    "IMPORT_ROLLBACK_IN_PROGRESS": _P,
    "IMPORT_ROLLBACK_COMPLETE": _R,
    "IMPORT_ROLLBACK_FAILED": _F,
}


def reduce_status(status: str) -> StackState:
    """Reduce a CloudFormation stack status to a :class:`StackState`."""
    try:
        return _STATUS_STATES[status]
    except KeyError:
        raise AwsError(
            f"CloudFormation reported a stack status Fluoride does not know: {status}.",
            hint="Upgrade fluoride; if it persists, report it.",
        ) from None


@attrs.frozen
class StackInfo:
    """One look at a stack.

    Attributes:
        name: the stack name (``fluoride-<service>``).
        stack_id: the stack's ARN.
        status: CloudFormation's status, e.g. ``UPDATE_COMPLETE``.
        reason: CloudFormation's status reason, if any.
        outputs, parameters, tags: as mappings of strings.
    """

    name: str
    stack_id: str
    status: str
    reason: str | None
    outputs: Mapping[str, str]
    parameters: Mapping[str, str]
    tags: Mapping[str, str]
    created: dt.datetime | None = None
    updated: dt.datetime | None = None

    @property
    def state(self) -> StackState:
        return reduce_status(self.status)

    @classmethod
    def from_api(cls, raw: Mapping[str, Any]) -> StackInfo:
        return cls(
            name=raw["StackName"],
            stack_id=raw["StackId"],
            status=raw["StackStatus"],
            reason=raw.get("StackStatusReason"),
            outputs={o["OutputKey"]: o.get("OutputValue", "") for o in raw.get("Outputs", [])},
            parameters={
                p["ParameterKey"]: p.get("ParameterValue", "") for p in raw.get("Parameters", [])
            },
            tags={t["Key"]: t["Value"] for t in raw.get("Tags", [])},
            created=raw.get("CreationTime"),
            updated=raw.get("LastUpdatedTime"),
        )


def _parameters(
    values: Mapping[str, str], keep_previous: Sequence[str] = ()
) -> list[ParameterTypeDef]:
    given: list[ParameterTypeDef] = [
        {"ParameterKey": k, "ParameterValue": v} for k, v in sorted(values.items())
    ]
    kept: list[ParameterTypeDef] = [
        {"ParameterKey": k, "UsePreviousValue": True}
        for k in sorted(set(keep_previous) - set(values))
    ]
    return given + kept


_NO_CHANGES = (
    "didn't contain changes",
    "No updates are to be performed",
    "submitted information didn't contain changes",
)


@attrs.define
class Stack:
    """The CloudFormation stack of one service.

    Attributes:
        aws: the AWS seam.
        name: the stack name.
        clock: where waiting sleeps; tests inject a fake one.
        poll_interval: seconds between looks while waiting (grows to ``max_poll_interval``).
    """

    aws: Aws
    name: str
    clock: Clock = attrs.field(factory=SystemClock)
    poll_interval: float = 2.0
    max_poll_interval: float = 5.0
    _change_set_counter: Iterator[int] = attrs.field(factory=itertools.count, init=False)

    @property
    def _cfn(self) -> CloudFormationClient:
        return self.aws.client("cloudformation")

    def describe(self) -> StackInfo | None:
        """The stack as it is now, or ``None`` when there is none (deleted stacks included)."""
        info = self._describe_ref(self.name)
        return None if info is None or info.status == "DELETE_COMPLETE" else info

    def require(self) -> StackInfo:
        """Like :meth:`describe`, but a missing stack is :class:`ServiceNotFound`."""
        info = self.describe()
        if info is None:
            raise ServiceNotFound(
                f"There is no stack {self.name} in {self.aws.region}.",
                resource=self.name,
                hint="Check the name and region, or create it with `fluoride create`.",
            )
        return info

    # -- change sets ---------------------------------------------------------------------

    def _change_set_name(self, kind: str) -> str:
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d%H%M%S")
        return f"fluoride-{kind}-{stamp}-{next(self._change_set_counter)}"

    def plan(
        self,
        *,
        kind: str,
        parameters: Mapping[str, str],
        template_body: str | None,
        tags: Mapping[str, str] | None = None,
        keep_previous: Sequence[str] = (),
    ) -> tuple[str, list[PlannedChange]] | None:
        """Create a change set and wait until it is ready.

        ``kind`` is ``CREATE`` or ``UPDATE``; ``template_body=None`` reuses the stack's
        template. ``keep_previous`` names parameters that keep their current value
        (``UsePreviousValue``; a deployment changes ``Image`` only). Returns the change set
        name and its changes, or ``None`` when the change set has nothing to do (which is
        success, not an error).
        """
        if template_body is not None and len(template_body.encode()) > MAX_INLINE_TEMPLATE:
            raise AwsError(
                f"The rendered template is {len(template_body.encode())} bytes, over "
                f"CloudFormation's inline limit of {MAX_INLINE_TEMPLATE}.",
                hint="Shorten the environment variables in the spec.",
            )
        name = self._change_set_name(kind.lower())
        args: dict[str, Any] = {
            "StackName": self.name,
            "ChangeSetName": name,
            "ChangeSetType": kind,
            "Parameters": _parameters(parameters, keep_previous),
            "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
        }
        if template_body is None:
            args["UsePreviousTemplate"] = True
        else:
            args["TemplateBody"] = template_body
        if tags is not None:
            args["Tags"] = [{"Key": k, "Value": v} for k, v in sorted(tags.items())]
        with translate("CreateChangeSet", self.name):
            try:
                self._cfn.create_change_set(**args)
            except botocore.exceptions.ClientError as exc:
                code = client_error_code(exc)
                message = exc.response.get("Error", {}).get("Message", "")
                # moto (and some CloudFormation paths) refuse an empty change set outright
                # instead of creating a FAILED one; both mean "nothing to do".
                if code == "ValidationError" and any(m in message for m in _NO_CHANGES):
                    return None
                if code == "AlreadyExistsException":
                    raise ServiceExists(
                        f"The stack {self.name} already exists.",
                        operation="CreateChangeSet",
                        resource=self.name,
                        hint="Use another name, or delete the existing service first.",
                    ) from exc
                raise

        def ready() -> DescribeChangeSetOutputTypeDef | None:
            with translate("DescribeChangeSet", self.name):
                desc = self._cfn.describe_change_set(
                    StackName=self.name, ChangeSetName=name
                )
            return None if desc["Status"] in ("CREATE_PENDING", "CREATE_IN_PROGRESS") else desc

        desc = poll(
            ready,
            deadline=Deadline.after(self.clock, 300),
            interval=0.5,
            max_interval=self.max_poll_interval,
        )
        if desc is None:
            raise AwsError(f"The change set for {self.name} was not ready within 5 minutes.")
        if desc["Status"] == "FAILED":
            reason = desc.get("StatusReason", "")
            if any(m in reason for m in _NO_CHANGES):
                self._delete_change_set(name)
                return None
            self._delete_change_set(name)
            raise StackFailed(
                f"CloudFormation could not plan the change to {self.name}: {reason}",
                reason=reason,
                operation="CreateChangeSet",
                resource=self.name,
            )
        changes = [
            PlannedChange(
                action=c["ResourceChange"].get("Action", "?"),
                logical_id=c["ResourceChange"].get("LogicalResourceId", "?"),
                resource_type=c["ResourceChange"].get("ResourceType", "?"),
                replacement=c["ResourceChange"].get("Replacement"),
            )
            for c in desc.get("Changes", [])
            if c.get("Type") == "Resource"
        ]
        return name, changes

    def _delete_change_set(self, name: str) -> None:
        # Best effort: a leftover FAILED change set costs nothing.
        with contextlib.suppress(botocore.exceptions.ClientError):
            self._cfn.delete_change_set(StackName=self.name, ChangeSetName=name)

    def execute(self, change_set: str) -> None:
        with translate("ExecuteChangeSet", self.name):
            self._cfn.execute_change_set(StackName=self.name, ChangeSetName=change_set)

    # -- waiting -------------------------------------------------------------------------

    def events_since(self, seen: set[str]) -> list[StackEventSeen]:
        """Stack events not in ``seen`` (which is updated), oldest first."""
        fresh: list[StackEventTypeDef] = []
        with translate("DescribeStackEvents", self.name):
            pages = self._cfn.get_paginator("describe_stack_events").paginate(StackName=self.name)
            for page in pages:
                stop = False
                for event in page["StackEvents"]:
                    if event["EventId"] in seen:
                        stop = True
                        break
                    fresh.append(event)
                if stop:
                    break
        for event in fresh:
            seen.add(event["EventId"])
        return [
            StackEventSeen(
                stack=self.name,
                logical_id=e.get("LogicalResourceId", "?"),
                resource_type=e.get("ResourceType", "?"),
                status=e.get("ResourceStatus", "?"),
                reason=e.get("ResourceStatusReason"),
                timestamp=e["Timestamp"],
            )
            for e in reversed(fresh)
        ]

    def seen_events(self) -> set[str]:
        """The ids of the events that exist now, so a wait reports only newer ones."""
        seen: set[str] = set()
        if self.describe() is not None:
            self.events_since(seen)
        return seen

    def wait(
        self,
        *,
        reporter: Reporter,
        seen: set[str],
        timeout: float,
        stack_id: str | None = None,
    ) -> StackInfo | None:
        """Wait until no operation is in progress, streaming new events to ``reporter``.

        Returns the settled stack, or ``None`` when it is gone (deleted). Raises
        :class:`StackFailed` when the deadline passes first.
        """
        ref = stack_id or self.name

        def settled() -> tuple[StackInfo | None] | None:
            for event in self.events_since(seen) if self.describe() is not None else []:
                reporter(event)
            info = self._describe_ref(ref)
            if info is None or info.status == "DELETE_COMPLETE":
                return (None,)
            if info.state in (StackState.IN_PROGRESS, StackState.REVIEW):
                return None
            return (info,)

        result = poll(
            settled,
            deadline=Deadline.after(self.clock, timeout),
            interval=self.poll_interval,
            max_interval=self.max_poll_interval,
        )
        if result is None:
            raise StackFailed(
                f"{self.name} did not settle within {timeout:.0f} s.",
                resource=self.name,
                hint="It is still running in CloudFormation; check `fluoride status`.",
            )
        return result[0]

    def _describe_ref(self, ref: str) -> StackInfo | None:
        with translate("DescribeStacks", self.name):
            try:
                raw = self._cfn.describe_stacks(StackName=ref)["Stacks"]
            except botocore.exceptions.ClientError as exc:
                if client_error_code(exc) == "ValidationError":
                    return None
                raise
        return StackInfo.from_api(raw[0]) if raw else None

    def first_failure(self) -> tuple[str | None, str | None]:
        """The first failed resource of the latest operation and its reason."""
        with translate("DescribeStackEvents", self.name):
            try:
                events = self._cfn.describe_stack_events(StackName=self.name)["StackEvents"]
            except botocore.exceptions.ClientError:
                return None, None
        for event in reversed(events):
            status = event.get("ResourceStatus", "")
            reason = event.get("ResourceStatusReason") or ""
            if status.endswith("_FAILED") and "cancelled" not in reason.lower():
                return event.get("LogicalResourceId"), reason or None
        return None, None

    # -- operations ----------------------------------------------------------------------

    def create(
        self,
        *,
        template_body: str,
        parameters: Mapping[str, str],
        tags: Mapping[str, str],
        reporter: Reporter,
        wait: bool = True,
        timeout: float = 1800,
        on_failure: Callable[[Sequence[Mapping[str, str]]], None] | None = None,
    ) -> StackInfo:
        """Plan and create the stack; on failure delete it and raise :class:`StackFailed`.

        ``on_failure`` gets the resources the failed attempt made (logical id, type,
        physical id, status) after the stack is gone, to remove what it retained.
        """
        existing = self.describe()
        if existing is not None and existing.status != "REVIEW_IN_PROGRESS":
            raise ServiceExists(
                f"The stack {self.name} already exists ({existing.status}).",
                resource=self.name,
                hint="Use another name, or `fluoride delete` the existing service first.",
            )
        planned = self.plan(
            kind="CREATE", parameters=parameters, template_body=template_body, tags=tags
        )
        if planned is None:  # pragma: no cover - a CREATE always has changes
            raise AwsError(f"CloudFormation planned nothing for {self.name}.")
        change_set, changes = planned
        reporter(PlanReady(stack=self.name, changes=changes))
        seen = self.seen_events()
        self.execute(change_set)
        if not wait:
            return self.require()
        info = self.wait(reporter=reporter, seen=seen, timeout=timeout)
        if info is not None and info.state is StackState.COMPLETE:
            return info
        logical_id, reason = self.first_failure()
        status = info.status if info is not None else "DELETED"
        reporter(Note(f"Creating {self.name} failed; deleting what was made."))
        made = self.resources() if info is not None else []
        self.delete(reporter=reporter, wait=True)
        if on_failure is not None:
            # Resources with a Retain policy outlive the failed stack; the caller removes
            # the ones this attempt made, so a failed create leaves nothing behind.
            on_failure([r for r in made if r["physical_id"] and r["status"] != "DELETE_COMPLETE"])
        raise StackFailed(
            f"Creating {self.name} failed"
            + (f" at {logical_id}: {reason}" if logical_id else f" ({status})."),
            logical_id=logical_id,
            reason=reason,
            status=status,
            operation="CreateStack",
            resource=self.name,
            hint="Fix the cause above and create again; nothing was left behind.",
        )

    def update(
        self,
        *,
        parameters: Mapping[str, str],
        template_body: str | None,
        reporter: Reporter,
        tags: Mapping[str, str] | None = None,
        keep_previous: Sequence[str] = (),
    ) -> bool:
        """Plan and start an update. Returns ``False`` when there was nothing to change."""
        planned = self.plan(
            kind="UPDATE", parameters=parameters, template_body=template_body, tags=tags,
            keep_previous=keep_previous,
        )
        if planned is None:
            reporter(Note(f"{self.name}: nothing to change."))
            return False
        change_set, changes = planned
        reporter(PlanReady(stack=self.name, changes=changes))
        self.execute(change_set)
        return True

    def cancel_update(self) -> None:
        with translate("CancelUpdateStack", self.name):
            self._cfn.cancel_update_stack(StackName=self.name)

    def delete(self, *, reporter: Reporter, wait: bool = True, timeout: float = 1800) -> None:
        """Delete the stack (resources with a Retain policy stay)."""
        info = self.describe()
        if info is None:
            return
        seen = self.seen_events()
        with translate("DeleteStack", self.name):
            self._cfn.delete_stack(StackName=self.name)
        if not wait:
            return
        left = self.wait(reporter=reporter, seen=seen, timeout=timeout, stack_id=info.stack_id)
        if left is not None and left.status != "DELETE_COMPLETE":
            logical_id, reason = self.first_failure()
            raise StackFailed(
                f"Deleting {self.name} failed"
                + (f" at {logical_id}: {reason}" if logical_id else f" ({left.status})."),
                logical_id=logical_id,
                reason=reason,
                status=left.status,
                operation="DeleteStack",
                resource=self.name,
            )

    def resources(self) -> Sequence[Mapping[str, str]]:
        """Logical id, type and physical id of every resource in the stack."""
        out: list[Mapping[str, str]] = []
        with translate("ListStackResources", self.name):
            for page in self._cfn.get_paginator("list_stack_resources").paginate(
                StackName=self.name
            ):
                for r in page["StackResourceSummaries"]:
                    out.append(
                        {
                            "logical_id": r["LogicalResourceId"],
                            "type": r["ResourceType"],
                            "physical_id": r.get("PhysicalResourceId", ""),
                            "status": r["ResourceStatus"],
                        }
                    )
        return out


def list_service_stacks(aws: Aws) -> list[StackInfo]:
    """Every live Fluoride stack in the account and region, found by its service tag."""
    found: list[StackInfo] = []
    with translate("DescribeStacks"):
        for page in aws.client("cloudformation").get_paginator("describe_stacks").paginate():
            for raw in page["Stacks"]:
                tags = {t["Key"]: t["Value"] for t in raw.get("Tags", [])}
                if SERVICE_TAG in tags and raw["StackStatus"] != "DELETE_COMPLETE":
                    found.append(StackInfo.from_api(raw))
    return sorted(found, key=lambda s: s.tags[SERVICE_TAG])


# -- day two: read the template back, plan a change set and read all of it -----------------
# Functions rather than Stack methods, appended here so that they leave the methods above
# as they are (see issue 9).


def stack_template(stack: Stack) -> str:
    """The template body the stack runs now (as sent: ``TemplateStage=Original``)."""
    with translate("GetTemplate", stack.name):
        body = stack._cfn.get_template(StackName=stack.name, TemplateStage="Original")
    template = body.get("TemplateBody", "")
    # boto3 parses a JSON template into a dict; Fluoride's is YAML and stays text.
    return template if isinstance(template, str) else ""


def prepare_change_set(
    stack: Stack,
    *,
    kind: str,
    parameters: Mapping[str, str],
    template_body: str,
    tags: Mapping[str, str],
) -> tuple[str, list[Mapping[str, Any]]] | None:
    """Create an UPDATE change set under a name no other caller uses, wait until it is
    ready and return its name and every change (all pages, ``ResourceChange`` with its
    ``Details``). ``None`` when it has nothing to do (the change set is deleted then).

    Raises :class:`StackFailed` when CloudFormation cannot plan the change (the change set
    is deleted), :class:`AwsError` for other failures.
    """
    import uuid

    if len(template_body.encode()) > MAX_INLINE_TEMPLATE:
        raise AwsError(
            f"The rendered template is {len(template_body.encode())} bytes, over "
            f"CloudFormation's inline limit of {MAX_INLINE_TEMPLATE}.",
            hint="Shorten the environment variables in the spec.",
        )
    name = f"fluoride-{kind}-{uuid.uuid4().hex[:16]}"
    cfn = stack._cfn
    with translate("CreateChangeSet", stack.name):
        try:
            cfn.create_change_set(
                StackName=stack.name,
                ChangeSetName=name,
                ChangeSetType="UPDATE",
                TemplateBody=template_body,
                Parameters=_parameters(parameters),
                Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
                Tags=[{"Key": k, "Value": v} for k, v in sorted(tags.items())],
            )
        except botocore.exceptions.ClientError as exc:
            message = exc.response.get("Error", {}).get("Message", "")
            if client_error_code(exc) == "ValidationError" and any(
                m in message for m in _NO_CHANGES
            ):
                return None
            raise

    def ready() -> DescribeChangeSetOutputTypeDef | None:
        with translate("DescribeChangeSet", stack.name):
            desc = cfn.describe_change_set(StackName=stack.name, ChangeSetName=name)
        return None if desc["Status"] in ("CREATE_PENDING", "CREATE_IN_PROGRESS") else desc

    desc = poll(ready, deadline=Deadline.after(stack.clock, 300), interval=0.5,
                max_interval=stack.max_poll_interval)
    if desc is None:
        stack._delete_change_set(name)
        raise AwsError(f"The change set for {stack.name} was not ready within 5 minutes.")
    if desc["Status"] == "FAILED":
        reason = desc.get("StatusReason", "")
        stack._delete_change_set(name)
        if any(m in reason for m in _NO_CHANGES):
            return None
        raise StackFailed(
            f"CloudFormation could not plan the change to {stack.name}: {reason}",
            reason=reason, operation="CreateChangeSet", resource=stack.name,
        )
    changes: list[Mapping[str, Any]] = list(desc.get("Changes", []))
    token = desc.get("NextToken")
    while token:
        with translate("DescribeChangeSet", stack.name):
            page = cfn.describe_change_set(StackName=stack.name, ChangeSetName=name,
                                           NextToken=token)
        changes.extend(page.get("Changes", []))
        token = page.get("NextToken")
    return name, changes


def delete_change_set(stack: Stack, name: str) -> None:
    """Delete the change set ``name`` (best effort: a leftover change set costs nothing)."""
    stack._delete_change_set(name)
