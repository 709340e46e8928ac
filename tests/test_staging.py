"""Templates over CloudFormation's inline limit go through the staging bucket."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.stub import Stubber

from fluoride import Fluoride, ServiceSpec
from fluoride.aws import Aws
from fluoride.errors import AwsError
from fluoride.infra import stack as stack_module
from fluoride.infra.stack import Stack, template_source
from fluoride.infra.staging import (
    MAX_STAGED_TEMPLATE,
    StagingBucket,
    staging_bucket_name,
    template_key,
    template_url,
    tls_only_policy,
)
from fluoride.names import MAX_INLINE_TEMPLATE

from .conftest import Recorder

ACCOUNT = "123456789012"


def _padded_template(size: int) -> str:
    """A template of one SNS topic, padded past ``size`` bytes with a long description."""
    body = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "padding",
        "Metadata": {"Padding": "x" * size},
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {"TopicArn": {"Value": {"Ref": "Topic"}}},
    }
    return json.dumps(body)


@pytest.fixture(scope="module")
def local() -> Iterator[Fluoride]:
    with Fluoride.local() as fl:
        yield fl


# -- pure parts ---------------------------------------------------------------------------

@pytest.mark.parametrize(("account", "region", "name"), [
    ("123456789012", "us-east-1", "fluoride-templates-123456789012-us-east-1"),
    ("000000000000", "ap-southeast-2", "fluoride-templates-000000000000-ap-southeast-2"),
])
def test_bucket_name_is_per_account_and_region(account: str, region: str, name: str) -> None:
    assert staging_bucket_name(account, region) == name
    assert len(name) <= 63  # S3's limit for a bucket name


def test_equal_templates_share_a_key_and_different_ones_do_not() -> None:
    assert template_key("a") == template_key("a")
    assert template_key("a") != template_key("b")
    assert template_key("a").startswith("templates/")


def test_url_is_virtual_hosted_style() -> None:
    assert template_url("b", "eu-west-1", "templates/k") == (
        "https://b.s3.eu-west-1.amazonaws.com/templates/k")


def test_policy_refuses_requests_without_tls() -> None:
    (statement,) = json.loads(tls_only_policy("b"))["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert set(statement["Resource"]) == {"arn:aws:s3:::b", "arn:aws:s3:::b/*"}


# -- the choice between inline and staged -------------------------------------------------

def test_a_template_that_fits_goes_inline_with_no_call(stub_aws: Aws) -> None:
    body = _padded_template(MAX_INLINE_TEMPLATE - 300)
    assert len(body.encode()) <= MAX_INLINE_TEMPLATE
    with Stubber(stub_aws.client("s3")), Stubber(stub_aws.client("sts")):
        assert template_source(stub_aws, body) == {"TemplateBody": body}


def test_over_a_megabyte_is_refused_before_any_call(stub_aws: Aws) -> None:
    body = _padded_template(MAX_STAGED_TEMPLATE)
    bucket = StagingBucket(stub_aws, account=ACCOUNT)
    with Stubber(stub_aws.client("s3")), pytest.raises(AwsError, match="1000000"):
        bucket.stage(body)


def test_a_bucket_of_that_name_in_another_account_is_refused(stub_aws: Aws) -> None:
    bucket = StagingBucket(stub_aws, account=ACCOUNT)
    with Stubber(stub_aws.client("s3")) as s3:
        s3.add_client_error("head_bucket", "403", http_status_code=403)
        with pytest.raises(AwsError, match="not this account's") as caught:
            bucket.stage("{}" + " " * MAX_INLINE_TEMPLATE)
    assert caught.value.resource == staging_bucket_name(ACCOUNT, "eu-west-1")
    assert "put_object" not in str(caught.value)


# -- on the emulator ----------------------------------------------------------------------

def _bucket_settings(fl: Fluoride, name: str) -> dict[str, Any]:
    s3 = fl.aws.client("s3")
    return {
        "block": s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"],
        "sse": s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"],
        "lifecycle": s3.get_bucket_lifecycle_configuration(Bucket=name)["Rules"],
        "policy": json.loads(s3.get_bucket_policy(Bucket=name)["Policy"]),
    }


def test_an_oversized_stack_is_created_through_a_locked_down_bucket(
    local: Fluoride, recorder: Recorder
) -> None:
    body = _padded_template(MAX_INLINE_TEMPLATE + 1000)
    info = Stack(local.aws, "staged-one").create(
        template_body=body, parameters={}, tags={}, reporter=recorder)
    assert info.status == "CREATE_COMPLETE"
    cfn = local.aws.client("cloudformation")
    sent = cfn.get_template(StackName="staged-one")["TemplateBody"]  # botocore decodes JSON
    assert (json.loads(sent) if isinstance(sent, str) else dict(sent)) == json.loads(body)

    account = local.aws.caller_arn().split(":")[4]
    name = staging_bucket_name(account, local.aws.region)
    settings = _bucket_settings(local, name)
    assert all(settings["block"].values())
    (rule,) = settings["sse"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert settings["lifecycle"][0]["Expiration"] == {"Days": 1}
    assert settings["policy"]["Statement"][0]["Condition"] == {
        "Bool": {"aws:SecureTransport": "false"}}
    s3 = local.aws.client("s3")
    assert s3.get_object(Bucket=name, Key=template_key(body))["Body"].read() == body.encode()

    # A second oversized stack reuses the bucket.
    other = _padded_template(MAX_INLINE_TEMPLATE + 2000)
    assert Stack(local.aws, "staged-two").create(
        template_body=other, parameters={}, tags={}, reporter=recorder,
    ).status == "CREATE_COMPLETE"
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=name)["Contents"]}
    assert keys == {template_key(body), template_key(other)}


def test_a_service_whose_template_is_staged_creates_deploys_and_updates(
    local: Fluoride, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The default template fits inline; a lower limit sends it the staged way, end to end.
    monkeypatch.setattr(stack_module, "MAX_INLINE_TEMPLATE", 10_000)
    svc = local.service("staged")
    svc.create(ServiceSpec())
    local.emulator.push_image("fluoride/staged", "v1")  # type: ignore[union-attr]  # local() has one
    assert "v1" in svc.deploy("v1").tags
    svc.update(ServiceSpec(cpu=512, memory=1024))
    assert svc.spec().cpu == 512
    account = local.aws.caller_arn().split(":")[4]
    s3 = local.aws.client("s3")
    staged = s3.list_objects_v2(Bucket=staging_bucket_name(account, local.aws.region))
    assert len(staged["Contents"]) >= 2  # the create's template and the update's
