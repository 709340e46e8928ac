"""Pushing an image with a tag that is in use moves the tag and keeps the old image.

moto 5.2.5 behaviour corrected: when a new image is put with a tag that another image
holds, moto *deletes* that other image if the tag was its only one. ECR moves the tag and
keeps the old image, untagged, reachable by its digest: releases pinned by digest (a
rollback to last week's ``v1``) must still be pullable after ``v1`` was pushed again.

With the shim the tag is taken off the other images first (in a mutable repository), so
they stay, untagged or with their other tags.
"""

from __future__ import annotations

from typing import Any

from moto.ecr.models import ECRBackend

from fluoride.local.shims._patch import original, patch

__all__ = ["install"]


def _put_image(self: Any, repository_name: str, image_manifest: str, image_tag: str,
               image_manifest_mediatype: str | None = None, digest: str | None = None) -> Any:
    repository = self.repositories.get(repository_name)
    mutable = repository is not None and not repository.is_tag_immutable() \
        and not repository.image_tag_mutability_exclusion_filters
    if mutable and image_tag:
        for image in repository.images:
            if image_tag in image.image_tags and image.image_manifest != image_manifest:
                image.image_tags.remove(image_tag)
                image.image_tag = image.image_tags[-1] if image.image_tags else None
    return original(ECRBackend, "put_image")(
        self, repository_name, image_manifest, image_tag, image_manifest_mediatype, digest
    )


def install() -> None:
    patch(ECRBackend, "put_image", _put_image)
