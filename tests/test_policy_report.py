"""The operations page is generated from the template and cannot drift from it."""

from __future__ import annotations

import copy
from pathlib import Path

from fluoride.infra.policy_report import (
    main,
    parse_template,
    render_operations_page,
    statements,
    template_text,
)

PAGE = Path(__file__).parent.parent / "docs" / "operations.md"


def test_operations_page_matches_the_template() -> None:
    expected = render_operations_page(parse_template(template_text()))
    assert PAGE.read_text("utf-8") == expected, (
        "docs/operations.md is stale: run `python -m fluoride.infra.policy_report`"
    )


def test_check_mode(tmp_path: Path) -> None:
    page = tmp_path / "operations.md"
    assert main([str(page), "--check"]) == 1
    assert main([str(page)]) == 0
    assert main([str(page), "--check"]) == 0
    page.write_text(page.read_text() + "edited by hand\n")
    assert main([str(page), "--check"]) == 1


def test_short_tags_become_long_forms() -> None:
    parsed = parse_template(
        "A: !GetAtt Table.Arn\nB: !Ref X\nC: !If [Cond, !Sub '${X}-y', !Ref AWS::NoValue]\n"
        "D: !Select [0, !Split [',', !Join ['', [!Ref L, ',,,']]]]\nE: !Condition C\n"
    )
    assert parsed == {
        "A": {"Fn::GetAtt": ["Table", "Arn"]},
        "B": {"Ref": "X"},
        "C": {"Fn::If": ["Cond", {"Fn::Sub": "${X}-y"}, {"Ref": "AWS::NoValue"}]},
        "D": {"Fn::Select": [0, {"Fn::Split": [",", {"Fn::Join": ["", [{"Ref": "L"}, ",,,"]]}]}]},
        "E": {"Condition": "C"},
    }


def test_every_statement_and_rule_is_on_the_page() -> None:
    template = parse_template(template_text())
    page = render_operations_page(template)
    for name, res in template["Resources"].items():
        if res["Type"] in {"AWS::IAM::Policy", "AWS::EC2::SecurityGroupIngress"}:
            assert name in page, name
        for statement, _ in statements(
                res.get("Properties", {}).get("PolicyDocument", {}).get("Statement", [])):
            actions = statement["Action"]
            for action in actions if isinstance(actions, list) else [actions]:
                assert f"`{action}`" in page
        if "DeletionPolicy" in res:
            assert f"| `{name}` | `{res['Type']}` | {res['DeletionPolicy']} |" in page


def test_a_sensitive_grant_is_flagged() -> None:
    template = copy.deepcopy(parse_template(template_text()))
    statements = template["Resources"]["TableAccess"]["Properties"]["PolicyDocument"]["Statement"]
    statements.append({"Effect": "Allow", "Action": "iam:Pass*", "Resource": "*"})
    page = render_operations_page(template)
    assert "**Granted (review!):** `iam:PassRole`" in page
    assert "- `iam:PassRole`" not in page
    clean = render_operations_page(parse_template(template_text()))
    assert "Granted (review!)" not in clean
    assert "- `iam:PassRole`" in clean
