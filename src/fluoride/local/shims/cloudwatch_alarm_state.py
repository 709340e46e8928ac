"""A new alarm starts in ``INSUFFICIENT_DATA``; updating an alarm keeps its state.

moto 5.2.5 behaviour corrected: every alarm put with ``PutMetricAlarm`` (directly, or by
CloudFormation through the ``cloudwatch_alarm`` shim) starts in ``OK``, and putting an
existing alarm again resets it to ``OK``. On AWS a new alarm is ``INSUFFICIENT_DATA``
("Unchecked: Initial alarm creation") until CloudWatch first evaluates it, and an update
overwrites the configuration but leaves the state as it was.

With the shim a new alarm is ``INSUFFICIENT_DATA``, and an alarm put again keeps its
state, reason and history. The emulator evaluates no metrics: an alarm leaves
``INSUFFICIENT_DATA`` only through ``SetAlarmState``.
"""

from __future__ import annotations

from typing import Any

from moto.cloudwatch.models import CloudWatchBackend

from fluoride.local.shims._patch import original, patch

__all__ = ["INITIAL_STATE", "install"]

INITIAL_STATE = "INSUFFICIENT_DATA"


def _put_metric_alarm(self: Any, name: str, *args: Any, **kwargs: Any) -> Any:
    before = self.alarms.get(name)
    alarm = original(CloudWatchBackend, "put_metric_alarm")(self, name, *args, **kwargs)
    if before is None:
        alarm.state_value = INITIAL_STATE
    else:
        alarm.state_value = before.state_value
        alarm.state_reason = before.state_reason
        alarm.state_reason_data = before.state_reason_data
        alarm.state_updated_timestamp = before.state_updated_timestamp
        alarm.history = before.history
    return alarm


def install() -> None:
    patch(CloudWatchBackend, "put_metric_alarm", _put_metric_alarm)
