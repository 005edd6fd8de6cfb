"""Review of snippets (tracker.text.snippets): a page's own control characters \\x01-\\x04 are
what `snippet` marks hits with inside a passage; an HTML page can hold them (they reach the
text as they are), and a sentence with several hits then had the wrong words marked."""

from __future__ import annotations

from tracker.documents import Document
from tracker.matching import Matcher
from tracker.rules.model import Rule


def test_control_characters_in_a_page_do_not_move_the_marks_of_a_sentence_with_hits():
    text = "前面\x01的话，发展很好，发展更好，再\x02发展\x03。后\x04话。"
    matcher = Matcher([Rule(id="fz", name="发展", keywords=("发展",), match="substring")])
    (found,) = matcher.match(Document(name="p.html", text=text, kind="html"))
    assert [h.start for h in found.occurrences] == [i for i in range(len(text))
                                             if text.startswith("发展", i)]
    for hit in found.occurrences:
        snippet = hit.snippet
        assert snippet.occurrence == "发展"
        passage = snippet.before + snippet.occurrence + snippet.after
        assert [passage[a:b] for a, b in snippet.others] == ["发展", "发展"]
        marked = snippet.marked()
        assert marked.count("【发展】") == 3 and marked.count("【") == 3, marked
