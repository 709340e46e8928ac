"""How a spec's environment variables (and its secret variables) are written into the
template body: `render_environment` and the YAML quoting it shares with the size rule.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from fluoride.errors import FluorideError

ENVIRONMENT_MARKER: Final = "# fluoride:user-environment"
"""The template line that `render_environment` replaces with the user's variables."""

SECRET_ENVIRONMENT_MARKER: Final = "# fluoride:secret-environment"
"""The template line that `render_environment` replaces with the container's ``Secrets``
(``secret_env``): keys of the service's own secret as environment variables.

.. versionadded:: 0.2.0
"""

#: The service's secret's ARN in the template, whether the stack created it or adopted it.
#: (A secret variable needs the secret on, which the spec's rules check.)
SECRET_ARN_EXPRESSION: Final = "!If [CreateSecret, !Ref Secret, !Ref AdoptedSecretArn]"


def _marker_line(marker: str) -> re.Pattern[str]:
    return re.compile(r"^([ \t]*)" + re.escape(marker) + r"[ \t]*$", re.MULTILINE)


SIDECARS_MARKER: Final = "# fluoride:sidecars"
"""The template line that `render_environment` replaces with the spec's sidecars, one
container definition a line.

.. versionadded:: 0.3.0
"""
#: What a strict sidecar shares with the app: read-only root, /tmp, the user.
_SIDECAR_STRICT: Final = (
    "ReadonlyRootFilesystem: !If [Strict, true, false], "
    "MountPoints: !If [Strict, [{SourceVolume: tmp, ContainerPath: /tmp}], !Ref AWS::NoValue], "
    "User: !If [HasUser, !Ref ContainerUser, !Ref AWS::NoValue]")
ENDPOINTS_MARKER: Final = "# fluoride:endpoints"
ENDPOINTS_END_MARKER: Final = "# fluoride:endpoints-end"
"""The template lines around the VPC endpoints' resources (and the conditions only they
use): `render_environment` keeps what lies between each pair only for a spec with
``network.endpoints`` on, so the default body stays inline (under 51,200 bytes).

.. versionadded:: 0.3.0
"""
_ENDPOINTS_BLOCK = re.compile(
    r"^[ \t]*" + re.escape(ENDPOINTS_MARKER) + r"[ \t]*\n(.*?)^[ \t]*"
    + re.escape(ENDPOINTS_END_MARKER) + r"[ \t]*(\n|\Z)", re.MULTILINE | re.DOTALL)
_MARKER_LINE = _marker_line(ENVIRONMENT_MARKER)
_SIDECARS_MARKER_LINE = _marker_line(SIDECARS_MARKER)
_SECRET_MARKER_LINE = _marker_line(SECRET_ENVIRONMENT_MARKER)
_KEPT_COMMENTS = frozenset({ENVIRONMENT_MARKER, SECRET_ENVIRONMENT_MARKER, SIDECARS_MARKER,
                            ENDPOINTS_MARKER, ENDPOINTS_END_MARKER})
_COMMENT_LINE = re.compile(r"^[ \t]*#.*(\n|\Z)", re.MULTILINE)


def _without_comment_lines(template_body: str) -> str:
    """The template without its full-line comments, the environment markers kept.

    The comments are for readers of the file; CloudFormation counts every byte of a
    template body. (The template has no block scalar with a line starting with ``#``:
    tests/test_template_lint.py checks that the document is unchanged.)
    """
    return _COMMENT_LINE.sub(
        lambda m: m.group(0) if m.group(0).strip() in _KEPT_COMMENTS else "", template_body
    )


def _yaml_quote(value: str) -> str:
    """A YAML double-quoted scalar holding exactly ``value``, in printable ASCII.

    Not ``json.dumps``: it writes characters beyond U+FFFF as surrogate pairs, which YAML
    reads as two lone surrogates. YAML's ``\\U`` escape takes them whole.
    """
    out = ['"']
    for char in value:
        code = ord(char)
        if char in '"\\':
            out.append("\\" + char)
        elif 0x20 <= code < 0x7F:
            out.append(char)
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


_RENDERED_INDENT: Final = 17
"""Bytes `MAX_ENVIRONMENT_RENDERED` counts for each item's indentation and line break."""


def _environment_item(name: str, value: str) -> str:
    return f"- {{Name: {_yaml_quote(name)}, Value: {_yaml_quote(value)}}}"


_SECRETS_KEY_LINE: Final = 19
"""Bytes `MAX_ENVIRONMENT_RENDERED` counts for the ``Secrets:`` line (indentation included)."""


def _secret_item(name: str, key: str) -> str:
    """One ``Secrets`` item: ``valueFrom`` is the secret's ARN, ``:<key>::`` (a JSON key of
    the secret's value, its current version)."""
    return (f"- {{Name: {_yaml_quote(name)}, ValueFrom: !Sub "
            f"[{_yaml_quote('${S}:' + key + '::')}, {{S: {SECRET_ARN_EXPRESSION}}}]}}")


SIDECAR_HEALTH_INTERVAL: Final = 10
"""Seconds between runs of a sidecar's ``health_command`` (ECS allows 5 to 300): often
enough that a new task is judged within seconds, rarely enough that the check costs a small
container nothing.

.. versionadded:: 0.3.0
"""
SIDECAR_HEALTH_TIMEOUT: Final = 5
"""Seconds a run may take before it counts as a failure (ECS allows 2 to 60): a local
check (``curl localhost``, a status file) answers in well under a second."""
SIDECAR_HEALTH_RETRIES: Final = 3
"""Failures in a row before the container is ``UNHEALTHY`` (ECS allows 1 to 10): one slow
run is not a verdict; three (30 s) are."""
MAX_SIDECAR_START_PERIOD: Final = 300
"""ECS's largest ``startPeriod``: a sidecar's is the spec's ``health.grace_period``, at most
this."""


def _health_check(command: str, start_period: int) -> str:
    return (f"HealthCheck: {{Command: [CMD-SHELL, {_yaml_quote(command)}], "
            f"Interval: {SIDECAR_HEALTH_INTERVAL}, Timeout: {SIDECAR_HEALTH_TIMEOUT}, "
            f"Retries: {SIDECAR_HEALTH_RETRIES}, "
            f"StartPeriod: {max(0, min(start_period, MAX_SIDECAR_START_PERIOD))}}}")


def sidecar_item(sidecar: Any, *, start_period: int = MAX_SIDECAR_START_PERIOD) -> str:
    """One container definition for a `Sidecar`, on one line (flow style). Its spec is
    also kept whole, as JSON, in a docker label that `read_sidecars` reads back.

    A ``health_command`` becomes the container's ``HealthCheck`` (``CMD-SHELL``, every
    `SIDECAR_HEALTH_INTERVAL` s, `SIDECAR_HEALTH_TIMEOUT` s each,
    `SIDECAR_HEALTH_RETRIES` failures, ``StartPeriod`` ``start_period`` capped to
    `MAX_SIDECAR_START_PERIOD`); the default ``start_period`` is the longest, which the
    size rule measures.
    """
    import json

    spec = {"name": sidecar.name, "image": sidecar.image, "port": sidecar.port,
            "cpu": sidecar.cpu, "memory": sidecar.memory, "essential": sidecar.essential,
            "environment": dict(sidecar.environment), "command": list(sidecar.command)}
    if sidecar.health_command is not None:  # absent when unset: older labels read the same
        spec["health_command"] = sidecar.health_command
    parts = [f"Name: {_yaml_quote(sidecar.name)}", f"Image: {_yaml_quote(sidecar.image)}",
             f"Essential: {'true' if sidecar.essential else 'false'}", f"Cpu: {sidecar.cpu}"]
    if sidecar.memory is not None:
        parts.append(f"Memory: {sidecar.memory}")
    if sidecar.port is not None:
        parts.append(f"PortMappings: [{{ContainerPort: {sidecar.port}, Protocol: tcp}}]")
    if sidecar.command:
        parts.append("Command: [" + ", ".join(_yaml_quote(c) for c in sidecar.command) + "]")
    if sidecar.environment:
        parts.append("Environment: [" + ", ".join(
            f"{{Name: {_yaml_quote(k)}, Value: {_yaml_quote(v)}}}"
            for k, v in sidecar.environment.items()) + "]")
    if sidecar.health_command is not None:
        parts.append(_health_check(sidecar.health_command, start_period))
    parts.append(_SIDECAR_STRICT)
    parts.append("LogConfiguration: {LogDriver: awslogs, Options: {awslogs-group: !Ref LogGroup, "
                 "awslogs-region: !Ref AWS::Region, awslogs-stream-prefix: "
                 f"{_yaml_quote(sidecar.name)}}}}}")
    label = json.dumps(spec, separators=(",", ":"), ensure_ascii=False)
    parts.append(f"DockerLabels: {{fluoride.sidecar: {_yaml_quote(label)}}}")
    return "- {" + ", ".join(parts) + "}"


def _one_marker(template_body: str, line: re.Pattern[str], marker: str, what: str,
                *, required: bool) -> re.Match[str] | None:
    matches = list(line.finditer(template_body))
    if len(matches) > 1 or (required and not matches):
        raise FluorideError(
            f"The template has {len(matches)} '{marker}' lines instead of one, "
            f"so the {what} cannot be placed.",
            hint="This is a bug in Fluoride's template; please report it.",
        )
    return matches[0] if matches else None


def _replace_line(template_body: str, match: re.Match[str], lines: list[str]) -> str:
    start, end = match.span()
    if not lines:
        # Remove the marker line with its line break.
        if template_body[end:end + 1] == "\n":
            end += 1
        return template_body[:start] + template_body[end:]
    return template_body[:start] + "\n".join(lines) + template_body[end:]


def render_environment(
    template_body: str,
    environment: Mapping[str, str],
    *,
    secret_env: Mapping[str, str] = {},
    sidecars: Sequence[Any] = (),
    endpoints: bool = False,
    grace_period: int | None = None,
    keep_comments: bool = False,
) -> str:
    """The template with its ``# fluoride:user-environment`` line replaced by one
    ``- {Name: ..., Value: ...}`` item per variable, at that line's indentation, and its
    ``# fluoride:secret-environment`` line by a ``Secrets:`` list with one
    ``- {Name: ..., ValueFrom: <secret ARN>:<key>::}`` item per ``secret_env`` entry.

    The VPC endpoints' resources (between ``# fluoride:endpoints`` and
    ``# fluoride:endpoints-end``) stay only with ``endpoints`` (the spec's
    ``network.endpoints``); their conditions are off otherwise anyway.

    ``sidecars`` replace the ``# fluoride:sidecars`` line, one container definition each
    (`sidecar_item`); ``grace_period`` (the spec's ``health.grace_period``; ``None``: the
    default spec's) is the ``StartPeriod`` of their health checks.

    With no variables a marker line is simply removed. The template's other full-line
    comments are dropped too (unless ``keep_comments``, for people reading it): this is the
    body sent to CloudFormation, which limits it to 51,200 bytes.

    Raises:
        FluorideError: the template has no environment marker line, or more than one, or
            secret variables are given and it has not exactly one secret marker line (a
            bug in Fluoride's template, not in the user's spec).

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.2.0 ``secret_env``.
    .. versionchanged:: 0.3.0 ``endpoints``.
    """
    if not keep_comments:
        template_body = _without_comment_lines(template_body)
    template_body, blocks = _ENDPOINTS_BLOCK.subn(
        lambda m: m.group(1) if endpoints else "", template_body)
    if endpoints and not blocks:
        raise FluorideError(
            f"The template has no {ENDPOINTS_MARKER} ... {ENDPOINTS_END_MARKER} block.",
            hint="This is a bug in Fluoride's template; please report it.")
    side = _one_marker(template_body, _SIDECARS_MARKER_LINE, SIDECARS_MARKER, "sidecars",
                       required=bool(sidecars))
    if side is not None:
        if grace_period is None:
            from fluoride.spec._values import HealthCheck

            grace_period = HealthCheck().grace_period
        template_body = _replace_line(template_body, side, [
            side.group(1) + sidecar_item(s, start_period=grace_period) for s in sidecars])
    match = _one_marker(template_body, _MARKER_LINE, ENVIRONMENT_MARKER,
                        "environment variables", required=True)
    assert match is not None  # required
    indent = match.group(1)
    lines = [indent + _environment_item(name, value) for name, value in environment.items()]
    template_body = _replace_line(template_body, match, lines)
    secret = _one_marker(template_body, _SECRET_MARKER_LINE, SECRET_ENVIRONMENT_MARKER,
                         "secret variables", required=bool(secret_env))
    if secret is None:
        return template_body
    indent = secret.group(1)
    lines = [indent + "Secrets:"] if secret_env else []
    lines += [f"{indent}  {_secret_item(name, key)}" for name, key in secret_env.items()]
    return _replace_line(template_body, secret, lines)
