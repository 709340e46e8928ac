"""Alarms that reach a person: notify's topic, its subscriptions and every alarm's actions,
created on the embedded emulator and read back through the AWS APIs."""

from __future__ import annotations

import re
from typing import Any

from fluoride import Fluoride, ServiceSpec


def _client(fl: Fluoride, name: str) -> Any:
    return fl.session.client(name, endpoint_url=fl.endpoint_url)  # type: ignore[call-overload]


def _alarms(fl: Fluoride, service: str) -> list[dict[str, Any]]:
    cfn = _client(fl, "cloudformation")
    resources = cfn.describe_stack_resources(StackName=f"fluoride-{service}")["StackResources"]
    names = [r["PhysicalResourceId"] for r in resources
             if r["ResourceType"] == "AWS::CloudWatch::Alarm"]
    alarms: list[dict[str, Any]] = _client(fl, "cloudwatch").describe_alarms(
        AlarmNames=names)["MetricAlarms"]
    return alarms


def test_notify_subscribes_the_addresses_and_every_alarm_tells_them(
    fl: Fluoride, unique_name: str
) -> None:
    sns = _client(fl, "sns")
    pager = sns.create_topic(Name=f"{unique_name}-pager")["TopicArn"]
    spec = ServiceSpec(notify=("ops@example.org", "lead@example.org", pager))
    status = fl.service(unique_name).create(spec)

    own = next(t["TopicArn"] for t in sns.list_topics()["Topics"]
               if t["TopicArn"].endswith(f":fluoride-{unique_name}-alarms"))
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=own)["Subscriptions"]
    assert sorted((s["Protocol"], s["Endpoint"]) for s in subscriptions) == [
        ("email", "lead@example.org"), ("email", "ops@example.org")]
    alarms = _alarms(fl, unique_name)
    assert {a["MetricName"] for a in alarms} == {"HTTPCode_Target_5XX_Count", "TriggeredRules",
                                                 "UnHealthyHostCount"}
    for alarm in alarms:
        assert sorted(alarm["AlarmActions"]) == sorted([pager, own]), alarm["AlarmName"]
        assert sorted(alarm["OKActions"]) == sorted([pager, own]), alarm["AlarmName"]
    assert status.notifies == ("ops@example.org", "lead@example.org", pager)
    assert fl.service(unique_name).status().alarms_notify == (
        f"ops@example.org, lead@example.org, {pager}")


def test_without_notify_the_alarms_notify_no_one_and_status_says_so(
    fl: Fluoride, unique_name: str
) -> None:
    status = fl.service(unique_name).create(ServiceSpec())
    for alarm in _alarms(fl, unique_name):
        assert alarm["AlarmActions"] == []
        assert alarm["OKActions"] == []
    assert status.notifies == ()
    assert status.alarms_notify.startswith("no one")
    assert re.search(r"alarms notify</th><td[^>]*>no one", status._repr_html_())
    topics = [t["TopicArn"] for t in _client(fl, "sns").list_topics()["Topics"]]
    assert not any(t.endswith(f":fluoride-{unique_name}-alarms") for t in topics)
