"""One tree of exceptions for everything Fluoride raises.

Every error says what went wrong and what to do about it. Errors that come from an
AWS call carry the operation and resource, with the botocore error as ``__cause__``.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from fluoride._release import Release

__all__ = [
    "HINT_ACTIONS",
    "AwsError",
    "ConfigError",
    "CredentialsError",
    "DeploymentFailed",
    "DeploymentInProgress",
    "DeploymentTimeout",
    "EmulatorError",
    "EnvironmentInUse",
    "EnvironmentNotFound",
    "FieldError",
    "FluorideError",
    "ImageNotFound",
    "ImageTagExists",
    "InvalidInput",
    "NoContainerEngine",
    "NoDefaultVpc",
    "PushFailed",
    "RollbackFailed",
    "RolledBack",
    "ServiceExists",
    "ServiceNotFound",
    "StackFailed",
    "StoreNotFound",
    "StoreNotProvisioned",
    "StoresRetained",
    "hint_surface",
    "hints_for",
    "how",
]

#: Where hints send the user: ``sdk`` names the Python call (``svc.logs(since="15m")``),
#: ``cli`` the command (``fluoride logs hello --since 15m``).
Surface = Literal["sdk", "cli"]

_surface: contextvars.ContextVar[Surface] = contextvars.ContextVar(
    "fluoride_hint_surface", default="sdk"
)

#: action -> (the SDK call, the CLI command); ``{service}`` is filled in.
HINT_ACTIONS: dict[str, tuple[str, str]] = {
    "status": ("svc.status()", "fluoride status {service}"),
    "fleet_status": ("fl.status()", "fluoride status"),
    "list": ("fl.services()", "fluoride list"),
    "logs": ('svc.logs(since="15m")', "fluoride logs {service} --since 15m"),
    "create": ("svc.create()", "fluoride create {service}"),
    "deploy": ("svc.deploy(image)", "fluoride deploy {service} IMAGE"),
    "push": ("svc.push(local_image)", "fluoride push {service} LOCAL_IMAGE"),
    "rollback": ("svc.rollback()", "fluoride rollback {service}"),
    "wait": ("svc.wait_stable()", "fluoride status {service}"),
    "update": ("svc.update(spec)", "fluoride update {service} --config fluoride.toml"),
    "delete": ("svc.delete()", "fluoride delete {service}"),
    "purge": ("svc.delete(purge_data=True)", "fluoride delete {service} --purge-data"),
}


def hint_surface() -> Surface:
    """Where the hints of errors raised now send the user: ``sdk`` unless the CLI runs."""
    return _surface.get()


@contextlib.contextmanager
def hints_for(surface: Surface) -> Iterator[None]:
    """Within the block, hints name ``surface``'s form (the CLI wraps every command in
    ``hints_for("cli")``). Context-local: threads started with the context (the fleet's
    workers) see it too."""
    token = _surface.set(surface)
    try:
        yield
    finally:
        _surface.reset(token)


def how(action: str, service: str | None = None, *, surface: Surface | None = None) -> str:
    """The way to do ``action`` (a key of :data:`HINT_ACTIONS`) where the user is, in
    backticks: ``svc.logs(since="15m")`` in Python, ``fluoride logs hello --since 15m``
    in the CLI (``surface`` defaults to :func:`hint_surface`). Pure given ``surface``."""
    sdk, cli = HINT_ACTIONS[action]
    form = sdk if (surface or hint_surface()) == "sdk" else cli
    return "`" + form.format(service=service or "NAME") + "`"


class FluorideError(Exception):
    """Base of every error Fluoride raises.

    ``message`` is the whole sentence shown to the user; ``hint`` says what to do.
    """

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message if hint is None else f"{message}\n  hint: {hint}")

    # str() stays the whole message and hint (what a traceback prints); a notebook shows
    # the value of a caught error through these.

    def __repr__(self) -> str:
        from fluoride._display import compact

        text = self.message.split("\n", 1)[0]
        fields = getattr(self, "errors", None)
        if fields:
            text += f" [{len(fields)} field(s): {fields[0].message}]"
        return compact(type(self).__name__ + ":", text)

    def _repr_html_(self) -> str:
        """The error for notebooks: message, hint, reasons, recent events."""
        from fluoride._display import escape, html_fields, html_list

        details = [(label, getattr(self, name, None)) for label, name in _SHOWN]
        fields = html_fields(
            (label, value if isinstance(value, str) else str(getattr(value, "what", value)))
            for label, value in details if value not in (None, "", [], ())
        )
        parts = [f"<div><b>{escape(type(self).__name__)}</b>",
                 f"<pre style='white-space:pre-wrap'>{escape(self.message)}</pre>"]
        if self.hint:
            parts.append(f"<p><b>hint:</b> {escape(self.hint)}</p>")
        for label, name, keep in _LISTED:
            items = list(getattr(self, name, None) or ())[-keep:]
            if items:
                parts.append(f"<p><b>{escape(label)}</b></p>{html_list(items)}")
        if "<tr>" in fields:
            parts.append(fields)
        nested = getattr(getattr(self, "result", None), "_repr_html_", None)
        if callable(nested):  # FleetFailed: the whole fleet's table
            parts.append(str(nested()))
        return "".join(parts) + "</div>"


#: (label, attribute) an error's HTML shows when the error has it
_SHOWN = (
    ("operation", "operation"),
    ("resource", "resource"),
    ("code", "code"),
    ("resource failing", "logical_id"),
    ("reason", "reason"),
    ("stack status", "status"),
    ("serving now", "serving"),
    ("started by", "started_by"),
    ("started at", "started_at"),
    ("exit code", "exit_code"),
    ("output", "output"),
)
#: (label, attribute, how many of the last) an error's HTML lists when it has them
_LISTED = (
    ("reasons", "reasons", 10),
    ("recent events", "events", 5),
    ("stores", "stores", 10),
)


class FieldError(FluorideError):
    """One bad field of a spec: its dotted path, the value and what is allowed."""

    def __init__(self, field: str, problem: str, *, allowed: str | None = None) -> None:
        self.field = field
        self.problem = problem
        self.allowed = allowed
        text = f"{field}: {problem}"
        if allowed:
            text += f" (allowed: {allowed})"
        super().__init__(text)


class ConfigError(FluorideError):
    """The configuration (spec, name, options) is invalid. ``errors`` lists every bad field."""

    def __init__(
        self, message: str, *, errors: Sequence[FieldError] = (), hint: str | None = None
    ) -> None:
        self.errors = list(errors)
        if self.errors:
            message = message + "\n" + "\n".join(f"  - {e.message}" for e in self.errors)
        super().__init__(message, hint=hint)


class InvalidInput(ConfigError):
    """An argument of an SDK call, a CLI option or a value to store is invalid.

    Raised before any AWS call, with nothing changed. ``errors`` holds one
    :class:`FieldError` per bad argument: its name (``field``), what is wrong with the
    value (``problem``, which shows the value) and what would be accepted (``allowed``).
    """


class CredentialsError(ConfigError):
    """No AWS credentials or no region could be found."""


class AwsError(FluorideError):
    """An AWS call failed in a way Fluoride has no more specific error for."""

    def __init__(
        self,
        message: str,
        *,
        operation: str | None = None,
        resource: str | None = None,
        code: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.operation = operation
        self.resource = resource
        self.code = code
        super().__init__(message, hint=hint)


class ServiceNotFound(AwsError):
    """The service has no stack in this account and region."""


class ServiceExists(AwsError):
    """A stack for this service already exists."""


class EnvironmentNotFound(AwsError):
    """The environment has no stack in this account and region."""


class EnvironmentInUse(AwsError):
    """The environment cannot be deleted: ``services`` still run behind its gateway."""

    def __init__(self, message: str, *, services: Sequence[str] = (),
                 resource: str | None = None, hint: str | None = None) -> None:
        self.services = list(services)
        super().__init__(message, resource=resource, hint=hint)


class NoDefaultVpc(AwsError):
    """No network was given and the account has no usable default VPC."""


class StackFailed(AwsError):
    """A stack operation failed. ``reason`` is the first failing resource's reason."""

    def __init__(
        self,
        message: str,
        *,
        logical_id: str | None = None,
        reason: str | None = None,
        status: str | None = None,
        operation: str | None = None,
        resource: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.logical_id = logical_id
        self.reason = reason
        self.status = status
        super().__init__(message, operation=operation, resource=resource, hint=hint)


class StoreNotProvisioned(FluorideError):
    """A data store was turned off in the service's spec."""


class StoreNotFound(AwsError):
    """A table, bucket, secret, item or object is not there (deleted, or never written).

    ``resource`` names what is missing: the store, or ``store/key`` for an object.
    """


class StoresRetained(ServiceExists):
    """Data stores kept by an earlier ``delete()`` (or in use elsewhere) block ``create()``.

    ``stores`` lists the names found; the hint says how to go on.
    """

    def __init__(self, message: str, *, stores: Sequence[str] = (),
                 hint: str | None = None) -> None:
        self.stores = list(stores)
        super().__init__(message, resource=", ".join(self.stores) or None, hint=hint)


class ImageNotFound(AwsError):
    """The image (tag, digest or newest) is not in the repository."""


class NoContainerEngine(FluorideError):
    """Neither docker, podman nor finch is installed."""


class PushFailed(FluorideError):
    """A container engine command (login, tag or push) failed.

    ``command`` is what ran (never with the password), ``exit_code`` its status and
    ``output`` the end of what it printed.
    """

    def __init__(
        self,
        message: str,
        *,
        command: Sequence[str] = (),
        exit_code: int | None = None,
        output: str = "",
        hint: str | None = None,
    ) -> None:
        self.command = list(command)
        self.exit_code = exit_code
        self.output = output
        super().__init__(message, hint=hint)


class ImageTagExists(PushFailed):
    """The repository's tags are immutable (``compliance="strict"``) and the tag is taken.

    ``tag`` is the tag, ``digest`` the image that holds it (when known). Push under a new
    tag; releases are pinned by digest, so nothing needs the tag to move.
    """

    def __init__(
        self,
        message: str,
        *,
        tag: str,
        digest: str | None = None,
        command: Sequence[str] = (),
        exit_code: int | None = None,
        output: str = "",
        hint: str | None = None,
    ) -> None:
        self.tag = tag
        self.digest = digest
        super().__init__(message, command=command, exit_code=exit_code, output=output,
                         hint=hint)

    @classmethod
    def taken(cls, repository: str, tag: str, digest: str | None = None, *,
              command: Sequence[str] = (), exit_code: int | None = None,
              output: str = "") -> ImageTagExists:
        """The error for pushing ``tag`` again to ``repository``."""
        held = f" (it names {digest})" if digest else ""
        return cls(
            f"The tag {tag!r} already exists in {repository}{held}, whose tags are "
            "immutable (compliance='strict'): no other image can be pushed under it.",
            tag=tag, digest=digest, command=command, exit_code=exit_code, output=output,
            hint="Push under a new tag (a version or the git commit), e.g. "
            "`fluoride push <service> <image> --tag v2`; deploys are pinned by digest, so "
            "nothing needs a tag to move.")


class EmulatorError(FluorideError):
    """The embedded emulator could not start or is missing (install ``fluoride[local]``)."""


class DeploymentInProgress(AwsError):
    """Another deployment of this service is still running."""

    def __init__(
        self,
        message: str,
        *,
        started_by: str | None = None,
        started_at: dt.datetime | None = None,
        hint: str | None = None,
    ) -> None:
        self.started_by = started_by
        self.started_at = started_at
        super().__init__(message, hint=hint)


class DeploymentFailed(AwsError):
    """A deployment did not become the serving release.

    ``reasons`` holds stopped-task reasons, ``events`` the service events, ``serving`` the
    release serving now (or ``None`` when unknown).
    """

    def __init__(
        self,
        message: str,
        *,
        reasons: Sequence[str] = (),
        events: Sequence[str] = (),
        serving: Release | None = None,
        hint: str | None = None,
    ) -> None:
        self.reasons = list(reasons)
        self.events = list(events)
        self.serving = serving
        super().__init__(message, hint=hint)


class RolledBack(DeploymentFailed):
    """ECS or CloudFormation rolled the deployment back; the previous release serves."""


class DeploymentTimeout(DeploymentFailed):
    """The deadline passed; Fluoride cancelled the update and the previous release serves."""


class RollbackFailed(DeploymentFailed):
    """The deployment failed and CloudFormation could not undo it (``UPDATE_ROLLBACK_FAILED``),
    or the update could not be cancelled. The hint says how to recover.
    """
