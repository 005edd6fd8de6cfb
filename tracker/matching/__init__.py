"""Finding where rules fire: one automaton over every term of every rule, then word checks and
boolean logic only for the rules that have a candidate in an article.

    matcher = Matcher(rules)              # compile once per rule set
    for found in matcher.match(document): # a hit: RuleMatch per (rule, article) that fired
        ...

The cost of matching a page does not grow with the number of rules: the Aho–Corasick automaton
(Rust, `ahocorasick-rs`) finds every term in one pass, the segmenter (jieba's dictionary, Rust
`rjieba`) runs once per page and only when a word-mode term occurred, and a rule is evaluated
only for articles where one of its keywords occurred. `regex:` terms run on RE2 beside the
automaton: sets of patterns say in one pass which occur, and only those are run for their spans.
The rule language is in `tracker.rules`.

May use rules, articles, documents and text; never store or anything above.
"""

from tracker.matching.matcher import Matcher, Occurrence, RuleMatch

__all__ = ["Matcher", "Occurrence", "RuleMatch"]
