"""CloudFormation: one stack per service, changed through change sets, watched event by event.

This module speaks only CloudFormation. It knows nothing about ECS or the spec: callers
hand it a template body and parameters, and get :class:`StackInfo` values back.

CloudFormation is the lock between clients: every attempt plans its own change set (a
unique name), and a change set or delete refused because another operation holds the
stack becomes :class:`DeploymentInProgress`. Waits judge the stack with botocore's
CloudFormation waiters (``change_set_create_complete``, ``stack_create_complete``,
``stack_delete_complete``), one round per look inside our own poll loop, so events stream
between rounds, the deadline is ours and transient faults are looked past. A call that is
not safe to repeat (execute, delete) is first checked for having taken effect.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import attrs
import botocore
import botocore.exceptions

from fluoride.aws import Aws, client_error_code, translate
from fluoride.errors import (
    AwsError,
    DeploymentInProgress,
    FluorideError,
    ServiceExists,
    ServiceNotFound,
    StackFailed,
)
from fluoride.events import Note, PlannedChange, PlanReady, Reporter, StackEventSeen
from fluoride.infra.staging import StagingBucket
from fluoride.names import MAX_INLINE_TEMPLATE, SERVICE_TAG
from fluoride.waiting import (
    Clock,
    Deadline,
    SystemClock,
    describe_fault,
    is_transient,
    poll,
    retry_call,
)

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_cloudformation.type_defs import (
        DescribeChangeSetOutputTypeDef,
        ParameterTypeDef,
        StackEventTypeDef,
    )

_RAW_FAULTS = (botocore.exceptions.ConnectionError, botocore.exceptions.HTTPClientError)

__all__ = [
    "CALL_PATIENCE",
    "Stack",
    "StackInfo",
    "StackState",
    "list_service_stacks",
    "reduce_status",
    "says_busy",
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

#: Statuses in which CloudFormation refuses an update or a delete: another operation runs.
_BUSY = frozenset({
    "CREATE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS", "DELETE_IN_PROGRESS",
    "UPDATE_IN_PROGRESS", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_FAILED",
    "UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
    "IMPORT_IN_PROGRESS", "IMPORT_ROLLBACK_IN_PROGRESS",
})
#: A change set's execution status once it was executed (by this client or a lost retry).
_EXECUTED = frozenset({"EXECUTE_IN_PROGRESS", "EXECUTE_COMPLETE", "EXECUTE_FAILED"})
#: The stack-level events that start an operation: where :meth:`Stack.first_failure` stops.
_STARTS = frozenset({"CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", "DELETE_IN_PROGRESS",
                     "IMPORT_IN_PROGRESS"})
#: How long one call that is safe to repeat is repeated through transient faults, in s.
CALL_PATIENCE = 120.0
#: The botocore waiters whose acceptors judge a stack wait, by the operation awaited.
_STACK_WAITERS: Mapping[str, Literal["stack_create_complete", "stack_delete_complete"]] = {
    "create": "stack_create_complete",
    "delete": "stack_delete_complete",
}


def says_busy(message: str) -> bool:
    """Whether a CloudFormation refusal's text says another operation holds the stack.

    CloudFormation answers "busy" with the generic ``ValidationError`` code (also used for
    bad input), so :class:`Stack` first reads the stack back and decides on its status.
    The text is read only when that look comes too late (the other operation already
    ended), and only here, so a change of wording breaks one function.
    """
    text = message.lower()
    return any(m in text for m in ("can not be updated", "cannot be updated",
                                   "cannot be deleted while in status",
                                   "cannot be executed in its current"))


def _waiter_state(
    waiter: Any, response: Mapping[str, Any]
) -> Literal["success", "failure", "retry"] | None:
    """What botocore's ``waiter`` makes of one response: its first matching acceptor.

    ``waiter`` is a ``botocore.waiter.Waiter`` (typed ``Any``: the stubs type its ``config``
    as a plain dict, but it is a ``SingleWaiterConfig`` with ``acceptors``).
    """
    for acceptor in waiter.config.acceptors:
        if acceptor.matcher_func(response):
            state: Literal["success", "failure", "retry"] = acceptor.state
            return state
    return None


def template_source(aws: Aws, body: str) -> dict[str, str]:
    """``TemplateBody`` when ``body`` fits CloudFormation's inline limit, else the
    ``TemplateURL`` of its copy in the staging bucket (:mod:`fluoride.infra.staging`)."""
    if len(body.encode()) <= MAX_INLINE_TEMPLATE:
        return {"TemplateBody": body}
    return {"TemplateURL": StagingBucket(aws).stage(body)}


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

    @property
    def _cfn(self) -> CloudFormationClient:
        return self.aws.client("cloudformation")

    def describe(self) -> StackInfo | None:
        """The stack as it is now, or ``None`` when there is none (deleted stacks included)."""
        info = self._describe_ref(self.name)
        return None if info is None or info.status == "DELETE_COMPLETE" else info

    def require(self) -> StackInfo:
        """Like :meth:`describe`, but a missing stack is :class:`ServiceNotFound`; a
        transient fault is retried (for :data:`CALL_PATIENCE`), as one look is all there is."""
        info = retry_call(self.describe, clock=self.clock, seconds=CALL_PATIENCE)
        if info is None:
            raise ServiceNotFound(
                f"There is no stack {self.name} in {self.aws.region}.",
                resource=self.name,
                hint="Check the name and region, or create it with `fluoride create`.",
            )
        return info

    # -- change sets ---------------------------------------------------------------------

    @staticmethod
    def _change_set_name(kind: str) -> str:
        """A name no other attempt, client or process ever uses: it is the attempt's token."""
        return f"fluoride-{kind}-{uuid.uuid4().hex}"

    def _waiter_round(
        self,
        name: Literal["change_set_create_complete", "stack_create_complete",
                      "stack_delete_complete"],
        operation: str,
        **kwargs: Any,
    ) -> tuple[Literal["success", "failure", "retry"] | None, Mapping[str, Any]]:
        """One round of botocore's waiter ``name``: one call, judged by its acceptors.

        Returns the state the waiter would enter (``None``: keep waiting) and the response.
        An error no acceptor expects (throttling, a dropped connection) is raised, for the
        poll loop around to look past; so the deadline, the streaming of events between
        rounds and the fault tolerance stay ours.
        """
        waiter: Any = self._cfn.get_waiter(name)  # see _waiter_state on its type
        call = getattr(self._cfn, botocore.xform_name(waiter.config.operation))
        with translate(operation, self.name):
            try:
                response: Mapping[str, Any] = call(**kwargs)
            except botocore.exceptions.ClientError as exc:
                state = _waiter_state(waiter, exc.response)
                if state is None:
                    raise
                return state, exc.response
        return _waiter_state(waiter, response), response

    def _fault_note(self, reporter: Reporter | None) -> Callable[[BaseException], None]:
        def note(exc: BaseException) -> None:
            if reporter is not None:
                reporter(Note(f"{self.name}: {describe_fault(exc)} (looking again shortly)"))
        return note

    def _busy_error(self, info: StackInfo | None, refused: str) -> FluorideError:
        """The error for an operation refused because another one holds the stack."""
        if info is None or info.status.startswith("DELETE"):
            return ServiceNotFound(
                f"{self.name} is being deleted; {refused} was refused.",
                resource=self.name,
                hint="Create the service again once the delete has finished.",
            )
        at = info.updated or info.created
        when = f" since {at:%Y-%m-%d %H:%M:%S} UTC" if at else ""
        return DeploymentInProgress(
            f"Another operation holds {self.name} ({info.status}{when}); {refused} was refused.",
            started_at=at,
            hint="Wait for it (`fluoride status`), then try again.",
        )

    def _refused_busy(
        self, exc: botocore.exceptions.ClientError
    ) -> StackInfo | Literal[False] | None:
        """After a refusal: the stack read back (``None``: gone) when another operation
        holds it, or held it a moment ago; else ``False`` (the refusal means something
        else). Decided on the status read back; the message only when that look is late."""
        info = retry_call(self.describe, clock=self.clock, seconds=CALL_PATIENCE)
        if info is None or info.status.startswith("DELETE"):
            return info  # deleted (or being deleted) under us, whatever the code said
        if client_error_code(exc) not in ("ValidationError", "InvalidChangeSetStatus",
                                          "ChangeSetNotFound", "ChangeSetNotFoundException"):
            return False
        if info.status in _BUSY:
            return info
        message = exc.response.get("Error", {}).get("Message", "")
        return info if says_busy(message) else False

    def plan(
        self,
        *,
        kind: str,
        parameters: Mapping[str, str],
        template_body: str | None,
        tags: Mapping[str, str] | None = None,
        keep_previous: Sequence[str] = (),
        reporter: Reporter | None = None,
    ) -> tuple[str, list[PlannedChange]] | None:
        """Create a change set and wait until it is ready.

        ``kind`` is ``CREATE`` or ``UPDATE``; ``template_body=None`` reuses the stack's
        template. ``keep_previous`` names parameters that keep their current value
        (``UsePreviousValue``; a deployment changes ``Image`` only). Returns the change set
        name and its changes, or ``None`` when the change set has nothing to do (which is
        success, not an error). An UPDATE refused because another operation holds the
        stack raises :class:`DeploymentInProgress`; a CREATE of an existing stack,
        :class:`ServiceExists`.
        """
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
            args.update(template_source(self.aws, template_body))
        if tags is not None:
            args["Tags"] = [{"Key": k, "Value": v} for k, v in sorted(tags.items())]
        if self._create_change_set(args, kind) is None:
            return None

        def ready() -> Mapping[str, Any] | None:
            try:
                state, desc = self._waiter_round(
                    "change_set_create_complete", "DescribeChangeSet",
                    StackName=self.name, ChangeSetName=name)
            except AwsError as exc:
                if exc.code not in ("ChangeSetNotFound", "ChangeSetNotFoundException"):
                    raise
                state, desc = "failure", {"Error": {"Code": exc.code}}
            if state is None or state == "retry":
                return None
            if "Error" in desc:
                # Gone while it was planned: another client's change set was executed (which
                # removes the others), or the stack was deleted.
                raise self._busy_error(self.describe(), "planning the change")
            return desc

        desc = poll(
            ready,
            deadline=Deadline.after(self.clock, 300),
            interval=0.5,
            max_interval=self.max_poll_interval,
            on_fault=self._fault_note(reporter),
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

    def _create_change_set(self, args: dict[str, Any], kind: str) -> str | None:
        """CreateChangeSet, repeated through transient faults; ``None``: nothing to change.

        Safe to repeat because the name is unique: a repeat that finds its change set
        already made (its first answer was lost) goes on with it.
        """
        name: str = args["ChangeSetName"]
        deadline = Deadline.after(self.clock, CALL_PATIENCE)
        while True:
            try:
                with translate("CreateChangeSet", self.name):
                    try:
                        self._cfn.create_change_set(**args)
                        return name
                    except botocore.exceptions.ClientError as exc:
                        code = client_error_code(exc)
                        message = exc.response.get("Error", {}).get("Message", "")
                        # moto (and some CloudFormation paths) refuse an empty change set
                        # outright instead of creating a FAILED one; both mean "nothing to do".
                        if code == "ValidationError" and any(m in message for m in _NO_CHANGES):
                            return None
                        if code == "AlreadyExistsException":
                            if self._change_set_exists(name):  # ours: botocore's retry of a
                                return name                    # request whose answer was lost
                            raise ServiceExists(
                                f"The stack {self.name} already exists.",
                                operation="CreateChangeSet",
                                resource=self.name,
                                hint="Use another name, or delete the existing service first.",
                            ) from exc
                        if kind == "UPDATE":
                            busy = self._refused_busy(exc)
                            if busy is not False:
                                raise self._busy_error(busy, "planning the change") from exc
                        raise
            except (AwsError, *_RAW_FAULTS) as exc:
                if not is_transient(exc) or deadline.remaining() <= 0:
                    raise
                if self._change_set_exists(name):
                    return name
                self.clock.sleep(min(1.0, deadline.remaining()))

    def _change_set_exists(self, name: str) -> bool:
        return self._change_set_status(name) is not None

    def _change_set_status(self, name: str) -> tuple[str, str] | None:
        """``(Status, ExecutionStatus)`` of the change set ``name``, ``None`` when gone."""
        def look() -> tuple[str, str] | None:
            with translate("DescribeChangeSet", self.name):
                try:
                    desc = self._cfn.describe_change_set(StackName=self.name,
                                                         ChangeSetName=name)
                except botocore.exceptions.ClientError as exc:
                    if client_error_code(exc) in ("ChangeSetNotFound",
                                                  "ChangeSetNotFoundException",
                                                  "ValidationError"):
                        return None
                    raise
            return desc["Status"], desc.get("ExecutionStatus", "")

        return retry_call(look, clock=self.clock, seconds=CALL_PATIENCE)

    def _delete_change_set(self, name: str) -> None:
        # Best effort: a leftover FAILED change set costs nothing.
        with contextlib.suppress(botocore.exceptions.ClientError, *_RAW_FAULTS):
            self._cfn.delete_change_set(StackName=self.name, ChangeSetName=name)

    def discard(self, change_set: str) -> None:
        """Delete a change set that will not be executed (best effort)."""
        self._delete_change_set(change_set)

    def execute(self, change_set: str) -> None:
        """Execute ``change_set``: the moment an attempt takes the stack.

        Not safe to repeat blindly, so after a failure the change set is read back: executed
        (an earlier attempt's answer was lost) is success; still available after a
        transient fault is tried again; gone, obsolete or refused while another operation
        holds the stack raises :class:`DeploymentInProgress` (or :class:`ServiceNotFound`
        when the stack is being deleted). Nothing else changes in that case.
        """
        deadline = Deadline.after(self.clock, CALL_PATIENCE)
        while True:
            try:
                with translate("ExecuteChangeSet", self.name):
                    try:
                        self._cfn.execute_change_set(StackName=self.name,
                                                     ChangeSetName=change_set)
                        return
                    except botocore.exceptions.ClientError as exc:
                        if is_transient(exc):
                            raise
                        status = self._change_set_status(change_set)
                        if status is not None and status[1] in _EXECUTED:
                            return
                        busy = self._refused_busy(exc)
                        if status is None or status[1] in ("OBSOLETE", "UNAVAILABLE") \
                                or busy is not False:
                            info = busy if busy is not False else self.describe()
                            raise self._busy_error(info, "executing the change") from exc
                        raise
            except (AwsError, *_RAW_FAULTS) as exc:
                if not is_transient(exc) or deadline.remaining() <= 0:
                    raise
                status = self._change_set_status(change_set)
                if status is not None and status[1] in _EXECUTED:
                    return
                if status is None or status[1] != "AVAILABLE":
                    raise self._busy_error(self.describe(), "executing the change") from exc
                self.clock.sleep(min(1.0, deadline.remaining()))

    # -- waiting -------------------------------------------------------------------------

    def events_since(self, seen: set[str], *, ref: str | None = None) -> list[StackEventSeen]:
        """Stack events not in ``seen`` (which is updated), oldest first; none when there
        is no stack. ``ref`` is the stack id, to read a deleted stack's events."""
        fresh: list[StackEventTypeDef] = []
        with translate("DescribeStackEvents", self.name):
            pages = self._cfn.get_paginator("describe_stack_events").paginate(
                StackName=ref or self.name)
            try:
                for page in pages:
                    stop = False
                    for event in page["StackEvents"]:
                        if event["EventId"] in seen:
                            stop = True
                            break
                        fresh.append(event)
                    if stop:
                        break
            except botocore.exceptions.ClientError as exc:
                if client_error_code(exc) != "ValidationError":  # no such stack
                    raise
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

    def seen_events(self, *, ref: str | None = None) -> set[str]:
        """The ids of the events that exist now, so a wait reports only newer ones."""
        seen: set[str] = set()
        retry_call(lambda: self.events_since(seen, ref=ref), clock=self.clock,
                   seconds=CALL_PATIENCE)
        return seen

    def wait(
        self,
        *,
        reporter: Reporter,
        seen: set[str],
        timeout: float,
        stack_id: str | None = None,
        operation: Literal["create", "delete"] = "create",
    ) -> StackInfo | None:
        """Wait until ``operation`` settles, streaming new events to ``reporter``.

        Each look is one round of botocore's ``stack_create_complete`` or
        ``stack_delete_complete`` waiter; a transient fault is a look that said "not yet".
        Returns the settled stack, or ``None`` when it is gone (deleted). Raises
        :class:`StackFailed` when the deadline passes first.
        """
        ref = stack_id or self.name
        waiter = _STACK_WAITERS[operation]

        def settled() -> tuple[StackInfo | None] | None:
            for event in self.events_since(seen, ref=ref):
                reporter(event)
            state, response = self._waiter_round(waiter, "DescribeStacks", StackName=ref)
            stacks = response.get("Stacks") or []
            info = StackInfo.from_api(stacks[0]) if stacks else None
            if info is not None and info.state in (StackState.IN_PROGRESS, StackState.REVIEW):
                return None  # UPDATE_FAILED etc.: a waiter's "failure" that has not settled
            if state is None or state == "retry":
                return None
            if info is None or info.status == "DELETE_COMPLETE":
                return (None,)
            return (info,)

        result = poll(
            settled,
            deadline=Deadline.after(self.clock, timeout),
            interval=self.poll_interval,
            max_interval=self.max_poll_interval,
            on_fault=self._fault_note(reporter),
        )
        if result is None:
            raise StackFailed(
                f"{self.name} did not settle within {timeout:.0f} s.",
                resource=self.name,
                hint="It is still running in CloudFormation; check `fluoride status`.",
            )
        for event in retry_call(lambda: self.events_since(seen, ref=ref), clock=self.clock,
                                seconds=CALL_PATIENCE):
            reporter(event)
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

    def first_failure(self, *, ref: str | None = None) -> tuple[str | None, str | None]:
        """The first failed resource of the latest operation and its reason.

        Reads the events newest first, page after page, back to the event that started
        the latest operation (a stack with a long history spans many pages).
        """
        latest: list[StackEventTypeDef] = []

        def read() -> None:
            latest.clear()
            with translate("DescribeStackEvents", self.name):
                pages = self._cfn.get_paginator("describe_stack_events").paginate(
                    StackName=ref or self.name)
                for page in pages:
                    for event in page["StackEvents"]:
                        latest.append(event)
                        if (event.get("ResourceType") == "AWS::CloudFormation::Stack"
                                and event.get("ResourceStatus") in _STARTS):
                            return

        try:
            retry_call(read, clock=self.clock, seconds=CALL_PATIENCE)
        except AwsError:  # the outcome stands without its explanation
            return None, None
        for event in reversed(latest):
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
        existing = retry_call(self.describe, clock=self.clock, seconds=CALL_PATIENCE)
        if existing is not None and existing.status != "REVIEW_IN_PROGRESS":
            raise ServiceExists(
                f"The stack {self.name} already exists ({existing.status}).",
                resource=self.name,
                hint="Use another name, or `fluoride delete` the existing service first.",
            )
        planned = self.plan(
            kind="CREATE", parameters=parameters, template_body=template_body, tags=tags,
            reporter=reporter,
        )
        if planned is None:  # pragma: no cover - a CREATE always has changes
            raise AwsError(f"CloudFormation planned nothing for {self.name}.")
        change_set, changes = planned
        reporter(PlanReady(stack=self.name, changes=changes))
        seen = self.seen_events()
        self.execute(change_set)
        if not wait:
            return retry_call(self.require, clock=self.clock, seconds=CALL_PATIENCE)
        info = self.wait(reporter=reporter, seen=seen, timeout=timeout)
        if info is not None and info.state is StackState.COMPLETE:
            return info
        logical_id, reason = self.first_failure()
        status = info.status if info is not None else "DELETED"
        reporter(Note(f"Creating {self.name} failed; deleting what was made."))
        made = (retry_call(self.resources, clock=self.clock, seconds=CALL_PATIENCE)
                if info is not None else [])
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
            keep_previous=keep_previous, reporter=reporter,
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

    def delete(
        self,
        *,
        reporter: Reporter,
        wait: bool = True,
        timeout: float = 1800,
        on_accepted: Callable[[], None] | None = None,
    ) -> None:
        """Delete the stack (resources with a Retain policy stay).

        Refused with :class:`DeploymentInProgress` while an update holds the stack, before
        anything is touched. ``on_accepted`` runs once CloudFormation has accepted the
        delete (no deployment can start any more): the place to empty what must be empty.
        """
        info = retry_call(self.describe, clock=self.clock, seconds=CALL_PATIENCE)
        if info is None:
            return
        if info.status != "DELETE_IN_PROGRESS":
            if info.status in _BUSY and not info.status.startswith(("CREATE", "ROLLBACK")):
                raise self._busy_error(info, "deleting it")
            seen = self.seen_events(ref=info.stack_id)
            self._request_delete(info)
        else:
            seen = set()
        if on_accepted is not None:
            on_accepted()
        if not wait:
            return
        left = self.wait(reporter=reporter, seen=seen, timeout=timeout, stack_id=info.stack_id,
                         operation="delete")
        if left is not None and left.status != "DELETE_COMPLETE":
            logical_id, reason = self.first_failure(ref=info.stack_id)
            raise StackFailed(
                f"Deleting {self.name} failed"
                + (f" at {logical_id}: {reason}" if logical_id else f" ({left.status})."),
                logical_id=logical_id,
                reason=reason,
                status=left.status,
                operation="DeleteStack",
                resource=self.name,
            )

    def _request_delete(self, info: StackInfo) -> None:
        """DeleteStack, checked for having taken effect before it is repeated."""
        deadline = Deadline.after(self.clock, CALL_PATIENCE)
        while True:
            try:
                with translate("DeleteStack", self.name):
                    try:
                        self._cfn.delete_stack(StackName=info.stack_id)
                        return
                    except botocore.exceptions.ClientError as exc:
                        if is_transient(exc):
                            raise
                        busy = self._refused_busy(exc)
                        if busy is not False and busy is not None \
                                and not busy.status.startswith("DELETE"):
                            raise self._busy_error(busy, "deleting it") from exc
                        raise
            except (AwsError, *_RAW_FAULTS) as exc:
                if not is_transient(exc) or deadline.remaining() <= 0:
                    raise
                now = self._describe_ref(info.stack_id)
                if now is None or now.status.startswith("DELETE"):
                    return  # the lost request took effect
                self.clock.sleep(min(1.0, deadline.remaining()))

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

    name = f"fluoride-{kind}-{uuid.uuid4().hex[:16]}"
    cfn = stack._cfn
    with translate("CreateChangeSet", stack.name):
        try:
            cfn.create_change_set(
                StackName=stack.name,
                ChangeSetName=name,
                ChangeSetType="UPDATE",
                **template_source(stack.aws, template_body),  # type: ignore[arg-type]  # TemplateBody or TemplateURL
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
