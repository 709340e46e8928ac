"""The registry layer: image references, tag and digest resolution, newest image, login,
and pushing through a container engine (a fake one on PATH: no daemon runs here)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber

from fluoride.aws import Aws
from fluoride.errors import (
    ImageNotFound,
    ImageTagExists,
    InvalidInput,
    NoContainerEngine,
    PushFailed,
    hints_for,
)
from fluoride.releases.containers import find_engine, push_image
from fluoride.releases.reference import image_problems
from fluoride.releases.registry import ImageReference, Registry, parse_reference

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


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "is empty"),
        ("app:", "invalid tag"),
        ("app@sha256:short", "malformed digest"),
        ("app@md5:" + "a" * 32, "malformed digest"),
        ("UPPER:Case", "uppercase letters in the repository 'UPPER'"),
        ("not an image!!", "contains a space"),
        ("ghcr.io/org/app:-v1", "invalid tag '-v1'"),
        ("bad_host.io:x/app", "invalid registry host"),
        ("a//b", "invalid repository"),
    ],
)
def test_malformed_references(text: str, why: str) -> None:
    with pytest.raises(InvalidInput, match="is not an image reference") as err:
        parse_reference(text)
    assert why in err.value.errors[0].problem
    assert err.value.errors[0].field == "image"


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
    assert "svc.push(local_image)" in (err.value.hint or "")  # in Python, the SDK call


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
    ],
)
def test_other_registries_are_taken_as_given(
    registry: Registry, stub_aws: Aws, given: str, digest: str | None
) -> None:
    with Stubber(stub_aws.client("ecr")):  # no call may be made
        resolved = registry.resolve(given)
    assert (resolved.reference, resolved.digest) == (given, digest)


def test_an_ecr_image_in_another_region_is_refused_without_a_call(
    registry: Registry, stub_aws: Aws
) -> None:
    given = "999999999999.dkr.ecr.us-east-1.amazonaws.com/app:v1"
    with Stubber(stub_aws.client("ecr")), pytest.raises(InvalidInput) as err:  # no call
        registry.resolve(given)
    (problem,) = err.value.errors
    assert problem.field == "image"
    assert "us-east-1" in problem.problem
    assert "eu-west-1" in (problem.allowed or "")


@pytest.mark.parametrize("given", ["fluoride/web:v1", "fluoride/web"])
def test_a_fluoride_repository_without_registry_is_ours_not_docker_hubs(
    registry: Registry, stub_aws: Aws, given: str
) -> None:
    tag = given.partition(":")[2] or "latest"
    with Stubber(stub_aws.client("ecr")) as ecr:
        ecr.add_response("describe_images", {"imageDetails": [_details(D1, [tag], T0)]},
                         {"repositoryName": "fluoride/web", "imageIds": [{"imageTag": tag}]})
        assert registry.resolve(given).reference == f"{URI}@{D1}"


def test_another_fluoride_repository_is_looked_up_in_this_account(
    registry: Registry, stub_aws: Aws
) -> None:
    with Stubber(stub_aws.client("ecr")) as ecr:
        ecr.add_response("describe_images", {"imageDetails": [_details(D2, ["v3"], T0)]},
                         {"repositoryName": "fluoride/api", "imageIds": [{"imageTag": "v3"}]})
        resolved = registry.resolve("fluoride/api:v3")
    assert resolved.reference == f"{URI.rsplit('/', 2)[0]}/fluoride/api@{D2}"


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (None, None),
        ("v2", None),
        ("V2", None),  # a tag may have capitals; a repository may not
        (D1, None),
        ("nginx:1.25", None),
        ("fluoride/probe:v1", None),
        (f"{URI}@{D1}", None),
        ("123456789012.dkr.ecr.eu-west-1.amazonaws.com/x:v1", None),
        ("", "is empty"),
        ("   ", "is empty"),
        ("sha256:xyz", "is not a digest"),
        ("sha256:" + "A" * 64, "is not a digest"),
        ("UPPER:Case", "uppercase letters"),
        ("not an image!!", "contains a space"),
        ("v2!", "is not a valid tag"),
        ("-v2", "is not a valid tag"),
        ("x" * 129, "is not a valid tag"),
        ("app:", "invalid tag"),
        ("app@sha256:1", "malformed digest"),
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com/x:v1", "is in ECR in us-east-1"),
        (123, "must be a string or None, got 123"),
        (b"v2", "must be a string or None"),
    ],
)
def test_image_problems(value: object, problem: str | None) -> None:
    found = image_problems(value, region="eu-west-1")
    if problem is None:
        assert found == []
    else:
        (error,) = found
        assert (error.field, problem in error.problem, bool(error.allowed)) == (
            "image", True, True)


def test_login_decodes_the_token(registry: Registry, stub_aws: Aws) -> None:
    token = base64.b64encode(b"AWS:s3cret").decode()
    with Stubber(stub_aws.client("ecr")) as ecr:
        ecr.add_response("get_authorization_token", {"authorizationData": [{
            "authorizationToken": token, "proxyEndpoint": f"https://{URI.split('/')[0]}"}]})
        login = registry.login()
    assert (login.registry, login.username, login.password) == (URI.split("/")[0], "AWS",
                                                                  "s3cret")
    assert "s3cret" not in repr(login)


# -- push through a container engine ----------------------------------------------------------

FAKE_ENGINE = """#!{python}
import json, os, sys
stdin = sys.stdin.read() if "--password-stdin" in sys.argv else None
with open({log!r}, "a") as log:
    log.write(json.dumps({{"engine": os.path.basename(sys.argv[0]), "argv": sys.argv[1:],
                          "stdin": stdin}}) + "\\n")
if os.environ.get("FAKE_FAIL") == sys.argv[1]:
    print("Error response from daemon: it went wrong", file=sys.stderr)
    sys.exit(3)
if sys.argv[1] == "push" and os.environ.get("FAKE_REFUSE"):
    print("tag invalid: The image tag 'v2' already exists in the 'fluoride/web' repository "
          "and cannot be overwritten because the repository is immutable.", file=sys.stderr)
    sys.exit(1)
if sys.argv[1] == "push" and os.environ.get("FAKE_DIGEST"):
    print("The push refers to repository [" + sys.argv[2] + "]")
    print("v2: digest: " + os.environ["FAKE_DIGEST"] + " size: 1573")
"""


def make_engines(tmp_path: Path, *names: str) -> tuple[str, Path]:
    """Fake engines in a directory of their own; returns (PATH, log file)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    log = tmp_path / "calls.jsonl"
    for name in names:
        script = bin_dir / name
        script.write_text(FAKE_ENGINE.format(python=sys.executable, log=str(log)))
        script.chmod(0o755)
    return str(bin_dir), log


def calls(log: Path) -> list[dict[str, Any]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines()]


@pytest.fixture
def no_engine_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLUORIDE_CONTAINER_ENGINE", raising=False)
    monkeypatch.delenv("FAKE_FAIL", raising=False)
    monkeypatch.delenv("FAKE_DIGEST", raising=False)
    monkeypatch.delenv("FAKE_REFUSE", raising=False)


@pytest.mark.usefixtures("no_engine_env")
@pytest.mark.parametrize(
    ("installed", "chosen"),
    [(("docker", "podman", "finch"), "docker"), (("podman", "finch"), "podman"),
     (("finch",), "finch")],
)
def test_engines_are_tried_in_order(tmp_path: Path, installed: tuple[str, ...],
                                    chosen: str) -> None:
    path, _ = make_engines(tmp_path, *installed)
    assert find_engine(path).name == chosen


@pytest.mark.usefixtures("no_engine_env")
def test_the_environment_picks_an_engine(tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    path, _ = make_engines(tmp_path, "docker", "podman")
    monkeypatch.setenv("FLUORIDE_CONTAINER_ENGINE", "podman")
    assert find_engine(path).name == "podman"
    monkeypatch.setenv("FLUORIDE_CONTAINER_ENGINE", "nerdctl")
    with pytest.raises(NoContainerEngine, match="nerdctl"):
        find_engine(path)


@pytest.mark.usefixtures("no_engine_env")
def test_no_engine_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(NoContainerEngine, match="docker, podman or finch") as err:
        find_engine(str(tmp_path / "empty"))
    assert "svc.deploy(image)" in (err.value.hint or "")
    with hints_for("cli"), pytest.raises(NoContainerEngine) as err:
        find_engine(str(tmp_path / "empty"))
    assert "fluoride deploy NAME IMAGE" in (err.value.hint or "")


def _repository_stub(ecr: Stubber, mutability: str = "MUTABLE") -> None:
    ecr.add_response("describe_repositories", {"repositories": [{
        "repositoryName": "fluoride/web", "repositoryUri": URI,
        "imageTagMutability": mutability}]}, {"repositoryNames": ["fluoride/web"]})


def _login_stub(ecr: Stubber) -> None:
    _repository_stub(ecr)  # a push first asks whether the tags are immutable
    token = base64.b64encode(b"AWS:s3cret-token").decode()
    ecr.add_response("get_authorization_token", {"authorizationData": [{
        "authorizationToken": token, "proxyEndpoint": f"https://{URI.split('/')[0]}"}]})


@pytest.mark.usefixtures("no_engine_env")
def test_push_logs_in_on_stdin_tags_pushes_and_returns_the_digest(
    tmp_path: Path, registry: Registry, stub_aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, log = make_engines(tmp_path, "podman")
    monkeypatch.setenv("FAKE_DIGEST", D2)
    with Stubber(stub_aws.client("ecr")) as ecr:
        _login_stub(ecr)
        digest = push_image(registry, "myapp:v2", engine=find_engine(path))
    assert digest == D2
    host = URI.split("/")[0]
    assert [(c["argv"], c["stdin"]) for c in calls(log)] == [
        (["login", "--username", "AWS", "--password-stdin", host], "s3cret-token"),
        (["tag", "myapp:v2", f"{URI}:v2"], None),
        (["push", f"{URI}:v2"], None),
    ]
    assert all("s3cret-token" not in " ".join(c["argv"]) for c in calls(log))


@pytest.mark.usefixtures("no_engine_env")
@pytest.mark.parametrize("step", ["login", "tag", "push"])
def test_every_exit_status_is_checked(
    tmp_path: Path, registry: Registry, stub_aws: Aws, monkeypatch: pytest.MonkeyPatch,
    step: str,
) -> None:
    path, log = make_engines(tmp_path, "docker")
    monkeypatch.setenv("FAKE_FAIL", step)
    monkeypatch.setenv("FAKE_DIGEST", D2)
    with Stubber(stub_aws.client("ecr")) as ecr:
        _login_stub(ecr)
        with pytest.raises(PushFailed) as err:
            push_image(registry, "myapp", engine=find_engine(path))
    assert err.value.exit_code == 3
    assert "it went wrong" in err.value.output
    assert err.value.command[:2] == ["docker", step]
    assert [c["argv"][0] for c in calls(log)][-1] == step  # nothing ran after the failure
    assert "s3cret-token" not in str(err.value)


@pytest.mark.usefixtures("no_engine_env")
def test_without_a_digest_in_the_output_ecr_is_asked(
    tmp_path: Path, registry: Registry, stub_aws: Aws
) -> None:
    path, log = make_engines(tmp_path, "finch")
    with Stubber(stub_aws.client("ecr")) as ecr:
        _login_stub(ecr)
        ecr.add_response("describe_images", {"imageDetails": [_details(D1, ["latest"], T0)]},
                         {"repositoryName": "fluoride/web",
                          "imageIds": [{"imageTag": "latest"}]})
        assert push_image(registry, "sha256:" + "c" * 64, engine=find_engine(path)) == D1
    assert calls(log)[1]["argv"] == ["tag", "sha256:" + "c" * 64, f"{URI}:latest"]


@pytest.mark.usefixtures("no_engine_env")
def test_an_immutable_tag_taken_is_refused_before_the_engine_runs(
    tmp_path: Path, registry: Registry, stub_aws: Aws
) -> None:
    path, log = make_engines(tmp_path, "docker")
    with Stubber(stub_aws.client("ecr")) as ecr:
        _repository_stub(ecr, "IMMUTABLE")
        ecr.add_response("describe_images", {"imageDetails": [_details(D1, ["v2"], T0)]},
                         {"repositoryName": "fluoride/web", "imageIds": [{"imageTag": "v2"}]})
        with pytest.raises(ImageTagExists, match="'v2' already exists") as err:
            push_image(registry, "myapp:v2", engine=find_engine(path))
    assert (err.value.tag, err.value.digest) == ("v2", D1)
    assert calls(log) == []


@pytest.mark.usefixtures("no_engine_env")
def test_an_immutable_tag_free_is_pushed(
    tmp_path: Path, registry: Registry, stub_aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, log = make_engines(tmp_path, "docker")
    monkeypatch.setenv("FAKE_DIGEST", D2)
    with Stubber(stub_aws.client("ecr")) as ecr:
        _repository_stub(ecr, "IMMUTABLE")
        ecr.add_client_error("describe_images", "ImageNotFoundException", "none",
                             expected_params={"repositoryName": "fluoride/web",
                                              "imageIds": [{"imageTag": "v3"}]})
        token = base64.b64encode(b"AWS:t").decode()
        ecr.add_response("get_authorization_token", {"authorizationData": [{
            "authorizationToken": token, "proxyEndpoint": f"https://{URI.split('/')[0]}"}]})
        assert push_image(registry, "myapp:v3", engine=find_engine(path)) == D2
    assert [c["argv"][0] for c in calls(log)] == ["login", "tag", "push"]


@pytest.mark.usefixtures("no_engine_env")
def test_ecr_refusing_the_tag_at_push_is_the_same_clear_error(
    tmp_path: Path, registry: Registry, stub_aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _ = make_engines(tmp_path, "docker")
    monkeypatch.setenv("FAKE_REFUSE", "1")  # another push took the tag meanwhile
    with Stubber(stub_aws.client("ecr")) as ecr:
        _login_stub(ecr)
        with pytest.raises(ImageTagExists) as err:
            push_image(registry, "myapp:v2", engine=find_engine(path))
    assert (err.value.tag, err.value.exit_code) == ("v2", 1)
    assert "cannot be overwritten" in err.value.output
    assert isinstance(err.value, PushFailed)
