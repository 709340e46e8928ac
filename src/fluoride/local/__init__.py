"""The embedded AWS emulator: moto's server on loopback, plus Fluoride's shims.

``start_emulator()`` runs moto's server in a thread on a free loopback port, with the
corrections (:mod:`fluoride.local.shims`) that the Fluoride template and SDK need: every
resource of the template exists, and ECS deployments progress, fail and roll back in
simulated time (:class:`Timing`). ``Fluoride.local()`` is the usual way in.

Importing this package does not import moto; :func:`start_emulator` does, and raises
:class:`~fluoride.errors.EmulatorError` when it is missing (``pip install 'fluoride[local]'``).
"""

from __future__ import annotations

from fluoride.local._emulator import Emulator, RolloutHold, SimulatedClock, start_emulator
from fluoride.local._timing import Timing

__all__ = ["Emulator", "RolloutHold", "SimulatedClock", "Timing", "start_emulator"]
