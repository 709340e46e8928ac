"""CloudFormation drops the subscriptions of an SNS topic that an ``Fn::If`` removed.

moto 5.2.5 behaviour corrected: ``AWS::SNS::Topic`` subscribes every entry of its
``Subscription`` list, including the ``None`` that an ``Fn::If`` returning
``AWS::NoValue`` leaves there (CloudFormation removes such entries), so the topic fails
with ``TypeError`` and the stack rolls back. The template subscribes 1 to 4 addresses
this way (``NotifyEmailCount``).

With the shim the removed entries are left out before moto creates the topic.
"""

from __future__ import annotations

from typing import Any

from moto.sns.models import Topic

from fluoride.local.shims._model import Creation, patch_model

__all__ = ["install"]


def _create(creation: Creation) -> Any:
    properties = creation.properties
    if "Subscription" in properties:
        properties["Subscription"] = [s for s in properties["Subscription"] or [] if s]
    return creation.moto_create(Topic, properties)


def install() -> None:
    patch_model(Topic, create=_create)
