"""The docs keep their promises: every public name is in the reference, the getting-started
page's first snippet runs with no AWS account, the how-to examples run, and the pages
generated at build time (docs/_ext/fluoride_docs.py) read the template and the error tree
right."""

from __future__ import annotations

import ast
import importlib.util
import re
import runpy
from pathlib import Path
from typing import Any

import pytest

import fluoride
from fluoride.errors import FluorideError

ROOT = Path(__file__).parent.parent
DOCS = ROOT / "docs"


def _extension() -> Any:
    path = DOCS / "_ext" / "fluoride_docs.py"
    spec = importlib.util.spec_from_file_location("fluoride_docs", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ext = _extension()


# ------------------------------------------------------------------------ the reference

def _documented() -> set[str]:
    """The last part of every name given to an autodoc or py:data directive in docs/."""
    names = set()
    for page in DOCS.rglob("*.md"):
        for match in re.finditer(r"\.\. (?:auto\w+|py:\w+):: ([\w.]+)", page.read_text()):
            names.add(match.group(1).rsplit(".", 1)[-1])
    return names


def test_every_name_fluoride_exports_is_in_the_reference() -> None:
    missing = sorted(set(fluoride.__all__) - {"__version__"} - _documented())
    assert not missing, f"not documented with autodoc in docs/: {missing}"


def test_every_error_users_can_meet_is_exported_and_has_a_cause() -> None:
    classes = ext.error_classes()
    assert classes[0] is FluorideError
    assert len(classes) == len(set(classes))
    for cls in classes:
        assert cls.__doc__, f"{cls.__name__} has no docstring: troubleshooting has no cause"
    # Raised outside fluoride.errors, and still on the page and importable from fluoride:
    names = {cls.__name__ for cls in classes}
    assert {"StoreReplacementRefused", "FleetFailed", "StoresRetained"} <= names
    assert names <= set(fluoride.__all__)


# ------------------------------------------------------------------------- runnable docs

def _python_blocks(page: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.DOTALL)


def test_the_getting_started_pages_first_snippet_runs_without_aws(
        capsys: pytest.CaptureFixture[str]) -> None:
    first = _python_blocks(DOCS / "getting-started.md")[0]
    assert "Fluoride.local()" in first
    assert "profile=" not in first  # the AWS variant comes second
    exec(compile(first, "getting-started.md", "exec"), {})  # the page's own code
    assert " v1 stable" in capsys.readouterr().out


def test_the_share_a_service_example(capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(ROOT / "examples" / "share_a_service.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "serving: v1\n" in out
    assert "memory: 1024\n" in out
    assert "history: ['v1']\n" in out
    assert "their read: {'pk': 'result#1', 'value': " in out


# ------------------------------------------------------------- the stack, from the template

TEMPLATE = {
    "Parameters": {"Image": {"Type": "String"}},
    "Resources": {
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"Name": {"Ref": "AWS::StackName"}}},
        "Group": {"Type": "AWS::EC2::SecurityGroup"},
        "RuleA": {"Type": "AWS::EC2::SecurityGroupIngress",
                  "Properties": {"GroupId": {"Fn::GetAtt": ["Group", "GroupId"]}}},
        "RuleB": {"Type": "AWS::EC2::SecurityGroupIngress", "Condition": "HasCaller",
                  "Properties": {"GroupId": {"Ref": "Group"}}},
        "Task": {"Type": "AWS::ECS::TaskDefinition", "Properties": {
            "Image": {"Ref": "Image"},  # a parameter: not an edge
            "Arn": {"Fn::Sub": "arn:${AWS::Partition}:iam::${Role.Arn}"},
            "Log": {"Fn::Sub": ["${Name}-x", {"Name": {"Ref": "Group"}}]},
        }},
        "Service": {"Type": "AWS::ECS::Service", "DependsOn": "RuleA",
                    "Properties": {"TaskDefinition": {"Ref": "Task"}}},
        "Alarm": {"Type": "AWS::CloudWatch::Alarm", "DependsOn": ["Service", "Alarm"]},
    },
}


@pytest.mark.parametrize(("logical_id", "refers_to"), [
    ("Role", []),  # a pseudo parameter is not a resource
    ("RuleA", ["Group"]),  # Fn::GetAtt
    ("RuleB", ["Group"]),  # Ref
    ("Task", ["Group", "Role"]),  # Fn::Sub, both forms; a parameter is left out
    ("Service", ["RuleA", "Task"]),  # DependsOn as a string, and a Ref
    ("Alarm", ["Service"]),  # DependsOn as a list; never itself
])
def test_the_stack_graph_follows_every_kind_of_reference(logical_id: str,
                                                         refers_to: list[str]) -> None:
    assert ext.stack_graph(TEMPLATE)[logical_id][2] == refers_to


def test_the_mermaid_graph_folds_security_group_rules_into_one_node() -> None:
    lines = [line.strip() for line in ext.mermaid(ext.stack_graph(TEMPLATE))]
    assert lines[0] == "flowchart LR"
    assert 'IngressRules["2 security group rules"]' in lines
    assert "IngressRules --> Group" in lines
    assert "Service --> IngressRules" in lines
    assert not [line for line in lines if "RuleA" in line or "RuleB" in line]
    assert sum(line.startswith("Group") for line in lines) == 1  # one node, edges apart


def test_the_mermaid_graph_boxes_resources_by_kind() -> None:
    lines = [line.strip() for line in ext.mermaid(ext.stack_graph(TEMPLATE))]
    tasks = lines.index('subgraph compute["Tasks"]')
    assert lines[tasks + 1:tasks + 4] == [
        'Task["Task<br/><small>ECS::TaskDefinition</small>"]',
        'Service["Service<br/><small>ECS::Service</small>"]',
        "end",
    ]
    # every resource type of the shipped template has a box
    assert all(ext._group(kind) for kind, _, _ in ext.stack_graph(ext.load_template()).values())


def test_the_shipped_template_reads_as_a_graph() -> None:
    graph = ext.stack_graph(ext.load_template())
    assert graph["Service"][0] == "AWS::ECS::Service"
    assert {"TaskDefinition", "TargetGroup"} <= set(graph["Service"][2])
    assert "Table" in graph["TableAccess"][2]
    for _, _, refs in graph.values():
        assert set(refs) <= set(graph)


# ------------------------------------------------------- the troubleshooting page's hints

@pytest.mark.parametrize(("source", "text"), [
    ('"Run it again."', "Run it again."),
    ('f"Run `fluoride status {name}`."', "Run `fluoride status …`."),
    ('"Check " + where', "Check …"),
    ('"a" "b"', "ab"),
    ("make_hint(name)", None),  # made elsewhere: nothing to show
    ("None", None),
])
def test_a_hint_is_read_as_written(source: str, text: str | None) -> None:
    expr = ast.parse(source, mode="eval").body
    assert ext._hint_text(expr) == text


@pytest.mark.parametrize(("hint", "rst"), [
    ("Run `fluoride status x`.", "Run ``fluoride status x``."),
    ("Use --refresh-prices to read them.", "Use ``--refresh-prices`` to read them."),
    ("Run `fluoride logs --since 15m`, not a-b.", "Run ``fluoride logs --since 15m``, not a-b."),
])
def test_a_hint_becomes_rest_with_its_code_as_literals(hint: str, rst: str) -> None:
    assert ext._literals(hint) == rst


def test_hints_are_collected_per_error_class(tmp_path: Path) -> None:
    package = tmp_path / "fluoride"
    package.mkdir()
    (package / "a.py").write_text(
        'raise ServiceNotFound("x", hint="Check the   name.")\n'
        'raise ServiceNotFound("y", hint=f"Create {n} first.")\n'
        'raise AwsError("z", hint=computed)\n'
        'raise ServiceNotFound("w", hint=f"{n}")\n'  # nothing but run-time parts: left out
    )
    (package / "b.py").write_text('raise ServiceNotFound("x", hint="Check the name.")\n')
    found = ext.raised_hints(package)
    assert found == {"ServiceNotFound": {"Check the name.": {"fluoride.a", "fluoride.b"},
                                         "Create … first.": {"fluoride.a"}}}
