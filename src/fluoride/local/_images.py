"""Fake container images: pushing them into moto's ECR and resolving what a task would run."""

from __future__ import annotations

import hashlib
import json
import re
import secrets

import attrs
from moto.ecr.exceptions import ImageAlreadyExistsException
from moto.ecr.models import ecr_backends

from fluoride.errors import EmulatorError, ImageTagExists
from fluoride.local._world import WORLD

__all__ = ["ResolvedImage", "min_memory", "push_image", "resolve_image", "set_image_health"]

_ECR_HOST = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$"
)
_MANIFEST_TYPE = "application/vnd.docker.distribution.manifest.v2+json"


def _unhealthy() -> set[str]:
    found: set[str] = WORLD.state.setdefault("unhealthy_digests", set())
    return found


def set_image_health(digest: str, *, healthy: bool) -> None:
    """Mark the image ``digest`` as one whose tasks pass (or fail) their health checks."""
    with WORLD.lock:
        if healthy:
            _unhealthy().discard(digest)
        else:
            _unhealthy().add(digest)


def _repository_name(repository: str) -> str:
    """``fluoride/x`` from a name or a ``<registry>/fluoride/x[:tag|@digest]`` URI."""
    host, _, rest = repository.partition("/")
    if rest and _ECR_HOST.match(host):
        repository = rest
    return re.split(r"[@:]", repository, maxsplit=1)[0]


def _manifest() -> str:
    """A v2 manifest whose layers are new: moto derives the digest from layer digests."""
    def blob(size: int) -> dict[str, object]:
        digest = "sha256:" + hashlib.sha256(secrets.token_bytes(32)).hexdigest()
        return {"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                "size": size, "digest": digest}

    config = blob(1469)
    config["mediaType"] = "application/vnd.docker.container.image.v1+json"
    return json.dumps(
        {"schemaVersion": 2, "mediaType": _MANIFEST_TYPE, "config": config,
         "layers": [blob(2_811_478), blob(3_184)]},
        separators=(",", ":"),
    )


def _min_memory() -> dict[str, int]:
    found: dict[str, int] = WORLD.state.setdefault("image_min_memory", {})
    return found


def min_memory(digest: str | None) -> int | None:
    """The MiB a task of the image ``digest`` needs, or ``None`` when it fits in any."""
    with WORLD.lock:
        return _min_memory().get(digest or "")


def push_image(
    account_id: str, region: str, repository: str, tag: str, *, healthy: bool = True,
    needs_memory: int | None = None,
) -> str:
    """See :meth:`fluoride.local.Emulator.push_image`."""
    name = _repository_name(repository)
    with WORLD.lock:
        backend = ecr_backends[account_id][region]
        if name not in backend.repositories:
            raise EmulatorError(
                f"The emulated ECR has no repository {name!r}.",
                hint="Create the service first (its stack owns the repository), or create "
                "the repository with ecr.create_repository.",
            )
        try:
            image = backend.put_image(name, _manifest(), tag, _MANIFEST_TYPE)
        except ImageAlreadyExistsException as exc:  # an immutable tag already taken
            held = [i for i in backend.repositories[name].images if tag in i.image_tags]
            raise ImageTagExists.taken(name, tag, str(held[0].get_image_digest()) if held else None,
                             output=str(exc)) from None
        digest = str(image.get_image_digest())
        if not healthy:
            _unhealthy().add(digest)
        if needs_memory is not None:
            _min_memory()[digest] = needs_memory
        return digest


@attrs.frozen
class ResolvedImage:
    """What a task would run: the digest (if known), whether it passes health checks, and
    the pull error a task gets when the image does not exist."""

    reference: str
    digest: str | None
    healthy: bool
    pull_error: str | None = None


def resolve_image(reference: str) -> ResolvedImage:
    """Resolve ``repo@sha256:...``, ``repo:tag`` or ``repo`` against the emulated ECR.

    Images in other registries (Docker Hub, public ECR) are assumed to exist and be healthy.
    """
    host, _, rest = reference.partition("/")
    match = _ECR_HOST.match(host) if rest else None
    if match is None:
        return ResolvedImage(reference, None, healthy=True)
    backend = ecr_backends[match["account"]][match["region"]]
    if "@" in rest:
        name, _, digest = rest.partition("@")
        tag = None
    else:
        name, _, tag = rest.partition(":")
        tag = tag or "latest"
        digest = None
    repo = backend.repositories.get(name)
    image = None
    if repo is not None:
        for candidate in repo.images:
            if (digest is not None and candidate.get_image_digest() == digest) or (
                tag is not None and tag in candidate.image_tags
            ):
                image = candidate
    if image is None:
        return ResolvedImage(
            reference, digest, healthy=False,
            pull_error=(
                "CannotPullContainerError: pull image manifest has been retried 5 time(s): "
                f"failed to resolve ref {reference}: {reference}: not found"
            ),
        )
    found = str(image.get_image_digest())
    return ResolvedImage(reference, found, healthy=found not in _unhealthy())
