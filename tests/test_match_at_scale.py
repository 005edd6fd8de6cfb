"""`tracker match` on many inputs and large rule sets: the inputs matched in forked processes
(`--jobs`) print exactly what one process prints, in the order given; a large rule file's parsed
rules come from the user's cache the second time, and a changed or damaged cache entry is
never believed; keywords normalised in one batch equal each one normalised alone."""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from tracker.cli.matching import map_in_order
from tracker.rules.cache import SMALL
from tracker.text.normalize import _FOLD, _fold_chars, normalize_term, normalize_terms

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("TRACKER_CORPORA") or REPO.parent / "shared" / "corpora")


def tracker(*args: str, instance: Path) -> subprocess.CompletedProcess:
    """`tracker ARGS` with this instance, and the user's cache folder beside it (`cache_of`)."""
    env = {**os.environ, "TRACKER_INSTANCE": str(instance),
           "XDG_CACHE_HOME": str(instance.parent / "xdg")}
    return subprocess.run([sys.executable, "-m", "tracker", *args], capture_output=True,
                          text=True, env=env, cwd=REPO, timeout=180)


def cache_of(instance: Path) -> Path:
    """The rule cache of `tracker(…, instance=instance)`: the user's, not the instance's."""
    return instance.parent / "xdg" / "tracker"


def corpus_words(limit: int) -> list[str]:
    """Distinct words of the PKU gold segmentation (not our text; read at run time)."""
    path = CORPUS / "pku-gold-a.utf8"
    if not path.exists():
        pytest.skip(f"no corpus at {path} (set TRACKER_CORPORA)")
    words: dict[str, None] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        for word in line.split():
            if len(word) >= 2:
                words[word] = None
        if len(words) >= limit:
            break
    return list(words)[:limit]


@pytest.fixture
def bounded():
    """The map runs in this process: a pool that hung would hang the suite. SIGALRM after 120 s
    fails the test instead (pytest runs tests on the main thread, where signals arrive)."""
    import signal

    def expired(_signum, _frame):
        raise TimeoutError("map_in_order did not finish within 120 s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(120)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _pid(_item: object) -> int:
    return os.getpid()


def test_map_in_order_runs_in_other_processes_and_keeps_the_order(bounded):
    items = list(range(40))
    assert list(map_in_order(lambda n: n * n, items, jobs=2)) == [n * n for n in items]
    # Each child waits once for the other (bounded): both must have been given work.
    barrier = multiprocessing.get_context("fork").Barrier(2)
    waited: list[bool] = []  # each child has its own copy

    def pid_once_both_work(_item: int) -> int:
        if not waited:
            waited.append(True)
            barrier.wait(timeout=30)
        return os.getpid()

    pids = list(map_in_order(pid_once_both_work, items, jobs=2))
    assert os.getpid() not in pids and len(set(pids)) == 2
    assert set(map_in_order(_pid, items, jobs=1)) == {os.getpid()}  # one job: no fork
    assert set(map_in_order(_pid, items[:4], jobs=2)) == {os.getpid()}  # too few to share


@pytest.mark.parametrize("fmt", ["jsonl", "text"])
def test_jobs_print_what_one_process_prints_in_the_order_given(tmp_path, seeds_dir, fmt):
    folder = tmp_path / "rules"
    folder.mkdir()
    for i, keyword in enumerate(["专业镇", "营商环境", "绿电", "招商引资"]):
        (folder / f"r{i}.yaml").write_text(f"id: r{i}\nname: {keyword}\nkeywords: [{keyword}]\n",
                                           encoding="utf-8")
    pages = sorted(seeds_dir.glob("*.txt"))
    missing = tmp_path / "missing.txt"
    # Each page twice, reversed the second time, with an unreadable input in the middle.
    inputs = [str(p) for p in pages] + [str(missing)] + [str(p) for p in reversed(pages)]
    one = tracker("match", "-j", "1", "--rules", str(folder), "--format", fmt, *inputs,
                  instance=tmp_path / "instance")
    two = tracker("match", "-j", "2", "--rules", str(folder), "--format", fmt, *inputs,
                  instance=tmp_path / "instance")
    assert one.returncode == two.returncode == 1  # the missing input, and only it
    assert two.stdout == one.stdout and two.stderr == one.stderr
    assert f"{missing}: no such file" in two.stderr
    if fmt == "jsonl":
        order = [json.loads(line)["document"] for line in two.stdout.splitlines()]
        seen = list(dict.fromkeys(order))
        assert seen == [str(p) for p in pages]  # first pass in order; the repeat re-visits
        assert order[-1] == str(pages[0])  # … in reverse, so the last line is the first page's


def big_rules(path: Path, words: list[str]) -> None:
    path.write_text("rules:\n" + "".join(f"  - id: w{i}\n    name: {w}\n    keywords: [{w}]\n"
                                         for i, w in enumerate(words)), encoding="utf-8")


def test_a_large_rule_file_is_read_from_the_cache_the_second_time(tmp_path):
    words = corpus_words(3000)
    rules = tmp_path / "big.yaml"
    big_rules(rules, words)
    assert rules.stat().st_size >= SMALL
    page = tmp_path / "page.txt"
    page.write_text("。".join(words[:50:7]) + "。", encoding="utf-8")
    instance = tmp_path / "instance"
    first = tracker("match", "--rules", str(rules), "--format", "jsonl", str(page),
                    instance=instance)
    assert first.returncode == 0, first.stderr
    (entry,) = cache_of(instance).glob("rules-*.json")
    again = tracker("match", "--rules", str(rules), "--format", "jsonl", str(page),
                    instance=instance)
    assert again.stdout == first.stdout and again.returncode == 0

    # A changed file is read again: its new rule fires, and the old entry no longer serves.
    with rules.open("a", encoding="utf-8") as file:
        file.write("  - id: added\n    name: 新规则\n    keywords: [新规则]\n")
    page.write_text(page.read_text(encoding="utf-8") + "新规则出台。", encoding="utf-8")
    changed = tracker("match", "--rules", str(rules), "--format", "jsonl", str(page),
                      instance=instance)
    assert '"rule": "added"' in changed.stdout
    assert len(list(cache_of(instance).glob("rules-*.json"))) == 2

    # A damaged entry is ignored (and written anew), never believed.
    for cached in cache_of(instance).glob("rules-*.json"):
        cached.write_bytes(b"not an entry")
    damaged = tracker("match", "--rules", str(rules), "--format", "jsonl", str(page),
                      instance=instance)
    assert damaged.returncode == 0 and damaged.stdout == changed.stdout
    entries = list(cache_of(instance).glob("rules-*.json"))
    assert sorted(p.read_bytes() == b"not an entry" for p in entries) == [False, True]  # rewritten


def test_a_cached_file_with_problems_still_stops_with_file_and_line(tmp_path):
    words = corpus_words(3000)
    rules = tmp_path / "big.yaml"
    big_rules(rules, words)
    with rules.open("a", encoding="utf-8") as file:
        file.write("  - id: Bad Id\n    name: 坏\n    keywords: [坏]\n")
    page = tmp_path / "page.txt"
    page.write_text("一句话。", encoding="utf-8")
    for _ in range(2):  # the second time from the cache
        done = tracker("match", "--rules", str(rules), str(page), instance=tmp_path / "i")
        assert done.returncode == 2
        assert f"{rules}:{3 * len(words) + 2}" in done.stderr and "must be a slug" in done.stderr
    assert list(cache_of(tmp_path / "i").glob("rules-*.json"))


def test_keywords_normalised_together_equal_each_alone():
    words = corpus_words(5000)
    odd = ["專業鎮", " 標準地 ", "ＡＢＣ１２３", "café", "ΣΑΣ", "乡村 振兴", "…", "﨑", "𠀀字",
           "a  b", "Straße", "İstanbul", "ﬁ", "\u3000全角\u3000", "\u200b专业镇", "頭髮", "乾隆",
           "後面", "髮型", "ⅻ", "㈱", "Ｗｉ－Ｆｉ"]
    terms = words + odd
    random.Random(7).shuffle(terms)
    assert normalize_terms(terms) == [normalize_term(t) for t in terms]
    assert normalize_terms(["a\nb", "绿电"]) == [normalize_term("a\nb"), "绿电"]


def test_page_folding_equals_the_fold_table_character_by_character():
    """The fast fold (lower case between the few characters that need more) gives what the
    fold table gives, on text mixing every kind of character that folds unusually."""
    alphabet = ("专业镇標準地abcXYZ０１２ＡＢＣａｂｃΣσςİıẞßﬁ…㈱ⅻ①，。（）\u200b\u00ad "
                "\n\tКириллица")
    pick = random.Random(3)
    for _ in range(300):
        text = "".join(pick.choice(alphabet) for _ in range(pick.randint(1, 40)))
        folded, _ = _fold_chars(text)
        assert folded == text.translate(_FOLD), text


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_stopping_the_command_stops_its_children(tmp_path, how):
    """While the children wait on slow inputs: Ctrl-C (SIGINT to the whole process group, as a
    terminal sends it) makes the command say "Aborted!" and exit; SIGTERM to the parent alone
    (`timeout`, a supervisor) ends it with 143. Either way no child is left behind."""
    import signal
    import time

    from loopback import serve

    rules = tmp_path / "r.yaml"
    rules.write_text("id: r\nname: 绿电\nkeywords: [绿电]\n", encoding="utf-8")

    with serve() as site:
        def held(handler) -> None:  # answers only when the test ends (bounded)
            site.release.wait(timeout=60)

        paths = [f"/slow{i}.txt" for i in range(10)]
        for path in paths:
            site.routes[path] = held
        env = {**os.environ, "TRACKER_INSTANCE": str(tmp_path / "instance")}
        # As from a terminal: SIGINT at its default even if this test runner ignores it (a
        # background job's children inherit the ignoring, and Python keeps it).
        command = [sys.executable, "-m", "tracker", "match", "-j", "2", "--rules", str(rules),
                   *(site.base + p for p in paths)]
        process = subprocess.Popen(
            [sys.executable, "-c", "import os, signal, sys; "
             "signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])",
             *command],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO,
            start_new_session=True)
        try:
            deadline = time.monotonic() + 60
            while len(site.requested) < 2 and time.monotonic() < deadline:  # both children
                time.sleep(0.05)  # polling a condition, bounded
            assert len(site.requested) >= 2
            if how == "ctrl-c":
                os.killpg(process.pid, signal.SIGINT)
            else:
                process.send_signal(signal.SIGTERM)
            _, err = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
    assert process.returncode == (1 if how == "ctrl-c" else 143)
    assert ("Aborted!" in err) == (how == "ctrl-c")
    assert "Traceback" not in err and "ForkPoolWorker" not in err
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # no process of the group is left
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        pytest.fail("a child of `tracker match` outlived it")


def test_a_child_that_dies_leaves_its_inputs_to_the_parent(bounded):
    """A child killed outright (as the kernel kills for memory) would leave its inputs without
    an answer for ever: the map notices, says so, and works what is left itself, in order."""
    import signal

    parent = os.getpid()

    def work(n: int) -> int:
        if n == 13 and os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
        return n * 10

    said: list[str] = []
    assert list(map_in_order(work, list(range(40)), jobs=2, warn=said.append)) == \
        [n * 10 for n in range(40)]
    (warning,) = said
    assert "a matching process died" in warning


def test_tracker_match_finishes_when_a_child_is_killed(tmp_path):
    """The deployed command: one of its children is killed (SIGKILL, as the kernel's OOM killer
    does) while the inputs are held on a loopback server; the command says so, matches the
    inputs left itself, and prints every input's line in order."""
    import signal
    import time

    from loopback import respond, serve

    rules = tmp_path / "r.yaml"
    rules.write_text("id: r\nname: 绿电\nkeywords: [绿电]\n", encoding="utf-8")
    page = respond("推动绿电交易。".encode(), "text/plain; charset=utf-8")
    with serve() as site:
        def held(handler) -> None:
            site.release.wait(timeout=60)
            page(handler)

        paths = [f"/p{i}.txt" for i in range(10)]
        for path in paths:
            site.routes[path] = held
        env = {**os.environ, "TRACKER_INSTANCE": str(tmp_path / "instance")}
        process = subprocess.Popen(
            [sys.executable, "-m", "tracker", "match", "-j", "2", "--format", "jsonl",
             "--rules", str(rules), *(site.base + p for p in paths)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)
        try:
            deadline = time.monotonic() + 60
            while len(site.requested) < 2 and time.monotonic() < deadline:  # both children
                time.sleep(0.05)  # polling a condition, bounded
            children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
            assert len(children) == 2
            os.kill(int(children[0]), signal.SIGKILL)
            site.release.set()  # the survivor answers its own; the dead one's fall to the parent
            out, err = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
    assert process.returncode == 0, err
    assert "a matching process died" in err
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["document"] for line in lines] == [site.base + p for p in paths]
    assert all(line["hits"][0]["keyword"] == "绿电" for line in lines)
