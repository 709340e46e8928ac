"""ServiceSpec: defaults, every validation rule, fluoride.toml and the template mapping."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import attrs
import pytest
import yaml

from fluoride.errors import ConfigError, FluorideError
from fluoride.infra.policy_report import parse_template
from fluoride.infra.staging import MAX_STAGED_TEMPLATE
from fluoride.spec import (
    ENVIRONMENT_MARKER,
    MAX_ENVIRONMENT_RENDERED,
    SECRET_ENVIRONMENT_MARKER,
    Access,
    Domain,
    HealthCheck,
    Network,
    ServiceSpec,
    Sidecar,
    Stores,
    dumps_config,
    load_config,
    load_spec,
    loads_config,
    render_environment,
    save_spec,
    spec_argument_problems,
    to_parameters,
    user_tags,
    validate_service_name,
)

TEMPLATE = Path(__file__).parent.parent / "templates" / "fluoride.yaml"
ZONE = {"hosted_zone_id": "Z0123456789ABC", "hosted_zone_name": "example.com",
        "subdomain": "api"}
CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666"
SUBNETS = ("subnet-0123abcd", "subnet-4567ef01")


def make(**changes: Any) -> ServiceSpec:
    """A spec with ``changes`` applied; ``"group.field"`` keys change a nested group."""
    spec = ServiceSpec()
    for key, value in changes.items():
        if "." in key:
            group, field = key.split(".")
            spec = attrs.evolve(spec, **{group: attrs.evolve(getattr(spec, group),
                                                             **{field: value})})
        else:
            spec = attrs.evolve(spec, **{key: value})
    return spec


def bad_fields(spec: ServiceSpec) -> list[str]:
    return [e.field for e in spec.problems()]


# --------------------------------------------------------------------------- defaults


def test_defaults_are_the_fast_ones() -> None:
    spec = ServiceSpec(port=8080, health_path="/health")
    assert spec == ServiceSpec()
    assert (spec.cpu, spec.memory, spec.min_count, spec.max_count) == (256, 512, 1, 4)
    assert spec.health == HealthCheck(interval=5, timeout=4, healthy_threshold=2,
                                      unhealthy_threshold=2, grace_period=10)
    assert (spec.deregistration_delay, spec.stop_timeout, spec.idle_timeout) == (10, 10, 60)
    assert spec.network.public is True
    assert spec.network.ingress_cidrs == ("0.0.0.0/0",)
    assert (spec.stores.table, spec.stores.bucket, spec.stores.secret) == (True, True, True)
    assert spec.alarm_rollback is True
    assert spec.exec_enabled is False
    assert spec.environment == {}
    spec.validate()


def test_spec_is_frozen_and_hashable() -> None:
    spec = ServiceSpec(environment={"A": "1"}, network=Network(subnet_ids=["subnet-0123abcd"]))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        spec.port = 1  # type: ignore[misc]  # proving it is frozen
    assert spec.network.subnet_ids == ("subnet-0123abcd",)
    assert hash(spec) == hash(ServiceSpec(environment={"A": "1"},
                                          network=Network(subnet_ids=("subnet-0123abcd",))))
    assert spec.environment == {"A": "1"}
    assert spec.environment != {"A": "2"}
    assert repr(spec.environment) == "{'A': '1'}"


def test_a_lone_string_is_one_entry_not_its_characters() -> None:
    assert Network(ingress_cidrs="10.0.0.0/8").ingress_cidrs == ("10.0.0.0/8",)
    assert Access(extra_policy_arns="arn:aws:iam::aws:policy/X").extra_policy_arns == (
        "arn:aws:iam::aws:policy/X",)


def test_fields_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        ServiceSpec(8080)  # type: ignore[call-arg]  # proving positional use is refused


# --------------------------------------------------------------------------- rules

# (changes, field that must be reported, or None when the changes are valid)
CASES: list[tuple[dict[str, Any], str | None]] = [
    ({"port": 1}, None),
    ({"port": 65535}, None),
    ({"port": 80}, None),
    ({"port": 0}, "port"),
    ({"port": 65536}, "port"),
    ({"port": "8080"}, "port"),
    ({"port": True}, "port"),
    ({"health_path": "/"}, None),
    ({"health_path": "/" + "a" * 1023}, None),
    ({"health_path": "/" + "a" * 1024}, "health_path"),
    ({"health_path": "health"}, "health_path"),
    ({"health_path": "/he alth"}, "health_path"),
    ({"cpu": 256, "memory": 2048}, None),
    ({"cpu": 256, "memory": 4096}, "memory"),
    ({"cpu": 512, "memory": 4096}, None),
    ({"cpu": 512, "memory": 1536}, "memory"),
    ({"cpu": 1024, "memory": 8192}, None),
    ({"cpu": 2048, "memory": 16384}, None),
    ({"cpu": 4096, "memory": 30720}, None),
    ({"cpu": 4096, "memory": 31744}, "memory"),
    ({"cpu": 8192, "memory": 20480}, None),
    ({"cpu": 8192, "memory": 17408}, "memory"),
    ({"cpu": 16384, "memory": 122880}, None),
    ({"cpu": 16384, "memory": 40960}, None),
    ({"cpu": 16384, "memory": 36864}, "memory"),
    ({"cpu": 300}, "cpu"),
    ({"min_count": 1, "max_count": 1}, None),
    ({"min_count": 0}, "min_count"),
    ({"min_count": 5, "max_count": 4}, "max_count"),
    ({"max_count": 100}, None),
    ({"max_count": 101}, "max_count"),
    ({"cpu_target": 10}, None),
    ({"cpu_target": 90}, None),
    ({"cpu_target": 9}, "cpu_target"),
    ({"cpu_target": 91}, "cpu_target"),
    ({"requests_per_target": 0}, None),
    ({"requests_per_target": 1000}, None),
    ({"requests_per_target": -1}, "requests_per_target"),
    ({"health.interval": 300, "health.timeout": 120}, None),
    ({"health.interval": 4}, "health.interval"),
    ({"health.interval": 301}, "health.interval"),
    ({"health.timeout": 2}, None),
    ({"health.timeout": 1}, "health.timeout"),
    ({"health.timeout": 5}, "health.timeout"),
    ({"health.interval": 200, "health.timeout": 121}, "health.timeout"),
    ({"health.healthy_threshold": 10, "health.unhealthy_threshold": 10}, None),
    ({"health.healthy_threshold": 1}, "health.healthy_threshold"),
    ({"health.unhealthy_threshold": 11}, "health.unhealthy_threshold"),
    ({"health.grace_period": 0}, None),
    ({"health.grace_period": 7200}, None),
    ({"health.grace_period": 7201}, "health.grace_period"),
    ({"health.grace_period": -1}, "health.grace_period"),
    ({"deregistration_delay": 0}, None),
    ({"deregistration_delay": 3600}, None),
    ({"deregistration_delay": 3601}, "deregistration_delay"),
    ({"stop_timeout": 2}, None),
    ({"stop_timeout": 120}, None),
    ({"stop_timeout": 1}, "stop_timeout"),
    ({"stop_timeout": 121}, "stop_timeout"),
    ({"idle_timeout": 1}, None),
    ({"idle_timeout": 4000}, None),
    ({"idle_timeout": 0}, "idle_timeout"),
    ({"idle_timeout": 4001}, "idle_timeout"),
    # network
    ({"network.vpc_id": "vpc-0123abcd", "network.subnet_ids": SUBNETS}, None),
    ({"network.subnet_ids": SUBNETS}, "network.vpc_id"),
    ({"network.vpc_id": "vpc-0123abcd"}, "network.subnet_ids"),
    ({"network.vpc_id": "vpc-0123", "network.subnet_ids": SUBNETS}, "network.vpc_id"),
    ({"network.vpc_id": "vpc-0123abcd", "network.subnet_ids": SUBNETS[:1]},
     "network.subnet_ids"),
    ({"network.vpc_id": "vpc-0123abcd", "network.subnet_ids": ("subnet-0123abcd", "sn-1")},
     "network.subnet_ids[1]"),
    ({"network.vpc_id": "vpc-0123abcd", "network.subnet_ids": (SUBNETS[0], SUBNETS[0])},
     "network.subnet_ids[1]"),
    ({"network.ingress_cidrs": ("10.0.0.0/8", "192.168.1.0/24", "1.2.3.4/32", "0.0.0.0/0")},
     None),
    ({"network.ingress_cidrs": ("10.0.0.0/8",) * 1 + ("10.1.0.0/16", "10.2.0.0/16",
                                                      "10.3.0.0/16", "10.4.0.0/16")},
     "network.ingress_cidrs"),
    ({"network.ingress_cidrs": ("10.0.0.1/8",)}, "network.ingress_cidrs[0]"),
    ({"network.ingress_cidrs": ("::/0",)}, "network.ingress_cidrs[0]"),
    ({"network.ingress_cidrs": ("10.0.0.0/33",)}, "network.ingress_cidrs[0]"),
    ({"network.ingress_cidrs": ()}, "network.ingress_cidrs"),
    ({"network.ingress_cidrs": (), "network.allowed_callers": ("orders",)}, None),
    ({"network.allowed_callers": ("sg-0123abcd", "sg-0123456789abcdef0", "orders",
                                  "billing-api")}, None),
    ({"network.allowed_callers": ("sg-1", "a", "b", "c", "d")}, "network.allowed_callers"),
    ({"network.allowed_callers": ("Orders",)}, "network.allowed_callers[0]"),
    ({"network.allowed_callers": ("sg-0123",)}, "network.allowed_callers[0]"),
    ({"network.assign_public_ip": False}, None),
    ({"network.assign_public_ip": "yes"}, "network.assign_public_ip"),
    ({"network.public": "false"}, "network.public"),
    # network.endpoints: a given VPC and subnets (not the default VPC), no public IP
    ({"network.endpoints": True, "network.vpc_id": "vpc-0123abcd", "network.subnet_ids": SUBNETS},
     None),
    ({"network.endpoints": True, "network.vpc_id": "vpc-0123abcd", "network.subnet_ids": SUBNETS,
      "network.assign_public_ip": False}, None),
    ({"network.endpoints": True}, "network.endpoints"),
    ({"network.endpoints": True, "network.vpc_id": "vpc-0123abcd", "network.subnet_ids": SUBNETS,
      "network.assign_public_ip": True}, "network.assign_public_ip"),
    ({"network.endpoints": "yes"}, "network.endpoints"),
    ({"network.endpoints": False, "network.assign_public_ip": True}, None),
    # domain
    ({f"domain.{k}": v for k, v in ZONE.items()}, None),
    ({"domain.hosted_zone_id": "Z0123456789ABC"}, "domain.subdomain"),
    ({"domain.hosted_zone_id": "Z0123456789ABC"}, "domain.hosted_zone_name"),
    ({"domain.hosted_zone_id": "z123", "domain.hosted_zone_name": "example.com",
      "domain.subdomain": "api"}, "domain.hosted_zone_id"),
    ({"domain.hosted_zone_id": "Z0123456789ABC", "domain.hosted_zone_name": "example.com.",
      "domain.subdomain": "api"}, "domain.hosted_zone_name"),
    ({"domain.hosted_zone_id": "Z0123456789ABC", "domain.hosted_zone_name": "example.com",
      "domain.subdomain": "api.v2"}, "domain.subdomain"),
    ({"domain.hosted_zone_id": "Z0123456789ABC", "domain.hosted_zone_name": "example.com",
      "domain.subdomain": "-api"}, "domain.subdomain"),
    ({"domain.certificate_arn": CERT}, None),
    ({"domain.certificate_arn": "arn:aws:acm:eu-west-1:123:certificate/x"},
     "domain.certificate_arn"),
    ({"domain.certificate_arn": CERT.replace("arn:aws:", "arn:aws-cn:").replace(
        "eu-west-1", "cn-north-1")}, None),
    ({"domain.request_certificate": True}, "domain.request_certificate"),
    ({"domain.request_certificate": True, **{f"domain.{k}": v for k, v in ZONE.items()}},
     None),
    ({"domain.request_certificate": True, "domain.certificate_arn": CERT,
      **{f"domain.{k}": v for k, v in ZONE.items()}}, "domain.request_certificate"),
    ({"domain.request_certificate": True, "domain.hosted_zone_id": "Z0123456789ABC",
      "domain.hosted_zone_name": "a" * 50 + ".example.com", "domain.subdomain": "api"},
     "domain.subdomain"),
    # stores
    ({"stores.table_name": "abc"}, None),
    ({"stores.table_name": "a" * 255}, None),
    ({"stores.table_name": "My_Table.v1-2"}, None),
    ({"stores.table_name": "ab"}, "stores.table_name"),
    ({"stores.table_name": "a" * 256}, "stores.table_name"),
    ({"stores.table_name": "my table"}, "stores.table_name"),
    ({"stores.bucket_name": "abc"}, None),
    ({"stores.bucket_name": "a" * 63}, None),
    ({"stores.bucket_name": "my.bucket-1"}, None),
    ({"stores.bucket_name": "ab"}, "stores.bucket_name"),
    ({"stores.bucket_name": "a" * 64}, "stores.bucket_name"),
    ({"stores.bucket_name": "My-Bucket"}, "stores.bucket_name"),
    ({"stores.bucket_name": "my..bucket"}, "stores.bucket_name"),
    ({"stores.bucket_name": "my.-bucket"}, "stores.bucket_name"),
    ({"stores.bucket_name": "-bucket"}, "stores.bucket_name"),
    ({"stores.bucket_name": "bucket-"}, "stores.bucket_name"),
    ({"stores.bucket_name": "192.168.1.1"}, "stores.bucket_name"),
    ({"stores.bucket_name": "xn--bucket"}, "stores.bucket_name"),
    ({"stores.bucket_name": "bucket-s3alias"}, "stores.bucket_name"),
    ({"stores.bucket_name": "my_bucket"}, "stores.bucket_name"),
    ({"stores.secret_name": "a"}, None),
    ({"stores.secret_name": "team/app+x=y.z@w-1_2"}, None),
    ({"stores.secret_name": "a" * 512}, None),
    ({"stores.secret_name": "a" * 513}, "stores.secret_name"),
    ({"stores.secret_name": ""}, "stores.secret_name"),
    ({"stores.secret_name": "my secret"}, "stores.secret_name"),
    ({"stores.partition_key": "id", "stores.ttl_attribute": "ttl"}, None),
    ({"stores.partition_key": "a" * 255}, None),
    ({"stores.partition_key": "a" * 256}, "stores.partition_key"),
    ({"stores.partition_key": ""}, "stores.partition_key"),
    ({"stores.ttl_attribute": ""}, "stores.ttl_attribute"),
    ({"stores.ttl_attribute": "pk"}, "stores.ttl_attribute"),
    ({"stores.secret_recovery_days": 7}, None),
    ({"stores.secret_recovery_days": 6}, "stores.secret_recovery_days"),
    ({"stores.secret_recovery_days": 31}, "stores.secret_recovery_days"),
    ({"stores.table": "no"}, "stores.table"),
    # access
    ({"access.extra_policy_arns": ("arn:aws:iam::aws:policy/ReadOnlyAccess",
                                   "arn:aws:iam::123456789012:policy/team/my-policy",
                                   "arn:aws-us-gov:iam::aws:policy/service-role/X")}, None),
    ({"access.extra_policy_arns": ("arn:aws:iam::aws:role/X",)}, "access.extra_policy_arns[0]"),
    ({"access.extra_policy_arns": ("arn:aws:iam::1234:policy/X",)},
     "access.extra_policy_arns[0]"),
    ({"access.extra_policy_arns": ("arn:aws:iam::aws:policy/a,b",)},
     "access.extra_policy_arns[0]"),
    ({"access.extra_policy_arns": tuple(f"arn:aws:iam::aws:policy/P{i}" for i in range(10))},
     None),
    ({"access.extra_policy_arns": tuple(f"arn:aws:iam::aws:policy/P{i}" for i in range(11))},
     "access.extra_policy_arns"),
    ({"access.permissions_boundary_arn": "arn:aws:iam::123456789012:policy/boundary"}, None),
    ({"access.permissions_boundary_arn": "boundary"}, "access.permissions_boundary_arn"),
    # environment
    ({"environment": {"A": "", "_b2": "x", "LOG_LEVEL": "debug"}}, None),
    ({"environment": {"2A": "x"}}, "environment.2A"),
    ({"environment": {"A-B": "x"}}, "environment.A-B"),
    ({"environment": {"FLUORIDE_TABLE": "x"}}, "environment.FLUORIDE_TABLE"),
    ({"environment": {"AWS_REGION": "x"}}, "environment.AWS_REGION"),
    ({"environment": {"PORT": "x"}}, "environment.PORT"),
    ({"environment": {"FLUORIDEX": "x", "AWSOME": "y"}}, None),
    ({"environment": {"A": "x" * 4096}}, None),
    ({"environment": {"A": "x" * 4097}}, "environment.A"),
    ({"environment": {"A": 1}}, "environment.A"),
    ({"environment": {"A": "\ud800"}}, "environment.A"),
    ({"environment": {f"V{i}": "x" for i in range(50)}}, None),
    ({"environment": {f"V{i}": "x" for i in range(51)}}, "environment"),
    ({"environment": {f"V{i}": "x" * 4000 for i in range(2)}}, None),
    ({"environment": {f"V{i}": "x" * 4000 for i in range(3)}}, "environment"),
    # Escapes count: each é takes 6 bytes in the template.
    ({"environment": {"A": "é" * 1500}}, None),
    ({"environment": {"A": "é" * 1600}}, "environment"),
    # secret_env: keys of the service's own secret
    ({"secret_env": {"DB_PASSWORD": "password", "_u": "db.user", "X": "a/b@c+=-_"}}, None),
    ({"secret_env": {"2A": "password"}}, "secret_env.2A"),
    ({"secret_env": {"AWS_SECRET": "password"}}, "secret_env.AWS_SECRET"),
    ({"secret_env": {"FLUORIDE_X": "password"}}, "secret_env.FLUORIDE_X"),
    ({"secret_env": {"PORT": "password"}}, "secret_env.PORT"),
    ({"secret_env": {"A": "pass:word"}}, "secret_env.A"),
    ({"secret_env": {"A": ""}}, "secret_env.A"),
    ({"secret_env": {"A": "k" * 128}}, None),
    ({"secret_env": {"A": "k" * 129}}, "secret_env.A"),
    ({"secret_env": {"A": 1}}, "secret_env.A"),
    ({"secret_env": {"A": "password"}, "environment": {"A": "x"}}, "secret_env.A"),
    ({"secret_env": {"A": "password"}, "stores.secret": False}, "secret_env"),
    ({"secret_env": {}, "stores.secret": False}, None),
    ({"secret_env": {f"S{i}": "k" for i in range(25)}}, None),
    ({"secret_env": {f"S{i}": "k" for i in range(26)}}, "secret_env"),
    # The budget is shared with the environment.
    ({"environment": {f"V{i}": "x" * 4000 for i in range(2)},
      "secret_env": {"A": "password"}}, None),
    ({"environment": {f"V{i}": "x" * 4000 for i in range(2)},
      "secret_env": {f"S{i}": "k" * 128 for i in range(25)}}, "secret_env"),
    # the rest
    ({"exec_enabled": True, "alarm_rollback": False}, None),
    ({"exec_enabled": 1}, "exec_enabled"),
    ({"alarm_5xx_threshold": 1}, None),
    ({"alarm_5xx_threshold": 0}, "alarm_5xx_threshold"),
    ({"log_retention_days": 1}, None),
    ({"log_retention_days": 3653}, None),
    ({"log_retention_days": 2}, "log_retention_days"),
    ({"log_retention_days": 3654}, "log_retention_days"),
    ({"access_log_retention_days": 1}, None),
    ({"access_log_retention_days": 0}, "access_log_retention_days"),
    ({"keep_images": 1}, None),
    ({"keep_images": 1000}, None),
    ({"keep_images": 0}, "keep_images"),
    ({"keep_images": 1001}, "keep_images"),
    ({"project": "genomics", "team": "Data Science", "contact": "ada@example.com"}, None),
    ({"project": "p" * 256}, None),
    ({"project": "p" * 257}, "project"),
    ({"team": ""}, "team"),
    ({"contact": "a<b>"}, "contact"),
    # Values of the wrong shape are kept by the converters and named by validate(), not
    # raised from the constructor as a bare ValueError or TypeError.
    ({"environment": "FOO=1"}, "environment"),
    ({"environment": ["FOO=1"]}, "environment"),
    ({"environment": 5}, "environment"),
    ({"environment": [("FOO", "1")]}, None),
    ({"network.subnet_ids": 5}, "network.subnet_ids"),
    ({"network.ingress_cidrs": None}, "network.ingress_cidrs"),
    ({"access.extra_policy_arns": {"a": 1}}, "access.extra_policy_arns"),
]


@pytest.mark.parametrize(("changes", "bad"), CASES, ids=[
    "-".join(f"{k}={v!r}"[:40] for k, v in c.items()) + ("-ok" if b is None else "-bad")
    for c, b in CASES
])
def test_rule(changes: dict[str, Any], bad: str | None) -> None:
    fields = bad_fields(make(**changes))
    if bad is None:
        assert fields == []
    else:
        assert bad in fields
        # Rules do not pile up: one bad value is reported once or twice, never everywhere.
        assert len(fields) <= 3, fields


@pytest.mark.parametrize("part", ["health", "network", "domain", "stores", "access"])
def test_a_part_of_the_wrong_class_is_named_not_an_attribute_error(part: str) -> None:
    (error,) = ServiceSpec(**{part: {"x": 1}}).problems()  # type: ignore[arg-type]  # the bad input
    assert error.field == part
    assert "{'x': 1}" in error.problem
    assert error.allowed is not None
    assert f"{part}=" in error.allowed


@pytest.mark.parametrize(("spec", "bad"), [
    (None, False), (ServiceSpec(), False), ("8080", True), ({"port": 8080}, True), (8080, True),
])
def test_spec_argument_problems(spec: object, bad: bool) -> None:
    found = spec_argument_problems(spec)
    assert bool(found) is bad
    if bad:
        assert found[0].field == "spec"
        assert repr(spec) in found[0].problem


def test_a_non_utf8_file_names_the_byte_and_line(tmp_path: Path) -> None:
    path = tmp_path / "fluoride.toml"
    path.write_bytes(b"port = 8080\nteam = 'M\xfcller'\n")
    with pytest.raises(ConfigError, match="not UTF-8") as info:
        load_config(path)
    assert "0xfc at line 2" in str(info.value)
    assert info.value.hint is not None


def test_memory_message_lists_the_sizes_for_that_cpu() -> None:
    (error,) = make(cpu=512, memory=512).problems()
    assert error.field == "memory"
    assert error.allowed is not None
    assert "1024, 2048, 3072, 4096" in error.allowed
    (error,) = make(cpu=4096, memory=4000).problems()
    assert error.allowed is not None
    assert "8192 to 30720 MiB in steps of 1024" in error.allowed


def test_reserved_environment_names_say_why() -> None:
    (error,) = make(environment={"AWS_REGION": "x"}).problems()
    assert "reserved" in error.problem


def test_every_bad_field_is_reported_at_once() -> None:
    spec = make(port=0, cpu=512, memory=512, **{"health.timeout": 9},
                **{"network.ingress_cidrs": ("nope",)}, keep_images=0,
                environment={"AWS_X": "1"})
    with pytest.raises(ConfigError) as info:
        spec.validate()
    fields = [e.field for e in info.value.errors]
    assert fields == ["port", "memory", "health.timeout", "network.ingress_cidrs[0]",
                      "environment.AWS_X", "keep_images"]
    message = str(info.value)
    for field in fields:
        assert f"  - {field}:" in message


@pytest.mark.parametrize("name", ["a", "hello", "billing-api-2", "a" * 24, "x1-y2-z3"])
def test_service_name_accepted(name: str) -> None:
    assert validate_service_name(name) == name


@pytest.mark.parametrize("name", ["", "Hello", "1abc", "-abc", "abc-", "a--b", "a_b",
                                  "a.b", "a" * 25, "héllo"])
def test_service_name_rejected(name: str) -> None:
    with pytest.raises(ConfigError) as info:
        validate_service_name(name)
    (error,) = info.value.errors
    assert error.field == "name"
    assert error.allowed is not None
    assert "lowercase" in error.allowed


def test_service_name_message_says_where_the_name_goes() -> None:
    with pytest.raises(ConfigError, match="fluoride-<name>"):
        validate_service_name("Hello")


# --------------------------------------------------------------------------- fluoride.toml

FULL = ServiceSpec(
    port=9000, health_path="/ready", cpu=1024, memory=4096, min_count=2, max_count=10,
    cpu_target=50, requests_per_target=500,
    health=HealthCheck(interval=10, timeout=5, grace_period=60),
    deregistration_delay=5, stop_timeout=30, idle_timeout=120,
    network=Network(vpc_id="vpc-0123abcd", subnet_ids=SUBNETS, public=False,
                    ingress_cidrs=("10.0.0.0/8", "172.16.0.0/12"),
                    allowed_callers=("orders", "sg-0123abcd"), assign_public_ip=False,
                    endpoints=True),
    domain=Domain(**ZONE, request_certificate=True, https_redirect=False),
    stores=Stores(table_name="my.table", partition_key="id", ttl_attribute="ttl",
                  bucket=False, secret_name="team/app", secret_recovery_days=7),
    access=Access(extra_policy_arns=("arn:aws:iam::aws:policy/ReadOnlyAccess",),
                  permissions_boundary_arn="arn:aws:iam::123456789012:policy/boundary"),
    environment={"LOG_LEVEL": "debug", "GREETING": 'say "hi" \\ 😀', "EMPTY": ""},
    secret_env={"DB_PASSWORD": "password"},
    user="app:app",
    sidecars=(Sidecar(name="proxy", image="envoyproxy/envoy:v1.31", port=9901, cpu=64,
                      memory=256, essential=True, environment={"MODE": "edge"},
                      command=("envoy", "-c", "/etc/envoy.yaml")),),
    exec_enabled=True, alarm_rollback=False, alarm_5xx_threshold=3, log_retention_days=7,
    access_log_retention_days=30, keep_images=5, project="genomics", team="lab",
    contact="ada@example.com",
    notify=("ops@example.org", "arn:aws:sns:eu-west-1:123456789012:team-alarms"),
)


# Fields FULL leaves at their default because a valid spec must: thresholds stay at their
# minimum, a certificate ARN excludes request_certificate, a bucket that is off has no name,
# and the table and secret are on (their names are set); a gateway excludes the domain and
# requests_per_target that FULL sets (tests/test_environment_spec.py covers it); strict would
# refuse its 7-day logs and its plain HTTP (STRICT below is the strict example).
_DEFAULT_IN_FULL = {
    "health.healthy_threshold", "health.unhealthy_threshold", "domain.certificate_arn",
    "stores.table", "stores.bucket_name", "stores.secret", "gateway", "compliance",
}


def test_every_field_is_set_in_the_full_example() -> None:
    # So the round trip below really covers every field, nested ones included.
    same: list[str] = []

    def walk(a: Any, b: Any, prefix: str) -> None:
        for f in attrs.fields(type(a)):
            x, y = getattr(a, f.name), getattr(b, f.name)
            if attrs.has(type(x)):
                walk(x, y, f"{prefix}{f.name}.")
            elif x == y:
                same.append(prefix + f.name)

    walk(FULL, ServiceSpec(), "")
    assert set(same) == _DEFAULT_IN_FULL


def test_toml_round_trip(tmp_path: Path) -> None:
    FULL.validate()
    path = tmp_path / "fluoride.toml"
    save_spec(FULL, path, name="hello")
    assert load_config(path) == ("hello", FULL)
    assert load_spec(path) == FULL
    save_spec(FULL, path)
    assert load_config(path) == (None, FULL)


def test_toml_omits_defaults() -> None:
    text = dumps_config(ServiceSpec())
    assert [line for line in text.splitlines() if not line.startswith("#")] == []
    assert loads_config(text) == (None, ServiceSpec())
    text = dumps_config(make(cpu=512, memory=1024, **{"health.interval": 10}), name="hi")
    body = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert body == ['name = "hi"', "cpu = 512", "memory = 1024", "[health]", "interval = 10"]


def test_toml_reads_a_handwritten_file() -> None:
    name, spec = loads_config(
        'name = "notes"\nport = 3000\n\n[network]\ningress_cidrs = ["10.0.0.0/8"]\n\n'
        '[environment]\nMODE = "fast"\n'
    )
    assert name == "notes"
    assert spec == make(port=3000, environment={"MODE": "fast"},
                        **{"network.ingress_cidrs": ("10.0.0.0/8",)})


def test_toml_unknown_keys_are_named() -> None:
    with pytest.raises(ConfigError) as info:
        loads_config('prot = 8080\n[health]\nintervall = 5\n[stores]\ntable = false\n')
    assert [(e.field, e.problem) for e in info.value.errors] == [
        ("health.intervall", "is not a known field"),
        ("prot", "is not a known field"),
    ]
    assert "port" in (info.value.errors[1].allowed or "")


def test_toml_wrong_types_are_all_reported() -> None:
    text = (
        'cpu = "256"\nexec_enabled = "yes"\nmemory = 1.5\n'
        '[health]\ninterval = true\n'
        '[network]\nsubnet_ids = "subnet-0123abcd"\ningress_cidrs = [1, "10.0.0.0/8", 2]\n'
        '[domain]\nsubdomain = 5\n'
        '[environment]\nDEBUG = 1\nOK = "x"\n'
    )
    with pytest.raises(ConfigError) as info:
        loads_config(text, source="svc/fluoride.toml")
    assert str(info.value).startswith("svc/fluoride.toml is invalid.")
    assert [e.field for e in info.value.errors] == [
        "cpu", "memory", "health.interval", "network.subnet_ids", "network.ingress_cidrs[0]",
        "network.ingress_cidrs[2]", "domain.subdomain", "environment.DEBUG", "exec_enabled",
    ]
    assert "got a string ('256')" in info.value.errors[0].problem
    assert "quote it" in info.value.errors[7].problem


def test_toml_scalar_where_a_table_belongs() -> None:
    with pytest.raises(ConfigError) as info:
        loads_config("health = 3\nenvironment = [1]\n")
    assert [(e.field, e.problem) for e in info.value.errors] == [
        ("health", "must be a table, got a number (3)"),
        ("environment", "must be a table of names to strings, got a list ([1])"),
    ]


def test_toml_reports_wrong_types_and_bad_values_together() -> None:
    text = (
        'name = "Notes"\ncpu = "1024"\nmemory = 8192\nmax_count = 0\n'
        '[health]\ntimeout = 6\n[network]\ningress_cidrs = ["10.0.0.1/8"]\n'
        '[environment]\nAWS_REGION = "eu-west-1"\nDEBUG = 1\n'
    )
    with pytest.raises(ConfigError) as info:
        loads_config(text)
    # memory is not judged against the default cpu that stands in for the bad one; the
    # environment's names are not checked until its values have the right type.
    assert [e.field for e in info.value.errors] == [
        "name", "cpu", "max_count", "health.timeout", "network.ingress_cidrs[0]",
        "environment.DEBUG",
    ]


def test_toml_values_are_validated_with_the_name() -> None:
    with pytest.raises(ConfigError) as info:
        loads_config('name = "Bad_Name"\nport = 0\n')
    assert [e.field for e in info.value.errors] == ["name", "port"]


def test_toml_syntax_error() -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        loads_config("port = \n")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Cannot read"):
        load_config(tmp_path / "nope.toml")


def test_invalid_spec_is_not_saved(tmp_path: Path) -> None:
    path = tmp_path / "fluoride.toml"
    with pytest.raises(ConfigError):
        save_spec(make(port=0), path)
    with pytest.raises(ConfigError):
        save_spec(ServiceSpec(), path, name="Nope")
    assert not path.exists()


# --------------------------------------------------------------------------- template


ROUTE_TABLES = ("rtb-0123abcd", "rtb-0456cdef")


def resolved_parameters(spec: ServiceSpec, **overrides: Any) -> dict[str, str]:
    kwargs: dict[str, Any] = {
        "service_name": "hello", "vpc_id": "vpc-0123abcd", "subnet_ids": SUBNETS,
        "image": None, "assign_public_ip": True, "alarm_topic_arn": ALARM_TOPIC,
    }
    if spec.network.endpoints:
        kwargs.update(assign_public_ip=False, endpoint_route_tables=ROUTE_TABLES)
    kwargs.update(overrides)
    return to_parameters(spec, **kwargs)


@pytest.mark.skipif(not TEMPLATE.exists(), reason=f"{TEMPLATE} is not written yet")
def test_to_parameters_covers_every_template_parameter() -> None:
    template = parse_template(TEMPLATE.read_text(encoding="utf-8"))
    declared = template["Parameters"]
    for spec in (ServiceSpec(), FULL):
        params = resolved_parameters(spec)
        assert set(params) == set(declared)
        for key, value in params.items():
            assert isinstance(value, str), key
            allowed = declared[key].get("AllowedValues")
            if allowed is not None:
                assert value in [str(v) for v in allowed], (key, value, allowed)
            decl = declared[key]
            if decl["Type"] == "String":
                if "AllowedPattern" in decl:
                    assert re.fullmatch(decl["AllowedPattern"], value), (key, value, decl)
                assert decl.get("MinLength", 0) <= len(value) <= decl.get("MaxLength", 4096), (
                    key, value, decl)
            if decl["Type"] == "Number":
                number = int(value)
                assert decl.get("MinValue", number) <= number <= decl.get("MaxValue", number), (
                    key, value, decl)


@pytest.mark.skipif(not TEMPLATE.exists(), reason=f"{TEMPLATE} is not written yet")
def test_the_largest_environment_fits_in_a_template_body() -> None:
    # Escaped characters up to the last byte of the budget: the worst case.
    env = {f"V{i}": "\u00e9" * 700 for i in range(2)}
    last = next(n for n in range(400, 0, -1)
                if not make(environment={**env, "LAST": "\u00e9" * n}).problems())
    assert last < 400
    env["LAST"] = "\u00e9" * last
    assert make(environment={**env, "X": ""}).problems(), "the budget is used up"
    body = render_environment(TEMPLATE.read_text(encoding="utf-8"), env)
    # Larger than an inline body: it goes through the staging bucket (TemplateURL).
    assert len(body.encode()) <= MAX_STAGED_TEMPLATE, "CloudFormation's TemplateURL limit"


@pytest.mark.skipif(not TEMPLATE.exists(), reason=f"{TEMPLATE} is not written yet")
def test_the_largest_environment_with_secret_variables_fits_in_a_template_body() -> None:
    # Secret variables share the environment's budget: fill it with both, to the last byte.
    secret_env = {f"S{i}_{'N' * 40}": "k" * 100 for i in range(25)}
    env = {"V0": "\u00e9" * 200}
    last = next(n for n in range(600, 0, -1)
                if not make(environment={**env, "LAST": "\u00e9" * n},
                            secret_env=secret_env).problems())
    assert last < 600
    env["LAST"] = "\u00e9" * last
    spec = make(environment=env, secret_env=secret_env)
    assert make(environment={**env, "X": ""}, secret_env=secret_env).problems()
    template = TEMPLATE.read_text(encoding="utf-8")
    body = render_environment(template, spec.environment, secret_env=spec.secret_env)
    used = len(body.encode()) - len(render_environment(template, {}).encode())
    assert MAX_ENVIRONMENT_RENDERED - 200 < used <= MAX_ENVIRONMENT_RENDERED, "the rule counts"
    # Larger than an inline body: it goes through the staging bucket (TemplateURL).
    assert len(body.encode()) <= MAX_STAGED_TEMPLATE, "CloudFormation's TemplateURL limit"


@pytest.mark.skipif(not TEMPLATE.exists(), reason=f"{TEMPLATE} is not written yet")
def test_the_default_template_goes_inline() -> None:
    body = render_environment(TEMPLATE.read_text(encoding="utf-8"), {})
    assert len(body.encode()) <= 51_200, "CloudFormation's limit for a template body"


@pytest.mark.skipif(not TEMPLATE.exists(), reason=f"{TEMPLATE} is not written yet")
def test_template_has_one_environment_marker() -> None:
    body = render_environment(TEMPLATE.read_text(encoding="utf-8"), {"A": "1"})
    assert ENVIRONMENT_MARKER not in body
    assert SECRET_ENVIRONMENT_MARKER not in body
    assert '- {Name: "A", Value: "1"}' in body


def test_secret_variables_become_the_containers_secrets() -> None:
    from fluoride.infra.policy_report import parse_template
    from tests._cfn import ACCOUNT, REGION, render

    spec = make(secret_env={"DB_PASSWORD": "password", "DB_USER": "user"})
    body = render_environment(TEMPLATE.read_text(encoding="utf-8"), spec.environment,
                              secret_env=spec.secret_env)
    rendered = render(resolved_parameters(spec), template=parse_template(body))
    (container,) = rendered.resources["TaskDefinition"]["Properties"]["ContainerDefinitions"]
    arn = rendered.physical["Secret"]
    assert arn.startswith(f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:fluoride/hello-")
    assert container["Secrets"] == [
        {"Name": "DB_PASSWORD", "ValueFrom": f"{arn}:password::"},
        {"Name": "DB_USER", "ValueFrom": f"{arn}:user::"},
    ]
    assert "Secrets" not in render(resolved_parameters(ServiceSpec())).resources[
        "TaskDefinition"]["Properties"]["ContainerDefinitions"][0]


def test_to_parameters_of_the_defaults() -> None:
    params = resolved_parameters(ServiceSpec())
    assert params["ServiceName"] == "hello"
    assert params["Image"] == ""
    assert params["ContainerPort"] == "8080"
    assert (params["Cpu"], params["Memory"]) == ("256", "512")
    assert params["HealthCheckInterval"] == "5"
    assert params["Public"] == "true"
    assert [params[f"IngressCidr{i}"] for i in range(1, 5)] == ["0.0.0.0/0", "", "", ""]
    assert params["VpcId"] == "vpc-0123abcd"
    assert params["SubnetIds"] == "subnet-0123abcd,subnet-4567ef01"
    assert params["AssignPublicIp"] == "ENABLED"
    assert params["CertificateArn"] == ""
    assert params["RequestCertificate"] == "false"
    assert params["EnableTable"] == "true"
    assert params["TableName"] == ""
    assert params["ExtraPolicyArns"] == ""
    assert params["PermissionsBoundaryArn"] == ""


ALARM_TOPIC = "arn:aws:sns:eu-west-1:123456789012:fluoride-hello-alarms"


def test_notify_becomes_the_topic_subscriptions_and_every_alarm_action() -> None:
    params = resolved_parameters(FULL)
    assert params["NotifyEmails"] == "ops@example.org"
    assert params["NotifyEmailCount"] == "1"
    assert params["AlarmActionArns"] == (
        "arn:aws:sns:eu-west-1:123456789012:team-alarms," + ALARM_TOPIC)
    topics_only = attrs.evolve(FULL, notify=("arn:aws:sns:eu-west-1:123456789012:pager",))
    assert resolved_parameters(topics_only)["NotifyEmailCount"] == "0"
    assert resolved_parameters(topics_only)["AlarmActionArns"] == (
        "arn:aws:sns:eu-west-1:123456789012:pager")
    quiet = resolved_parameters(ServiceSpec())
    assert (quiet["NotifyEmails"], quiet["AlarmActionArns"]) == ("", "")
    with pytest.raises(ConfigError) as info:
        resolved_parameters(FULL, alarm_topic_arn=None)
    assert [e.field for e in info.value.errors] == ["alarm_topic_arn"]


@pytest.mark.parametrize(("notify", "bad"), [
    (("ops@example.org", "a.b+alerts@lab.example.co.uk"), None),
    (("arn:aws:sns:us-east-1:123456789012:my-topic",), None),
    (tuple(f"ops{i}@example.org" for i in range(5)), "notify"),
    (("ops@example.org", "ops@example.org"), "notify[1]"),
    (("ops@example",), "notify[0]"),
    (("ops,dev@example.org",), "notify[0]"),
    (("arn:aws:sqs:us-east-1:123456789012:queue",), "notify[0]"),
    ((3,), "notify[0]"),
])
def test_notify_rules(notify: tuple[object, ...], bad: str | None) -> None:
    fields = bad_fields(make(notify=notify))
    assert fields == ([] if bad is None else [bad])


def test_to_parameters_of_a_full_spec() -> None:
    params = resolved_parameters(FULL, image="repo@sha256:" + "a" * 64,
                                 assign_public_ip=False,
                                 caller_security_groups=("sg-0123abcd", "sg-4567ef01"))
    assert params["Image"] == "repo@sha256:" + "a" * 64
    assert params["AssignPublicIp"] == "DISABLED"
    assert params["VpcEndpoints"] == "true"
    assert params["EndpointRouteTableIds"] == "rtb-0123abcd,rtb-0456cdef"
    assert params["Public"] == "false"
    assert [params[f"IngressCidr{i}"] for i in range(1, 5)] == [
        "10.0.0.0/8", "172.16.0.0/12", "", ""]
    caller_keys = sorted(k for k in params if k.startswith("AllowedCaller"))
    callers = [params[k] for k in caller_keys]
    assert ",".join(c for c in callers if c) == "sg-0123abcd,sg-4567ef01"
    assert params["HostedZoneName"] == "example.com"
    assert params["RequestCertificate"] == "true"
    assert params["HttpsRedirect"] == "false"
    assert params["EnableBucket"] == "false"
    assert params["SecretName"] == "team/app"
    assert params["SecretRecoveryDays"] == "7"
    assert params["ExtraPolicyArns"] == "arn:aws:iam::aws:policy/ReadOnlyAccess"
    assert params["EnableExec"] == "true"
    assert params["AlarmRollback"] == "false"
    assert params["HealthCheckGracePeriod"] == "60"
    assert params["RequestsPerTarget"] == "500"


def test_to_parameters_rejects_a_bad_resolved_network_and_spec() -> None:
    with pytest.raises(ConfigError) as info:
        resolved_parameters(make(port=0), service_name="Bad", vpc_id="vpc-x",
                            subnet_ids=SUBNETS[:1],
                            caller_security_groups=[f"x{i}" for i in range(5)])
    assert [e.field for e in info.value.errors] == [
        "name", "port", "vpc_id", "subnet_ids", "caller_security_groups",
    ] + [f"caller_security_groups[{i}]" for i in range(5)]


def test_user_tags() -> None:
    assert user_tags(ServiceSpec()) == {}
    assert user_tags(make(team="lab", contact="a@b.c")) == {"team": "lab", "contact": "a@b.c"}


# --------------------------------------------------------------------------- environment

BODY = """\
        Environment:
          - {Name: PORT, Value: "8080"}
          # fluoride:user-environment
        Image: x
"""


def test_render_environment_places_items_at_the_marker() -> None:
    env = {"PLAIN": "x", "QUOTES": 'say "hi" \\ there', "LINES": "a\nb\tc",
           "UNICODE": "héllo 😀 \u2028 \x7f", "EMPTY": "", "YAMLISH": "- {a: b}, #x: y"}
    body = render_environment(BODY, env)
    assert body.isascii()
    lines = body.splitlines()
    assert lines[0] == "        Environment:"
    assert lines[2] == '          - {Name: "PLAIN", Value: "x"}'
    assert lines[-1] == "        Image: x"
    parsed = yaml.safe_load(body)
    assert parsed["Environment"] == [{"Name": "PORT", "Value": "8080"}] + [
        {"Name": k, "Value": v} for k, v in env.items()]


def test_render_environment_without_variables_drops_the_marker() -> None:
    body = render_environment(BODY, {})
    assert ENVIRONMENT_MARKER not in body
    assert yaml.safe_load(body)["Environment"] == [{"Name": "PORT", "Value": "8080"}]


@pytest.mark.parametrize("body", ["Environment: []\n", BODY + BODY,
                                  "x: 1  # fluoride:user-environment\n"])
def test_render_environment_needs_exactly_one_marker_line(body: str) -> None:
    with pytest.raises(FluorideError, match="fluoride:user-environment"):
        render_environment(body, {"A": "1"})


# --------------------------------------------------------------------------- the docs

DOCS = Path(__file__).parent.parent / "docs" / "spec.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", DOCS.read_text(encoding="utf-8"),
                      re.MULTILINE | re.DOTALL)


def test_docs_examples_are_true() -> None:
    python = _blocks("python")[0]
    namespace: dict[str, Any] = {}
    exec(python, namespace)  # the page's own example, so it cannot rot
    example = namespace["spec"]
    assert loads_config(_blocks("toml")[0]) == ("notes", example)
    with pytest.raises(ConfigError) as info:
        loads_config(_blocks("toml")[1])
    assert str(info.value) + "\n" == _blocks("text")[0]


def test_secret_variables_need_the_secret_and_say_so() -> None:
    (error,) = make(secret_env={"DB_PASSWORD": "password"}, **{"stores.secret": False}).problems()
    assert error.field == "secret_env"
    assert "stores.secret" in error.problem
    assert "stores.secret" in (error.allowed or "")


def test_toml_reads_a_secret_env_table() -> None:
    _, spec = loads_config('[secret_env]\nDB_PASSWORD = "password"\n')
    assert spec == make(secret_env={"DB_PASSWORD": "password"})
    assert "[secret_env]" in dumps_config(spec)


def test_render_secret_variables_needs_the_secret_marker() -> None:
    assert render_environment(BODY, {}, secret_env={}) == render_environment(BODY, {})
    with pytest.raises(FluorideError, match="fluoride:secret-environment"):
        render_environment(BODY, {}, secret_env={"A": "password"})
    body = render_environment(BODY + "        # fluoride:secret-environment\n", {},
                              secret_env={"A": "password"})
    assert body.endswith('        Secrets:\n          - {Name: "A", ValueFrom: !Sub '
                         '["${S}:password::", {S: !If [CreateSecret, !Ref Secret, '
                         '!Ref AdoptedSecretArn]}]}\n')


# -- compliance = "strict" -------------------------------------------------------------------

ZONED = Domain(hosted_zone_id="Z0123456789ABC", hosted_zone_name="example.com",
               subdomain="api")
STRICT = ServiceSpec(compliance="strict", domain=Domain(certificate_arn=CERT),
                     network=Network(vpc_id="vpc-0123abcd", subnet_ids=SUBNETS))


def test_strict_defaults_follow_the_profile() -> None:
    assert (STRICT.user, STRICT.log_retention_days) == ("1000", 365)
    assert (ServiceSpec().user, ServiceSpec().log_retention_days) == (None, 30)
    assert STRICT.problems() == []


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"domain": Domain()}, "domain", "needs HTTPS"),
        ({"domain": ZONED}, "domain", "needs HTTPS"),  # a domain, no certificate
        ({"domain": Domain(certificate_arn=CERT, https_redirect=False)},
         "domain.https_redirect", "redirect"),
        ({"network": Network(assign_public_ip=True)}, "network.assign_public_ip",
         "without public IPs"),
        ({"user": None}, "user", "non-root"),
        ({"user": "0"}, "user", "non-root"),
        ({"user": "root:root"}, "user", "non-root"),
        ({"log_retention_days": 180}, "log_retention_days", "at least 365"),
        ({"sidecars": (Sidecar(name="proxy", image="envoyproxy/envoy:v1.31"),)},
         "sidecars[0].memory", "no limit"),
    ],
)
def test_strict_refuses(changes: dict[str, Any], field: str, words: str) -> None:
    spec = attrs.evolve(STRICT, **changes)
    problems = [p for p in spec.problems() if p.field == field]
    assert len(problems) == 1, spec.problems()
    assert words in problems[0].problem
    assert problems[0].allowed
    # the same spec under the standard profile is fine
    assert attrs.evolve(spec, compliance="standard").problems() == []


@pytest.mark.parametrize(
    "changes",
    [
        {"domain": attrs.evolve(ZONED, request_certificate=True)},
        {"user": "app:app"}, {"user": "1000:1000"},
        {"log_retention_days": 3653},
        {"network": Network(assign_public_ip=False)},
    ],
)
def test_strict_accepts(changes: dict[str, Any]) -> None:
    assert attrs.evolve(STRICT, **changes).problems() == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"compliance": "paranoid"}, "compliance"), ({"compliance": 1}, "compliance"),
     ({"user": "a b"}, "user"), ({"user": ""}, "user"), ({"user": 1000}, "user")],
)
def test_bad_compliance_and_user(changes: dict[str, Any], field: str) -> None:
    problems = make(**changes).problems()
    assert [p.field for p in problems] == [field], problems


def test_strict_parameters() -> None:
    params = resolved_parameters(STRICT, assign_public_ip=False)
    assert (params["Compliance"], params["ContainerUser"], params["AppMemory"]) == (
        "strict", "1000", "512")
    assert params["LogRetentionDays"] == "365"
    plain = resolved_parameters(ServiceSpec())
    assert (plain["Compliance"], plain["ContainerUser"]) == ("standard", "")


def test_strict_toml_round_trip() -> None:
    text = dumps_config(STRICT)
    assert 'compliance = "strict"' in text
    assert "user" not in text
    assert "log_retention_days" not in text
    assert loads_config(text) == (None, STRICT)
    assert loads_config(text.replace('compliance = "strict"\n', ""))[1].problems() == []


ENDPOINTS = Network(vpc_id="vpc-0123abcd", subnet_ids=SUBNETS, endpoints=True)


@pytest.mark.parametrize(
    ("network", "tables", "field"),
    [
        (ENDPOINTS, ROUTE_TABLES, None),
        (ENDPOINTS, (), "endpoint_route_tables"),
        (ENDPOINTS, ("rtb-12",), "endpoint_route_tables[0]"),
        (ENDPOINTS, ("rtb-0123abcd", "rtb-0123abcd"), "endpoint_route_tables[1]"),
        (Network(), ROUTE_TABLES, "endpoint_route_tables"),
        (Network(), (), None),
    ],
)
def test_endpoint_route_tables_go_with_network_endpoints(
    network: Network, tables: tuple[str, ...], field: str | None
) -> None:
    spec = ServiceSpec(network=network)
    if field is None:
        params = resolved_parameters(spec, endpoint_route_tables=tables, assign_public_ip=False)
        assert params["VpcEndpoints"] == ("true" if network.endpoints else "false")
        assert params["EndpointRouteTableIds"] == ",".join(tables)
        return
    with pytest.raises(ConfigError) as caught:
        resolved_parameters(spec, endpoint_route_tables=tables, assign_public_ip=False)
    assert [e.field for e in caught.value.errors] == [field]
