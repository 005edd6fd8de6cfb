"""Attacks through YAML anchors and aliases: an alias bomb (a few lines that expand to 531,441
keywords) in a rule file, in the admin's rule editor, and a merge key in a sources file.

What must hold: each is refused before it is expanded, named by file and line (a few problems
named, the rest counted); the editor answers 422 and writes no file; a file without anchors is
unaffected, even with `&` and `*` in its values. (Every place YAML takes an anchor is in
tests/test_rules.py.)"""

from __future__ import annotations

import pytest

from conftest import csrf_token


# ---- 7. YAML anchors and aliases ----------------------------------------------------------------

def alias_bomb(levels: int = 6) -> str:
    lines = ['a0: &a0 ["光伏", "光伏", "光伏", "光伏", "光伏", "光伏", "光伏", "光伏", "光伏"]']
    for n in range(1, levels):
        lines.append(f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 9) + "]")
    return "\n".join(lines) + f"\nid: bomb\nname: 炸弹\nkeywords: *a{levels - 1}\n"


def test_rule_files_with_aliases_are_refused_with_file_and_line(tmp_path):
    from tracker.rules import RulesError, load_rules

    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "bomb.yaml").write_text(alias_bomb(), encoding="utf-8")
    with pytest.raises(RulesError) as caught:
        load_rules(folder)
    problems = [str(p) for p in caught.value.problems]
    assert problems[0].startswith(f"{folder / 'bomb.yaml'}:1: anchor &a0")
    assert len(problems) <= 7  # a few named, the rest counted: not 531,441 keywords


def test_the_admin_editor_refuses_an_alias_bomb(tmp_path):
    import shutil

    from conftest import REPO_RULES
    from tracker.web import create_app

    rules = tmp_path / "rules"
    shutil.copytree(REPO_RULES, rules)
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"),
                      "RULES": str(rules), "ADMIN_PASSWORD": "pw"})
    client = app.test_client()
    client.post("/admin/login", data={"csrf_token": csrf_token(client, "/admin/login"),
                                      "password": "pw"})
    answer = client.post("/admin/rules/new", data={
        "csrf_token": csrf_token(client, "/admin/rules/new"), "action": "save",
        "yaml": alias_bomb()})
    assert answer.status_code == 422 and "anchor" in answer.get_data(as_text=True)
    assert not (rules / "bomb.yaml").exists()


def test_a_sources_file_with_aliases_is_refused(tmp_path):
    from tracker.sources.catalog import SourcesError, load_sources

    path = tmp_path / "sources.yaml"
    path.write_text("common: &c {name: 报, url: 'https://example.cn/rss.xml'}\n"
                    "sources:\n  - <<: *c\n    id: one\n", encoding="utf-8")
    with pytest.raises(SourcesError) as caught:
        load_sources(path)
    assert str(caught.value).startswith(f"{path}:1: anchor &c")


def test_ampersands_and_stars_in_values_still_load(tmp_path):
    """A file without anchors is unaffected, even with & and * in its text."""
    from tracker.rules import load_rules

    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "ok.yaml").write_text("id: ok\nname: 'R&D * 研发'\nkeywords: ['研发&创新']\n",
                                    encoding="utf-8")
    assert [r.id for r in load_rules(folder)] == ["ok"]
