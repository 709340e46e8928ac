"""The CloudFormation layer against botocore's Stubber: statuses, plans, failures."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from fluoride.aws import Aws
from fluoride.errors import AwsError, ServiceExists, StackFailed
from fluoride.events import PlanReady
from fluoride.infra.stack import _STATUS_STATES, Stack, StackState, reduce_status
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


def test_failed_create_reports_first_failure_and_leaves_nothing(
    stub_aws: Aws, recorder: Recorder
) -> None:
    stack, stubber = _stubbed(stub_aws)
    _missing(stubber)  # create(): does it exist?
    stubber.add_response("create_change_set", {"Id": "cs", "StackId": ARN})
    stubber.add_response("describe_change_set", {
        "ChangeSetName": "c", "StackName": "fluoride-x", "Status": "CREATE_COMPLETE",
        "ExecutionStatus": "AVAILABLE",
        "Changes": [{"Type": "Resource", "ResourceChange": {
            "Action": "Add", "LogicalResourceId": "Service", "ResourceType": "AWS::ECS::Service"}}],
    })
    _missing(stubber)  # seen_events(): nothing to see yet
    stubber.add_response("execute_change_set", {})
    # wait(): one poll sees the rollback finished
    stubber.add_response("describe_stacks", {"Stacks": [_stack_raw("ROLLBACK_COMPLETE")]})
    stubber.add_response("describe_stack_events", {"StackEvents": [
        _event("3", "fluoride-x", "ROLLBACK_COMPLETE"),
        _event("2", "Cluster", "CREATE_FAILED", "Resource creation cancelled"),
        _event("1", "Service", "CREATE_FAILED", "Invalid request provided: subnet missing"),
    ]})
    stubber.add_response("describe_stacks", {"Stacks": [_stack_raw("ROLLBACK_COMPLETE")]})
    # first_failure()
    stubber.add_response("describe_stack_events", {"StackEvents": [
        _event("3", "fluoride-x", "ROLLBACK_COMPLETE"),
        _event("2", "Cluster", "CREATE_FAILED", "Resource creation cancelled"),
        _event("1", "Service", "CREATE_FAILED", "Invalid request provided: subnet missing"),
    ]})
    # what the attempt made (a retained table outlives the stack)
    stubber.add_response("list_stack_resources", {"StackResourceSummaries": [
        {"LogicalResourceId": "Table", "PhysicalResourceId": "fluoride-x",
         "ResourceType": "AWS::DynamoDB::Table", "ResourceStatus": "DELETE_SKIPPED",
         "LastUpdatedTimestamp": NOW},
        {"LogicalResourceId": "Cluster", "PhysicalResourceId": "",
         "ResourceType": "AWS::ECS::Cluster", "ResourceStatus": "DELETE_COMPLETE",
         "LastUpdatedTimestamp": NOW},
    ]})
    # delete(): the failed stack goes
    stubber.add_response("describe_stacks", {"Stacks": [_stack_raw("ROLLBACK_COMPLETE")]})
    stubber.add_response("describe_stacks", {"Stacks": [_stack_raw("ROLLBACK_COMPLETE")]})
    stubber.add_response("describe_stack_events", {"StackEvents": [
        _event("3", "fluoride-x", "ROLLBACK_COMPLETE")]})
    stubber.add_response("delete_stack", {}, {"StackName": "fluoride-x"})
    stubber.add_response("describe_stacks", {"Stacks": [_stack_raw("DELETE_IN_PROGRESS")]})
    stubber.add_response("describe_stack_events", {"StackEvents": [
        _event("4", "fluoride-x", "DELETE_IN_PROGRESS"),
        _event("3", "fluoride-x", "ROLLBACK_COMPLETE")]})
    stubber.add_response("describe_stacks", {"Stacks": [_stack_raw("DELETE_COMPLETE")]},
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


def test_oversized_template_is_refused_before_any_call(stub_aws: Aws) -> None:
    stack, stubber = _stubbed(stub_aws)
    with stubber, pytest.raises(AwsError, match="inline limit"):
        stack.plan(kind="CREATE", parameters={}, template_body="#" * 60_000)
