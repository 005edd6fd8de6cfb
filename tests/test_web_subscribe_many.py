"""The subscribe and manage pages with thousands of rules: a search picks the themes shown, at
most RULES_SHOWN of them, most active first; chosen themes stay on top and checked; every
public rule is still accepted. The rules are made at run time from the words of the PKU gold
segmentation (not our text; read from ../shared/corpora, never copied here)."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import opencc
import pytest
import yaml

from conftest import csrf_token
from public_app import db_of
from test_match_at_scale import corpus_words
from tracker.alerts.links import MANAGE, make_token
from tracker.store import transaction
from builders import add_article
from tracker.store.articles import NewArticle
from tracker.store.subscriptions import find_subscription, get_subscription
from tracker.text.normalize import normalize_term

N = 2400
LIMIT = 50  # RULES_SHOWN's default
HAN = re.compile(r"^[\u4e00-\u9fff]{2,}$")


@pytest.fixture(scope="module")
def words() -> list[str]:
    found = [w for w in corpus_words(4 * N) if HAN.match(w)]
    if len(found) < N + 1:
        pytest.skip(f"the corpus gave {len(found)} Han words, not {N + 1}")
    return found[:N + 1]


@pytest.fixture(scope="module")
def many_rules(words) -> tuple[dict[str, dict], str]:
    """N rules from corpus words (and one of ours with full-width Latin) by id, and their YAML
    (written once for the module: dumping N rules takes a second)."""
    rules = {f"r{i}": {"id": f"r{i}", "name": w, "description": f"关注{w}的报道",
                       "keywords": [w, words[i + 1]]} for i, w in enumerate(words[:N])}
    rules["wto"] = {"id": "wto", "name": "ＷＴＯ规则", "description": "世贸组织的规则与争端",
                    "keywords": ["世贸组织"]}
    return rules, yaml.safe_dump({"rules": list(rules.values())}, allow_unicode=True)


@pytest.fixture
def many(app, tmp_path, many_rules) -> dict[str, dict]:
    """The N rules written to the app's rules folder; the rules by id."""
    rules, text = many_rules
    folder = tmp_path / "many-rules"
    folder.mkdir()
    (folder / "many.yaml").write_text(text, encoding="utf-8")
    app.config["RULES"] = str(folder)
    return rules


def text(response) -> str:
    return response.get_data(as_text=True)


def shown(page: str) -> list[str]:
    """The theme checkboxes' values, in page order."""
    return re.findall(r'<input type="checkbox" name="rules" value="([^"]+)"', page)


def checked(page: str) -> set[str]:
    return set(re.findall(r'<input type="checkbox" name="rules" value="([^"]+)" checked', page))


def search_form(page: str) -> str:
    match = re.search(r'<form[^>]*method="get"[^>]*>.*?</form>', page, re.S)
    assert match, "no search form"
    return match.group(0)


def folded(rule: dict) -> str:
    return "\n".join(normalize_term(f) for f in (rule["name"], rule["description"], *rule["keywords"]))


def hit(app, rule_id: str, times: int) -> None:
    """`times` articles of today with a hit of `rule_id`, through the tables' own triggers."""
    today = datetime.now(ZoneInfo(app.config["TIMEZONE"])).date().isoformat()
    db = db_of(app)
    with transaction(db):
        db["sources"].insert({"id": "s", "name": "测试日报", "type": "feed", "location": "x"},
                             ignore=True)
        for i in range(times):
            article, _ = add_article(db, NewArticle(source_id="s", title=f"{rule_id} {i}",
                                                    text=f"第{i}篇，{rule_id}。", issue_date=today))
            db["hits"].insert({"article_id": article, "rule_id": rule_id, "rule_name": rule_id,
                               "count": 1, "matched_at": f"{today}T01:00:00+00:00",
                               "snippets": json.dumps([])})


def test_many_themes_show_a_bounded_page_most_active_first(app, client, many):
    client.get("/healthz")  # the database
    hit(app, "r2000", 3)
    hit(app, "r1500", 2)
    hit(app, "r2399", 1)
    response = client.get("/subscribe")
    page = text(response)
    assert response.status_code == 200
    values = shown(page)
    assert len(values) == LIMIT and len(response.data) < 150_000
    assert page.count("<svg") == LIMIT  # sparklines only for the themes shown
    assert values[:3] == ["r2000", "r1500", "r2399"]
    # this week's hits reach the top of the first theme's line; a theme without hits lies flat
    assert 'cy="2"' in page[page.index('value="r2000"'):page.index('value="r1500"')]
    assert 'cy="18"' in page[page.index(f'value="{values[-1]}"'):]
    rest = [many[v]["name"] for v in values[3:]]
    assert rest == sorted(rest)  # then by name
    assert f"共 {N + 1} 个主题，显示 {LIMIT} 个" in page and "输入关键词查找其他主题" in page
    form = search_form(page)
    assert 'name="q"' in form and "搜索主题" in form
    for field in ("email", "webhook_url", "chat_url", "keywords", "csrf_token"):
        assert f'name="{field}"' not in form  # never an address in a GET URL
    assert page.index("搜索主题") < page.index('name="rules"')


def test_search_finds_themes_by_name_description_and_keywords(app, client, many, words):
    target = many["r1234"]
    page = text(client.get("/subscribe", query_string={"q": target["name"]}))
    values = shown(page)
    assert "r1234" in values and 0 < len(values) <= LIMIT
    key = normalize_term(target["name"])
    assert all(key in folded(many[v]) for v in values)
    # r1233's second keyword is r1234's name: found by keyword too
    assert "r1233" in values
    assert f"与“{target['name']}”相关的" in page

    # traditional characters find the simplified rule
    convert = opencc.OpenCC("s2t")
    pick = next(i for i, w in enumerate(words[:N]) if convert.convert(w) != w)
    traditional = convert.convert(words[pick])
    assert f"r{pick}" in shown(text(client.get("/subscribe", query_string={"q": traditional})))
    # full-width and case folded; several words must all be found
    assert shown(text(client.get("/subscribe", query_string={"q": "wto"}))) == ["wto"]
    assert shown(text(client.get("/subscribe", query_string={"q": "Ｗto\u3000争端"}))) == ["wto"]
    assert shown(text(client.get("/subscribe", query_string={"q": "wto 不相干的词语"}))) == []


def test_a_search_that_finds_nothing_says_so(app, client, many):
    response = client.get("/subscribe", query_string={"q": "绝无此主题ＸＹＺ"})
    page = text(response)
    assert response.status_code == 200 and shown(page) == []
    assert "没有找到与“绝无此主题ＸＹＺ”相关的主题" in page
    assert '<a href="/subscribe">清空搜索</a>' in page
    page = text(client.get("/subscribe", query_string={"q": '<script>alert(1)</script>'}))
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page


def test_chosen_themes_stay_shown_and_checked_after_an_error(app, client, many):
    data = {"csrf_token": csrf_token(client, "/subscribe"), "channel": "email",
            "email": "not an address", "rules": ["r2398", "r7"], "frequency": "daily"}
    response = client.post("/subscribe", data=data)
    page = text(response)
    assert response.status_code == 400 and 'id="email-error"' in page
    assert shown(page)[:2] == ["r7", "r2398"] and checked(page) == {"r7", "r2398"}
    assert len(shown(page)) <= LIMIT + 2
    # the search form carries them along, and a search keeps them on top, checked
    form = search_form(page)
    assert 'name="rules" value="r7"' in form and 'name="rules" value="r2398"' in form
    assert "not an address" not in form
    again = text(client.get("/subscribe", query_string={"q": "wto", "rules": ["r7", "r2398"]}))
    assert shown(again) == ["r7", "r2398", "wto"] and checked(again) == {"r7", "r2398"}
    assert "（含已选的 2 个）" in again


def test_a_theme_not_shown_is_accepted(app, client, many):
    assert "r2397" not in shown(text(client.get("/subscribe")))
    data = {"csrf_token": csrf_token(client, "/subscribe"), "channel": "email",
            "email": "many@example.com", "rules": ["r2397", "wto"], "frequency": "daily"}
    response = client.post("/subscribe", data=data)
    assert response.status_code == 200, text(response)
    subscription = find_subscription(db_of(app), "email", "many@example.com")
    assert subscription is not None and sorted(subscription.rules) == ["r2397", "wto"]
    # an id that is no rule is still refused
    data["rules"], data["email"] = ["r999999"], "other@example.com"
    assert client.post("/subscribe", data=data).status_code == 400
    assert find_subscription(db_of(app), "email", "other@example.com") is None


def test_a_get_changes_nothing(app, client, many):
    client.get("/subscribe", query_string={"q": "wto", "rules": ["r1"], "email": "x@example.com"})
    assert find_subscription(db_of(app), "email", "x@example.com") is None


def test_manage_page_with_many_themes(app, client, many):
    from tracker.alerts.subscribe import subscribe

    subscription, _ = subscribe(db_of(app), app.config, "email", "own@example.com",
                                ["r2396", "r3"], list(many), "daily", confirmed=True)
    url = f"/manage/{make_token(app.config, MANAGE, subscription.id)}"
    response = client.get(url)
    page = text(response)
    assert response.status_code == 200 and len(response.data) < 150_000
    assert shown(page)[:2] == ["r3", "r2396"] and checked(page) == {"r3", "r2396"}
    assert len(shown(page)) == LIMIT + 2
    assert "own@example.com" not in search_form(page)
    found = text(client.get(url, query_string={"q": many["r1000"]["name"]}))
    assert shown(found)[:3] == ["r3", "r2396", "r1000"] and checked(found) == {"r3", "r2396"}

    # saving a theme that is not shown works; an error keeps what was chosen on top
    token = csrf_token(client, url)
    response = client.post(url, data={"csrf_token": token, "action": "save",
                                      "rules": ["r2395"], "frequency": "weekly"})
    assert response.status_code == 302
    assert list(get_subscription(db_of(app), subscription.id).rules) == ["r2395"]
    response = client.post(url, data={"csrf_token": token, "action": "save",
                                      "rules": ["r2394", "r9"], "frequency": "hourly"})
    page = text(response)
    assert response.status_code == 400
    assert shown(page)[:2] == ["r9", "r2394"] and checked(page) == {"r9", "r2394"}
    assert list(get_subscription(db_of(app), subscription.id).rules) == ["r2395"]


def test_changed_rules_are_searched_at_once(app, client, many):
    assert shown(text(client.get("/subscribe", query_string={"q": "量子新题"}))) == []
    with (Path(app.config["RULES"]) / "many.yaml").open("a", encoding="utf-8") as f:
        f.write("- {id: added, name: 量子新题, keywords: [量子计算]}\n")
    assert shown(text(client.get("/subscribe", query_string={"q": "量子新题"}))) == ["added"]


def test_themes_shown_from_the_environment(monkeypatch, tmp_path):
    """TRACKER_RULES_SHOWN: the starter rules (5) are more than 3, so a search appears."""
    from conftest import REPO_RULES
    from tracker.web import create_app

    monkeypatch.setenv("TRACKER_RULES_SHOWN", "3")
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"),
                      "RULES": str(REPO_RULES)})
    page = text(app.test_client().get("/subscribe"))
    assert len(shown(page)) == 3 and 'name="q"' in page and "共 5 个主题，显示 3 个" in page
    monkeypatch.delenv("TRACKER_RULES_SHOWN")
    page = text(create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"),
                            "RULES": str(REPO_RULES)}).test_client().get("/subscribe"))
    assert len(shown(page)) == 5 and 'name="q"' not in page


def test_hundreds_of_chosen_themes_are_all_shown_with_their_lines(app, client, many):
    """Chosen themes are never hidden, however many (a subscriber's own choice)."""
    client.get("/healthz")
    hit(app, "r600", 2)
    chosen = [f"r{i}" for i in range(1000, 1600)] + ["r600"]
    data = {"csrf_token": csrf_token(client, "/subscribe"), "channel": "email", "email": "bad",
            "rules": chosen, "frequency": "daily"}
    page = text(client.post("/subscribe", data=data))
    assert checked(page) == set(chosen) and len(shown(page)) == len(chosen) + LIMIT
    assert page.count("<svg") == len(shown(page))


def test_few_themes_ignore_rules_in_the_url(client):
    """The starter rules (5 ≤ RULES_SHOWN): the page as it always was, nothing pre-checked."""
    page = text(client.get("/subscribe", query_string={"rules": "lvdian"}))
    assert 'name="q"' not in page and checked(page) == set() and len(shown(page)) == 5
