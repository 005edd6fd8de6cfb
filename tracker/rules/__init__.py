"""Keyword rules, kept as YAML in the rules folder (`TRACKER_RULES`, default `./rules`).

A file holds one rule (a mapping) or many (`rules:` followed by a list of mappings).

    id: biaozhundi              # stable slug: a-z 0-9 _ -, used by subscriptions
    name: 标准地                 # what people see
    description: 工业用地"标准地"出让与改革
    keywords: [标准地]           # any of them fires (required, at least one, unless `regex`)
    regex: ['标准地\\d+宗']       # keywords as RE2 patterns (optional; see tracker.rules.regex)
    all: [出让]                  # each must also appear in the article
    exclude: [国家标准]          # none may appear in the article
    near:                        # the term must have one of `with` within N characters
      - {term: 风光, with: [光伏, 风电, 基地], within: 30}
    fields: [title, body]        # where to look (default both)
    sources: [sxrb]              # only articles from these source ids (default all)
    match: word                  # word (default: Chinese-word aware) or substring

An entry of `keywords`, `all` or `exclude` is a word, or a mapping: `{term: 绿电, name: 绿色电力}`
(a keyword with the name alerts and the archive show) or `{regex: '绿电(交易|直连)'}` (an RE2
pattern, also with an optional `name` among keywords). Patterns are matched against the
normalised text and are never word-checked; one RE2 cannot compile is a file:line problem.

Global excludes: `rules/_global.yaml` (or any file with `global: true`) holds `exclude:`
terms that join every rule's `exclude` (in that rule's fields and match mode):

    global: true                 # optional in _global.yaml
    exclude: [广告, {regex: '招聘.{0,4}启事'}]

How a rule is evaluated against one article, in this order:
1. `sources`: an article from another source is skipped;
2. `fields`: only the title and/or the body are looked at;
3. `keywords`: every occurrence of any keyword is a candidate hit — in `word` mode only where
   the keyword is a word of the sentence (标准地 in 出让标准地12宗, not in 国家标准地方标准);
4. `near`: a candidate hit of a near-`term` keyword stays only where one of `with` is within
   `within` characters of it; a near whose term is not a keyword must hold somewhere;
5. `all`: each term must occur in the looked-at fields;
6. `exclude`: no term may occur there.
The rule fires when hits remain; each remaining hit is reported with a snippet.

May use text and yamlcheck only.
"""

from tracker.rules.load import (Problem, RulesError, RuleSet, check_rules, load_rules,
                                parse_file, parse_rules_text, read_rule_set)
from tracker.rules.model import FIELDS, MATCH_MODES, GlobalExclude, Near, Rule

__all__ = [
    "FIELDS", "MATCH_MODES", "GlobalExclude", "Near", "Problem", "Rule", "RuleSet", "RulesError",
    "check_rules", "load_rules", "parse_file", "parse_rules_text", "read_rule_set",
]
