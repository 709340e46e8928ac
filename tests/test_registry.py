"""The registry layer: image references, tag and digest resolution, newest image, login."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from botocore.stub import Stubber

from fluoride.aws import Aws
from fluoride.errors import ImageNotFound
from fluoride.registry import ImageReference, Registry, parse_reference

ACCOUNT = "123456789012"
URI = f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/fluoride/web"
D1 = "sha256:" + "a" * 64
D2 = "sha256:" + "b" * 64
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("nginx", ImageReference(None, "nginx")),
        ("nginx:1.25", ImageReference(None, "nginx", "1.25")),
        ("library/nginx:1.25", ImageReference(None, "library/nginx", "1.25")),
        ("ghcr.io/org/app:v1", ImageReference("ghcr.io", "org/app", "v1")),
        ("localhost:5000/app", ImageReference("localhost:5000", "app")),
        ("localhost/app:v2", ImageReference("localhost", "app", "v2")),
        (f"{URI}:v2", ImageReference(URI.split("/")[0], "fluoride/web", "v2")),
        (f"{URI}@{D1}", ImageReference(URI.split("/")[0], "fluoride/web", None, D1)),
        (f"{URI}:v2@{D1}", ImageReference(URI.split("/")[0], "fluoride/web", "v2", D1)),
    ],
)
def test_parse_reference(text: str, expected: ImageReference) -> None:
    assert parse_reference(text) == expected
    assert str(parse_reference(text)) == text


@pytest.mark.parametrize("text", ["", "app:", "app@sha256:short", "app@md5:" + "a" * 32])
def test_malformed_references(text: str) -> None:
    with pytest.raises(ImageNotFound):
        parse_reference(text)


@pytest.fixture
def registry(stub_aws: Aws) -> Registry:
    return Registry(stub_aws, "fluoride/web", URI)


def _details(digest: str, tags: list[str], pushed: dt.datetime) -> dict[str, object]:
    return {"repositoryName": "fluoride/web", "imageDigest": digest, "imageTags": tags,
            "imagePushedAt": pushed, "imageSizeInBytes": 1234}


def test_newest_is_the_last_pushed_across_pages(registry: Registry, stub_aws: Aws) -> None:
    with Stubber(stub_aws.client("ecr")) as ecr:
        ecr.add_response("describe_images", {
            "imageDetails": [_details(D1, ["v1"], T0)], "nextToken": "t"},
            {"repositoryName": "fluoride/web"})
        ecr.add_response("describe_images", {
            "imageDetails": [_details(D2, ["v2", "latest"], T0 + dt.timedelta(hours=1))]},
            {"repositoryName": "fluoride/web", "nextToken": "t"})
        resolved = registry.resolve(None)
    assert resolved.reference == f"{URI}@{D2}"
    assert resolved.digest == D2
    assert resolved.tags == ("v2", "latest")


def test_an_empty_repository_says_how_to_push(registry: Registry, stub_aws: Aws) -> None:
    with Stubber(stub_aws.client("ecr")) as ecr:
        ecr.add_response("describe_images", {"imageDetails": []})
        with pytest.raises(ImageNotFound, match="no images yet") as err:
            registry.resolve(None)
    assert "fluoride push" in (err.value.hint or "")


def test_a_tag_resolves_to_its_digest(registry: Registry, stub_aws: Aws) -> None:
    with Stubber(stub_aws.client("ecr")) as ecr:
        ecr.add_response("describe_images", {"imageDetails": [_details(D1, ["v1"], T0)]},
                         {"repositoryName": "fluoride/web", "imageIds": [{"imageTag": "v1"}]})
        assert registry.resolve("v1").reference == f"{URI}@{D1}"


def test_a_missing_tag_is_image_not_found(registry: Registry, stub_aws: Aws) -> None:
    with Stubber(stub_aws.client("ecr")) as ecr:
        ecr.add_client_error("describe_images", "ImageNotFoundException", "not found")
        with pytest.raises(ImageNotFound, match=r"fluoride/web:nope") as err:
            registry.resolve("nope")
    assert err.value.code == "ImageNotFoundException"


def test_a_digest_is_checked_in_the_repository(registry: Registry, stub_aws: Aws) -> None:
    with Stubber(stub_aws.client("ecr")) as ecr:
        ecr.add_response("describe_images", {"imageDetails": [_details(D1, ["v1"], T0)]},
                         {"repositoryName": "fluoride/web", "imageIds": [{"imageDigest": D1}]})
        assert registry.resolve(D1).tags == ("v1",)


def test_a_full_reference_to_our_repository_is_resolved(
    registry: Registry, stub_aws: Aws
) -> None:
    with Stubber(stub_aws.client("ecr")) as ecr:
        ecr.add_response("describe_images", {"imageDetails": [_details(D1, ["latest"], T0)]},
                         {"repositoryName": "fluoride/web",
                          "imageIds": [{"imageTag": "latest"}]})
        assert registry.resolve(URI).reference == f"{URI}@{D1}"


def test_another_ecr_repository_in_the_region_is_resolved(
    registry: Registry, stub_aws: Aws
) -> None:
    other = "210987654321.dkr.ecr.eu-west-1.amazonaws.com/team/base"
    with Stubber(stub_aws.client("ecr")) as ecr:
        ecr.add_response("describe_images", {"imageDetails": [_details(D2, ["v9"], T0)]},
                         {"repositoryName": "team/base", "registryId": "210987654321",
                          "imageIds": [{"imageTag": "v9"}]})
        assert registry.resolve(f"{other}:v9").reference == f"{other}@{D2}"


@pytest.mark.parametrize(
    ("given", "digest"),
    [
        ("ghcr.io/org/app:v1", None),
        ("nginx:1.25", None),
        (f"ghcr.io/org/app@{D1}", D1),
        ("999999999999.dkr.ecr.us-east-1.amazonaws.com/app:v1", None),  # another region
    ],
)
def test_other_registries_are_taken_as_given(
    registry: Registry, stub_aws: Aws, given: str, digest: str | None
) -> None:
    with Stubber(stub_aws.client("ecr")):  # no call may be made
        resolved = registry.resolve(given)
    assert (resolved.reference, resolved.digest) == (given, digest)


def test_login_decodes_the_token(registry: Registry, stub_aws: Aws) -> None:
    token = base64.b64encode(b"AWS:s3cret").decode()
    with Stubber(stub_aws.client("ecr")) as ecr:
        ecr.add_response("get_authorization_token", {"authorizationData": [{
            "authorizationToken": token, "proxyEndpoint": f"https://{URI.split('/')[0]}"}]})
        login = registry.login()
    assert (login.registry, login.username, login.password) == (URI.split("/")[0], "AWS",
                                                                  "s3cret")
    assert "s3cret" not in repr(login)
