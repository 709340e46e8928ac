"""CloudFormation creates ``AWS::CloudWatch::Alarm``.

moto 5.2.5 behaviour corrected: its CloudFormation has no model for
``AWS::CloudWatch::Alarm``; the resource is skipped with a warning, and a ``Ref`` to it
(such as the alarm names in an ECS service's deployment alarms) resolves to nothing.

With the shim the metric alarm is put in moto's CloudWatch backend (metric, dimensions,
statistic, period, threshold, comparison, missing-data treatment, actions). ``Ref``
returns the alarm name and ``Fn::GetAtt Arn`` its ARN, as on AWS.
"""

from __future__ import annotations

from typing import Any, ClassVar

from moto.cloudwatch.models import cloudwatch_backends

from fluoride.local.shims._model import Creation, ShimResource, as_bool
from fluoride.local.shims._patch import register_model

__all__ = ["AlarmResource", "install"]


def _opt_int(value: object) -> int | None:
    return None if value is None else int(str(value))


class AlarmResource(ShimResource):
    TYPE: ClassVar[str] = "AWS::CloudWatch::Alarm"
    NAME_PROPERTY: ClassVar[str] = "AlarmName"
    ATTRIBUTES: ClassVar[frozenset[str]] = frozenset({"Arn"})

    @classmethod
    def create(cls, creation: Creation) -> AlarmResource:
        p = creation.properties
        name = p.get("AlarmName") or creation.resource_name
        backend: Any = creation.backend(cloudwatch_backends)
        alarm = backend.put_metric_alarm(
            name=name,
            namespace=p.get("Namespace"),
            metric_name=p.get("MetricName"),
            comparison_operator=p["ComparisonOperator"],
            evaluation_periods=int(p["EvaluationPeriods"]),
            period=_opt_int(p.get("Period")),
            threshold=float(p["Threshold"]) if "Threshold" in p else None,
            statistic=p.get("Statistic"),
            description=p.get("AlarmDescription"),
            dimensions=[{"Name": d["Name"], "Value": d["Value"]} for d in p.get("Dimensions", [])],
            alarm_actions=list(p.get("AlarmActions", [])),
            metric_data_queries=None,
            datapoints_to_alarm=_opt_int(p.get("DatapointsToAlarm")),
            extended_statistic=p.get("ExtendedStatistic"),
            ok_actions=list(p.get("OKActions", [])),
            insufficient_data_actions=list(p.get("InsufficientDataActions", [])),
            unit=p.get("Unit"),
            actions_enabled=as_bool(p.get("ActionsEnabled"), default=True),
            treat_missing_data=p.get("TreatMissingData"),
            evaluate_low_sample_count_percentile=p.get("EvaluateLowSampleCountPercentile"),
            threshold_metric_id=p.get("ThresholdMetricId"),
        )
        return cls(name, Arn=alarm.alarm_arn)

    def delete(self, account_id: str, region_name: str) -> None:
        cloudwatch_backends[account_id][region_name].delete_alarms([self.physical_id])


def install() -> None:
    register_model(AlarmResource)
