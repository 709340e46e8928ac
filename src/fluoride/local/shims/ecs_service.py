"""ECS services keep their configuration, and their deployments progress.

moto 5.2.5 behaviour corrected:

* ``AWS::ECS::Service`` created by CloudFormation keeps only cluster, name, task
  definition and desired count: the FARGATE launch type (it becomes EC2), load balancers,
  network configuration, deployment configuration (circuit breaker, alarms), health
  check grace period, ECS Exec, tag propagation and tags are dropped;
* on update moto passes the task definition's *family*, and only when the service's own
  properties change; the model has no delete, so deleting the stack leaves the service;
* ``CreateService`` through the API drops the deployment configuration, grace period and
  ECS Exec flag;
* a service's deployment never progresses: one PRIMARY deployment whose counts are
  whatever ``MOTO_ECS_SERVICE_RUNNING`` says, no tasks, no new deployment on update.

With the shim the service keeps every property, ``UpdateService`` and CloudFormation
updates start deployments that progress in simulated time (see ``fluoride.local._ecs``),
and deleting the resource deletes the service and stops its tasks.
"""

from __future__ import annotations

import copy
import inspect
from typing import Any

from moto.core.utils import pascal_to_camelcase, remap_nested_keys
from moto.ecs.models import Cluster, EC2ContainerServiceBackend, Service, ecs_backends
from moto.ecs.responses import EC2ContainerServiceResponse

from fluoride.local import _ecs, _gateway
from fluoride.local._errors import tolerated
from fluoride.local.shims._model import Creation, as_bool, ecs_tags, patch_model
from fluoride.local.shims._patch import original, patch

__all__ = ["DEFAULT_DEPLOYMENT_CONFIGURATION", "apply_service_settings", "install"]

DEFAULT_DEPLOYMENT_CONFIGURATION: dict[str, Any] = {
    "deploymentCircuitBreaker": {"enable": False, "rollback": False},
    "maximumPercent": 200,
    "minimumHealthyPercent": 100,
}


def _deployment_configuration(value: dict[str, Any] | None) -> dict[str, Any]:
    config = copy.deepcopy(DEFAULT_DEPLOYMENT_CONFIGURATION)
    for key, item in (value or {}).items():
        config[key] = item
    cb = config.get("deploymentCircuitBreaker") or {}
    config["deploymentCircuitBreaker"] = {
        "enable": as_bool(cb.get("enable")), "rollback": as_bool(cb.get("rollback"))
    }
    for key in ("maximumPercent", "minimumHealthyPercent"):
        config[key] = int(config[key])
    if "alarms" in config:
        alarms = config["alarms"] or {}
        config["alarms"] = {
            "alarmNames": [str(n) for n in alarms.get("alarmNames") or []],
            "enable": as_bool(alarms.get("enable")),
            "rollback": as_bool(alarms.get("rollback")),
        }
    return config


def apply_service_settings(service: Any, settings: dict[str, Any]) -> None:
    """Set what moto drops on a service; ``settings`` uses the ECS API's camelCase names."""
    service.deployment_configuration = _deployment_configuration(
        settings.get("deploymentConfiguration")
        or getattr(service, "deployment_configuration", None)
    )
    if settings.get("healthCheckGracePeriodSeconds") is not None:
        service.health_check_grace_period_seconds = int(settings["healthCheckGracePeriodSeconds"])
    elif getattr(service, "health_check_grace_period_seconds", None) is None:
        service.health_check_grace_period_seconds = 0
    service.enable_execute_command = as_bool(
        settings.get("enableExecuteCommand", getattr(service, "enable_execute_command", False))
    )
    service.enable_ecs_managed_tags = as_bool(
        settings.get("enableECSManagedTags", getattr(service, "enable_ecs_managed_tags", False))
    )
    if service.launch_type == "FARGATE" and not service.platform_version:
        service.platform_version = "LATEST"


def _camel(properties: dict[str, Any]) -> dict[str, Any]:
    camel: dict[str, Any] = remap_nested_keys(properties, pascal_to_camelcase)
    if "desiredCount" in camel and camel["desiredCount"] is not None:
        camel["desiredCount"] = int(camel["desiredCount"])
    for lb in camel.get("loadBalancers") or []:
        if "containerPort" in lb:
            lb["containerPort"] = int(lb["containerPort"])
    if camel.get("tags"):
        camel["tags"] = ecs_tags(camel["tags"])
    return camel


def _name(value: Any) -> str:
    if isinstance(value, Cluster):
        return str(value.name)
    return str(value).split("/")[-1]


def _create(creation: Creation) -> Any:
    p = _camel(creation.properties)
    backend: Any = creation.backend(ecs_backends)
    return backend.create_service(
        _name(p.get("cluster", "default")),
        p.get("serviceName") or creation.resource_name,
        p.get("desiredCount", 1 if p.get("schedulingStrategy") != "DAEMON" else 0),
        task_definition_str=p.get("taskDefinition"),
        load_balancers=p.get("loadBalancers") or [],
        scheduling_strategy=p.get("schedulingStrategy"),
        tags=p.get("tags") or None,
        deployment_controller=p.get("deploymentController"),
        launch_type=p.get("launchType"),
        service_registries=p.get("serviceRegistries"),
        platform_version=p.get("platformVersion"),
        propagate_tags=p.get("propagateTags") or "NONE",
        network_configuration=p.get("networkConfiguration"),
        role_arn=p.get("role"),
        settings=p,
    )


def _update(service: Any, creation: Creation) -> Any:
    p = _camel(creation.properties)
    cluster = _name(p.get("cluster", "default"))
    name = p.get("serviceName") or service.name
    if cluster != service.cluster_name or name != service.name:
        return creation.replace(service, _create)
    props: dict[str, Any] = {
        "cluster": cluster,
        "service": service.name,
        "task_definition": p.get("taskDefinition"),
        "desired_count": p.get("desiredCount"),
        "network_configuration": p.get("networkConfiguration"),
        # absent from the template: none (a service moved behind a gateway leaves its ALB)
        "load_balancers": p.get("loadBalancers") or [],
        "platform_version": p.get("platformVersion"),
        "deployment_configuration": p.get("deploymentConfiguration"),
        "health_check_grace_period_seconds": p.get("healthCheckGracePeriodSeconds"),
        "enable_execute_command": p.get("enableExecuteCommand"),
        "enable_ecs_managed_tags": p.get("enableECSManagedTags"),
        "propagate_tags": p.get("propagateTags"),
        # absent from the template: the service has none (an API update leaves them alone)
        "gateway_connectors": p.get("gatewayConnectors") or [],
    }
    return creation.backend(ecs_backends).update_service(props)


def _delete(self: Any, account_id: str, region_name: str) -> None:
    # The cluster or the service may be gone already.
    with tolerated(f"deleting ECS service {self.name}"):
        ecs_backends[account_id][region_name].delete_service(
            self.cluster_name, self.name, force=True
        )


#: The gatewayConnectors of the CreateService request being answered (moto's response
#: does not pass them on to its backend).
_PENDING_CONNECTORS: dict[int, Any] = {}


def _backend_create_service(
    self: EC2ContainerServiceBackend, *args: Any, settings: dict[str, Any] | None = None,
    **kwargs: Any,
) -> Any:
    create = original(EC2ContainerServiceBackend, "create_service")
    raw = (settings or {}).get("gatewayConnectors", _PENDING_CONNECTORS.pop(id(self), None))
    connectors: list[dict[str, Any]] | None = None
    task_definition = None
    if raw is not None:  # checked before anything is created, as ECS does
        call = inspect.signature(create).bind(self, *args, **kwargs).arguments
        if call.get("task_definition_str"):
            task_definition = self.describe_task_definition(call["task_definition_str"])
        connectors = _gateway.validate_connectors(
            self, str(call.get("cluster_str") or "default"), task_definition,
            call.get("network_configuration"), raw)
    service = create(self, *args, **kwargs)
    if service.task_definition:
        service.task_definition = self.describe_task_definition(service.task_definition).arn
    apply_service_settings(service, settings or {})
    if connectors:
        _gateway.connect_service(self, service, connectors, task_definition)
    _ecs.on_service_created(self, service)
    return service


#: Properties whose change makes UpdateService start a new deployment.
_PLACEMENT = ("network_configuration", "load_balancers", "platform_version")


def _backend_update_service(self: EC2ContainerServiceBackend, properties: dict[str, Any]) -> Any:
    properties = dict(properties)
    cluster = properties.get("cluster", "default")
    service = self._get_service(cluster, str(properties["service"]).split("/")[-1])
    before = {key: copy.deepcopy(getattr(service, key, None)) for key in _PLACEMENT}
    desired_before = service.desired_count
    task_definition = properties.get("task_definition")
    if task_definition:
        properties["task_definition"] = self.describe_task_definition(task_definition).arn
    force = as_bool(properties.get("force_new_deployment"))
    raw_connectors = properties.pop("gateway_connectors", None)
    connectors: list[dict[str, Any]] | None = None
    if raw_connectors is not None:  # checked before anything changes
        connectors = _gateway.validate_connectors(
            self, cluster,
            self.describe_task_definition(str(task_definition or service.task_definition)),
            properties.get("network_configuration") or service.network_configuration,
            raw_connectors)
    connectors_before = _gateway.service_connectors(self, service)
    deployment_configuration = properties.pop("deployment_configuration", None)
    settings = {
        "deploymentConfiguration": deployment_configuration,
        "healthCheckGracePeriodSeconds": properties.pop("health_check_grace_period_seconds", None),
    }
    for key, camel in (("enable_execute_command", "enableExecuteCommand"),
                       ("enable_ecs_managed_tags", "enableECSManagedTags")):
        value = properties.pop(key, None)
        if value is not None:
            settings[camel] = value
    # moto copies every property onto the service; the simulation owns the task
    # definition and the counts, so keep them out of its way.
    desired = properties.get("desired_count")
    simulated = dict(properties)
    simulated.pop("task_definition", None)
    current_task_definition = service.task_definition
    result = original(EC2ContainerServiceBackend, "update_service")(self, simulated)
    result.task_definition = current_task_definition
    if desired is None:
        result.desired_count = desired_before
    apply_service_settings(result, settings)
    changed = any(getattr(result, key, None) != before[key] for key in _PLACEMENT
                  if properties.get(key) is not None)
    if connectors is not None and connectors != connectors_before:
        _gateway.connect_service(
            self, result, connectors,
            self.describe_task_definition(str(properties.get("task_definition")
                                              or current_task_definition)))
        changed = True
    _ecs.on_service_updated(
        result,
        task_definition=properties.get("task_definition"),
        desired_count=None if desired is None else int(desired),
        force_new_deployment=force,
        configuration_changed=changed,
    )
    return result


def _backend_delete_service(
    self: EC2ContainerServiceBackend, cluster_name: str, service_name: str, force: bool
) -> Any:
    service = original(EC2ContainerServiceBackend, "delete_service")(
        self, cluster_name, service_name, force
    )
    _gateway.disconnect_service(self, service)
    _ecs.on_service_deleted(service)
    return service


def _response_create_service(self: Any) -> Any:
    connectors = self._get_param("gatewayConnectors")
    if connectors is not None:
        _PENDING_CONNECTORS[id(self.ecs_backend)] = connectors
    try:
        result = original(EC2ContainerServiceResponse, "create_service")(self)
    finally:
        _PENDING_CONNECTORS.pop(id(self.ecs_backend), None)
    service = result.result["service"]
    settings = {
        key: self._get_param(key)
        for key in ("deploymentConfiguration", "healthCheckGracePeriodSeconds",
                    "enableExecuteCommand", "enableECSManagedTags")
        if self._get_param(key) is not None
    }
    apply_service_settings(service, settings)
    return result


def install() -> None:
    patch_model(Service, create=_create, update=_update, delete=_delete)
    patch(EC2ContainerServiceBackend, "create_service", _backend_create_service)
    patch(EC2ContainerServiceBackend, "update_service", _backend_update_service)
    patch(EC2ContainerServiceBackend, "delete_service", _backend_delete_service)
    patch(EC2ContainerServiceResponse, "create_service", _response_create_service)
