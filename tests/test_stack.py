"""The CloudFormation layer against botocore's Stubber: statuses, plans, failures."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import botocore.exceptions
import pytest
from botocore.stub import ANY, Stubber

from fluoride.aws import Aws
from fluoride.errors import AwsError, DeploymentInProgress, ServiceExists, StackFailed
from fluoride.events import PlanReady, StackEventSeen
from fluoride.infra.stack import (
    _STATUS_STATES,
    Stack,
    StackState,
    reduce_status,
    says_busy,
)
from fluoride.waiting import FakeClock

from .conftest import Recorder

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
ARN = "arn:aws:cloudformation:eu-west-1:123456789012:stack/fluoride-x/abc"


def test_every_cloudformation_status_is_reduced() -> None:
    # The statuses CloudFormation documents for StackStatus, from botocore's own model.
    import botocore.session

    model = botocore.session.get_session().get_service_model("cloudformation")
    documented = set(model.shape_for("StackStatus").enum)  # type: ignore[attr-defined]  # a StringShape
    assert documented <= set(_STATUS_STATES), documented - set(_STATUS_STATES)


def test_unknown_status_raises() -> None:
    with pytest.raises(AwsError, match="does not know"):
        reduce_status("SOMETHING_NEW")


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("CREATE_COMPLETE", StackState.COMPLETE),
        ("UPDATE_ROLLBACK_COMPLETE", StackState.ROLLED_BACK),
        ("ROLLBACK_COMPLETE", StackState.FAILED),
        ("UPDATE_IN_PROGRESS", StackState.IN_PROGRESS),
        ("UPDATE_ROLLBACK_FAILED", StackState.FAILED),
    ],
)
def test_reduce(status: str, state: StackState) -> None:
    assert reduce_status(status) is state


def _stack_raw(status: str) -> dict[str, Any]:
    return {
        "StackName": "fluoride-x", "StackId": ARN, "StackStatus": status,
        "CreationTime": NOW, "Outputs": [{"OutputKey": "Url", "OutputValue": "http://x"}],
        "Parameters": [{"ParameterKey": "Image", "ParameterValue": ""}],
        "Tags": [{"Key": "fluoride:service", "Value": "x"}],
    }


def _event(eid: str, logical: str, status: str, reason: str | None = None) -> dict[str, Any]:
    e: dict[str, Any] = {
        "StackId": ARN, "EventId": eid, "StackName": "fluoride-x", "LogicalResourceId": logical,
        "ResourceType": "AWS::ECS::Service", "Timestamp": NOW, "ResourceStatus": status,
    }
    if reason:
        e["ResourceStatusReason"] = reason
    return e


def _stubbed(aws: Aws) -> tuple[Stack, Stubber]:
    stack = Stack(aws, "fluoride-x", clock=FakeClock(), poll_interval=1, max_poll_interval=1)
    client = aws.client("cloudformation")
    return stack, Stubber(client)


def _missing(stubber: Stubber) -> None:
    stubber.add_client_error("describe_stacks", "ValidationError",
                             "Stack with id fluoride-x does not exist")


def _stack_event(eid: str, status: str, reason: str | None = None) -> dict[str, Any]:
    e = _event(eid, "fluoride-x", status, reason)
    e["ResourceType"] = "AWS::CloudFormation::Stack"
    return e


_FAILED_CREATE_EVENTS = [
    _stack_event("4", "ROLLBACK_COMPLETE"),
    _event("3", "Cluster", "CREATE_FAILED", "Resource creation cancelled"),
    _event("2", "Service", "CREATE_FAILED", "Invalid request provided: subnet missing"),
    _stack_event("1", "CREATE_IN_PROGRESS", "User Initiated"),
]


def test_failed_create_reports_first_failure_and_leaves_nothing(
    stub_aws: Aws, recorder: Recorder
) -> None:
    stack, stubber = _stubbed(stub_aws)
    _missing(stubber)  # create(): does it exist?
    stubber.add_response("create_change_set", {"Id": "cs", "StackId": ARN})
    stubber.add_response("describe_change_set", {  # change_set_create_complete: success
        "ChangeSetName": "c", "StackName": "fluoride-x", "Status": "CREATE_COMPLETE",
        "ExecutionStatus": "AVAILABLE",
        "Changes": [{"Type": "Resource", "ResourceChange": {
            "Action": "Add", "LogicalResourceId": "Service", "ResourceType": "AWS::ECS::Service"}}],
    })
    # seen_events(): nothing to see yet
    stubber.add_client_error("describe_stack_events", "ValidationError", "does not exist")
    stubber.add_response("execute_change_set", {})
    # wait(): one round sees the rollback finished (stack_create_complete: failure)
    stubber.add_response("describe_stack_events", {"StackEvents": _FAILED_CREATE_EVENTS})
    stubber.add_response("describe_stacks", {"Stacks": [_stack_raw("ROLLBACK_COMPLETE")]})
    stubber.add_response("describe_stack_events", {"StackEvents": _FAILED_CREATE_EVENTS})
    # first_failure()
    stubber.add_response("describe_stack_events", {"StackEvents": _FAILED_CREATE_EVENTS})
    # what the attempt made (a retained table outlives the stack)
    stubber.add_response("list_stack_resources", {"StackResourceSummaries": [
        {"LogicalResourceId": "Table", "PhysicalResourceId": "fluoride-x",
         "ResourceType": "AWS::DynamoDB::Table", "ResourceStatus": "DELETE_SKIPPED",
         "LastUpdatedTimestamp": NOW},
        {"LogicalResourceId": "Cluster", "PhysicalResourceId": "",
         "ResourceType": "AWS::ECS::Cluster", "ResourceStatus": "DELETE_COMPLETE",
         "LastUpdatedTimestamp": NOW},
    ]})
    # delete(): the failed stack goes, by its id
    stubber.add_response("describe_stacks", {"Stacks": [_stack_raw("ROLLBACK_COMPLETE")]})
    stubber.add_response("describe_stack_events", {"StackEvents": _FAILED_CREATE_EVENTS},
                         {"StackName": ARN})
    stubber.add_response("delete_stack", {}, {"StackName": ARN})
    stubber.add_response("describe_stack_events", {"StackEvents": [
        _stack_event("5", "DELETE_IN_PROGRESS", "User Initiated"), *_FAILED_CREATE_EVENTS]},
        {"StackName": ARN})
    stubber.add_response("describe_stacks", {"Stacks": [_stack_raw("DELETE_COMPLETE")]},
                         {"StackName": ARN})
    stubber.add_response("describe_stack_events", {"StackEvents": [
        _stack_event("5", "DELETE_IN_PROGRESS", "User Initiated"), *_FAILED_CREATE_EVENTS]},
        {"StackName": ARN})
    left: list[object] = []
    with stubber, pytest.raises(StackFailed) as info:
        stack.create(template_body="{}", parameters={"Image": ""}, tags={}, reporter=recorder,
                     on_failure=left.extend)
    stubber.assert_no_pending_responses()
    assert [r["logical_id"] for r in left] == ["Table"]  # type: ignore[index]
    assert info.value.logical_id == "Service"
    assert info.value.reason == "Invalid request provided: subnet missing"
    assert "nothing was left behind" in str(info.value)
    assert isinstance(recorder.events[0], PlanReady)
    seen = [e.status for e in recorder.events if isinstance(e, StackEventSeen)]
    assert seen == ["CREATE_IN_PROGRESS", "CREATE_FAILED", "CREATE_FAILED",
                    "ROLLBACK_COMPLETE", "DELETE_IN_PROGRESS"]


def test_first_failure_reads_every_page_back_to_the_operation_start(stub_aws: Aws) -> None:
    stack, stubber = _stubbed(stub_aws)
    # Newest first: this update failed at Service; an older create failed at Cluster.
    stubber.add_response("describe_stack_events", {"StackEvents": [
        _stack_event("9", "UPDATE_ROLLBACK_COMPLETE"),
        _event("8", "Task", "UPDATE_FAILED", "Resource update cancelled"),
    ], "NextToken": "p2"}, {"StackName": "fluoride-x"})
    stubber.add_response("describe_stack_events", {"StackEvents": [
        _event("7", "Service", "UPDATE_FAILED", "Service did not stabilize"),
        _stack_event("6", "UPDATE_IN_PROGRESS", "User Initiated"),
        _event("5", "Cluster", "CREATE_FAILED", "an older operation's failure"),
    ], "NextToken": "p3"}, {"StackName": "fluoride-x", "NextToken": "p2"})
    with stubber:
        assert stack.first_failure() == ("Service", "Service did not stabilize")
    stubber.assert_no_pending_responses()  # the third page is never read


def test_change_set_names_are_unique_and_valid() -> None:
    names = {Stack._change_set_name("update") for _ in range(1000)}
    assert len(names) == 1000
    assert all(re.fullmatch(r"[a-zA-Z][-a-zA-Z0-9]{0,127}", n) for n in names)


_PLANNED = {
    "ChangeSetName": "c", "StackName": "fluoride-x", "Status": "CREATE_COMPLETE",
    "ExecutionStatus": "AVAILABLE", "Changes": [],
}


def test_plan_waits_through_pending_rounds_and_throttling(stub_aws: Aws) -> None:
    stack, stubber = _stubbed(stub_aws)
    stubber.add_response("create_change_set", {"Id": "cs", "StackId": ARN})
    stubber.add_response("describe_change_set", {**_PLANNED, "Status": "CREATE_PENDING"})
    stubber.add_client_error("describe_change_set", "Throttling", "Rate exceeded")
    stubber.add_response("describe_change_set", {**_PLANNED, "Status": "CREATE_IN_PROGRESS"})
    stubber.add_response("describe_change_set", _PLANNED)
    with stubber:
        planned = stack.plan(kind="UPDATE", parameters={"Image": "x"}, template_body=None)
    stubber.assert_no_pending_responses()
    assert planned is not None
    assert planned[0].startswith("fluoride-update-")


def _raise_once(aws: Aws, method: str, error: Exception, *, lost_answer: bool = False
                ) -> list[Exception]:
    """Make the client's ``method`` fail once with ``error``: before the request is sent, or
    (``lost_answer``) after it took effect, as when a connection drops on the way back."""
    client = aws.client("cloudformation")
    real = getattr(client, method)
    pending = [error]

    def flaky(**kwargs: Any) -> Any:
        if pending:
            if lost_answer:
                real(**kwargs)
            raise pending.pop()
        return real(**kwargs)

    setattr(client, method, flaky)
    return pending


def test_execute_whose_answer_was_lost_is_not_repeated(stub_aws: Aws) -> None:
    stack, stubber = _stubbed(stub_aws)
    # The request is lost on the way back: the change set shows it was executed.
    stubber.add_response("execute_change_set", {})
    stubber.add_response("describe_change_set",
                         {**_PLANNED, "ExecutionStatus": "EXECUTE_IN_PROGRESS"})
    with stubber:
        pending = _raise_once(stub_aws, "execute_change_set",
                              botocore.exceptions.ConnectionClosedError(endpoint_url="https://x"),
                              lost_answer=True)
        stack.execute("fluoride-update-1")
    stubber.assert_no_pending_responses()  # and no second ExecuteChangeSet was made
    assert not pending


def test_execute_dropped_before_it_arrived_is_repeated(stub_aws: Aws) -> None:
    stack, stubber = _stubbed(stub_aws)
    stubber.add_response("describe_change_set", _PLANNED)  # still AVAILABLE
    stubber.add_response("execute_change_set", {})
    with stubber:
        pending = _raise_once(stub_aws, "execute_change_set",
                              botocore.exceptions.EndpointConnectionError(endpoint_url="https://x"))
        stack.execute("fluoride-update-1")
    stubber.assert_no_pending_responses()
    assert not pending


@pytest.mark.parametrize(("execution", "stack_status"), [
    ("OBSOLETE", "UPDATE_IN_PROGRESS"),   # the winner is running
    ("OBSOLETE", "UPDATE_COMPLETE"),      # the winner has finished already
    ("AVAILABLE", "UPDATE_IN_PROGRESS"),  # refused while another update holds the stack
])
def test_execute_refused_because_another_client_holds_the_stack(
    stub_aws: Aws, execution: str, stack_status: str
) -> None:
    stack, stubber = _stubbed(stub_aws)
    stubber.add_client_error("execute_change_set", "ValidationError", "refused")
    stubber.add_response("describe_change_set", {**_PLANNED, "ExecutionStatus": execution})
    stubber.add_response("describe_stacks", {"Stacks": [_stack_raw(stack_status)]})
    if execution == "OBSOLETE" and stack_status == "UPDATE_COMPLETE":
        stubber.add_response("describe_stacks", {"Stacks": [_stack_raw(stack_status)]})
    with stubber, pytest.raises(DeploymentInProgress, match="Another operation holds"):
        stack.execute("fluoride-update-1")
    stubber.assert_no_pending_responses()


def test_execute_refused_for_another_reason_is_not_busy(stub_aws: Aws) -> None:
    stack, stubber = _stubbed(stub_aws)
    stubber.add_client_error("execute_change_set", "ValidationError", "Template error: ...")
    stubber.add_response("describe_change_set", _PLANNED)
    stubber.add_response("describe_stacks", {"Stacks": [_stack_raw("UPDATE_COMPLETE")]})
    with stubber, pytest.raises(AwsError, match="Template error") as info:
        stack.execute("fluoride-update-1")
    assert not isinstance(info.value, DeploymentInProgress)


def test_delete_during_an_update_is_refused_before_any_change(
    stub_aws: Aws, recorder: Recorder
) -> None:
    stack, stubber = _stubbed(stub_aws)
    stubber.add_response("describe_stacks", {"Stacks": [_stack_raw("UPDATE_IN_PROGRESS")]})
    touched: list[str] = []
    with stubber, pytest.raises(DeploymentInProgress):
        stack.delete(reporter=recorder, on_accepted=lambda: touched.append("x"))
    stubber.assert_no_pending_responses()
    assert touched == []


def test_delete_refused_by_cloudformation_is_busy_and_touches_nothing(
    stub_aws: Aws, recorder: Recorder
) -> None:
    stack, stubber = _stubbed(stub_aws)
    stubber.add_response("describe_stacks", {"Stacks": [_stack_raw("UPDATE_COMPLETE")]})
    stubber.add_response("describe_stack_events", {"StackEvents": []})
    # A deployment started in between: CloudFormation refuses, the stack reads back busy.
    stubber.add_client_error("delete_stack", "ValidationError", "cannot be deleted")
    stubber.add_response("describe_stacks", {"Stacks": [_stack_raw("UPDATE_IN_PROGRESS")]})
    touched: list[str] = []
    with stubber, pytest.raises(DeploymentInProgress):
        stack.delete(reporter=recorder, on_accepted=lambda: touched.append("x"))
    stubber.assert_no_pending_responses()
    assert touched == []


def test_delete_whose_answer_was_lost_is_checked_not_repeated(
    stub_aws: Aws, recorder: Recorder
) -> None:
    stack, stubber = _stubbed(stub_aws)
    stubber.add_response("describe_stacks", {"Stacks": [_stack_raw("UPDATE_COMPLETE")]})
    stubber.add_response("describe_stack_events", {"StackEvents": []})
    stubber.add_response("delete_stack", {}, {"StackName": ARN})
    stubber.add_response("describe_stacks", {"Stacks": [_stack_raw("DELETE_IN_PROGRESS")]},
                         {"StackName": ARN})
    stubber.add_response("describe_stack_events", {"StackEvents": []})
    stubber.add_response("describe_stacks", {"Stacks": [_stack_raw("DELETE_COMPLETE")]})
    stubber.add_response("describe_stack_events", {"StackEvents": []})
    touched: list[str] = []
    with stubber:
        pending = _raise_once(stub_aws, "delete_stack",
                              botocore.exceptions.ReadTimeoutError(endpoint_url="https://x"),
                              lost_answer=True)
        stack.delete(reporter=recorder, on_accepted=lambda: touched.append("x"))
    stubber.assert_no_pending_responses()
    assert not pending
    assert touched == ["x"]


@pytest.mark.parametrize(("message", "busy"), [
    ("Stack:arn is in UPDATE_IN_PROGRESS state and can not be updated.", True),
    ("Stack [fluoride-x] cannot be deleted while in status UPDATE_IN_PROGRESS", True),
    ("ChangeSet [arn] cannot be executed in its current execution status of [OBSOLETE]", True),
    ("Template format error: unsupported structure.", False),
    ("Parameter 'Image' must be one of AllowedValues", False),
])
def test_says_busy(message: str, busy: bool) -> None:
    assert says_busy(message) is busy


def test_create_refuses_existing_stack(stub_aws: Aws, recorder: Recorder) -> None:
    stack, stubber = _stubbed(stub_aws)
    stubber.add_response("describe_stacks", {"Stacks": [_stack_raw("CREATE_COMPLETE")]})
    with stubber, pytest.raises(ServiceExists, match="already exists"):
        stack.create(template_body="{}", parameters={}, tags={}, reporter=recorder)


def test_update_without_changes_is_success(stub_aws: Aws, recorder: Recorder) -> None:
    stack, stubber = _stubbed(stub_aws)
    stubber.add_response("create_change_set", {"Id": "cs", "StackId": ARN})
    stubber.add_response("describe_change_set", {
        "ChangeSetName": "c", "StackName": "fluoride-x", "Status": "FAILED",
        "StatusReason": "The submitted information didn't contain changes. Submit different "
        "information to create a change set.", "Changes": [],
    })
    stubber.add_response("delete_change_set", {}, {"StackName": "fluoride-x",
                                                   "ChangeSetName": ANY})
    with stubber:
        assert stack.update(parameters={"Image": "x"}, template_body=None,
                            reporter=recorder) is False


def test_a_template_over_a_megabyte_is_refused_before_any_call(stub_aws: Aws) -> None:
    # Over 51,200 bytes goes through the staging bucket (tests/test_staging.py); over
    # CloudFormation's 1,000,000 for a template in S3 nothing can take it.
    stack, stubber = _stubbed(stub_aws)
    staging = Stubber(stub_aws.client("s3"))
    with stubber, staging, pytest.raises(AwsError, match="limit of 1000000"):
        stack.plan(kind="CREATE", parameters={}, template_body="#" * 1_000_001)
