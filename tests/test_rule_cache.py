"""Review of the rule cache (tracker.rules.cache): a damaged entry is never believed, whatever
the damage — not only an entry that no longer unpickles, but one whose bytes still make a pickle
(a keyword changed on disk) or one that asks the unpickler for an impossible amount of memory."""

from __future__ import annotations

from pathlib import Path

from tracker.rules.cache import SMALL, cached
from tracker.rules.load import parse_file


def _rule_text() -> str:
    """A rule file over SMALL bytes (so it is cached), with one keyword easy to find on disk."""
    lines = ["rules:"]
    for i in range(2000):
        lines += [f"  - id: r{i}", f"    name: 规则{i}", f"    keywords: [关键词{i:05d}]"]
    lines += ["  - id: target", "    name: 目标", "    keywords: [乡村振兴]"]
    text = "\n".join(lines) + "\n"
    assert len(text.encode()) >= SMALL
    return text


def _keywords(parsed) -> set[str]:
    return {k for rule in parsed.rules for k in rule.keywords}


def _entry(folder: Path, text: str) -> Path:
    first = cached(folder, text, "rules.yaml", parse_file)
    assert "乡村振兴" in _keywords(first)
    (entry,) = folder.glob("rules-*.json")
    return entry


def test_an_entry_changed_on_disk_but_still_a_pickle_is_not_believed(tmp_path):
    text = _rule_text()
    folder = tmp_path / "cache"
    entry = _entry(folder, text)
    data = entry.read_bytes()
    assert data.count("乡村振兴".encode()) == 1
    entry.write_bytes(data.replace("乡村振兴".encode(), "乡村振荡".encode()))  # same length
    again = cached(folder, text, "rules.yaml", parse_file)
    assert "乡村振兴" in _keywords(again) and "乡村振荡" not in _keywords(again)
    assert again == parse_file(text, "rules.yaml")


def test_an_entry_that_checks_out_but_is_not_of_the_format_is_read_again_not_a_crash(tmp_path):
    """The check guards against damage; what passes it must still be plain data of the cache's
    own shape (rules as lists of strings), else it is read again: nested a million deep, a rule
    field of another type, a field the format does not have."""
    from tracker.rules.cache import _CHECK, _check

    text = _rule_text()
    folder = tmp_path / "cache"
    entry = _entry(folder, text)
    name = bytes.fromhex(entry.stem.removeprefix("rules-"))
    good = entry.read_bytes()[_CHECK:]
    for data in (b"[" * 1_000_000 + b"]" * 1_000_000,
                 good.replace('"乡村振兴"'.encode(), b"12345", 1),
                 good.replace(b'"rules":[[', b'"rules":[["a","b",[],1,{"x":1}],[', 1)):
        entry.write_bytes(_check(name, data) + data)
        again = cached(folder, text, "rules.yaml", parse_file)  # was: RecursionError, …
        assert again == parse_file(text, "rules.yaml")
        # and the entry was written anew: the next read is from the cache, and right
        assert entry.read_bytes()[_CHECK:] == good
        assert cached(folder, text, "rules.yaml", parse_file) == again


def test_another_files_entry_put_in_place_of_an_entry_is_not_believed(tmp_path):
    """The entry's name is the digest of its file; an entry copied or renamed over another
    (two instance folders merged, a backup put back by hand) must not pass for it."""
    text = _rule_text()
    other = text.replace("乡村振兴", "绿色电力")
    folder = tmp_path / "cache"
    entry = _entry(folder, text)
    cached(folder, other, "rules.yaml", parse_file)
    (other_entry,) = set(folder.glob("rules-*.json")) - {entry}
    other_entry.replace(entry)
    again = cached(folder, text, "rules.yaml", parse_file)
    assert "乡村振兴" in _keywords(again) and "绿色电力" not in _keywords(again)


def test_a_folder_of_more_large_files_than_entries_kept_is_still_read_from_the_cache(tmp_path):
    """Entries are pruned to the KEEP most recently used after each write. A rules folder with
    more large files than KEEP is read file by file in the same order each start, so each
    file's entry was the oldest, pruned just before it was needed: every start read every file
    again (and wrote every entry), slower than no cache at all."""
    from tracker.rules import cache as cache_module
    from tracker.rules.load import read_rule_set

    rules = tmp_path / "rules"
    rules.mkdir()
    files = cache_module.KEEP + 2
    for n in range(files):
        lines = ["rules:"]
        for i in range(1700):
            lines += [f"  - id: f{n}-r{i}", f"    name: 规则{i}", f"    keywords: [词{n}x{i:05d}]"]
        (rules / f"f{n:02d}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
        assert (rules / f"f{n:02d}.yaml").stat().st_size >= SMALL
    folder = tmp_path / "cache"
    first = read_rule_set(rules, folder)
    assert not first.problems
    parsed: list[str] = []
    real = cache_module.cached

    def counting(folder_, text, filename, parse):
        def parse_counted(text_, filename_):
            parsed.append(filename_)
            return parse(text_, filename_)
        return real(folder_, text, filename, parse_counted)

    import tracker.rules.load as load_module
    load_module.cached, saved = counting, load_module.cached
    try:
        again = read_rule_set(rules, folder)
    finally:
        load_module.cached = saved
    assert again.rules == first.rules
    assert parsed == []  # every file from the cache the second time


def test_entries_not_used_for_long_are_still_pruned_to_keep(tmp_path):
    """The other side of the fix above: the folder does not grow without bound."""
    import os
    import time

    from tracker.rules import cache as cache_module

    folder = tmp_path / "cache"
    folder.mkdir()
    long_ago = time.time() - 2 * cache_module.RECENT_SECONDS
    for i in range(cache_module.KEEP + 5):
        stale = folder / f"rules-{i:040x}.json"
        stale.write_bytes(b"old")
        os.utime(stale, (long_ago + i, long_ago + i))
    text = _rule_text()
    cached(folder, text, "rules.yaml", parse_file)
    left = sorted(p.name for p in folder.glob("rules-*.json"))
    assert len(left) == cache_module.KEEP
    assert f"rules-{0:040x}.json" not in left  # the least recently used went first
    assert any(p.read_bytes() != b"old" for p in folder.glob("rules-*.json"))  # the new one
