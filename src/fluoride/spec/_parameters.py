"""What the template gets from a valid spec: its parameters (`to_parameters`) and the
stack's user tags (`user_tags`).

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from fluoride.errors import ConfigError
from fluoride.names import secret_name
from fluoride.spec._rules import (
    _SECRET_ARN,
    _SECURITY_GROUP,
    _SUBNET,
    _VPC,
    _Checker,
    _service_name_problems,
)
from fluoride.spec._values import ServiceSpec, Stores

_ROUTE_TABLE = re.compile(r"rtb-[0-9a-f]{8,17}")


def to_parameters(
    spec: ServiceSpec,
    *,
    service_name: str,
    vpc_id: str,
    subnet_ids: Sequence[str],
    image: str | None,
    assign_public_ip: bool,
    caller_security_groups: Sequence[str] = (),
    adopt_repository: bool = False,
    adopt_table: bool = False,
    adopt_bucket: bool = False,
    adopt_secret: bool = False,
    adopted_secret_arn: str | None = None,
    alarm_topic_arn: str | None = None,
    gateway_security_group: str | None = None,
    gateway_metrics: tuple[str, str] | None = None,
    endpoint_route_tables: Sequence[str] = (),
) -> dict[str, str]:
    """The template's parameters for ``spec``, as CloudFormation wants them: strings,
    booleans as ``"true"``/``"false"``, ``""`` for "not given".

    The network is resolved by the caller: ``vpc_id`` and ``subnet_ids`` are the spec's
    or the default VPC's, ``assign_public_ip`` the spec's or the default for that VPC, and
    ``caller_security_groups`` the security groups of ``spec.network.allowed_callers``
    (service names looked up to their groups). ``image`` is ``repo@sha256:...`` or
    ``None`` before the first deployment.

    ``adopt_*`` say which stores an earlier delete kept, for the stack to use instead of
    creating them: the repository ``fluoride/<service>``, the table and bucket by the
    spec's ``table_name`` and ``bucket_name`` (which adopting needs), and the secret by its
    full ARN ``adopted_secret_arn``, whose name must be the spec's ``secret_name`` (or
    ``fluoride/<service>``).

    ``gateway_security_group`` is the security group of the gateway's load balancers
    (the environment's output), needed when ``spec.gateway`` is set: the tasks admit only it.

    ``gateway_metrics`` is the route's load balancer and target group as CloudWatch names
    them (``app/...``, ``targetgroup/...``), once ECS has made the route: the 5xx alarm's
    dimensions behind a gateway (``None``: no 5xx alarm yet).

    ``endpoint_route_tables`` are the route tables of the subnets (looked up by the
    caller, `fluoride.infra.network.endpoint_preflight`), which the S3 and DynamoDB
    gateway endpoints join; needed when ``spec.network.endpoints`` is on.

    ``alarm_topic_arn`` is the ARN the stack's own alarm topic will have (see
    `fluoride.names.alarm_topic_name`), needed when ``spec.notify`` has email addresses:
    the alarms notify it and the spec's topic ARNs.

    Raises:
        ConfigError: the spec, the name or the resolved network is invalid.

    .. versionadded:: 0.1.0
    """
    checker = _Checker()
    problems = _service_name_problems(service_name, "name") + checker.spec(spec)
    checker.errors = problems
    checker.pattern("vpc_id", vpc_id, _VPC, "a VPC id like vpc-0123456789abcdef0")
    subnets = checker.strings("subnet_ids", tuple(subnet_ids), 2, 16,
                              "subnets in different availability zones")
    for i, subnet in enumerate(subnets):
        checker.pattern(f"subnet_ids[{i}]", subnet, _SUBNET, "a subnet id like subnet-0123abcd")
    groups = checker.strings("caller_security_groups", tuple(caller_security_groups), 0, 4,
                             "security groups")
    for i, group in enumerate(groups):
        checker.pattern(f"caller_security_groups[{i}]", group, _SECURITY_GROUP,
                        "a security group id like sg-0123abcd")
    tables = checker.strings("endpoint_route_tables", tuple(endpoint_route_tables), 0, 200,
                             "route tables")
    for i, table in enumerate(tables):
        checker.pattern(f"endpoint_route_tables[{i}]", table, _ROUTE_TABLE,
                        "a route table id like rtb-0123abcd")
    if spec.network.endpoints is True and not tables:
        checker.fail("endpoint_route_tables", "are missing: network.endpoints is true",
                     "the route tables of network.subnet_ids (rtb-...)")
    elif spec.network.endpoints is not True and tables:
        checker.fail("endpoint_route_tables", "are given without network.endpoints")
    _check_adoption(checker, spec.stores, service_name, adopt_table=adopt_table,
                    adopt_bucket=adopt_bucket, adopt_secret=adopt_secret,
                    adopted_secret_arn=adopted_secret_arn)
    emails = [n for n in spec.notify if not n.startswith("arn:")]
    if emails and alarm_topic_arn is None:
        checker.fail("alarm_topic_arn", "is needed: notify has email addresses",
                     "the ARN of the topic fluoride-<service>-alarms in the stack's region")
    if spec.gateway is not None:
        checker.pattern("gateway_security_group", gateway_security_group, _SECURITY_GROUP,
                        "the environment's GatewaySecurityGroupId, like sg-0123abcd")
    elif gateway_security_group is not None:
        checker.fail("gateway_security_group", "is given without spec.gateway")
    if gateway_metrics is not None and (spec.gateway is None or not (
        gateway_metrics[0].startswith("app/")
        and gateway_metrics[1].startswith("targetgroup/")
    )):
        checker.fail("gateway_metrics", f"{gateway_metrics!r} is not a gateway route's",
                     "(app/<name>/<id>, targetgroup/<name>/<id>) with spec.gateway")
    if checker.errors:
        raise ConfigError(f"Cannot build the template parameters of {service_name!r}.",
                          errors=checker.errors)

    def flag(value: bool) -> str:
        return "true" if value else "false"

    def text(value: str | None) -> str:
        return "" if value is None else value

    net, dom, st = spec.network, spec.domain, spec.stores
    cidrs = [*net.ingress_cidrs, "", "", "", ""][:4]
    return {
        "ServiceName": service_name,
        "Image": text(image),
        "ContainerPort": str(spec.port),
        "Cpu": str(spec.cpu),
        "Memory": str(spec.memory),
        "MinCount": str(spec.min_count),
        "MaxCount": str(spec.max_count),
        "CpuTarget": str(spec.cpu_target),
        "RequestsPerTarget": str(spec.requests_per_target),
        "HealthCheckPath": spec.health_path,
        "HealthCheckInterval": str(spec.health.interval),
        "HealthCheckTimeout": str(spec.health.timeout),
        "HealthyThreshold": str(spec.health.healthy_threshold),
        "UnhealthyThreshold": str(spec.health.unhealthy_threshold),
        "HealthCheckGracePeriod": str(spec.health.grace_period),
        "DeregistrationDelay": str(spec.deregistration_delay),
        "StopTimeout": str(spec.stop_timeout),
        "Public": flag(net.public),
        **{f"IngressCidr{i + 1}": cidr for i, cidr in enumerate(cidrs)},
        "AllowedCallerSecurityGroups": ",".join(groups),
        "IdleTimeout": str(spec.idle_timeout),
        "VpcId": vpc_id,
        "SubnetIds": ",".join(subnets),
        "AssignPublicIp": "ENABLED" if assign_public_ip else "DISABLED",
        "VpcEndpoints": flag(net.endpoints),
        "EndpointRouteTableIds": ",".join(tables),
        "CertificateArn": text(dom.certificate_arn),
        "HostedZoneId": text(dom.hosted_zone_id),
        "HostedZoneName": text(dom.hosted_zone_name),
        "Subdomain": text(dom.subdomain),
        "RequestCertificate": flag(dom.request_certificate),
        "HttpsRedirect": flag(dom.https_redirect),
        "EnableExec": flag(spec.exec_enabled),
        "AlarmRollback": flag(spec.alarm_rollback),
        "Alarm5xxThreshold": str(spec.alarm_5xx_threshold),
        "LogRetentionDays": str(spec.log_retention_days),
        "AccessLogRetentionDays": str(spec.access_log_retention_days),
        "EnableTable": flag(st.table),
        "TableName": text(st.table_name),
        "TablePartitionKey": st.partition_key,
        "TableTtlAttribute": st.ttl_attribute,
        "EnableBucket": flag(st.bucket),
        "BucketName": text(st.bucket_name),
        "EnableSecret": flag(st.secret),
        "SecretName": text(st.secret_name),
        "SecretEnv": flag(bool(spec.secret_env)),
        "SecretRecoveryDays": str(st.secret_recovery_days),
        "KeepImages": str(spec.keep_images),
        "AdoptRepository": flag(adopt_repository),
        "AdoptTable": flag(adopt_table),
        "AdoptBucket": flag(adopt_bucket),
        "AdoptSecret": flag(adopt_secret),
        "AdoptedSecretArn": text(adopted_secret_arn),
        "ExtraPolicyArns": ",".join(spec.access.extra_policy_arns),
        "PermissionsBoundaryArn": text(spec.access.permissions_boundary_arn),
        "Gateway": text(spec.gateway),
        "GatewaySecurityGroup": text(gateway_security_group),
        "GatewayAlb": gateway_metrics[0] if gateway_metrics else "",
        "GatewayTargetGroup": gateway_metrics[1] if gateway_metrics else "",
        "Compliance": spec.compliance,
        "ContainerUser": text(spec.user),
        # the app container's limit under strict: what the sidecars leave of the task's
        "AppMemory": str(spec.memory - sum(s.memory or 0 for s in spec.sidecars)),
        **_notify_parameters(spec, alarm_topic_arn),
    }


def _notify_parameters(spec: ServiceSpec, alarm_topic_arn: str | None) -> dict[str, str]:
    """The email subscriptions of the stack's topic, and every alarm's actions."""
    emails = [n for n in spec.notify if not n.startswith("arn:")]
    actions = [n for n in spec.notify if n.startswith("arn:")]
    if emails and alarm_topic_arn is not None:
        actions.append(alarm_topic_arn)
    return {
        "NotifyEmails": ",".join(emails),
        "NotifyEmailCount": str(len(emails)),
        "AlarmActionArns": ",".join(actions),
    }


def _check_adoption(
    checker: _Checker,
    stores: Stores,
    service_name: str,
    *,
    adopt_table: bool,
    adopt_bucket: bool,
    adopt_secret: bool,
    adopted_secret_arn: str | None,
) -> None:
    """Adopting a store needs the store on and its name (the secret: its full ARN)."""
    if adopt_table and not (stores.table and stores.table_name):
        checker.fail("adopt_table", "needs stores.table on and stores.table_name",
                     "the name of the table an earlier delete kept")
    if adopt_bucket and not (stores.bucket and stores.bucket_name):
        checker.fail("adopt_bucket", "needs stores.bucket on and stores.bucket_name",
                     "the name of the bucket an earlier delete kept")
    if adopt_secret and not stores.secret:
        checker.fail("adopt_secret", "needs stores.secret on")
    if adopt_secret and not adopted_secret_arn:
        checker.fail("adopted_secret_arn", "is needed to adopt the secret",
                     "the kept secret's full ARN")
    if adopted_secret_arn is None:
        return
    if not adopt_secret:
        checker.fail("adopted_secret_arn", "is given without adopt_secret")
        return
    match = _SECRET_ARN.fullmatch(adopted_secret_arn)
    if match is None:
        checker.fail("adopted_secret_arn", f"{adopted_secret_arn!r} is not valid",
                     "arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>")
        return
    name = stores.secret_name or secret_name(service_name)
    if match.group(1) != name:
        checker.fail("adopted_secret_arn", f"names the secret {match.group(1)!r}",
                     f"the ARN of the service's secret {name!r}")


def user_tags(spec: ServiceSpec) -> dict[str, str]:
    """The ``project``, ``team`` and ``contact`` tags that ``spec`` gives, for the stack."""
    tags = {"project": spec.project, "team": spec.team, "contact": spec.contact}
    return {key: value for key, value in tags.items() if value is not None}
