"""``FilterLogEvents`` reads only the streams that begin with ``logStreamNamePrefix``.

moto 5.2.5 behaviour corrected: ``FilterLogEvents`` ignores ``logStreamNamePrefix`` and
returns the events of every stream of the group. Each container of a task logs under its
own stream prefix (``app/app/<task>``, ``proxy/proxy/<task>``), and ``svc.logs()`` reads
one container's streams by that prefix, so without the shim a sidecar's lines would show
as the app's.

With the shim the prefix narrows the streams as CloudWatch Logs does (no stream matching
it: no events); naming both ``logStreamNames`` and the prefix is refused, as on AWS.
"""

from __future__ import annotations

import json
from typing import Any

from moto.logs.exceptions import InvalidParameterException
from moto.logs.responses import LogsResponse

from fluoride.local.shims._patch import original, patch

__all__ = ["install"]


def _filter_log_events(self: Any) -> str:
    prefix = self._get_param("logStreamNamePrefix")
    if not prefix:
        return str(original(LogsResponse, "filter_log_events")(self))
    if self._get_param("logStreamNames"):
        raise InvalidParameterException(
            "Cannot specify both logStreamNames and logStreamNamePrefix")
    group_name = self._get_param("logGroupName")
    group = self.logs_backend.groups.get(group_name)
    if group is None:  # fails as moto's own call does
        return str(original(LogsResponse, "filter_log_events")(self))
    names = [n for n in group.streams if n.startswith(prefix)]
    if not names:
        return json.dumps({"events": [], "searchedLogStreams": []})
    events, next_token, searched = self.logs_backend.filter_log_events(
        group_name,
        names,
        self._get_param("startTime"),
        self._get_param("endTime"),
        self._get_param("limit"),
        self._get_param("nextToken"),
        self._get_param("filterPattern"),
        self._get_param("interleaved", False),
    )
    return json.dumps({"events": events, "nextToken": next_token,
                       "searchedLogStreams": searched})


def install() -> None:
    patch(LogsResponse, "filter_log_events", _filter_log_events)
