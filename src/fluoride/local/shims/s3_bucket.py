"""CloudFormation applies an S3 bucket's versioning, public access block, ownership,
lifecycle, bucket key, server access logging and EventBridge notifications.

moto 5.2.5 behaviour corrected: ``AWS::S3::Bucket`` created (or updated) by
CloudFormation keeps only its encryption (without ``BucketKeyEnabled``) and tags;
``VersioningConfiguration``, ``PublicAccessBlockConfiguration``, ``OwnershipControls``,
``LifecycleConfiguration``, ``LoggingConfiguration`` and ``NotificationConfiguration``
are dropped, so ``GetBucketVersioning`` says the data bucket is unversioned and
``GetPublicAccessBlock`` finds no configuration.

With the shim those are put on the bucket in moto's S3 backend (lifecycle rules
translated from CloudFormation's shape to the API's).
"""

from __future__ import annotations

from typing import Any

from moto.s3.models import FakeBucket, s3_backends
from moto.utilities.utils import get_partition

from fluoride.local.shims._model import Creation, as_bool, patch_model

__all__ = ["install", "lifecycle_rules"]


def lifecycle_rules(configuration: dict[str, Any]) -> list[dict[str, Any]]:
    """CloudFormation ``LifecycleConfiguration`` rules in the S3 API's (XML) shape."""
    rules = []
    for rule in configuration.get("Rules", []):
        if not rule:  # what an Fn::If to AWS::NoValue leaves (CloudFormation drops it)
            continue
        api: dict[str, Any] = {"Status": rule.get("Status", "Enabled")}
        if "Id" in rule:
            api["ID"] = rule["Id"]
        prefix = rule.get("Prefix")
        api["Filter"] = {"Prefix": prefix or ""}
        if "ExpirationInDays" in rule:
            api["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
        transitions = list(rule.get("Transitions", []))
        if "Transition" in rule:
            transitions.append(rule["Transition"])
        if transitions:
            api["Transition"] = [
                {"Days": int(t.get("TransitionInDays", 0)), "StorageClass": t["StorageClass"]}
                for t in transitions
            ]
        if "NoncurrentVersionExpiration" in rule:
            days = rule["NoncurrentVersionExpiration"].get("NoncurrentDays")
            api["NoncurrentVersionExpiration"] = {"NoncurrentDays": int(days)}
        elif "NoncurrentVersionExpirationInDays" in rule:
            api["NoncurrentVersionExpiration"] = {
                "NoncurrentDays": int(rule["NoncurrentVersionExpirationInDays"])}
        if "AbortIncompleteMultipartUpload" in rule:
            days = rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"]
            api["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": int(days)}
        rules.append(api)
    return rules


def _apply(bucket: Any, creation: Creation) -> Any:
    """Put the four configurations moto drops on ``bucket``; return it."""
    bucket_name = bucket.name
    properties = creation.properties
    # Any: moto annotates put_bucket_ownership_controls with a dict but stores the string.
    backend: Any = s3_backends[creation.account_id][get_partition(creation.region_name)]
    versioning = properties.get("VersioningConfiguration")
    if versioning:
        backend.put_bucket_versioning(bucket_name, versioning.get("Status", "Enabled"))
    block = properties.get("PublicAccessBlockConfiguration")
    if block:
        backend.put_public_access_block(bucket_name, {
            key: as_bool(block.get(key)) for key in (
                "BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
        })
    ownership = properties.get("OwnershipControls")
    if ownership:
        rules = [str(r["ObjectOwnership"]) for r in ownership.get("Rules", [])]
        if rules:  # moto keeps the ObjectOwnership value itself, as its API handler does
            backend.put_bucket_ownership_controls(bucket_name, rules[0])
    lifecycle = properties.get("LifecycleConfiguration")
    if lifecycle:
        backend.put_bucket_lifecycle_configuration(bucket_name, lifecycle_rules(lifecycle))
    sse: Any = (properties.get("BucketEncryption") or {}).get("ServerSideEncryptionConfiguration")
    if sse and bucket.encryption and as_bool(sse[0].get("BucketKeyEnabled")):
        bucket.encryption["Rule"]["BucketKeyEnabled"] = True
    logging = properties.get("LoggingConfiguration")
    if logging and logging.get("DestinationBucketName"):
        # Set as is: the template orders the bucket after the log bucket's policy
        # (DependsOn), which moto does not honour when a Ref creates the bucket first, so
        # moto's check of that policy would see none yet.
        bucket.logging = {"TargetBucket": logging["DestinationBucketName"],
                          "TargetPrefix": logging.get("LogFilePrefix", "")}
    notification = properties.get("NotificationConfiguration") or {}
    if as_bool((notification.get("EventBridgeConfiguration") or {}).get("EventBridgeEnabled")):
        backend.put_bucket_notification_configuration(
            bucket_name, {"EventBridgeConfiguration": {}})
    return bucket


def _create(creation: Creation) -> Any:
    return _apply(creation.moto_create(FakeBucket), creation)


def _update(bucket: Any, creation: Creation) -> Any:
    return _apply(creation.moto_update(FakeBucket, bucket), creation)


def install() -> None:
    patch_model(FakeBucket, create=_create, update=_update)
