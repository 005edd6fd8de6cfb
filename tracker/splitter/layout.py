"""Lines in their context: headline blocks, captions, headline groups, and the assembly of
articles from them (steps 3–5 of tracker.splitter)."""

from __future__ import annotations

import re

from tracker.splitter.lines import (
    AD, BLANK, BODY, BYLINE, CAPTION, CREDIT, CREDIT_PATTERN, DATELINE, FURN, HEAD, HEADISH,
    NAME_PATTERN, NUMBERED_PATTERN, PINYIN_PATTERN, ROUNDUP_PATTERN, SUB, TOKEN_KIND, Line, Start,
    Tok, Units)


def in_context(lines: list[Line]) -> list[list[int]]:
    """Tell headline blocks from body text broken by the column layout; return the blocks."""
    reach = [False] * (len(lines) + 1)  # a dateline follows, across headline-like lines only
    upcoming: Line | None = None
    for i in range(len(lines) - 1, -1, -1):
        line = lines[i]
        passable = line.label in (BLANK, FURN, HEADISH, SUB, BYLINE, CREDIT)
        reach[i] = line.label == DATELINE or (passable and reach[i + 1])
        if line.label == HEADISH and upcoming is not None and PINYIN_PATTERN.match(upcoming.text):
            line.label = FURN  # a column name above its pinyin: 开发区评论 / kai fa qu ping lun
        upcoming = line if line.text else upcoming
    finished, blocks = True, _blocks(lines, reach)
    for members in blocks:
        block = [lines[k] for k in members]
        kinds = [x.label for x in block]
        if kinds and kinds[0] in (HEADISH, SUB) and set(kinds) <= {HEADISH, SUB, BYLINE} \
                and kinds.count(HEADISH) <= 3 and (finished or reach[members[-1] + 1]):
            for x in block:
                if x.label == HEADISH:
                    x.label = BYLINE if len(block) == 1 and NAME_PATTERN.match(x.text) else HEAD
        else:
            for x in block:  # a byline pattern inside running text is running text
                if x.label in (HEADISH, SUB) or (x.label == BYLINE and not set(kinds) <= {BYLINE, CREDIT}):
                    x.label = BODY
        if block:
            finished = block[-1].label not in (BODY, DATELINE) or block[-1].finished
    return blocks


def _blocks(lines: list[Line], reach: list[bool]) -> list[list[int]]:
    """Runs of non-blank lines (numbered in `Line.block`; furniture and ads left out). A dateline
    starts one, and so does a headline-like line leading to one; where body lines mostly end a
    sentence (a paragraph a line, as e-papers give), every line is a block."""
    body = [x.finished for x in lines if x.label in (BODY, DATELINE)]
    per_line = sum(body) * 2 >= len(body) > 0
    out: list[list[int]] = []
    for i, line in enumerate(lines):
        if not line.text:
            continue
        prev = lines[i - 1] if i else Line(0, 0, "")
        leads = line.label in (HEADISH, SUB) and reach[i] and prev.label in (BODY, DATELINE) and prev.finished
        if not prev.text or per_line or line.label == DATELINE or leads:
            out.append([])
        line.block = len(out) - 1
        if line.label not in (FURN, AD):
            out[-1].append(i)
    return out


def mark_captions(lines: list[Line], blocks: list[list[int]]) -> None:
    """A credit with caption text on its line, or a short credit with the block above it."""
    for i, line in enumerate(lines):
        match = CREDIT_PATTERN.search(line.text) if line.label == CREDIT else None
        if match is None:
            continue
        members, own = [i], blocks[line.block]
        if len(line.text) - len(match.group()) <= 8 and all(lines[k].label in (CREDIT, BYLINE) for k in own):
            members = own
            above = blocks[line.block - 1] if line.block else []
            if above and all(lines[k].label in (BODY, HEAD) for k in above):
                members = above + members
        for k in members:
            lines[k].label, lines[k].caption = CAPTION, i


def headline_tokens(lines: list[Line]) -> list[Tok]:
    """Group labelled lines into tokens, headline lines into groups of units."""
    toks: list[Tok] = []
    for i, line in enumerate(lines):
        kind, last = TOKEN_KIND.get(line.label, "B"), toks[-1] if toks else None
        if line.label == BLANK:
            continue
        if last and kind in "AC" and last.kind == kind and lines[last.lines[-1]].caption == line.caption:
            last.lines.append(i)
        elif last and last.kind == "H" and line.label in (HEAD, SUB):
            main, subs = last.units[-1]
            if line.label == SUB or ("、" in line.text and not subs):
                subs.append(i)  # ——a subtitle, or a deck listing things under the main line
            elif lines[main[-1]].block == line.block and not subs:
                main.append(i)  # one headline wrapped over two lines
            else:
                last.units.append(([i], []))
            last.lines.append(i)
        else:
            toks.append(Tok(kind, [i], [([i], [])] if kind == "H" else [], line.closes))
    return toks


def assemble(toks: list[Tok], lines: list[Line]) -> list[Start]:
    """Find the articles and hand each gap between two of them to its neighbours."""
    roundup = _roundup(toks, lines)
    # Headlines follow bodies on this page if a dateline directly follows body text (or its byline);
    # not a roundup's items, one dateline after another.
    shape = "".join("d" if roundup[k] and t.kind == "D" else t.kind for k, t in enumerate(toks))
    after = re.search(r"[BD]Y?D", shape.replace("F", "")) is not None
    # Without datelines on the page, nothing tells a subheading from the next article's headline:
    # a headline line followed by body text starts an article (a bulletin, a transcript).
    datelined = any(t.kind == "D" for t in toks)
    starts: list[Start] = []
    core: Start | None = None
    last, gap = -1, []
    for k, tok in enumerate(toks):
        if tok.kind in "HYFCA":
            gap.append(k)
        elif tok.kind == "B" and core is not None and not (roundup[k] and any(toks[g].kind == "H" for g in gap)) \
                and _continues(toks, core, toks[last], gap, datelined, lines):
            last, gap = k, []
        else:
            new = Start(tok.lines[0], dateline=tok.kind == "D", roundup=roundup[k])
            _close_gap(toks, starts, core, gap, new, after)
            core, last, gap = new, k, []
    _close_gap(toks, starts, core, gap, None, after)
    return starts


def _roundup(toks: list[Tok], lines: list[Line]) -> list[bool]:
    """Which tokens are a roundup's short items: from a column name such as 快讯 or 简讯 to the
    next headline over a dateline (an article of the page again), and datelines printed one
    after another with no headline between (本报讯 …。本报讯 …。). Each of those items is an
    article of its own; none has its headline printed after it."""
    inside, active, previous = [False] * len(toks), False, -1
    for k, tok in enumerate(toks):
        if tok.kind == "F":
            active = active or any(ROUNDUP_PATTERN.match("".join(lines[i].text.split())) for i in tok.lines)
            continue
        if tok.kind == "Y":
            continue
        if tok.kind == "D" and previous >= 0 and toks[previous].kind == "H":
            active = False
        if tok.kind == "D" and previous >= 0 and toks[previous].kind == "D":
            inside[previous] = True
            inside[k] = True
        inside[k] = inside[k] or active
        previous = k
    return inside


def _continues(toks: list[Tok], core: Start, last: Tok, gap: list[int], datelined: bool,
               lines: list[Line]) -> bool:
    """Does a body line after `gap` go on with the current article (past captions, a subheading)?"""
    kinds = "".join(toks[g].kind for g in gap)
    if last.closes or "Y" in kinds or "A" in kinds:
        return False
    heads = [toks[g] for g in gap if toks[g].kind == "H"]
    if not heads:
        return True
    subheading = len(heads) == 1 and len(heads[0].units) == 1 and not heads[0].units[0][1]
    numbered = subheading and NUMBERED_PATTERN.match(lines[heads[0].units[0][0][0]].text) is not None
    return subheading and (datelined or numbered) and not (core.dateline and core.title is None)


def _titled(units: Units) -> list[int]:
    """A headline printed before its body: the main lines of its last two units (kicker + main)."""
    return [i for main, _ in units[-2:] for i in main]


def _close_gap(toks: list[Tok], starts: list[Start], prev: Start | None, gap: list[int],
               new: Start | None, after: bool) -> None:
    """Give the tokens between two articles to the one before, the one after, or own spans."""
    kinds = "".join(toks[g].kind for g in gap)
    heads = [p for p, kind in enumerate(kinds) if kind == "H"]
    ad = kinds.rfind("A")
    new_needs = new is not None and bool(heads) and heads[-1] > ad and not kinds[heads[-1] + 1:].strip("FCY")
    claim, rest = -1, []  # last gap position `prev` owns; units of a shared group left to `new`
    if prev is not None and prev.title is None and not prev.roundup and heads and (ad < 0 or heads[0] < ad):
        units = toks[gap[heads[0]]].units
        shared = new_needs and len(heads) == 1
        if not shared or prev.dateline or after:
            keep = (len(units) + 1) // 2 if shared else len(units)
            prev.title, claim, rest = units[0][0], heads[0], units[keep:]
    while not rest and kinds[claim + 1:claim + 2] == "Y":
        claim += 1  # bylines after an article's body or after its headline
    begin = len(gap)  # first gap position `new` owns
    if new is not None and rest:
        new.title, new.line, begin = _titled(rest), rest[0][0][0], claim + 1
    elif new is not None:
        later = [p for p in heads if p > max(claim, ad)]
        if new_needs and later:
            new.title, begin = _titled(toks[gap[heads[-1]]].units), later[0]
        else:
            begin = max(claim + 1, len(kinds.rstrip("F")))
        while begin - 1 > claim and kinds[begin - 1] == "F":
            begin -= 1  # furniture just before an article belongs to it
        new.line = toks[gap[begin]].lines[0] if begin < len(gap) else new.line
    furniture, lone = None, prev is None and new is None  # a page with headlines but no body
    for p in range(claim + 1, begin):
        tok = toks[gap[p]]
        if tok.kind in "CA" or (tok.kind == "H" and lone):
            first = toks[gap[p if furniture is None else furniture]].lines[0]
            title = _titled(tok.units) if tok.kind == "H" else None
            starts.append(Start(first, {"C": "caption", "A": "ad"}.get(tok.kind, "article"), title=title))
            lone = lone and tok.kind != "H"
        furniture = (p if furniture is None else furniture) if tok.kind == "F" else None
    if new is not None:
        starts.append(new)
