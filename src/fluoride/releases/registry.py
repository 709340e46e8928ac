"""ECR: a service's image repository, its images, and image references resolved to digests.

A release is an image *digest*. This module turns what a user types (nothing, a tag, a
digest, or a full image reference) into the reference a deployment runs.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import botocore.exceptions

from fluoride._check import refuse
from fluoride.aws import Aws, client_error_code, translate
from fluoride.errors import AwsError, ImageNotFound, ImageTagExists, how
from fluoride.releases.reference import (
    DIGEST,
    ImageReference,
    ecr_region,
    image_problems,
    parse_reference,
)

if TYPE_CHECKING:
    from mypy_boto3_ecr.type_defs import ImageIdentifierTypeDef

__all__ = [
    "Image",
    "ImageReference",
    "Registry",
    "RegistryLogin",
    "ResolvedImage",
    "parse_reference",
]

_NOT_FOUND = {"ImageNotFoundException", "RepositoryNotFoundException"}


@attrs.frozen
class Image:
    """One image in an ECR repository.

    Attributes:
        repository_uri: ``<account>.dkr.ecr.<region>.amazonaws.com/<name>``.
        digest: ``sha256:...``, what a release is.
        tags: its tags now (tags move; the digest does not).
        pushed_at: when it was pushed.
        size: compressed size in bytes, when ECR knows it.
    """

    repository_uri: str
    digest: str
    tags: tuple[str, ...] = ()
    pushed_at: dt.datetime | None = None
    size: int | None = None

    @property
    def reference(self) -> str:
        """The immutable reference a deployment runs: ``repository_uri@digest``."""
        return f"{self.repository_uri}@{self.digest}"

    @classmethod
    def from_api(cls, repository_uri: str, raw: Mapping[str, Any]) -> Image:
        return cls(
            repository_uri=repository_uri,
            digest=raw["imageDigest"],
            tags=tuple(raw.get("imageTags", ())),
            pushed_at=raw.get("imagePushedAt"),
            size=raw.get("imageSizeInBytes"),
        )


@attrs.frozen
class ResolvedImage:
    """What a deployment will run.

    Attributes:
        reference: the reference put into the stack (``repo@sha256:...`` whenever the
            image is in ECR; a reference to another registry is kept as given).
        digest: the digest, or ``None`` for another registry's tag (not resolvable here).
        tags: the image's tags (in ECR), or the given tag.
    """

    reference: str
    digest: str | None
    tags: tuple[str, ...] = ()


@attrs.frozen
class RegistryLogin:
    """Credentials for ``docker login``: valid about 12 hours. ``password`` is a secret."""

    registry: str
    username: str
    password: str = attrs.field(repr=False)


@attrs.define
class Registry:
    """The ECR repository of one service (from the stack outputs ``RepositoryName`` and
    ``RepositoryUri``).

    Example::

        registry = Registry(aws, "fluoride/hello", "1234.dkr.ecr.eu-west-1.amazonaws.com/...")
        registry.resolve("v2").reference   # '...fluoride/hello@sha256:...'
    """

    aws: Aws = attrs.field(repr=False)
    name: str
    uri: str

    @property
    def host(self) -> str:
        """The registry host, e.g. ``1234.dkr.ecr.eu-west-1.amazonaws.com``."""
        return self.uri.split("/", 1)[0]

    def images(self) -> list[Image]:
        """Every image in the repository, newest push first."""
        found: list[Image] = []
        with translate("DescribeImages", self.name):
            try:
                pages = self.aws.client("ecr").get_paginator("describe_images").paginate(
                    repositoryName=self.name
                )
                for page in pages:
                    found.extend(Image.from_api(self.uri, raw) for raw in page["imageDetails"])
            except botocore.exceptions.ClientError as exc:
                if client_error_code(exc) == "RepositoryNotFoundException":
                    raise _missing_repository(self.name, exc) from exc
                raise
        epoch = dt.datetime.min.replace(tzinfo=dt.timezone.utc)
        # Push times can tie (whole seconds in some implementations): the later listed wins.
        order = sorted(enumerate(found), key=lambda p: (p[1].pushed_at or epoch, p[0]),
                       reverse=True)
        return [image for _, image in order]

    def newest(self) -> Image:
        """The most recently pushed image. Raises :class:`ImageNotFound` when there is none."""
        images = self.images()
        if not images:
            raise ImageNotFound(
                f"The repository {self.name} has no images yet.",
                resource=self.name,
                hint=f"Push one first: {how('push', self.name.removeprefix('fluoride/'))} "
                f"(or docker push {self.uri}:<tag>).",
            )
        return images[0]

    def find(self, *, tag: str | None = None, digest: str | None = None) -> Image:
        """The image with ``tag`` or ``digest``. Raises :class:`ImageNotFound`."""
        return _describe_one(self.aws, self.uri, self.name, None, tag=tag, digest=digest)

    def immutable_tags(self) -> bool:
        """Whether the repository refuses to move a tag (``IMMUTABLE``, as under
        ``compliance="strict"``)."""
        with translate("DescribeRepositories", self.name):
            try:
                found = self.aws.client("ecr").describe_repositories(
                    repositoryNames=[self.name])["repositories"]
            except botocore.exceptions.ClientError as exc:
                if client_error_code(exc) == "RepositoryNotFoundException":
                    raise _missing_repository(self.name, exc) from exc
                raise
        return bool(found) and str(found[0].get("imageTagMutability", "MUTABLE")).startswith(
            "IMMUTABLE")

    def check_tag_free(self, tag: str) -> None:
        """Raise :class:`ImageTagExists` when the tags are immutable and ``tag`` is taken
        (before a push that ECR would refuse at its end)."""
        if not self.immutable_tags():
            return
        try:
            taken = self.find(tag=tag)
        except ImageNotFound:
            return
        raise ImageTagExists.taken(self.name, tag, taken.digest)

    def resolve(self, image: str | None = None) -> ResolvedImage:
        """What ``deploy(image)`` runs.

        ``None`` is the newest image; a bare tag (``v2``) or digest (``sha256:...``) is
        looked up in this repository; a full reference to an ECR repository in this region,
        or ``fluoride/<name>[:tag]`` (a Fluoride repository of this account), is resolved to
        its digest there (no tag means ``latest``, as in docker); any other registry's
        reference is kept as given.
        Raises :class:`InvalidInput` for a malformed reference or an ECR image in another
        region (before any AWS call), :class:`ImageNotFound`.
        """
        refuse("deploy()", image_problems(image, region=self.aws.region))
        if image is None:
            return _resolved(self.newest())
        text = image.strip()
        if DIGEST.fullmatch(text):
            return _resolved(self.find(digest=text))
        if "/" not in text and ":" not in text and "@" not in text:
            return _resolved(self.find(tag=text))
        ref = parse_reference(text)
        # Without a tag or digest a full reference means ``:latest``, as docker reads it.
        tag = None if ref.digest else (ref.tag or "latest")
        if ref.name == self.uri or (ref.is_fluoride and ref.repository == self.name):
            return _resolved(self.find(tag=tag, digest=ref.digest))
        if ref.is_fluoride:  # another Fluoride service's repository, in this account
            found = _describe_one(self.aws, f"{self.host}/{ref.repository}", ref.repository,
                                  None, tag=tag, digest=ref.digest)
            return _resolved(found)
        if ecr_region(ref) is not None:  # in this region: image_problems refused others
            host = ref.registry or ""
            found = _describe_one(
                self.aws, ref.name, ref.repository, host.split(".", 1)[0],
                tag=tag, digest=ref.digest,
            )
            return _resolved(found)
        return ResolvedImage(
            reference=str(ref), digest=ref.digest, tags=(ref.tag,) if ref.tag else ()
        )

    def login(self) -> RegistryLogin:
        """A registry login from ECR's authorization token (for ``docker login``)."""
        with translate("GetAuthorizationToken", self.name):
            data = self.aws.client("ecr").get_authorization_token()["authorizationData"]
        if not data:
            raise AwsError("ECR returned no authorization token.",
                           operation="GetAuthorizationToken")
        token = base64.b64decode(data[0]["authorizationToken"]).decode()
        username, _, password = token.partition(":")
        return RegistryLogin(registry=self.host, username=username, password=password)


def _resolved(image: Image) -> ResolvedImage:
    return ResolvedImage(reference=image.reference, digest=image.digest, tags=image.tags)


def _describe_one(
    aws: Aws,
    uri: str,
    repository: str,
    registry_id: str | None,
    *,
    tag: str | None,
    digest: str | None,
) -> Image:
    image_id: ImageIdentifierTypeDef = {}
    if digest:
        image_id["imageDigest"] = digest
    if tag:
        image_id["imageTag"] = tag
    args: dict[str, Any] = {"repositoryName": repository, "imageIds": [image_id]}
    if registry_id:
        args["registryId"] = registry_id
    what = f"{uri}@{digest}" if digest else f"{uri}:{tag}"
    with translate("DescribeImages", repository):
        try:
            details: Sequence[Mapping[str, Any]] = aws.client("ecr").describe_images(
                **args
            )["imageDetails"]
        except botocore.exceptions.ClientError as exc:
            if client_error_code(exc) in _NOT_FOUND:
                raise ImageNotFound(
                    f"There is no image {what}.",
                    operation="DescribeImages",
                    resource=what,
                    code=client_error_code(exc),
                    hint="List the images with `aws ecr describe-images --repository-name "
                    f"{repository}`, or push it first with {how('push')}.",
                ) from exc
            raise
    if not details:
        raise ImageNotFound(f"There is no image {what}.", resource=what)
    return Image.from_api(uri, details[0])


def _missing_repository(name: str, exc: BaseException) -> ImageNotFound:
    return ImageNotFound(
        f"The repository {name} does not exist.",
        operation="DescribeImages",
        resource=name,
        code=client_error_code(exc),
        hint="It is created with the service; is the service's stack complete?",
    )
