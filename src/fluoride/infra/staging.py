"""Templates too large to send inline go through a staging bucket (``TemplateURL``).

CloudFormation takes at most :data:`~fluoride.names.MAX_INLINE_TEMPLATE` bytes of template
in the request; through S3 it takes up to :data:`MAX_STAGED_TEMPLATE`. When a rendered
template (a large environment, the strict profile, sidecars) is over the inline limit,
Fluoride puts it in one bucket per account and region, ``fluoride-templates-<account>-
<region>``, made on first need and kept locked down:

- every public access blocked, objects owned by the bucket owner (no ACLs);
- encrypted at rest (SSE-S3), and a policy that refuses any request not sent over TLS;
- objects expire after one day (CloudFormation reads the template once, when the change
  set is made; the stack keeps its own copy);
- every call names the expected owner, so a bucket of that name in another account is
  refused rather than written to (``ExpectedBucketOwner``).

The object's key is the template's SHA-256, so the same template is one object, and a
repeat after a lost answer writes the same bytes again.
"""

from __future__ import annotations

import hashlib
import json
from typing import Final

import attrs
import botocore.exceptions

from fluoride.aws import Aws, client_error_code, translate
from fluoride.errors import AwsError

#: CloudFormation's limit for a template read from S3.
MAX_STAGED_TEMPLATE: Final = 1_000_000
#: Days a staged template is kept.
STAGED_DAYS: Final = 1


def staging_bucket_name(account: str, region: str) -> str:
    """The staging bucket of ``account`` in ``region`` (at most 46 characters)."""
    return f"fluoride-templates-{account}-{region}"


def template_key(body: str) -> str:
    """The object key of a template: its SHA-256, so equal templates share one object."""
    return f"templates/{hashlib.sha256(body.encode()).hexdigest()}.template"


def template_url(bucket: str, region: str, key: str) -> str:
    """The virtual-hosted-style URL CloudFormation reads ``key`` from."""
    return f"https://{bucket}.s3.{region}.amazonaws.com/{key}"


def tls_only_policy(bucket: str) -> str:
    """The bucket policy: refuse every request not made over TLS."""
    arn = f"arn:aws:s3:::{bucket}"
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "TlsOnly",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [arn, f"{arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }],
    })


@attrs.define
class StagingBucket:
    """The staging bucket of the account and region ``aws`` is for."""

    aws: Aws
    _account: str | None = attrs.field(default=None, alias="account")

    @property
    def account(self) -> str:
        if self._account is None:
            self._account = self.aws.caller_arn().split(":")[4]
        return self._account

    @property
    def name(self) -> str:
        return staging_bucket_name(self.account, self.aws.region)

    def stage(self, body: str) -> str:
        """Put ``body`` in the bucket (made first when missing); returns its URL."""
        size = len(body.encode())
        if size > MAX_STAGED_TEMPLATE:
            raise AwsError(
                f"The rendered template is {size} bytes, over CloudFormation's limit of "
                f"{MAX_STAGED_TEMPLATE} for a template read from S3.",
                hint="Shorten the environment variables or the sidecars in the spec.",
            )
        s3 = self.aws.client("s3")
        bucket, account = self.name, self.account
        self._ensure()
        key = template_key(body)
        with translate("PutObject", bucket):
            s3.put_object(Bucket=bucket, Key=key, Body=body.encode(),
                          ContentType="text/plain", ExpectedBucketOwner=account)
        return template_url(bucket, self.aws.region, key)

    def _ensure(self) -> None:
        s3 = self.aws.client("s3")
        bucket, account, region = self.name, self.account, self.aws.region
        try:
            s3.head_bucket(Bucket=bucket, ExpectedBucketOwner=account)
            return
        except botocore.exceptions.ClientError as exc:
            code = client_error_code(exc)
            if code in ("403", "AccessDenied", "Forbidden"):
                raise AwsError(
                    f"The staging bucket {bucket} exists but is not this account's "
                    f"({account}), or this identity may not read it.",
                    code=code, operation="HeadBucket", resource=bucket,
                    hint="Allow s3:ListBucket on it, or remove the other account's bucket. "
                    "It holds templates over 51,200 bytes while CloudFormation reads them.",
                ) from exc
            if code not in ("404", "NoSuchBucket", "NotFound"):
                with translate("HeadBucket", bucket):
                    raise
        with translate("CreateBucket", bucket):
            try:
                if region == "us-east-1":
                    s3.create_bucket(Bucket=bucket, ObjectOwnership="BucketOwnerEnforced")
                else:
                    s3.create_bucket(
                        Bucket=bucket, ObjectOwnership="BucketOwnerEnforced",
                        CreateBucketConfiguration={"LocationConstraint": region},  # type: ignore[typeddict-item]  # any region name; the stubs list a fixed set
                    )
            except botocore.exceptions.ClientError as exc:
                # Another client made it a moment ago: fine, it is ours.
                if client_error_code(exc) != "BucketAlreadyOwnedByYou":
                    raise
        with translate("PutPublicAccessBlock", bucket):
            s3.put_public_access_block(
                Bucket=bucket, ExpectedBucketOwner=account,
                PublicAccessBlockConfiguration={
                    "BlockPublicAcls": True, "IgnorePublicAcls": True,
                    "BlockPublicPolicy": True, "RestrictPublicBuckets": True,
                },
            )
        with translate("PutBucketEncryption", bucket):
            s3.put_bucket_encryption(
                Bucket=bucket, ExpectedBucketOwner=account,
                ServerSideEncryptionConfiguration={"Rules": [{
                    "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                }]},
            )
        with translate("PutBucketLifecycleConfiguration", bucket):
            s3.put_bucket_lifecycle_configuration(
                Bucket=bucket, ExpectedBucketOwner=account,
                LifecycleConfiguration={"Rules": [{
                    "ID": "expire-staged-templates",
                    "Status": "Enabled",
                    "Filter": {"Prefix": "templates/"},
                    "Expiration": {"Days": STAGED_DAYS},
                    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
                }]},
            )
        with translate("PutBucketPolicy", bucket):
            s3.put_bucket_policy(Bucket=bucket, Policy=tls_only_policy(bucket),
                                 ExpectedBucketOwner=account)
