"""Sidecars: validation (tables), the rendered container definitions, the toml and the
readback, and a service with a sidecar on the embedded emulator (its task definition read
back through ECS, svc.spec() and the plan of a change)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import pytest

from fluoride import Fluoride, ServiceSpec, Sidecar
from fluoride.infra.policy_report import parse_template
from fluoride.infra.template import load_template
from fluoride.spec import dumps_config, loads_config, render_environment
from fluoride.spec._readback import read_sidecars

PROXY = Sidecar(name="proxy", image="public.ecr.aws/envoyproxy/envoy:v1.31", port=9901,
                memory=128, environment={"MODE": 'say "hi" 😀'}, command=("envoy", "-c", "/x"))


def _spec(*sidecars: Sidecar, **changes: Any) -> ServiceSpec:
    return ServiceSpec(sidecars=sidecars, **changes)


@pytest.mark.parametrize(
    ("sidecars", "field", "words"),
    [
        ((attrs.evolve(PROXY, name="app"),), "sidecars[0].name", "taken"),
        ((PROXY, attrs.evolve(PROXY, port=9902)), "sidecars[1].name", "taken"),
        ((attrs.evolve(PROXY, name="a b"),), "sidecars[0].name", "not valid"),
        ((attrs.evolve(PROXY, port=8080),), "sidecars[0].port", "taken by the app"),
        ((PROXY, attrs.evolve(PROXY, name="other")), "sidecars[1].port", "taken by sidecar"),
        ((attrs.evolve(PROXY, image="Not An Image"),), "sidecars[0].image", "image reference"),
        ((attrs.evolve(PROXY, image=""),), "sidecars[0].image", "image reference"),
        ((attrs.evolve(PROXY, memory=450),), "sidecars", "leave the app"),
        ((attrs.evolve(PROXY, port=0),), "sidecars[0].port", ""),
        ((attrs.evolve(PROXY, environment={"1BAD": "x"}),), "sidecars[0].environment.1BAD", ""),
        (tuple(attrs.evolve(PROXY, name=f"c{i}", port=9000 + i, memory=None)
               for i in range(5)), "sidecars", "has 5 containers"),
    ],
)
def test_bad_sidecars(sidecars: tuple[Sidecar, ...], field: str, words: str) -> None:
    problems = _spec(*sidecars).problems()
    assert field in [p.field for p in problems], problems
    assert words in next(p.problem for p in problems if p.field == field)


def test_good_sidecars_and_their_toml() -> None:
    spec = _spec(PROXY, Sidecar(name="otel", image="otel/opentelemetry-collector:0.110.0",
                                essential=True))
    assert spec.problems() == []
    text = dumps_config(spec)
    assert "[[sidecars]]" in text
    assert loads_config(text) == (None, spec)


def test_sidecars_render_as_containers_and_read_back() -> None:
    spec = _spec(PROXY)
    body = render_environment(load_template(), {}, sidecars=spec.sidecars)
    assert read_sidecars(body) == spec.sidecars
    containers = parse_template(body)["Resources"]["TaskDefinition"]["Properties"][
        "ContainerDefinitions"]
    assert [c["Name"] for c in containers] == ["app", "proxy"]
    proxy = containers[1]
    assert proxy["Image"] == PROXY.image
    assert proxy["Environment"] == [{"Name": "MODE", "Value": 'say "hi" 😀'}]
    assert proxy["PortMappings"] == [{"ContainerPort": 9901, "Protocol": "tcp"}]
    assert proxy["LogConfiguration"]["Options"]["awslogs-stream-prefix"] == "proxy"
    assert read_sidecars(render_environment(load_template(), {})) == ()


def test_four_large_sidecars_stay_within_the_staged_limit() -> None:
    from fluoride.infra.staging import MAX_STAGED_TEMPLATE
    from fluoride.spec._rules import MAX_SIDECAR_RENDERED

    cars = [Sidecar(name=f"c{i}", image="public.ecr.aws/x/y:1", port=9000 + i, memory=64,
                    environment={f"K{j}": "v" * 60 for j in range(20)}) for i in range(4)]
    spec = _spec(*cars, memory=1024)
    assert spec.problems() == []
    bigger = attrs.evolve(cars[0], environment={**cars[0].environment, "MORE": "v" * 600})
    assert [p.field for p in _spec(bigger).problems()] == ["sidecars[0]"]
    body = render_environment(load_template(), {}, sidecars=spec.sidecars)
    assert len(body.encode()) < MAX_STAGED_TEMPLATE
    assert len(body.encode()) - len(render_environment(load_template(), {}).encode()) <= (
        4 * (MAX_SIDECAR_RENDERED + 9))


# -- health_command: the rule, the rendered HealthCheck, the read-back ----------------------

OTEL = Sidecar(name="otel", image="otel/opentelemetry-collector:0.110.0", essential=True,
               memory=64, health_command='wget -qO- "http://localhost:13133/" || exit 1')


@pytest.mark.parametrize(
    ("command", "problem"),
    [
        ("", "'' is empty"),
        ("   ", "'   ' is empty"),
        ("curl -f localhost\nexit 1", "has a line break or control character"),
        ("curl -f localhost\r", "has a line break or control character"),
        ("true\x00", "has a line break or control character"),
        ("x" * 1025, "has 1025 characters"),
        (7, "must be a string, got 7"),
    ],
)
def test_bad_health_commands(command: Any, problem: str) -> None:
    problems = _spec(attrs.evolve(OTEL, health_command=command)).problems()
    assert [p.field for p in problems] == ["sidecars[0].health_command"], problems
    assert problem in problems[0].problem
    if not isinstance(command, int):
        assert "one line of shell, 1 to 1024 characters" in (problems[0].allowed or "")


@pytest.mark.parametrize("command",
                         [None, "true", "x" * 1024, "curl -fs localhost:9901 | grep -q ok"])
def test_good_health_commands(command: str | None) -> None:
    assert _spec(attrs.evolve(OTEL, health_command=command)).problems() == []


def _containers(body: str) -> dict[str, dict[str, Any]]:
    found = parse_template(body)["Resources"]["TaskDefinition"]["Properties"][
        "ContainerDefinitions"]
    return {c["Name"]: c for c in found}


@pytest.mark.parametrize(
    ("grace_period", "start_period"),
    [(None, 10), (0, 0), (45, 45), (300, 300), (301, 300), (7200, 300)],
)
def test_a_health_command_renders_as_the_container_s_health_check(
    grace_period: int | None, start_period: int
) -> None:
    body = render_environment(load_template(), {}, sidecars=(OTEL, PROXY),
                              grace_period=grace_period)
    containers = _containers(body)
    assert containers["otel"]["HealthCheck"] == {
        "Command": ["CMD-SHELL", 'wget -qO- "http://localhost:13133/" || exit 1'],
        "Interval": 10, "Timeout": 5, "Retries": 3, "StartPeriod": start_period}
    assert "HealthCheck" not in containers["proxy"]  # no health_command: no check
    assert "HealthCheck" not in containers["app"]  # the load balancer checks the app
    assert "DependsOn" not in containers["app"]  # the app does not wait for a sidecar
    assert read_sidecars(body) == (OTEL, PROXY)


def test_the_health_check_s_timings_are_within_ecs_s_limits() -> None:
    from fluoride.spec import _environment as env

    # ECS's HealthCheck: interval 5-300, timeout 2-60 (less than interval), retries 1-10,
    # startPeriod 0-300.
    assert 5 <= env.SIDECAR_HEALTH_INTERVAL <= 300
    assert 2 <= env.SIDECAR_HEALTH_TIMEOUT < env.SIDECAR_HEALTH_INTERVAL
    assert 1 <= env.SIDECAR_HEALTH_RETRIES <= 10
    assert env.MAX_SIDECAR_START_PERIOD == 300


def test_health_command_reads_back_and_an_older_label_reads_as_none() -> None:
    body = render_environment(load_template(), {}, sidecars=(OTEL,))
    (back,) = read_sidecars(body)
    assert back.health_command == OTEL.health_command
    # a label written before health_command existed has no such key: no check
    older = render_environment(load_template(), {}, sidecars=(attrs.evolve(OTEL,
                                                                           health_command=None),))
    assert "health_command" not in older
    assert read_sidecars(older)[0].health_command is None


def test_health_command_in_toml() -> None:
    spec = _spec(OTEL)
    text = dumps_config(spec)
    assert "health_command = " in text
    assert loads_config(text) == (None, spec)
    _, loaded = loads_config('[[sidecars]]\nname = "otel"\nimage = "otel/c:1"\n'
                             'essential = true\nhealth_command = "curl -f localhost:13133"\n')
    assert loaded.sidecars[0].health_command == "curl -f localhost:13133"


@pytest.mark.parametrize(
    ("value", "problem"),
    [('""', "'' is empty"), ("5", "must be a string, got a number (5)"),
     ('"a\\nb"', "has a line break or control character")],
)
def test_a_bad_health_command_in_toml_names_its_field(value: str, problem: str) -> None:
    from fluoride.errors import ConfigError

    with pytest.raises(ConfigError) as refused:
        loads_config(f'[[sidecars]]\nname = "otel"\nimage = "otel/c:1"\n'
                     f"health_command = {value}\n")
    assert [(e.field, problem in e.problem) for e in refused.value.errors] == [
        ("sidecars[0].health_command", True)]


def test_the_longest_health_command_fits_the_largest_sidecar() -> None:
    from fluoride.spec._environment import sidecar_item
    from fluoride.spec._rules import MAX_HEALTH_COMMAND, MAX_SIDECAR_RENDERED

    largest = Sidecar(name="n" * 255, image="a" * 255, port=65535, cpu=16384, memory=122752,
                      essential=True, health_command="x" * MAX_HEALTH_COMMAND)
    assert len(sidecar_item(largest)) <= MAX_SIDECAR_RENDERED
    assert _spec(largest, cpu=16384, memory=122880).problems() == []
    # quotes take more room in the template (escaped twice): the whole sidecar's rule says so
    quoted = attrs.evolve(largest, health_command='"' * MAX_HEALTH_COMMAND)
    problems = _spec(quoted, cpu=16384, memory=122880).problems()
    assert [p.field for p in problems] == ["sidecars[0]"], problems
    assert "shorten health_command" in (problems[0].allowed or "")


def test_the_default_body_has_no_health_check() -> None:
    assert "HealthCheck: {Command" not in render_environment(load_template(), {})


def _client(fl: Fluoride, name: str) -> Any:
    return fl.session.client(name, endpoint_url=fl.endpoint_url)  # type: ignore[call-overload]


def test_a_service_with_a_sidecar_on_the_emulator(fl: Fluoride, unique_name: str) -> None:
    spec = _spec(PROXY)
    svc = fl.service(unique_name)
    svc.create(spec)
    emulator = fl.emulator
    assert emulator is not None
    emulator.push_image(svc.outputs()["RepositoryName"], "v1")
    svc.deploy("v1")
    out = svc.outputs()
    ecs = _client(fl, "ecs")
    (service,) = ecs.describe_services(cluster=out["ClusterName"],
                                       services=[out["EcsServiceName"]])["services"]
    task = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])[
        "taskDefinition"]
    by_name = {c["name"]: c for c in task["containerDefinitions"]}
    assert set(by_name) == {"app", "proxy"}
    proxy = by_name["proxy"]
    assert (proxy["image"], proxy["essential"], proxy["memory"]) == (PROXY.image, False, 128)
    assert proxy["environment"] == [{"name": "MODE", "value": 'say "hi" 😀'}]
    assert proxy["logConfiguration"]["options"]["awslogs-stream-prefix"] == "proxy"
    assert svc.spec() == spec
    changed = attrs.evolve(spec, sidecars=(attrs.evolve(PROXY, image="envoyproxy/envoy:v1.32"),))
    plan = svc.plan(changed)
    (change,) = plan.settings
    assert (change.field, change.old, change.new) == (
        "sidecars.proxy.image", repr(PROXY.image), "'envoyproxy/envoy:v1.32'")
    assert "TaskDefinition" in [r.logical_id for r in plan.changes]
    image = svc.status().image
    svc.update(changed)  # the sidecar's image changes through update; the app's stays
    assert svc.status().image == image
    assert svc.spec() == changed
    (service,) = ecs.describe_services(cluster=out["ClusterName"],
                                       services=[out["EcsServiceName"]])["services"]
    task = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])[
        "taskDefinition"]
    assert {c["name"]: c["image"] for c in task["containerDefinitions"]}["proxy"] == (
        "envoyproxy/envoy:v1.32")


# -- logs: each container under its own stream prefix ------------------------------------


def test_sidecar_logs_are_read_apart_from_the_app_s(fl: Fluoride, unique_name: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from fluoride.cli import main
    from fluoride.errors import ConfigError, InvalidInput

    svc = fl.service(unique_name)
    svc.create(_spec(PROXY))
    assert fl.emulator is not None
    fl.emulator.push_image(svc.outputs()["RepositoryName"], "v1")
    svc.deploy("v1")

    templates_read: list[str] = []
    svc.aws.client("cloudformation").meta.events.register(
        "before-call.cloudformation.GetTemplate", lambda **_: templates_read.append("x"))
    app = list(svc.logs(since="1h"))
    assert templates_read == []  # the app's lines need no look at the containers
    proxy = list(svc.logs(since="1h", container="proxy"))
    assert templates_read == ["x"]  # a sidecar's: one GetTemplate
    assert app
    assert proxy
    assert list(svc.logs(since="1h", container="app")) == app  # the default is the app
    assert all(" container proxy " not in line.message for line in app), app
    assert all(f"task {line.task_id} container proxy " in line.message for line in proxy), proxy
    [started] = [line for line in proxy if "started from" in line.message]
    assert started.message.endswith(f"started from {PROXY.image}")
    assert {line.task_id for line in app} == {line.task_id for line in proxy}
    # pattern and the lazy preview narrow the sidecar's lines the same way
    assert [line.message for line in svc.logs(since="1h", container="proxy",
                                              pattern="started")] == [started.message]
    preview = svc.logs(since="1h", container="proxy")
    assert "proxy/proxy/" in repr(preview)
    assert preview.head(1)[0] == proxy[0]
    # follow: the lines so far, then (stopped here) no more
    followed = svc.logs(since="1h", container="proxy", follow=True)
    assert next(iter(followed)) == proxy[0]

    with pytest.raises(ConfigError) as unknown:
        svc.logs(container="proxx")
    assert "has no container 'proxx'" in str(unknown.value)
    assert [(e.field, e.allowed) for e in unknown.value.errors] == [("container", "app, proxy")]
    with pytest.raises(InvalidInput, match="container"):
        svc.logs(container="no such/name")

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", fl.region)
    result = CliRunner().invoke(main, ["--endpoint-url", str(fl.endpoint_url), "logs",
                                       unique_name, "--since", "1h", "--container", "proxy"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert result.stdout.count("container proxy started from") == 1
    assert all(" container proxy " in text for text in result.stdout.splitlines())
    svc.delete(purge_data=True)


def test_a_service_without_sidecars_refuses_a_container_by_name(fl: Fluoride,
                                                                unique_name: str) -> None:
    from fluoride.errors import ConfigError

    svc = fl.service(unique_name)
    svc.create()
    with pytest.raises(ConfigError, match="has no container 'proxy'") as refused:
        svc.logs(container="proxy")
    assert refused.value.errors[0].allowed == "app"
    assert list(svc.logs(container="app")) == []  # no task has run yet
    svc.delete(purge_data=True)


# -- an essential sidecar that fails rolls the change back, with its reason ----------------


def test_an_essential_sidecar_that_fails_rolls_back_with_its_reason(
    fl: Fluoride, unique_name: str
) -> None:
    from fluoride import Outcome, RolledBack

    svc = fl.service(unique_name)
    spec = _spec(PROXY)  # non-essential, a public image: starts
    svc.create(spec)
    assert fl.emulator is not None
    repository = svc.outputs()["RepositoryName"]
    v1 = fl.emulator.push_image(repository, "v1")
    svc.deploy("v1")
    serving = svc.status().outputs
    ecs = _client(fl, "ecs")

    def served_task_definition() -> str:
        (service,) = ecs.describe_services(cluster=serving["ClusterName"],
                                           services=[serving["EcsServiceName"]])["services"]
        return str(service["taskDefinition"])

    before = served_task_definition()
    # a proxy image that needs 512 MiB, given 128: the kernel kills it at start
    fl.emulator.push_image(repository, "proxy-big", needs_memory=512)
    big = f"{svc.outputs()['RepositoryUri']}:proxy-big"
    essential = attrs.evolve(spec, sidecars=(attrs.evolve(PROXY, image=big, essential=True),))
    with pytest.raises(RolledBack) as caught:
        svc.update(essential)
    reasons = caught.value.reasons
    assert any("Essential container in task exited" in r and "container proxy: exit code 137: "
               "OutOfMemoryError" in r for r in reasons), reasons
    assert "container proxy" in str(caught.value)
    # the previous release serves: same task definition, same image, the old sidecar
    assert served_task_definition() == before
    status = svc.status()
    assert status.release is not None
    assert status.release.digest == v1
    assert status.running == 1
    assert svc.spec() == spec
    assert svc.history()[0].outcome == Outcome.ROLLED_BACK
    assert any("container proxy out of memory" in line.message
               for line in svc.logs(since="1h", container="proxy"))

    # the same image in a non-essential sidecar: the proxy stops alone, the task serves
    optional = attrs.evolve(spec, sidecars=(attrs.evolve(PROXY, image=big),))
    svc.update(optional)
    assert svc.spec() == optional
    assert svc.status().running == 1
    tasks = ecs.list_tasks(cluster=serving["ClusterName"],
                           serviceName=serving["EcsServiceName"])["taskArns"]
    (task,) = ecs.describe_tasks(cluster=serving["ClusterName"], tasks=tasks)["tasks"]
    states = {c["name"]: (c["lastStatus"], c.get("exitCode")) for c in task["containers"]}
    assert states == {"app": ("RUNNING", None), "proxy": ("STOPPED", 137)}

    # a sidecar image that does not exist: no task starts, whatever `essential` says
    missing = attrs.evolve(optional, sidecars=(attrs.evolve(
        PROXY, image=f"{svc.outputs()['RepositoryUri']}:no-such-tag"),))
    with pytest.raises(RolledBack) as caught:
        svc.update(missing)
    assert any("CannotPullContainerError" in r and "container proxy: " in r
               for r in caught.value.reasons), caught.value.reasons
    assert svc.spec() == optional
    assert svc.status().running == 1
    svc.delete(purge_data=True)


# -- a sidecar's health check on the emulator ----------------------------------------------


def _task(fl: Fluoride, outputs: Mapping[str, str]) -> dict[str, Any]:
    ecs = _client(fl, "ecs")
    arns = ecs.list_tasks(cluster=outputs["ClusterName"],
                          serviceName=outputs["EcsServiceName"])["taskArns"]
    (task,) = ecs.describe_tasks(cluster=outputs["ClusterName"], tasks=arns)["tasks"]
    return dict(task)


def test_an_essential_sidecar_whose_health_check_fails_rolls_back(
    fl: Fluoride, unique_name: str
) -> None:
    from fluoride import Outcome, RolledBack

    svc = fl.service(unique_name)
    spec = _spec(OTEL)  # essential, a public image: its check passes
    svc.create(spec)
    assert fl.emulator is not None
    repository = svc.outputs()["RepositoryName"]
    v1 = fl.emulator.push_image(repository, "v1")
    svc.deploy("v1")
    serving = svc.status().outputs
    task = _task(fl, serving)
    health = {c["name"]: (c["lastStatus"], c["healthStatus"]) for c in task["containers"]}
    assert health == {"app": ("RUNNING", "UNKNOWN"), "otel": ("RUNNING", "HEALTHY")}
    assert task["healthStatus"] == "HEALTHY"  # its essential containers' checks passed
    ecs = _client(fl, "ecs")
    (service,) = ecs.describe_services(cluster=serving["ClusterName"],
                                       services=[serving["EcsServiceName"]])["services"]
    before = service["taskDefinition"]
    (otel,) = [c for c in ecs.describe_task_definition(taskDefinition=before)[
        "taskDefinition"]["containerDefinitions"] if c["name"] == "otel"]
    assert otel["healthCheck"] == {"command": ["CMD-SHELL", OTEL.health_command],
                                   "interval": 10, "timeout": 5, "retries": 3,
                                   "startPeriod": 10}

    # an image whose health check fails, in the essential sidecar: the change rolls back
    fl.emulator.push_image(repository, "otel-sick", healthy=False)
    sick = f"{svc.outputs()['RepositoryUri']}:otel-sick"
    essential = attrs.evolve(spec, sidecars=(attrs.evolve(OTEL, image=sick),))
    with pytest.raises(RolledBack) as caught:
        svc.update(essential)
    reasons = caught.value.reasons
    assert any(r.startswith("Task failed container health checks")
               and "container otel: health check failed (UNHEALTHY)" in r
               and "health_command" in r for r in reasons), reasons
    assert "container otel" in str(caught.value)
    # the previous release serves: same task definition, same image, the old sidecar
    (service,) = ecs.describe_services(cluster=serving["ClusterName"],
                                       services=[serving["EcsServiceName"]])["services"]
    assert service["taskDefinition"] == before
    status = svc.status()
    assert status.release is not None
    assert status.release.digest == v1
    assert status.running == 1
    assert svc.spec() == spec
    assert svc.history()[0].outcome == Outcome.ROLLED_BACK
    assert any("container otel health check failed 3 times in a row: " in line.message
               for line in svc.logs(since="1h", container="otel"))
    assert _task(fl, serving)["containers"][1]["healthStatus"] == "HEALTHY"

    # the same image in a non-essential sidecar: it shows UNHEALTHY, the task serves
    optional = attrs.evolve(spec, sidecars=(attrs.evolve(OTEL, image=sick, essential=False),))
    svc.update(optional)
    assert svc.spec() == optional
    assert svc.status().running == 1
    task = _task(fl, serving)
    health = {c["name"]: (c["lastStatus"], c["healthStatus"]) for c in task["containers"]}
    assert health == {"app": ("RUNNING", "UNKNOWN"), "otel": ("RUNNING", "UNHEALTHY")}
    assert task["lastStatus"] == "RUNNING"
    svc.delete(purge_data=True)


@pytest.mark.parametrize(
    ("derive", "healthy", "wall"),
    [
        (False, True, 0.2),  # the default timing: Timing.health_check, whatever the check
        (False, False, 0.2),
        (True, True, 10 * 0.01),  # derived: the first run passes, one interval in
        (True, False, (10 + 10 * 3) * 0.01),  # start period, then 3 failures in a row
    ],
)
def test_a_container_check_s_verdict_time(derive: bool, healthy: bool, wall: float) -> None:
    from fluoride.local import Timing

    timing = Timing.from_settings(scale=0.01) if derive else Timing()
    assert timing.container_verdict(10, 3, 10, healthy=healthy) == pytest.approx(wall)


def test_a_new_task_waits_for_its_essential_sidecar_s_check() -> None:
    """With durations from the stack's settings the load balancer calls the task healthy
    (5 s x 2) long before the sidecar's check fails (10 s start + 3 x 10 s): counting the
    task then would complete the change and drain the old tasks. It waits, and rolls back."""
    from fluoride import RolledBack
    from fluoride.local import SimulatedClock, Timing

    timing = Timing.from_settings(scale=0.01, image_pull=20.0)
    with Fluoride.local(reporter=lambda event: None, timing=timing,
                        clock=SimulatedClock()) as local:
        svc = local.service("waits")
        spec = _spec(OTEL)
        svc.create(spec)
        assert local.emulator is not None
        repository = svc.outputs()["RepositoryName"]
        v1 = local.emulator.push_image(repository, "v1")
        svc.deploy("v1")
        local.emulator.push_image(repository, "sick", healthy=False)
        sick = attrs.evolve(spec, sidecars=(attrs.evolve(
            OTEL, image=f"{svc.outputs()['RepositoryUri']}:sick"),))
        with pytest.raises(RolledBack) as caught:
            svc.update(sick)
        assert any("container otel: health check failed" in r for r in caught.value.reasons)
        status = svc.status()
        assert status.release is not None
        assert (status.release.digest, status.running) == (v1, 1)
