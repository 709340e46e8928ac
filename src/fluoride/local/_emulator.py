"""The emulator handle: start, endpoint, images, holding rollouts, stop."""

from __future__ import annotations

import importlib
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import TYPE_CHECKING

from fluoride.errors import EmulatorError, FieldError, InvalidInput
from fluoride.local._timing import Timing

if TYPE_CHECKING:
    from fluoride.local._server import EmulatorServer

__all__ = ["ACCOUNT_ID", "REGION", "Emulator", "RolloutHold", "SimulatedClock", "start_emulator"]

#: The emulated account and region (moto's defaults).
ACCOUNT_ID = "123456789012"
REGION = "us-east-1"

#: Credentials the emulator accepts; it checks none.
TEST_KEY = "testing"

_running: list[Emulator] = []
_running_lock = threading.Lock()


class RolloutHold:
    """Simulated time held still by :meth:`Emulator.hold_rollouts`."""

    def advance(self, seconds: float) -> None:
        """Step simulated time forward by ``seconds`` and play what became due."""
        from fluoride.local._world import WORLD

        WORLD.skip(seconds)


class SimulatedClock:
    """A clock on the emulator's simulated time: ``sleep`` moves that time on, at once.

    Give it to code that polls the emulator (``Fluoride.local(clock=emu.clock)``, or your
    own tool's wait loop): a wait that would take minutes on AWS takes milliseconds, and
    deadlines are measured in the same simulated seconds as the rollouts.
    Satisfies :class:`fluoride.waiting.Clock`.
    """

    def monotonic(self) -> float:
        from fluoride.local._world import WORLD

        return WORLD.now()

    def sleep(self, seconds: float) -> None:
        from fluoride.local._world import WORLD

        WORLD.skip(max(0.0, seconds))


class Emulator:
    """A running emulator: moto's server on loopback with Fluoride's shims.

    Get one from :func:`start_emulator` (or ``Fluoride.local()``, which keeps it as
    ``fl.emulator``). It is also a context manager that stops the server on exit.

    moto's state is process-wide: starting the first emulator in a process empties it,
    and emulators started while one runs see the same state. An emulator started with an
    ``account_id`` other than moto's default (``123456789012``) serves that account,
    whatever credentials a request carries; the default one answers as moto does (in the
    account of the request's access key, the default for any key it does not know).
    ``region`` is the region its clients use by default (requests name their own
    region, as on AWS). Two emulators with different accounts or regions are two separate
    places to deploy to, as a fleet across accounts and regions needs.

    Example::

        with start_emulator() as emu:
            ecs = boto3.client("ecs", endpoint_url=emu.endpoint_url, region_name=emu.region,
                               aws_access_key_id="testing", aws_secret_access_key="testing")

    .. versionadded:: 0.1
    """

    def __init__(
        self,
        server: EmulatorServer,
        host: str,
        port: int,
        timing: Timing,
        *,
        region: str = REGION,
        account_id: str = ACCOUNT_ID,
    ) -> None:
        self._server = server
        self.host = host
        self.port = port
        self.timing = timing
        self.region = region
        self.account_id = account_id
        #: A clock whose ``sleep`` advances simulated time (see :class:`SimulatedClock`).
        self.clock = SimulatedClock()
        self._stopped = False

    @property
    def endpoint_url(self) -> str:
        """``http://127.0.0.1:<port>``: give it to boto3 as ``endpoint_url``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def environment(self) -> dict[str, str]:
        """Environment variables that point the AWS CLI, boto3 and other SDKs here."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": TEST_KEY,
            "AWS_SECRET_ACCESS_KEY": TEST_KEY,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
        }

    def push_image(
        self, repository: str, tag: str, *, healthy: bool = True, needs_memory: int | None = None
    ) -> str:
        """Put an image into the emulated ECR repository and return its digest.

        No container is built or run: the image is a manifest with unique layers, so each
        push gets its own ``sha256:`` digest, and ``tag`` moves to it. ``healthy=False``
        makes every task that runs this image fail its load balancer health checks (or
        exit, without a load balancer), so deployments of it fail and roll back; as a
        sidecar's image it fails the sidecar's container health check (``health_command``):
        an essential sidecar's stops the task ("Task failed container health checks"), a
        non-essential one's only shows ``UNHEALTHY``. A sidecar without a health check is
        not judged.
        ``needs_memory`` (MiB): a task of this image with less memory exits at once with
        ``OutOfMemoryError`` (exit code 137), as a container killed by the kernel does; as
        a sidecar's image (by its URI) it is measured against the sidecar's ``memory`` (else
        the task's), and an essential sidecar so killed stops the task ("Essential
        container in task exited"), a non-essential one only itself.

        ``repository`` is a repository name (``fluoride/hello``) or URI. Raises
        :class:`~fluoride.errors.EmulatorError` when the repository does not exist.
        """
        from fluoride.local._images import push_image

        return push_image(self.account_id, self.region, repository, tag, healthy=healthy,
                          needs_memory=needs_memory)

    def set_image_health(self, digest: str, *, healthy: bool) -> None:
        """Mark an image (by digest) healthy or unhealthy from now on."""
        from fluoride.local._images import set_image_health

        set_image_health(digest, healthy=healthy)

    @contextmanager
    def hold_rollouts(self) -> Iterator[RolloutHold]:
        """Keep simulated time still inside the block.

        Deployments stay where they are (``IN_PROGRESS`` stays ``IN_PROGRESS``), and so do
        the stack operations waiting for them; API calls still work (a test can cancel the
        stack update). ``hold.advance(seconds)`` steps time forward by hand. Time resumes
        where it stopped when the block exits.

        Example::

            with emu.hold_rollouts() as hold:
                cfn.update_stack(...)          # the deployment starts, and waits
                hold.advance(emu.timing.task_start)   # its tasks are RUNNING now
        """
        from fluoride.local._world import WORLD

        with WORLD.held():
            yield RolloutHold()

    def stop(self) -> None:
        """Stop the server. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        self._server.stop()
        with _running_lock:
            if self in _running:
                _running.remove(self)

    def __enter__(self) -> Emulator:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "stopped" if self._stopped else "running"
        return f"<Emulator {self.endpoint_url} {state}>"


def start_emulator(
    *,
    port: int = 0,
    host: str = "127.0.0.1",
    timing: Timing | None = None,
    region: str = REGION,
    account_id: str = ACCOUNT_ID,
) -> Emulator:
    """Start moto's server with Fluoride's shims on ``host:port`` (0: a free port).

    The first emulator started in a process begins with an empty account; later ones
    share moto's state while it runs. ``timing`` sets how fast simulated things happen
    (see :class:`Timing`); the most recently started emulator's timing applies (simulated
    time is one for the process).

    ``account_id`` (12 digits) is the account this emulator serves: every request it
    answers acts in that account (unless it is moto's default, which moto keeps choosing
    by access key, as before), so two emulators with two accounts hold two separate sets
    of services. ``region`` is its clients' default region.

    Raises :class:`~fluoride.errors.EmulatorError` when moto is not installed or the
    server cannot listen, and :class:`~fluoride.errors.InvalidInput` for a malformed
    ``region`` or ``account_id``.

    .. versionadded:: 0.1
    .. versionchanged:: 0.2 ``region`` and ``account_id``.
    """
    _check_place(region, account_id)
    try:
        _server = importlib.import_module("fluoride.local._server")
        shims = importlib.import_module("fluoride.local.shims")
        from fluoride.local._world import WORLD
    except ImportError as exc:
        raise EmulatorError(
            f"The embedded emulator needs moto's server, which is not installed ({exc}).",
            hint="pip install 'fluoride[local]'",
        ) from exc

    timing = timing or Timing()
    shims.install()
    with _running_lock:
        if not _running:
            _server.reset_everything()
        WORLD.timing = timing
        # moto's default account needs no header: moto picks it (or the account of an
        # access key made in the emulator, as it always has).
        server = _server.EmulatorServer(
            host, port, None if account_id == ACCOUNT_ID else account_id)
        try:
            server.start()
        except OSError as exc:
            raise EmulatorError(
                f"The emulator could not listen on {host}:{port}: {exc}",
                hint="Choose another port, or port=0 for a free one.",
            ) from exc
        _, bound_port = server.get_host_and_port()
        emulator = Emulator(server, host, bound_port, timing, region=region,
                            account_id=account_id)
        _running.append(emulator)
    return emulator


_ACCOUNT = re.compile(r"[0-9]{12}")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]+")


def place_problems(region: object, account_id: object) -> list[FieldError]:
    """The problems of an emulator's ``region`` and ``account_id`` (pure; empty when both
    can be an AWS region name and account id)."""
    problems = []
    if not isinstance(region, str) or not _REGION.fullmatch(region):
        problems.append(FieldError("region", f"{region!r} is not an AWS region name",
                                   allowed="a region such as us-east-1 or eu-west-1"))
    if not isinstance(account_id, str) or not _ACCOUNT.fullmatch(account_id):
        problems.append(FieldError("account_id", f"{account_id!r} is not an AWS account id",
                                   allowed="12 digits, as a string, such as '210987654321'"))
    return problems


def _check_place(region: object, account_id: object) -> None:
    problems = place_problems(region, account_id)
    if problems:
        raise InvalidInput("start_emulator() was refused: no emulator was started.",
                           errors=problems)
