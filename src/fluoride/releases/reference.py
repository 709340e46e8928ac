"""Image references as users type them, checked and split without any AWS call.

Docker's grammar (distribution/reference): ``[registry/]repository[:tag][@digest]``, where
the repository is lowercase path components, a tag is up to 128 letters, digits, ``_``,
``.`` and ``-`` (not starting with ``.`` or ``-``), and the first component is a registry
when it has a dot or a port or is ``localhost``. Fluoride accepts digests as ``sha256:``
and 64 lowercase hex digits, and reads a reference without a registry whose repository
is ``fluoride/<name>`` as that Fluoride repository in ECR (not Docker Hub's).
"""

from __future__ import annotations

import re
from typing import Final

import attrs

from fluoride._check import flag_problems, refuse, shown, timeout_problems
from fluoride._release import Release
from fluoride.errors import FieldError, InvalidInput

__all__ = [
    "DIGEST",
    "ImageReference",
        "check_deploy",
    "check_push",
    "check_rollback",
    "check_wait",
    "create_image_problems",
    "ecr_region",
    "image_problems",
    "parse_reference",
    "reference_problems",
]

DIGEST: Final = re.compile(r"sha256:[0-9a-f]{64}")
TAG: Final = re.compile(r"[\w][\w.-]{0,127}", re.ASCII)
_COMPONENT: Final = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_HOST_LABEL = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_REGISTRY: Final = re.compile(rf"{_HOST_LABEL}(?:\.{_HOST_LABEL})*(?::[0-9]+)?")
ECR_HOST: Final = re.compile(
    r"(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?"
)
#: What a user may pass where a full image reference belongs.
REFERENCE_FORMS: Final = ("a reference like registry/repository:tag or "
                          "registry/repository@sha256:<64 hex digits>; the repository in "
                          "lowercase")
#: What ``deploy()`` accepts.
DEPLOY_FORMS: Final = ("None (the newest image pushed), a tag in the service's repository "
                       "such as v2, a digest sha256:<64 hex digits>, or " + REFERENCE_FORMS)
#: Fluoride's own repositories are ``fluoride/<service>`` in the account's ECR.
FLUORIDE_NAMESPACE: Final = "fluoride/"


def _shown(value: object) -> str:
    return shown(value, 300)  # a reference is at most 255 characters: show it whole


@attrs.frozen
class ImageReference:
    """An image reference split into its parts: ``registry/repository[:tag][@digest]``.

    ``registry`` is ``None`` for a reference without one (Docker Hub, as docker reads it,
    unless the repository is a Fluoride one: ``fluoride/<name>``).
    """

    registry: str | None
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        """``registry/repository`` (or just the repository)."""
        return f"{self.registry}/{self.repository}" if self.registry else self.repository

    @property
    def is_fluoride(self) -> bool:
        """A reference without a registry to a ``fluoride/<name>`` repository (ECR's)."""
        return self.registry is None and self.repository.startswith(FLUORIDE_NAMESPACE)

    def __str__(self) -> str:
        text = self.name
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def _split(text: str) -> tuple[ImageReference | None, str]:
    """The parts of ``text`` and ``""``, or ``None`` and why it is no reference."""
    if not text:
        return None, "is empty"
    if any(c.isspace() for c in text):
        return None, "contains a space"
    digest = None
    if "@" in text:
        text, digest = text.split("@", 1)
        if not DIGEST.fullmatch(digest):
            return None, f"has a malformed digest {digest!r}"
    registry = None
    first, sep, rest = text.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        if not _REGISTRY.fullmatch(first):
            return None, f"has an invalid registry host {first!r}"
        registry, text = first, rest
    tag = None
    colon = text.rfind(":")
    if colon > text.rfind("/"):
        text, tag = text[:colon], text[colon + 1:]
        if not TAG.fullmatch(tag):
            return None, (f"has an invalid tag {tag!r} (up to 128 letters, digits, '_', '.' "
                          "and '-', not starting with '.' or '-')")
    if not text:
        return None, "has no repository"
    for part in text.split("/"):
        if not _COMPONENT.fullmatch(part):
            if part.lower() != part and _COMPONENT.fullmatch(part.lower()):
                return None, f"has uppercase letters in the repository {text!r}"
            return None, f"has an invalid repository name {text!r}"
    if len(text) + len(registry or "") > 255:
        return None, "has a name longer than 255 characters"
    return ImageReference(registry=registry, repository=text, tag=tag, digest=digest), ""


def reference_problems(value: object, field: str = "image") -> list[FieldError]:
    """Problems of a full image reference (``create(image=...)``, a pushed local image)."""
    if not isinstance(value, str):
        return [FieldError(field, f"must be a string, got {_shown(value)}",
                           allowed=REFERENCE_FORMS)]
    ref, why = _split(value.strip())
    if ref is None:
        return [FieldError(field, f"{_shown(value)} {why}", allowed=REFERENCE_FORMS)]
    return []


def parse_reference(reference: str) -> ImageReference:
    """Split ``reference`` as docker does. Raises :class:`InvalidInput` for an empty or
    malformed one (naming what is wrong)."""
    ref, _ = _split(reference.strip()) if isinstance(reference, str) else (None, "")
    if ref is None:
        raise InvalidInput(f"{_shown(reference)} is not an image reference.",
                           errors=reference_problems(reference))
    return ref


def ecr_region(ref: ImageReference) -> str | None:
    """The region of an ECR registry host, or ``None`` for any other registry."""
    host = ECR_HOST.fullmatch(ref.registry or "")
    return host.group("region") if host else None


def image_problems(value: object, field: str = "image", *, region: str | None = None,
                   optional: bool = True) -> list[FieldError]:
    """Problems of what ``deploy()`` takes: ``None`` (when ``optional``), a tag, a digest
    or a full reference. A reference to ECR in another ``region`` than the service's is a
    problem too: its tasks could not pull it."""
    if value is None and optional:
        return []
    if not isinstance(value, str):
        return [FieldError(field, f"must be a string or None, got {_shown(value)}",
                           allowed=DEPLOY_FORMS)]
    text = value.strip()
    if not text:
        return [FieldError(field, f"{_shown(value)} is empty", allowed=DEPLOY_FORMS)]
    if text.startswith("sha256:") and "/" not in text and "@" not in text:
        if DIGEST.fullmatch(text):
            return []
        return [FieldError(field, f"{_shown(value)} is not a digest",
                           allowed="a digest is sha256: and 64 lowercase hex digits; "
                           "or " + DEPLOY_FORMS)]
    if "/" not in text and ":" not in text and "@" not in text:
        if TAG.fullmatch(text):
            return []
        why = "contains a space" if any(c.isspace() for c in text) else "is not a valid tag"
        return [FieldError(field, f"{_shown(value)} {why}", allowed=DEPLOY_FORMS)]
    ref, why = _split(text)
    if ref is None:
        return [FieldError(field, f"{_shown(value)} {why}", allowed=DEPLOY_FORMS)]
    where = ecr_region(ref)
    if region is not None and where is not None and where != region:
        return [FieldError(
            field, f"{_shown(value)} is in ECR in {where}, but the service runs in {region}",
            allowed=f"an image in ECR in {region}: push it to the service's repository "
            "(`fluoride push`) or replicate the repository to that region")]
    return []


def check_deploy(image: object, *, wait: object, timeout: object,
                 region: str | None) -> None:
    """Refuse a ``deploy()`` whose arguments are bad, before any AWS call."""
    refuse("deploy()", image_problems(image, region=region) + flag_problems(wait, "wait")
           + timeout_problems(timeout))


def check_rollback(to: object, *, wait: object, timeout: object,
                   region: str | None) -> None:
    """Refuse a ``rollback()`` whose arguments are bad, before any AWS call."""
    problems = [] if isinstance(to, Release) else image_problems(to, "to", region=region)
    if problems and not isinstance(to, str | None):
        problems = [FieldError("to", f"must be a Release, a tag or a digest, got {_shown(to)}",
                               allowed="None (the previous stable release), a Release from "
                               "history(), a tag such as v1, or sha256:<64 hex digits>")]
    refuse("rollback()", problems + flag_problems(wait, "wait") + timeout_problems(timeout))


def check_wait(timeout: object) -> None:
    """Refuse a ``wait_stable()`` with a bad timeout, before any AWS call."""
    refuse("wait_stable()", timeout_problems(timeout))


def create_image_problems(image: object, *, region: str | None) -> list[FieldError]:
    """Problems of ``create(image=...)``: ``None``, or a full reference (in ECR: in the
    service's ``region``)."""
    if image is None:
        return []
    problems = reference_problems(image)
    if not problems and isinstance(image, str):
        where = ecr_region(parse_reference(image))
        if region is not None and where is not None and where != region:
            problems = image_problems(image, region=region)
    return problems


def check_push(local_image: object, *, tag: object) -> None:
    """Refuse ``push()`` of something that is no local image name, or to a bad tag."""
    problems: list[FieldError] = []
    is_id = isinstance(local_image, str) and re.fullmatch(
        r"(sha256:)?[0-9a-f]{12,64}", local_image.strip()) is not None
    if not is_id:
        problems += reference_problems(local_image, "local_image")
    if tag is not None and not (isinstance(tag, str) and TAG.fullmatch(tag)):
        problems.append(FieldError("tag", f"{_shown(tag)} is not a valid tag",
                                   allowed="None, or up to 128 letters, digits, '_', '.' and "
                                   "'-', not starting with '.' or '-'"))
    refuse("push()", problems)
