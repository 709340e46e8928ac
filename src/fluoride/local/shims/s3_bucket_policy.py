"""CloudFormation creates ``AWS::S3::BucketPolicy``; a TLS-only policy lets TLS callers in.

moto 5.2.5 behaviour corrected:

* its CloudFormation has no model for ``AWS::S3::BucketPolicy``; the resource is skipped
  with a warning and the bucket keeps no policy;
* moto enforces bucket policies, but a statement whose ``Condition`` does not hold counts
  as an explicit deny (whatever its effect), and no request carries
  ``aws:SecureTransport``. So the usual TLS-only statement (``Deny`` when
  ``aws:SecureTransport`` is ``false``) denies every object request: ``PutObject`` answers
  403 ``Forbidden``.

With the shim the policy is put on the bucket in moto's S3 backend (``get_bucket_policy``
shows it). Policy checks treat every request as arriving over TLS, as requests to AWS do
(the emulator's plain-HTTP endpoint stands for AWS's HTTPS one): a statement whose
conditions are all ``Bool aws:SecureTransport`` is evaluated against ``true``, and other
conditional statements are not enforced.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from moto.s3.models import FakeBucket, s3_backends
from moto.utilities.utils import get_partition

from fluoride.local._errors import tolerated
from fluoride.local.shims._model import Creation, ShimResource
from fluoride.local.shims._patch import patch, register_model

__all__ = ["BucketPolicyResource", "install", "statements_in_force"]


class BucketPolicyResource(ShimResource):
    TYPE: ClassVar[str] = "AWS::S3::BucketPolicy"

    @classmethod
    def create(cls, creation: Creation) -> BucketPolicyResource:
        p = creation.properties
        bucket = str(p["Bucket"])
        document = p["PolicyDocument"]
        if isinstance(document, dict) and isinstance(document.get("Statement"), list):
            # an Fn::If to AWS::NoValue leaves None in the list; CloudFormation drops it
            document = {**document, "Statement": [st for st in document["Statement"] if st]}
        text = document if isinstance(document, str) else json.dumps(document)
        s3_backends[creation.account_id][get_partition(creation.region_name)].put_bucket_policy(
            bucket, text.encode()
        )
        return cls(creation.resource_name, bucket=bucket)

    def delete(self, account_id: str, region_name: str) -> None:
        # The bucket may have gone first: nothing to remove then.
        with tolerated(f"deleting the policy of bucket {self.attributes['bucket']}"):
            s3_backends[account_id][get_partition(region_name)].delete_bucket_policy(
                self.attributes["bucket"]
            )


def _holds_over_tls(condition: dict[str, Any]) -> bool | None:
    """Whether a condition block holds for a TLS request; ``None`` if not decidable here."""
    if set(condition) != {"Bool"}:
        return None
    keys = condition["Bool"]
    if set(keys) != {"aws:SecureTransport"}:
        return None
    value = keys["aws:SecureTransport"]
    values = value if isinstance(value, list) else [value]
    return any(str(v).lower() == "true" for v in values)


def statements_in_force(policy: dict[str, Any]) -> list[dict[str, Any]]:
    """The statements of a bucket policy that apply to a request over TLS (see module doc)."""
    statements = policy.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    in_force = []
    for statement in statements:
        condition = statement.get("Condition")
        if not condition:
            in_force.append(statement)
        elif _holds_over_tls(condition):
            in_force.append({k: v for k, v in statement.items() if k != "Condition"})
    return in_force


def _get_permission(self: Any, action: str, resource: str) -> Any:
    from moto.iam.access_control import IAMPolicy, PermissionResult

    if self.policy is None:
        return PermissionResult.NEUTRAL
    policy = json.loads(self.policy.decode())
    statements = statements_in_force(policy)
    if not statements:
        return PermissionResult.NEUTRAL
    document = json.dumps({"Version": policy.get("Version", "2012-10-17"),
                           "Statement": statements})
    return IAMPolicy(document).is_action_permitted(action, resource)


def install() -> None:
    register_model(BucketPolicyResource)
    patch(FakeBucket, "get_permission", _get_permission)
