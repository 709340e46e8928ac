"""Push a local image to a service's ECR repository through docker, podman or finch.

The ECR password goes to ``<engine> login --password-stdin`` on standard input, never on
a command line (where other users of the machine could read it). Every command's exit
status is checked.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable, Sequence

import attrs

from fluoride.errors import ConfigError, ImageTagExists, NoContainerEngine, PushFailed, how
from fluoride.events import Note, Reporter
from fluoride.releases.registry import Registry, parse_reference

__all__ = ["ENGINES", "ContainerEngine", "Runner", "find_engine", "push_image"]

#: Engines tried in this order; ``FLUORIDE_CONTAINER_ENGINE`` picks one explicitly.
ENGINES = ("docker", "podman", "finch")
_PUSHED_DIGEST = re.compile(r"digest: (sha256:[0-9a-f]{64})")
_IMAGE_ID = re.compile(r"^(sha256:)?[0-9a-f]{12,64}$")
_OUTPUT_TAIL = 2000
#: What docker/podman/finch print when ECR refuses a tag of an immutable repository.
_TAG_REFUSED = re.compile(r"already exists in the .* repository and cannot be overwritten|"
                          r"ImageTagAlreadyExistsException|tag invalid", re.IGNORECASE)

#: Runs a command with optional standard input; returns (exit status, combined output).
Runner = Callable[[Sequence[str], "str | None"], "tuple[int, str]"]


def _run(argv: Sequence[str], stdin: str | None) -> tuple[int, str]:
    # argv is a list, never a shell string.
    done = subprocess.run(
        list(argv), input=stdin, capture_output=True, text=True, check=False
    )
    return done.returncode, (done.stdout or "") + (done.stderr or "")


@attrs.frozen
class ContainerEngine:
    """A container engine found on ``PATH``: its name and the executable's path."""

    name: str
    path: str
    runner: Runner = attrs.field(default=_run, repr=False, eq=False)

    def run(self, *args: str, stdin: str | None = None, what: str) -> str:
        """Run ``<engine> args``; raise :class:`PushFailed` unless it exits with 0."""
        argv = [self.path, *args]
        shown = [self.name, *args]
        try:
            code, output = self.runner(argv, stdin)
        except OSError as exc:
            raise PushFailed(
                f"Could not run {self.name} to {what}: {exc}", command=shown,
                hint=f"Check that {self.path} is executable.",
            ) from exc
        if code != 0:
            tail = output.strip()[-_OUTPUT_TAIL:]
            raise PushFailed(
                f"`{' '.join(shown)}` failed with exit status {code} while trying to {what}"
                + (f":\n{tail}" if tail else "."),
                command=shown, exit_code=code, output=tail,
                hint=f"Is the {self.name} daemon (or machine) running, and does the image "
                "exist locally? Run the command yourself to see everything it says.",
            )
        return output


def find_engine(path: str | None = None) -> ContainerEngine:
    """The first of docker, podman and finch on ``path`` (default ``$PATH``), or the one
    named by ``$FLUORIDE_CONTAINER_ENGINE``. Raises :class:`NoContainerEngine`.
    """
    wanted = os.environ.get("FLUORIDE_CONTAINER_ENGINE")
    names = (wanted,) if wanted else ENGINES
    for name in names:
        found = shutil.which(name, path=path)
        if found:
            return ContainerEngine(name=os.path.basename(name), path=found)
    message = (
        f"The container engine {wanted!r} (from FLUORIDE_CONTAINER_ENGINE) is not installed."
        if wanted
        else "No container engine was found: pushing an image needs docker, podman or finch."
    )
    raise NoContainerEngine(
        message,
        hint="Install Docker Desktop, Podman or Finch, or push with your own tooling and "
        f"deploy by tag: {how('deploy')}.",
    )


def push_image(
    registry: Registry,
    local_image: str,
    *,
    tag: str | None = None,
    engine: ContainerEngine | None = None,
    reporter: Reporter | None = None,
) -> str:
    """Push ``local_image`` to ``registry`` as ``tag`` and return the pushed digest.

    ``tag`` defaults to the local image's tag (``latest`` when it has none). Logs in with
    ECR's token on standard input, tags, pushes; each step's exit status is checked.
    Raises :class:`NoContainerEngine`, :class:`PushFailed`, :class:`ImageNotFound`.
    """
    engine = engine or find_engine()
    say = reporter or (lambda event: None)
    service = registry.name.removeprefix("fluoride/")  # the repository is fluoride/<service>
    if tag is None:
        tag = _tag_of(local_image) or "latest"
    target = f"{registry.uri}:{tag}"
    registry.check_tag_free(tag)  # immutable tags: say so before a push ECR refuses
    login = registry.login()
    say(Note(service, f"Logging {engine.name} in to {login.registry}."))
    engine.run("login", "--username", login.username, "--password-stdin", login.registry,
               stdin=login.password, what=f"log in to {login.registry}")
    engine.run("tag", local_image, target, what=f"tag {local_image} as {target}")
    say(Note(service, f"Pushing {local_image} to {target}."))
    try:
        output = engine.run("push", target, what=f"push {target}")
    except PushFailed as exc:
        if not _TAG_REFUSED.search(exc.output):  # raced: another push took the tag
            raise
        raise ImageTagExists.taken(registry.name, tag, command=exc.command,
                                   exit_code=exc.exit_code, output=exc.output) from exc
    found = _PUSHED_DIGEST.findall(output)
    digest = found[-1] if found else registry.find(tag=tag).digest
    say(Note(service, f"Pushed {target} ({digest})."))
    return digest


def _tag_of(local_image: str) -> str | None:
    if _IMAGE_ID.match(local_image):  # an image id has no tag
        return None
    try:
        return parse_reference(local_image).tag
    except ConfigError:  # not a reference (InvalidInput): no tag to take
        return None
