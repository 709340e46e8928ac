"""What an update would change, as a `Plan`: CloudFormation's change set read into plain
values, and said in the words users care about (do the tasks restart, does the URL
change, is any data at stake).

Everything here is pure: the change set's JSON, the two specs and the two sets of template
parameters in, a `Plan` out. `fluoride.service.Service.plan` does the I/O around it.

.. versionadded:: 0.2.0
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any, Final, Literal, cast

import attrs

from fluoride._display import compact
from fluoride.spec import ServiceSpec

__all__ = [
    "PARAMETER_FIELDS",
    "STORE_TYPES",
    "Plan",
    "ProfileSwitch",
    "ResourceChange",
    "SettingChange",
    "StoreRisk",
    "make_plan",
    "profile_switch",
    "resource_changes",
    "setting_changes",
    "store_risks",
]

Action = Literal["add", "modify", "remove"]
Replacement = Literal["yes", "no", "conditional"]

#: Template parameter -> the spec field a user sets (parameters with no field: ``None``).
PARAMETER_FIELDS: Final[Mapping[str, str | None]] = {
    "ServiceName": None, "Image": "image", "ContainerPort": "port", "Cpu": "cpu",
    "Memory": "memory", "MinCount": "min_count", "MaxCount": "max_count",
    "CpuTarget": "cpu_target", "RequestsPerTarget": "requests_per_target",
    "HealthCheckPath": "health_path", "HealthCheckInterval": "health.interval",
    "HealthCheckTimeout": "health.timeout", "HealthyThreshold": "health.healthy_threshold",
    "UnhealthyThreshold": "health.unhealthy_threshold",
    "HealthCheckGracePeriod": "health.grace_period",
    "DeregistrationDelay": "deregistration_delay", "StopTimeout": "stop_timeout",
    "Public": "network.public", "IngressCidr1": "network.ingress_cidrs",
    "IngressCidr2": "network.ingress_cidrs", "IngressCidr3": "network.ingress_cidrs",
    "IngressCidr4": "network.ingress_cidrs",
    "AllowedCallerSecurityGroups": "network.allowed_callers",
    "IdleTimeout": "idle_timeout", "VpcId": "network.vpc_id", "SubnetIds": "network.subnet_ids",
    "AssignPublicIp": "network.assign_public_ip", "VpcEndpoints": "network.endpoints",
    "EndpointRouteTableIds": "network.subnet_ids", "CertificateArn": "domain.certificate_arn",
    "HostedZoneId": "domain.hosted_zone_id", "HostedZoneName": "domain.hosted_zone_name",
    "Subdomain": "domain.subdomain", "RequestCertificate": "domain.request_certificate",
    "HttpsRedirect": "domain.https_redirect", "EnableExec": "exec_enabled",
    "AlarmRollback": "alarm_rollback", "Alarm5xxThreshold": "alarm_5xx_threshold",
    "LogRetentionDays": "log_retention_days",
    "AccessLogRetentionDays": "access_log_retention_days",
    "EnableTable": "stores.table", "TableName": "stores.table_name",
    "TablePartitionKey": "stores.partition_key", "TableTtlAttribute": "stores.ttl_attribute",
    "EnableBucket": "stores.bucket", "BucketName": "stores.bucket_name",
    "EnableSecret": "stores.secret", "SecretName": "stores.secret_name",
    "SecretEnv": "secret_env",
    "NotifyEmails": "notify", "NotifyEmailCount": "notify", "AlarmActionArns": "notify",
    "SecretRecoveryDays": "stores.secret_recovery_days", "KeepImages": "keep_images",
    "AdoptRepository": None, "AdoptTable": None, "AdoptBucket": None, "AdoptSecret": None,
    "AdoptedSecretArn": None, "ExtraPolicyArns": "access.extra_policy_arns",
    "PermissionsBoundaryArn": "access.permissions_boundary_arn",
    "Gateway": "gateway", "GatewaySecurityGroup": "gateway",
    "GatewayAlb": None, "GatewayTargetGroup": None,
    "Compliance": "compliance", "ContainerUser": "user", "AppMemory": "memory",
}

#: The data stores' resource types and what users call them.
STORE_TYPES: Final[Mapping[str, str]] = {
    "AWS::DynamoDB::Table": "table",
    "AWS::S3::Bucket": "bucket",
    "AWS::SecretsManager::Secret": "secret",
}
#: The logical ids of the stores in the template (the access-log bucket is not a store:
#: it holds logs and the release history, and is never replaced by a setting).
_STORE_IDS: Final = {"Table": "table", "Bucket": "bucket", "Secret": "secret"}
#: What each store holds, for the sentence that says what is at stake.
_STORE_DATA: Final = {"table": "its items", "bucket": "its objects",
                      "secret": "its values"}
#: Per store: (the switch, the name, the settings that replace it) as template parameters.
_STORE_PARAMETERS: Final = {
    "table": ("EnableTable", "TableName", ("TableName", "TablePartitionKey")),
    "bucket": ("EnableBucket", "BucketName", ("BucketName",)),
    "secret": ("EnableSecret", "SecretName", ("SecretName",)),
}
_STORE_OUTPUTS: Final = {"table": "TableName", "bucket": "BucketName", "secret": "SecretArn"}
_REPLACEMENT: Final[Mapping[str, Replacement]] = {
    "True": "yes", "False": "no", "Conditional": "conditional",
}


@attrs.frozen
class ResourceChange:
    """One resource the update would change.

    Attributes:
        logical_id: the resource in the template, e.g. ``TaskDefinition``.
        resource_type: e.g. ``AWS::ECS::TaskDefinition``.
        action: ``add``, ``modify`` or ``remove``.
        replacement: for ``modify``: ``yes`` (a new resource replaces it), ``no`` or
            ``conditional``; ``None`` for ``add`` and ``remove``.
        causes: the settings (spec fields) or other resources that cause the change, as
            CloudFormation reports them (empty when it does not say).
    """

    logical_id: str
    resource_type: str
    action: Action
    replacement: Replacement | None = None
    causes: tuple[str, ...] = ()

    @property
    def replaced(self) -> bool:
        """Whether the resource may be replaced (``yes`` or ``conditional``)."""
        return self.replacement in ("yes", "conditional")


@attrs.frozen
class SettingChange:
    """One setting the new spec changes: its dotted field and both values, as text."""

    field: str
    old: str
    new: str

    def __str__(self) -> str:
        return f"{self.field}: {self.old} -> {self.new}"


@attrs.frozen
class StoreRisk:
    """A data store the update would replace or remove from the service.

    Attributes:
        store: ``table``, ``bucket`` or ``secret``.
        name: its name now (the secret: its ARN), where its data stays.
        setting: the setting that causes it (a spec field, or ``the template``).
        action: ``replaced`` (a new, empty store takes its place) or ``removed`` (the
            service loses it).
    """

    store: str
    name: str
    setting: str
    action: Literal["replaced", "removed"]

    def sentence(self) -> str:
        """What is at stake, in one sentence."""
        where = f" {self.name}" if self.name else ""
        if self.action == "removed":
            return (f"The {self.store}{where} would be removed from the service ({self.setting}): "
                    f"{_STORE_DATA[self.store]} would be lost to it.")
        return (f"The {self.store}{where} would be replaced ({self.setting}): the service would "
                f"start on a new, empty {self.store}, and {_STORE_DATA[self.store]} would be "
                "lost to it.")


@attrs.frozen
class Plan:
    """What an update of ``service`` would change. Nothing has changed yet.

    Attributes:
        service: the service name.
        changes: each resource the update would add, modify or remove.
        settings: each setting the new spec changes.
        risks: the data stores the update would replace or remove.
        consequences: what it means, in words (restarts, URL, data).

    .. versionadded:: 0.2.0
    """

    service: str
    changes: tuple[ResourceChange, ...] = ()
    settings: tuple[SettingChange, ...] = ()
    risks: tuple[StoreRisk, ...] = ()
    consequences: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        """Whether the update would change nothing."""
        return not self.changes

    @property
    def restarts_tasks(self) -> bool:
        """Whether the tasks would restart (a new task definition, so a rolling deployment)."""
        return any(c.resource_type == "AWS::ECS::TaskDefinition" and c.action != "remove"
                   for c in self.changes)

    @property
    def replaces_load_balancer(self) -> bool:
        """Whether the load balancer would be replaced (its URL changes)."""
        return any(c.resource_type == "AWS::ElasticLoadBalancingV2::LoadBalancer"
                   and (c.replaced or c.action != "modify") for c in self.changes)

    @property
    def summary(self) -> str:
        """The changed settings in one line (``memory: 512 -> 1024, ...``)."""
        if self.settings:
            return ", ".join(str(s) for s in self.settings)
        return "no setting changes" + (" (template upgrade)" if self.changes else "")

    def __repr__(self) -> str:
        if self.empty:
            return f"<Plan {self.service}: nothing to change>"
        flags = [f"{len(self.changes)} resource change(s)"]
        if self.restarts_tasks:
            flags.append("tasks restart")
        if self.replaces_load_balancer:
            flags.append("URL changes")
        if self.risks:
            flags.append("DATA AT STAKE: " + ", ".join(r.store for r in self.risks))
        # Flags first: they are what a person must read (a long summary is cut instead).
        return compact("Plan", f"{self.service}: {'; '.join(flags)}; {self.summary}")

    def __str__(self) -> str:
        if self.empty:
            return f"{self.service}: nothing to change."
        lines = [f"Plan for {self.service}:"]
        lines += [f"  {s}" for s in self.settings]
        lines += [f"  ! {text}" if "lost" in text else f"  - {text}"
                  for text in self.consequences]
        lines.append("Resources:")
        for c in self.changes:
            replaced = f", replacement: {c.replacement}" if c.replacement else ""
            why = f" ({', '.join(c.causes)})" if c.causes else ""
            lines.append(f"  {c.action:<6} {c.logical_id} [{c.resource_type}]{replaced}{why}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """A table for notebooks: the words first, then one row per resource."""
        said = "".join(f"<li>{escape(t)}</li>" for t in (*map(str, self.settings),
                                                          *self.consequences))
        rows = "".join(
            f"<tr><td>{escape(c.action)}</td><td>{escape(c.logical_id)}</td>"
            f"<td>{escape(c.resource_type)}</td><td>{escape(c.replacement or '')}</td>"
            f"<td>{escape(', '.join(c.causes))}</td></tr>"
            for c in self.changes
        )
        head = ("<tr><th>action</th><th>resource</th><th>type</th><th>replacement</th>"
                "<th>caused by</th></tr>")
        return (f"<div><b>Plan for {escape(self.service)}</b>"
                f"{f'<ul>{said}</ul>' if said else ''}"
                f"<table>{head}{rows}</table></div>")


# -- from CloudFormation's change set --------------------------------------------------------


def _causes(details: Iterable[Mapping[str, Any]]) -> tuple[str, ...]:
    found: list[str] = []
    for d in details:
        source, entity = d.get("ChangeSource"), d.get("CausingEntity") or ""
        if source == "ParameterReference":
            field = PARAMETER_FIELDS.get(entity, entity)
            cause = field or entity
        elif source == "DirectModification":
            cause = "the template"
        elif source in ("ResourceReference", "ResourceAttribute"):
            cause = entity.split(".", 1)[0]
        elif source == "Tags":
            cause = "tags"
        else:
            cause = entity or str(source or "")
        if cause and cause not in found:
            found.append(cause)
    return tuple(found)


def resource_changes(raw: Iterable[Mapping[str, Any]]) -> list[ResourceChange]:
    """The ``Changes`` of a described change set (every page) as `ResourceChange` values."""
    out = []
    for change in raw:
        if change.get("Type") != "Resource":
            continue
        rc = change.get("ResourceChange", {})
        action: Action = {"Add": "add", "Remove": "remove"}.get(  # type: ignore[assignment]
            rc.get("Action", ""), "modify")
        replacement = _REPLACEMENT.get(rc.get("Replacement", "")) if action == "modify" else None
        out.append(ResourceChange(
            logical_id=rc.get("LogicalResourceId", "?"),
            resource_type=rc.get("ResourceType", "?"),
            action=action,
            replacement=replacement,
            causes=_causes(rc.get("Details", [])),
        ))
    return out


# -- from the two specs ----------------------------------------------------------------------


def _flatten(value: object, prefix: str = "") -> dict[str, object]:
    if attrs.has(type(value)):
        out: dict[str, object] = {}
        for field in attrs.fields(cast("type[attrs.AttrsInstance]", type(value))):
            out.update(_flatten(getattr(value, field.name), prefix + field.name + "."))
        return out
    if isinstance(value, Mapping):
        return {f"{prefix}{k}": v for k, v in value.items()}
    if isinstance(value, tuple) and value and all(attrs.has(type(v)) for v in value):
        # sidecars: each under its name, e.g. sidecars.proxy.image
        out = {}
        for item in value:
            out.update(_flatten(item, f"{prefix}{getattr(item, 'name', '')}."))
        return out
    return {prefix.rstrip("."): value}


_UNSET: Final = object()


def _show(value: object) -> str:
    if value is None or value is _UNSET:
        return "(unset)"
    if isinstance(value, tuple):
        return "[" + ", ".join(value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, str) else str(value)


def setting_changes(old: ServiceSpec, new: ServiceSpec) -> list[SettingChange]:
    """Every field (and environment variable) that differs between the two specs, in
    field order; a variable that only one spec has shows ``(unset)`` for the other. A
    field that reads the same both ways is not a change (an added sidecar's unset port)."""
    before, after = _flatten(old), _flatten(new)
    names = list(before) + [k for k in after if k not in before]
    shown = ((name, _show(before.get(name, _UNSET)), _show(after.get(name, _UNSET)))
             for name in names)
    return [SettingChange(name, was, becomes) for name, was, becomes in shown if was != becomes]


def store_risks(
    old_params: Mapping[str, str],
    new_params: Mapping[str, str],
    outputs: Mapping[str, str],
    changes: Sequence[ResourceChange] = (),
) -> list[StoreRisk]:
    """The stores the update would replace or remove, from the template parameters (which
    say it on any CloudFormation) and from the change set (which also knows what the
    parameters cannot show, e.g. a template change).

    An adopted store counts too: the stack only refers to it, but renaming or turning it
    off takes its data away from the service all the same.
    """
    risks: dict[str, StoreRisk] = {}
    for store, (switch, name_key, replacing) in _STORE_PARAMETERS.items():
        if old_params.get(switch, "true") != "true":
            continue  # the store is off now: nothing to lose
        name = outputs.get(_STORE_OUTPUTS[store]) or old_params.get(name_key, "")
        if new_params.get(switch, "true") != "true":
            risks[store] = StoreRisk(store, name, f"stores.{store} turned off", "removed")
            continue
        for key in replacing:
            if old_params.get(key, "") != new_params.get(key, ""):
                field = PARAMETER_FIELDS[key]
                setting = (f"{field}: {old_params.get(key, '')!r} -> "
                           f"{new_params.get(key, '')!r}")
                risks[store] = StoreRisk(store, name, setting, "replaced")
                break
    for c in changes:
        kind = _STORE_IDS.get(c.logical_id)
        if kind is None or kind in risks or c.resource_type not in STORE_TYPES:
            continue
        if c.action == "remove" or c.replaced:
            setting = ", ".join(c.causes) or "the template"
            risks[kind] = StoreRisk(kind, outputs.get(_STORE_OUTPUTS[kind], ""), setting,
                                    "removed" if c.action == "remove" else "replaced")
    return [risks[s] for s in ("table", "bucket", "secret") if s in risks]


@attrs.frozen
class ProfileSwitch:
    """A change of ``compliance`` on a live service whose stack owns the image repository.

    The two profiles encrypt the repository differently (``standard``: AES256; ``strict``:
    the service's KMS key). ECR cannot change a repository's encryption: CloudFormation's
    resource schema for ``AWS::ECR::Repository`` lists ``EncryptionConfiguration`` as
    create-only, so the change would replace the repository. Its name is fixed
    (``fluoride/<service>``), so the new one cannot be made beside the old one, and the old
    one (``Retain``) would be left outside the service with every image. Every other
    setting either profile changes (the table's, bucket's, log group's, secret's and
    topic's keys, tag mutability, deletion protection, versioning, logging, events,
    retention, public IPs) is changed in place.

    Attributes:
        old: the live profile.
        new: the spec's.
        repository: the repository's name (``fluoride/<service>``).

    .. versionadded:: 0.3.0
    """

    old: str
    new: str
    repository: str

    def sentence(self) -> str:
        """What would happen, and what to do instead."""
        where = f" {self.repository}" if self.repository else ""
        return (f"compliance {self.old!r} -> {self.new!r} would replace the image "
                f"repository{where}: its encryption ({_ENCRYPTION[self.old]} now, "
                f"{_ENCRYPTION[self.new]} under {self.new!r}) cannot change on an existing "
                "repository, and a repository of the same name cannot be made beside it, so "
                "CloudFormation would fail the update (and a replacement would leave every "
                "image outside the service). Choose the profile at create(): create a new "
                f"service with compliance={self.new!r}, deploy to it and move the data, or "
                f"keep compliance={self.old!r} here.")


#: How each profile encrypts the image repository (the template's ``Repository``).
_ENCRYPTION: Final = {"standard": "AES256", "strict": "the service's KMS key"}


def profile_switch(old_params: Mapping[str, str], new_params: Mapping[str, str],
                   outputs: Mapping[str, str]) -> ProfileSwitch | None:
    """The `ProfileSwitch` an update from ``old_params`` to ``new_params`` (template
    parameters) would make, or ``None``: the profile stays, or the stack does not own the
    repository (an adopted one keeps its settings whatever the profile says).

    >>> from fluoride.infra.plan import profile_switch
    >>> profile_switch({"Compliance": "standard"}, {"Compliance": "strict"},
    ...                {"RepositoryName": "fluoride/x"}).new
    'strict'
    >>> profile_switch({"Compliance": "strict"}, {"Compliance": "strict"}, {}) is None
    True
    """
    old = old_params.get("Compliance") or "standard"
    new = new_params.get("Compliance") or "standard"
    if old == new or old_params.get("AdoptRepository", "false") == "true" \
            or new_params.get("AdoptRepository", "false") == "true":
        return None
    return ProfileSwitch(old, new, outputs.get("RepositoryName", ""))


def _consequences(
    changes: Sequence[ResourceChange],
    settings: Sequence[SettingChange],
    risks: Sequence[StoreRisk],
    old_params: Mapping[str, str],
    new_params: Mapping[str, str],
) -> list[str]:
    said: list[str] = []
    task_def = next((c for c in changes if c.resource_type == "AWS::ECS::TaskDefinition"
                     and c.action != "remove"), None)
    if task_def is not None:
        said.append("The tasks restart (rolling, no downtime): a new task definition is "
                    "deployed and followed like a release; the image stays.")
    elif changes:
        said.append("No restart: the changes apply in place; the tasks keep running.")
    lb_replaced = any(c.resource_type == "AWS::ElasticLoadBalancingV2::LoadBalancer"
                      and c.replaced for c in changes)
    if lb_replaced or old_params.get("Public") != new_params.get("Public"):
        said.append("The load balancer is replaced: the URL changes (status().url has the "
                    "new one), and it answers only once the new one is ready.")
    said += _gateway_move(old_params.get("Gateway", ""), new_params.get("Gateway", ""))
    domain = ("HostedZoneId", "HostedZoneName", "Subdomain", "CertificateArn",
              "RequestCertificate")
    if any(old_params.get(k, "") != new_params.get(k, "") for k in domain):
        said.append("The URL changes: the domain or HTTPS settings differ.")
    said += [r.sentence() for r in risks]
    if any(s.field.startswith("stores.") and s.field.endswith(("table", "bucket", "secret"))
           and s.new == "true" for s in settings):
        said.append("A new store is created (empty).")
    return said


def _gateway_move(old: str, new: str) -> list[str]:
    """What moving between the service's own load balancer and an environment's gateway
    means (``""``: its own load balancer)."""
    if old == new:
        return []
    if not old:
        return [f"The URL changes: the service moves from its own load balancer to the "
                f"gateway of environment {new}, which gives it a generated https:// hostname "
                "(status().url has it); its load balancer, listeners, target group and "
                "load balancer security group are removed."]
    if not new:
        return [f"The URL changes: the service leaves the gateway of environment {old} for "
                "a load balancer of its own (status().url has the new URL)."]
    return [f"The URL changes: the service moves from the gateway of environment {old} to "
            f"that of environment {new} (status().url has the new https:// hostname)."]


def make_plan(
    service: str,
    raw_changes: Iterable[Mapping[str, Any]],
    *,
    old_spec: ServiceSpec,
    new_spec: ServiceSpec,
    old_params: Mapping[str, str],
    new_params: Mapping[str, str],
    outputs: Mapping[str, str],
    notes: Sequence[str] = (),
) -> Plan:
    """The `Plan` for a change set, the specs and parameters it goes between, and the
    stack's outputs (the stores' names). ``notes`` are said last (e.g. a template
    upgrade)."""
    changes = resource_changes(raw_changes)
    settings = setting_changes(old_spec, new_spec)
    risks = store_risks(old_params, new_params, outputs, changes)
    said = _consequences(changes, settings, risks, old_params, new_params) if changes else []
    switch = profile_switch(old_params, new_params, outputs)
    if switch is not None:
        said.insert(0, f"update() refuses this: {switch.sentence()}")
    return Plan(service=service, changes=tuple(changes), settings=tuple(settings),
                risks=tuple(risks), consequences=tuple(said) + tuple(notes if changes else ()))
