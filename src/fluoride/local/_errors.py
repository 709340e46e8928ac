"""Telling AWS's answers from the emulator's own failures.

moto raises an AWS error (a ``ServiceException``, a ``RESTError`` or a ``JsonRESTError``)
where AWS would answer with one: a missing resource, a refused parameter. Any other
exception is a bug in moto or in the shims. The emulator carries on after either, so that
one bad happening does not stop the emulated world, but it logs the second kind at ERROR
on the ``fluoride.local`` logger, with the traceback, so that it is seen: Fluoride's own
test suite fails any test during which one is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

# _RESTError is the base of moto's RESTError and JsonRESTError; moto exports no public name.
from moto.core.exceptions import ServiceException, _RESTError

__all__ = ["AWS_ERRORS", "LOGGER_NAME", "is_aws_error", "log", "tolerated"]

#: The logger every emulator module writes to.
LOGGER_NAME = "fluoride.local"

log = logging.getLogger(LOGGER_NAME)

#: What moto raises for an error AWS would answer with.
AWS_ERRORS: tuple[type[Exception], ...] = (ServiceException, _RESTError)


def is_aws_error(exc: BaseException) -> bool:
    """Whether ``exc`` is an answer AWS could give, rather than a failure of the emulator."""
    return isinstance(exc, AWS_ERRORS)


@contextmanager
def tolerated(what: str, *expected: type[Exception]) -> Iterator[None]:
    """Run the block and carry on whatever it raises.

    ``expected`` (by default any AWS error) is a normal outcome, such as deleting
    something already gone: it is logged at DEBUG. Anything else is the emulator's own
    failure: it is logged at ERROR with its traceback.
    """
    tolerated_errors = expected or AWS_ERRORS
    try:
        yield
    except tolerated_errors as exc:
        log.debug("emulator: %s: %s", what, exc)
    except Exception:  # the emulator's own failure: reported, and the world goes on
        log.exception("emulator: %s failed", what)
