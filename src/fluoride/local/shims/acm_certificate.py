"""CloudFormation creates ``AWS::CertificateManager::Certificate``, issued at once.

moto 5.2.5 behaviour corrected: its CloudFormation has no model for
``AWS::CertificateManager::Certificate``; the resource is skipped with a warning, so an
HTTPS listener that refers to it gets no certificate ARN.

With the shim the certificate is requested in moto's ACM backend (domain, alternative
names, tags) and marked ``ISSUED`` straight away: on AWS a DNS-validated certificate
whose validation record CloudFormation can write is issued before the resource
completes, and the emulator has no DNS to wait for. ``Ref`` returns the ARN.
"""

from __future__ import annotations

from typing import Any, ClassVar

from moto.acm.models import acm_backends

from fluoride.local._errors import tolerated
from fluoride.local.shims._model import Creation, ShimResource, tags
from fluoride.local.shims._patch import register_model

__all__ = ["CertificateResource", "install"]


class CertificateResource(ShimResource):
    TYPE: ClassVar[str] = "AWS::CertificateManager::Certificate"

    @classmethod
    def create(cls, creation: Creation) -> CertificateResource:
        p = creation.properties
        backend: Any = creation.backend(acm_backends)
        arn = backend.request_certificate(
            domain_name=p["DomainName"],
            idempotency_token=None,
            subject_alt_names=list(p.get("SubjectAlternativeNames") or [p["DomainName"]]),
            tags=tags(p.get("Tags", [])),
            cert_authority_arn=p.get("CertificateAuthorityArn"),
        )
        backend.get_certificate(arn).status = "ISSUED"
        return cls(arn)

    def delete(self, account_id: str, region_name: str) -> None:
        with tolerated(f"deleting certificate {self.physical_id}"):  # may be deleted already
            acm_backends[account_id][region_name].delete_certificate(self.physical_id)


def install() -> None:
    register_model(CertificateResource)
