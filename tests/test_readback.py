"""Reading a spec back from its template parameters, tags and rendered environment: the
pure round trip, over many generated specs (no AWS)."""

from __future__ import annotations

import random
from collections.abc import Mapping

import attrs
import pytest

from fluoride.errors import FluorideError
from fluoride.infra.template import load_template
from fluoride.spec import (
    FARGATE_MEMORY,
    LOG_RETENTION_DAYS,
    Access,
    Domain,
    HealthCheck,
    Network,
    ServiceSpec,
    Stores,
    render_environment,
    to_parameters,
    user_tags,
)
from fluoride.spec._readback import (
    CALLERS_TAG,
    NETWORK_TAG,
    from_parameters,
    read_environment,
    read_secret_environment,
    spec_tags,
)

DEFAULTS = ("fluoride-svc", "fluoride-svc-123456789012-eu-west-1", "fluoride/svc")
DEFAULT_VPC = "vpc-0def0000"
DEFAULT_SUBNETS = ("subnet-0def0001", "subnet-0def0002")


def _maybe(rng: random.Random, value: object) -> object:
    return value if rng.random() < 0.5 else None


def random_spec(rng: random.Random) -> ServiceSpec:
    """A valid spec with every field drawn at random (names, odd characters included)."""
    cpu = rng.choice(sorted(FARGATE_MEMORY))
    interval = rng.randint(5, 300)
    min_count = rng.randint(1, 10)
    callers = rng.sample(["other", "billing-api", "sg-0123abcd", "sg-00000000000000001"],
                         rng.randint(0, 4))
    cidrs = rng.sample(["0.0.0.0/0", "10.0.0.0/16", "192.168.1.0/24", "172.16.0.0/12"],
                       rng.randint(0 if callers else 1, 4))
    given_vpc = rng.random() < 0.5
    domain = Domain()
    if rng.random() < 0.5:
        request = rng.random() < 0.5
        domain = Domain(
            hosted_zone_id="Z0123456789ABC", hosted_zone_name="example.com",
            subdomain=rng.choice(["api", "a-b", "x1"]),
            certificate_arn=None if request or rng.random() < 0.5 else
            "arn:aws:acm:eu-west-1:123456789012:certificate/0123-abcd",
            request_certificate=request, https_redirect=rng.random() < 0.5,
        )
    alphabet = "abcXYZ 09\"\\'\n\t:#{}[]é€😀-_=,"
    environment = {
        f"V{i}_{rng.choice(['A', 'b', 'X_1'])}": "".join(
            rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        for i in range(rng.randint(0, 6))
    }
    secret = rng.random() < 0.5
    secret_env = {
        f"S{i}_{rng.choice(['PASS', 'x'])}": rng.choice(["password", "db.user", "a/b@c+=", "K_1-"])
        for i in range(rng.randint(0, 4) if secret else 0)
    }
    return ServiceSpec(
        port=rng.randint(1, 65535),
        health_path=rng.choice(["/health", "/", "/healthz", "/api/ping?x=1"]),
        cpu=cpu,
        memory=rng.choice(list(FARGATE_MEMORY[cpu])),
        min_count=min_count,
        max_count=rng.randint(min_count, 100),
        cpu_target=rng.randint(10, 90),
        requests_per_target=rng.choice([0, 100, 1000]),
        health=HealthCheck(
            interval=interval, timeout=rng.randint(2, min(120, interval - 1)),
            healthy_threshold=rng.randint(2, 10), unhealthy_threshold=rng.randint(2, 10),
            grace_period=rng.randint(0, 7200),
        ),
        deregistration_delay=rng.randint(0, 3600),
        stop_timeout=rng.randint(2, 120),
        idle_timeout=rng.randint(1, 4000),
        network=Network(
            vpc_id="vpc-0aaa1111" if given_vpc else None,
            subnet_ids=("subnet-0aaa0001", "subnet-0aaa0002") if given_vpc else (),
            public=rng.random() < 0.5,
            ingress_cidrs=cidrs,
            allowed_callers=callers,
            assign_public_ip=rng.choice([None, True, False]),
        ),
        domain=domain,
        stores=Stores(
            table=rng.random() < 0.5,
            table_name=_maybe(rng, "my.table-1"),  # type: ignore[arg-type]
            partition_key=rng.choice(["pk", "id", "ключ"]),
            ttl_attribute=rng.choice(["expires_at", "ttl"]),
            bucket=rng.random() < 0.5,
            bucket_name=_maybe(rng, "my-bucket.data"),  # type: ignore[arg-type]
            secret=secret,
            secret_name=_maybe(rng, "team/app@prod"),  # type: ignore[arg-type]
            secret_recovery_days=rng.randint(7, 30),
        ),
        access=Access(
            extra_policy_arns=rng.sample(["arn:aws:iam::aws:policy/ReadOnlyAccess",
                                          "arn:aws:iam::123456789012:policy/team/x"],
                                         rng.randint(0, 2)),
            permissions_boundary_arn=_maybe(  # type: ignore[arg-type]
                rng, "arn:aws:iam::123456789012:policy/boundary"),
        ),
        environment=environment,
        secret_env=secret_env,
        exec_enabled=rng.random() < 0.5,
        alarm_rollback=rng.random() < 0.5,
        alarm_5xx_threshold=rng.randint(1, 1000),
        log_retention_days=rng.choice(LOG_RETENTION_DAYS),
        access_log_retention_days=rng.randint(1, 3000),
        keep_images=rng.randint(1, 1000),
        project=_maybe(rng, "lab one"),  # type: ignore[arg-type]
        team=_maybe(rng, "data:science"),  # type: ignore[arg-type]
        contact=_maybe(rng, "ada@example.com"),  # type: ignore[arg-type]
    )


def stack_of(spec: ServiceSpec) -> tuple[dict[str, str], dict[str, str], str]:
    """What ``create()`` would write for ``spec``: parameters, tags and template body."""
    st = spec.stores
    filled = attrs.evolve(spec, stores=attrs.evolve(
        st, table_name=st.table_name or DEFAULTS[0], bucket_name=st.bucket_name or DEFAULTS[1],
        secret_name=st.secret_name or DEFAULTS[2]))
    net = spec.network
    groups = [c if c.startswith("sg-") else f"sg-0{i:07d}" for i, c in
              enumerate(net.allowed_callers)]
    params = to_parameters(
        filled, service_name="svc", vpc_id=net.vpc_id or DEFAULT_VPC,
        subnet_ids=net.subnet_ids or DEFAULT_SUBNETS, image=None,
        assign_public_ip=net.assign_public_ip if net.assign_public_ip is not None else True,
        caller_security_groups=groups,
    )
    tags = {**spec_tags(spec), **user_tags(spec), "fluoride:service": "svc"}
    return params, tags, render_environment(load_template(), spec.environment,
                                            secret_env=spec.secret_env)


def read_back(params: Mapping[str, str], tags: Mapping[str, str], body: str) -> ServiceSpec:
    return from_parameters(params, environment=read_environment(body),
                           secret_env=read_secret_environment(body), tags=tags,
                           default_store_names=DEFAULTS)


@pytest.mark.parametrize("seed", range(200))
def test_every_generated_spec_round_trips(seed: int) -> None:
    spec = random_spec(random.Random(seed))
    spec.validate()  # the generator makes valid specs only
    assert read_back(*stack_of(spec)) == spec


def test_the_round_trip_can_fail() -> None:
    spec = random_spec(random.Random(1))
    params, tags, body = stack_of(spec)
    params["Memory"] = str(spec.memory * 2)
    assert read_back(params, tags, body) != spec


@pytest.mark.parametrize(
    ("spec", "tags"),
    [
        (ServiceSpec(), {NETWORK_TAG: "vpc=default ip=auto"}),
        (ServiceSpec(network=Network(assign_public_ip=False)),
         {NETWORK_TAG: "vpc=default ip=given"}),
        (ServiceSpec(network=Network(vpc_id="vpc-0aaa1111",
                                     subnet_ids=("subnet-0aaa0001", "subnet-0aaa0002"))),
         {NETWORK_TAG: "vpc=given ip=auto"}),
        (ServiceSpec(network=Network(allowed_callers=("web", "sg-0123abcd"))),
         {NETWORK_TAG: "vpc=default ip=auto", CALLERS_TAG: "web sg-0123abcd"}),
    ],
)
def test_spec_tags_say_what_the_spec_left_to_fluoride(
    spec: ServiceSpec, tags: dict[str, str]
) -> None:
    assert spec_tags(spec) == tags


def test_a_stack_without_the_tags_reads_back_its_resolved_network() -> None:
    spec = ServiceSpec(network=Network(allowed_callers=("web",)))
    params, _, body = stack_of(spec)
    got = read_back(params, {}, body)
    assert got.network == Network(vpc_id=DEFAULT_VPC, subnet_ids=DEFAULT_SUBNETS,
                                  allowed_callers=("sg-00000000",), assign_public_ip=True)


def test_parameters_an_older_template_lacks_read_back_as_defaults() -> None:
    params, tags, body = stack_of(ServiceSpec(memory=1024))
    for key in ("KeepImages", "Alarm5xxThreshold", "IdleTimeout"):
        del params[key]
    assert read_back(params, tags, body) == ServiceSpec(memory=1024)


@pytest.mark.parametrize(("key", "value"), [("Memory", "lots"), ("EnableTable", "yes"),
                                            ("AssignPublicIp", "maybe")])
def test_a_value_fluoride_never_writes_is_named(key: str, value: str) -> None:
    params, tags, body = stack_of(ServiceSpec())
    params[key] = value
    with pytest.raises(FluorideError, match=f"parameter {key} is {value!r}"):
        read_back(params, {k: v for k, v in tags.items() if k != NETWORK_TAG}, body)


@pytest.mark.parametrize(
    ("environment"),
    [{}, {"A": ""}, {"Q": 'say "hi" \\ bye'}, {"U": "é€😀\n\t"}, {"Z": "1", "A": "2"}],
)
def test_read_environment_inverts_render_environment(environment: dict[str, str]) -> None:
    body = render_environment(load_template(), environment)
    got = read_environment(body)
    assert got == environment
    assert list(got) == list(environment)  # in the order written


@pytest.mark.parametrize(
    ("secret_env"),
    [{}, {"DB_PASSWORD": "password"}, {"Z": "a/b@c+=", "A": "k.1-_"}],
)
def test_read_secret_environment_inverts_render_environment(secret_env: dict[str, str]) -> None:
    body = render_environment(load_template(), {"DB_PASSWORD": "not-a-secret-line"},
                              secret_env=secret_env)
    got = read_secret_environment(body)
    assert got == secret_env
    assert list(got) == list(secret_env)
    assert read_environment(body) == {"DB_PASSWORD": "not-a-secret-line"}


def test_a_secret_item_fluoride_never_writes_is_named() -> None:
    body = render_environment(load_template(), {}, secret_env={"A": "password"})
    with pytest.raises(FluorideError, match="secret variable A"):
        read_secret_environment(body.replace('"${S}:password::"', '"${S}:password:AWSPREVIOUS:"'))


@pytest.mark.parametrize("notify", [
    (),
    ("ops@example.org",),
    ("ops@example.org", "dev@example.org", "arn:aws:sns:us-east-1:123456789012:team"),
    ("arn:aws:sns:us-east-1:123456789012:team",),
])
def test_notify_round_trips(notify: tuple[str, ...]) -> None:
    spec = ServiceSpec(notify=notify)
    params = to_parameters(
        attrs.evolve(spec, stores=attrs.evolve(spec.stores, table_name=DEFAULTS[0],
                                               bucket_name=DEFAULTS[1],
                                               secret_name=DEFAULTS[2])),
        service_name="svc", vpc_id=DEFAULT_VPC, subnet_ids=DEFAULT_SUBNETS, image=None,
        assign_public_ip=True,
        alarm_topic_arn="arn:aws:sns:us-east-1:123456789012:fluoride-svc-alarms",
    )
    tags = {**spec_tags(spec), "fluoride:service": "svc"}
    assert read_back(params, tags, render_environment(load_template(), {})).notify == notify
