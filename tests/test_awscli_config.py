"""``fluoride awscli install`` / ``uninstall``: the pure edit of ~/.aws/config by tables,
then the command on a real file (AWS_CONFIG_FILE)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from fluoride.awscli_config import has_legacy_path, install_plugin, uninstall_plugin
from fluoride.cli import main
from fluoride.errors import ConfigError

SITE = "/opt/venv/lib/python3.11/site-packages"
PROFILE = "# my settings\n[default]\nregion = eu-west-1\n\n[profile lab]\nregion = us-east-1\n"
SEP = os.pathsep


@pytest.mark.parametrize(("before", "legacy", "after"), [
    # an empty file
    ("", None, "[plugins]\nfluoride = fluoride.awscli\n"),
    ("", SITE, f"[plugins]\nfluoride = fluoride.awscli\ncli_legacy_plugin_path = {SITE}\n"),
    # profiles and comments stay as they are; the section goes at the end
    (PROFILE, None, PROFILE + "\n[plugins]\nfluoride = fluoride.awscli\n"),
    # an existing [plugins] section: the line goes after its last entry, before the
    # blank line and the next section
    ("[plugins]\nendpoint = awscli_plugin_endpoint\n\n[default]\nregion = x\n", None,
     "[plugins]\nendpoint = awscli_plugin_endpoint\nfluoride = fluoride.awscli\n\n"
     "[default]\nregion = x\n"),
    # v2: another plugin's path is kept, ours is added to it
    ("[plugins]\ncli_legacy_plugin_path = /other\nx = y\n", SITE,
     f"[plugins]\ncli_legacy_plugin_path = /other{SEP}{SITE}\nx = y\n"
     "fluoride = fluoride.awscli\n"),
    # an older fluoride line pointing elsewhere is corrected
    ("[plugins]\nfluoride = fluoride.old\n", None, "[plugins]\nfluoride = fluoride.awscli\n"),
    # nested settings (indented) are not entries of the section
    ("[profile p]\ns3 =\n  endpoint_url = http://x\n", None,
     "[profile p]\ns3 =\n  endpoint_url = http://x\n\n[plugins]\nfluoride = fluoride.awscli\n"),
    # Windows line ends stay Windows line ends
    ("[default]\r\nregion = x\r\n", None,
     "[default]\r\nregion = x\r\n\r\n[plugins]\r\nfluoride = fluoride.awscli\r\n"),
])
def test_install_edits_only_its_lines(before: str, legacy: str | None, after: str) -> None:
    edit = install_plugin(before, legacy_path=legacy)
    assert edit.text == after
    assert edit.changed
    # idempotent: a second install changes nothing
    again = install_plugin(edit.text, legacy_path=legacy)
    assert again.text == after
    assert not again.changed


@pytest.mark.parametrize(("before", "after"), [
    # what install added to an empty file goes, header too
    ("[plugins]\nfluoride = fluoride.awscli\n", ""),
    (f"[plugins]\nfluoride = fluoride.awscli\ncli_legacy_plugin_path = {SITE}\n", ""),
    (PROFILE + "\n[plugins]\nfluoride = fluoride.awscli\n", PROFILE),
    # another plugin stays, and so does the path it may need
    (f"[plugins]\ncli_legacy_plugin_path = {SITE}\nendpoint = e\nfluoride = fluoride.awscli\n",
     f"[plugins]\ncli_legacy_plugin_path = {SITE}\nendpoint = e\n"),
    # a comment in the section keeps the section
    ("[plugins]\n# mine\nfluoride = fluoride.awscli\n", "[plugins]\n# mine\n"),
    # a 'fluoride' entry that is not ours is left alone
    ("[plugins]\nfluoride = something.else\n", "[plugins]\nfluoride = something.else\n"),
    # nothing to remove
    (PROFILE, PROFILE),
    ("", ""),
])
def test_uninstall_removes_only_its_lines(before: str, after: str) -> None:
    edit = uninstall_plugin(before)
    assert edit.text == after
    assert edit.changed == (before != after)
    assert uninstall_plugin(edit.text).text == after


@pytest.mark.parametrize("text", [
    "region = x\n",                       # a key before any section
    "[default]\nregion = x\n[default]\n",  # a section twice
    "[default\nregion = x\n",             # a broken header
])
def test_an_unreadable_file_is_refused(text: str) -> None:
    with pytest.raises(ConfigError, match="cannot be read"):
        install_plugin(text)
    with pytest.raises(ConfigError, match="cannot be read"):
        uninstall_plugin(text)


def test_install_then_uninstall_gives_the_file_back() -> None:
    for text in ("", PROFILE, "[plugins]\nendpoint = e\n", PROFILE + "[plugins]\nx = y\n"):
        installed = install_plugin(text, legacy_path=None).text
        assert uninstall_plugin(installed).text == text


# -- the command --------------------------------------------------------------------------

def _run(config: Path, *args: str, input: str | None = None) -> tuple[int, str]:
    runner = CliRunner()
    result = runner.invoke(main, ["awscli", *args], input=input,
                           env={"AWS_CONFIG_FILE": str(config)})
    return result.exit_code, result.output


def test_the_command_shows_then_writes(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text(PROFILE)
    code, out = _run(config, "install", "--cli", "v1", input="n\n")
    assert code == 1  # declined: nothing written
    assert "+ fluoride = fluoride.awscli" in out
    assert config.read_text() == PROFILE
    code, out = _run(config, "install", "--cli", "v1", "--yes")
    assert code == 0, out
    assert config.read_text() == PROFILE + "\n[plugins]\nfluoride = fluoride.awscli\n"
    code, out = _run(config, "install", "--cli", "v1", "--yes")
    assert code == 0
    assert "already" in out
    code, out = _run(config, "uninstall", "--yes")
    assert code == 0, out
    assert "- fluoride = fluoride.awscli" in out
    assert config.read_text() == PROFILE


def test_v2_names_the_site_packages_that_hold_fluoride(tmp_path: Path) -> None:
    import fluoride

    config = tmp_path / "aws" / "config"  # missing, directory too: made
    code, out = _run(config, "install", "--cli", "v2", "--yes")
    assert code == 0, out
    site = str(Path(fluoride.__file__).resolve().parent.parent)
    assert config.read_text() == (
        f"[plugins]\nfluoride = fluoride.awscli\ncli_legacy_plugin_path = {site}\n")


def test_the_command_refuses_an_unreadable_file(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text("region = x\n")
    code, out = _run(config, "install", "--cli", "v1", "--yes")
    assert code == 1
    assert "cannot be read" in out
    assert config.read_text() == "region = x\n"


def test_v1_is_warned_of_a_v2_setting(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text(f"[plugins]\ncli_legacy_plugin_path = {SITE}\nendpoint = e\n")
    code, out = _run(config, "install", "--cli", "v1", "--yes")
    assert code == 0
    assert "AWS CLI v1 fails on every command" in out
    assert has_legacy_path(config.read_text())
    assert not has_legacy_path(PROFILE + "[plugins]\nx = y\n")
