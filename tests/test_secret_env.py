"""secret_env on the embedded emulator: the task definition's Secrets, the execution role's
read of the secret, the spec read back, and a key the secret lacks failing the deployment
with ECS's reason explained."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fluoride import Fluoride, ServiceSpec
from fluoride.errors import DeploymentFailed
from fluoride.local import Timing
from fluoride.service import Service

from .conftest import Recorder


@pytest.fixture(scope="module")
def local() -> Iterator[Fluoride]:
    fast = Timing(task_start=0.05, health_check=0.05, drain=0.05)
    with Fluoride.local(reporter=Recorder(), timing=fast) as fl:
        yield fl


def _created(local: Fluoride, name: str, spec: ServiceSpec) -> Service:
    svc = local.service(name)
    svc.create(spec)
    assert local.emulator is not None
    local.emulator.push_image(svc.outputs()["RepositoryName"], "v1")
    return svc


def test_secret_env_reaches_the_task_definition_and_reads_back(local: Fluoride) -> None:
    spec = ServiceSpec(secret_env={"DB_PASSWORD": "password", "API_KEY": "api_key"})
    svc = _created(local, "senv", spec)
    # The stack's secret starts with a generated "password" key; add the other one.
    svc.secret.put_json({**svc.secret.get_json(), "api_key": "k-123"})
    svc.deploy("v1")
    out = svc.outputs()
    arn = out["SecretArn"]
    ecs = svc.aws.client("ecs")
    (service,) = ecs.describe_services(cluster=out["ClusterName"],
                                       services=[out["EcsServiceName"]])["services"]
    td_arn = service["taskDefinition"]
    (container,) = ecs.describe_task_definition(taskDefinition=td_arn)["taskDefinition"][
        "containerDefinitions"]
    assert container["secrets"] == [
        {"name": "DB_PASSWORD", "valueFrom": f"{arn}:password::"},
        {"name": "API_KEY", "valueFrom": f"{arn}:api_key::"},
    ]
    assert svc.spec() == spec
    role = svc.aws.client("iam")  # type: ignore[call-overload]  # no IAM stubs installed
    execution = [r for r in role.list_roles()["Roles"]
                 if r["RoleName"].startswith(f"fluoride-{svc.name}-ExecutionRole")]
    (execution_role,) = execution
    assert role.list_role_policies(RoleName=execution_role["RoleName"])["PolicyNames"] == [
        "secret-env"]
    svc.delete(purge_data=True)


def test_a_key_the_secret_lacks_fails_the_deployment_and_says_so(local: Fluoride) -> None:
    svc = _created(local, "senv-missing", ServiceSpec(secret_env={"TOKEN": "token"}))
    with pytest.raises(DeploymentFailed) as info:
        svc.deploy("v1")
    text = str(info.value) + " ".join(info.value.reasons)
    assert "did not contain json key token" in text
    assert "secret_env" in text
    svc.delete(purge_data=True)
