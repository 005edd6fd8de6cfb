"""What the pages say of a rule file's or sources.yaml's problems, and of the problems met
reading a source (the source editor's preview), in Chinese.

A problem (tracker.yamlcheck.Problem) carries a `code` and `fields` beside its English: the
Chinese is chosen by the code from RULE or SOURCE and the fields filled in (format_map), so the
readers' English can be reworded without changing a word here. Only third parties' English is
matched by pattern, to say it in Chinese too: PyYAML's parser errors (code bad_yaml), RE2's
compile errors (regex_invalid) and APScheduler's cron check (cron_invalid). Admin pages add the
English after the Chinese (`detail=True`, the filters' default); public pages show the Chinese
alone. `rule_warnings` says what the rule editor lets pass but is probably a slip.

A problem met reading a source (tracker.errors.FetchProblem: a page or article skipped) is
said by `fetch_problem`, from FETCH by its code (tracker.errors.FETCH_CODES); httpx's and the
OS's English is told apart by exception type where it is caught, and what is not is `other`,
its English kept as the detail.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Mapping

from tracker.errors import FetchProblem
from tracker.web.messages import KINDS, by_pattern, fill, pattern_table
from tracker.yamlcheck import Problem

# ---- rule files: the codes of tracker.rules.load.CODES ------------------------------------------

RULE = {
    "bad_yaml": "YAML 格式错误：{reason}",
    "anchor": "这里用了 YAML 的锚点或别名（& 或 *），本站不接受，请把内容直接写出来。",
    "more_anchors": "还有 {count} 处锚点或别名，也请改成直接写出的内容。",
    "empty_file": "文件里没有规则。",
    "not_mapping": "这里要写成“字段: 值”的形式。",
    "key_not_text": "字段名要写成文字。",
    "field_twice": "字段 `{field}` 写了两次，请删掉一个。",
    "unknown_field": "不认识的字段 `{field}`{hint}，请检查拼写（可用的字段见提示）。",
    "not_text": "`{field}` 要写文字。",
    "missing": "找不到规则文件或文件夹，请检查 TRACKER_RULES。",
    "unreadable": "文件无法读取（要是 UTF-8 编码的文本文件）。",
    "regex_empty": "正则表达式是空的，请写上内容或删掉这一项。",
    "regex_too_long": "正则表达式太长（最多 {limit} 个字符），请拆成几条。",
    "regex_any_byte": "正则表达式 /{pattern}/ 用了 \\C（单个字节），会把汉字切开，请改用 .（一个字）。",
    "regex_invalid": "正则表达式 /{pattern}/ 无法使用：{reason}。请改写（本站用 RE2 引擎）。",
    "regex_matches_empty": "正则表达式 /{pattern}/ 能匹配空文本（会处处命中），请改写。",
    "rules_beside": "有 `rules:` 的文件里只能写这个列表；要给每条规则加排除词，请另写一个 `global: true` 的全局排除词文件。",
    "rules_not_list": "`rules:` 后面要跟规则列表（每条规则以 - 开头）。",
    "rules_empty": "`rules:` 列表是空的，请至少写一条规则。",
    "global_not_true": "`global:` 只能写 true（本文件的 `exclude:` 用于所有规则）；不需要时请删掉这一行。",
    "global_no_exclude": "全局排除词文件要有 `exclude:`，并至少写一个词。",
    "term_or_regex": "`{field}` 的这一项要有 `term:`（词）或 `regex:`（正则表达式），且只能有其中一个。",
    "words_only": "`{field}` 只能写词，不能用 `regex:`。",
    "name_not_keyword": "`name` 只用于关键词；`{field}` 里的词不会显示，请删掉 `name`。",
    "empty_name": "`name` 是空的，请写上要显示的名称，或删掉它。",
    "not_word": "`{field}` 的每一项都要是词或短语。",
    "empty_entry": "`{field}` 里有空的一项，请删掉或补上词。",
    "empty": "`{field}` 是空的，请至少写一个词。",
    "near_lacks": "`near` 的每一项都要有 term、with 和 within（这一项缺少 `{missing}`）。",
    "within": "`within` 要填 1 到 {limit} 之间的整数。",
    "choice": "`{field}` 只能填 {allowed}，请删掉 {bad}。",
    "lacks": "规则缺少 `{field}` 字段，请补上。",
    "not_slug": "规则 id “{id}” 不合格：只能用小写字母 a-z、数字、_ 和 -，最多 64 个字符（如 lvdian、green-power）。",
    "match_mode": "`match` 只能是 word 或 substring。",
    "duplicate_id": "规则 id “{id}” 与 {first} 的规则重复，请换一个。",
    "no_rule_file": "文件夹里没有 .yaml 规则文件。",
}
RULE_GENERAL = "规则有问题，请按提示修改。"

# ---- sources.yaml: the codes of tracker.sources.catalog.CODES and the source editor's own -------

SOURCE = {
    "bad_yaml": "YAML 写法有误：{reason}",
    "anchor": "不接受 YAML 的锚点或别名（& 或 *），请把内容直接写出来",
    "more_anchors": "还有 {count} 处锚点或别名",
    "empty_file": "文件里没有来源",
    "not_mapping": "这里要写成“字段: 值”的形式",
    "key_not_text": "字段名要写成文字",
    "field_twice": "字段 `{field}` 写了两次",
    "unknown_field": "未知字段 `{field}`{hint}",
    "not_text": "`{field}` 必须是文字",
    "missing": "找不到来源配置文件（可以复制 sources.example.yaml 开始）",
    "unreadable": "文件无法读取（要是 UTF-8 编码的文本文件）",
    "no_sources_key": "文件必须以 sources: 开头，下面是来源列表",
    "sources_not_list": "sources: 下面要是来源列表（每个来源以 - 开头）",
    "duplicate_id": "id `{id}` 重复（第 {first_line} 行已有）",
    "lacks": "来源缺少 `{field}`",
    "not_slug": "id 只能用小写字母、数字、_ 或 -",
    "url_or_path": "来源要有 url 或 path 之一（不能两个都有，也不能都没有）",
    "url_scheme": "网址必须以 http:// 或 https:// 开头",
    "type_unknown": "无法从网址判断类型，请选择类型",
    "bad_type": "类型只能是电子报、订阅源、政策栏目或文件夹",
    "needs": "这种来源需要填写 `{field}`",
    "cron_shape": "抓取时间是 cron 格式：五个字段（分 时 日 月 周），例如 30 6 * * *",
    "cron_invalid": "抓取时间 {schedule} 无法使用：{reason}",
    "unknown_zone": "未知的时区 {zone}",
    "layout_not_epaper": "版面格式只用于电子报",
    "unknown_layout": "未知的版面格式 {layout}（可选：{layouts}）",
    "bad_pattern": "`{field}` 不是有效的正则表达式",
    "not_bool": "`{field}` 只能是 true 或 false",
    "list_pages_not_policy": "列表页数只用于政策栏目",
    "list_pages_range": "列表页数是 1 到 {limit} 的整数",
    "days_range": "天数是 1 到 {limit} 的整数",
    # the source editor's own checks (tracker.web.admin_sources.CODES)
    "browser_type": "类型只能选择电子报、订阅源或政策栏目（文件夹来源请直接编辑 sources.yaml）",
    "id_taken": "id `{id}` 已被另一个来源使用",
    "not_spliceable": "sources.yaml 的写法无法自动修改，请直接编辑该文件",
    "not_written": "这个来源没有写进文件",
    "unsafe_url": "网址只能指向公网地址：{reason}",
}
SOURCE_GENERAL = "来源配置有问题，请按提示修改"

# ---- problems met reading a source: the codes of tracker.errors.FETCH_CODES -------------------

FETCH = {
    "http_status": "网站返回错误（HTTP {status}）",
    "timeout": "网站响应超时（超过 {seconds:g} 秒）",
    "unreachable": "无法连接网站",
    "not_http": "不是 http(s) 链接，未读取",
    "bad_url": "网址无效",
    "unsafe_url": "网址指向非公网地址，未读取",
    "off_host": "网址跳转到了别的网站，未读取",
    "redirect_loop": "网址重定向次数过多（可能是循环）",
    "too_large": "文件太大，超过 {limit:,} 字节的上限",
    "bad_encoding": "网站返回的压缩内容无法解压",
    "not_found": "找不到文件",
    "unreadable": "文件无法读取",
    "empty": "内容是空的",
    "outside_folder": "这是指向文件夹以外的链接，未读取",
    "script_built": "该报网站用脚本加载版面，暂不支持",
    "unknown_layout": "未识别的版面格式（{layout}），请换一种版面格式",
    "too_many_links": "链接过多（{count:,} 个，上限 {limit:,}），不像报纸版面，未读取",
    "too_many_pages": "版面过多（{count:,} 个），只读前 {limit:,} 个",
    "too_many_articles": "文章超过 {limit:,} 篇，其余未读",
    "deadline": "读取超时（超过 {limit:g} 秒），其余未读",
    "forward_loop": "入口页跳转循环",
    "undated_forward": "入口页跳转的网址没有日期，请在网址里写上 {{date}}",
    "pdf_unreadable": "版面 PDF 无法读取",
    "no_links": "列表页上没有符合规则的文件链接，网站可能改版了",
    "no_text": "没有找到正文",
    "other": "读取出错",
}
FETCH_GENERAL = FETCH["other"]
_CHINESE_END = re.compile(r"（[^（）]*）$")  # a named problem's own Chinese, at the end of its English


def fetch_problem(problem: FetchProblem | str, detail: bool = True) -> str:
    """A problem met reading a source in Chinese, chosen by its code, after the URL (or path)
    it was met at; with `detail` (admin pages) the English after it. A plain string (from
    before problems had codes) is said as `other`."""
    if not isinstance(problem, FetchProblem):
        where, _, english = str(problem).partition(": ")
        problem = FetchProblem(where, english) if english else FetchProblem("", str(problem))
    chinese = fill(FETCH.get(problem.code, FETCH_GENERAL), problem.fields, FETCH_GENERAL)
    english = _CHINESE_END.sub("", problem.problem)
    said = f"{problem.where}：{chinese}" if problem.where else chinese
    return f"{said}（{english}）" if detail and english else said


# ---- third parties' English, by pattern -----------------------------------------------------------

_YAML_COMMA = pattern_table([(r"did not find expected ','", "方括号 [ ] 里的词要用英文逗号分隔，并且要有收尾的 ]。")])
_YAML = pattern_table([
    (r"found character '\\t'", "缩进里有制表符（Tab），请改用空格。"),
    (r"mapping values are not allowed", "这一行多了冒号，或缩进不对；含冒号的词请加引号。"),
    (r"could not find expected ':'|expected <block end>|did not find expected key",
     "缩进不一致或少了冒号，请检查这一行和上一行。"),
    (r"did not find expected '-'", "列表的每一项要以 - 开头，并且缩进一致。"),
    (r"end of stream", "引号没有配对，请补上收尾的引号。"),
    (r"cannot start any token", "这一行开头的字符在 YAML 里有特殊含义（如 @ ` %），请给这个值加引号。"),
])
_TAB = "缩进里有制表符（Tab），请改用空格。"
_YAML_GENERAL = "请检查这一行的缩进、冒号和括号。"

_RE2 = pattern_table([
    (r"invalid perl operator: \(\?<", "不支持 (?<=…)、(?<!…) 回看"),
    (r"invalid perl operator: \(\?P", "不支持命名分组的写法 (?P…)"),
    (r"invalid perl operator", "不支持这种 (?…) 写法"),
    (r"invalid escape sequence: (\\[1-9])", "不支持反向引用 {0}"),
    (r"invalid escape sequence: (\S+)", "不支持转义 {0}"),
    (r"missing \)", "少了右括号 )"),
    (r"unexpected \)", "多了右括号 )"),
    (r"missing \]", "少了右方括号 ]"),
    (r"bad repetition operator: (\S+)", "重复符号 {0} 用法不对"),
    (r"invalid repetition size", "{{m,n}} 的次数不对（最多 1000，且 m 不能大于 n）"),
    (r"invalid character class", "字符类写法不对"),
    (r"missing argument to repetition operator", "* + ? 前面要有内容"),
])
_RE2_GENERAL = "写法不对"

_CRON = pattern_table([
    (r"value \((\d+)\) is higher than the maximum value \((\d+)\)", "{0} 超出范围（最大 {1}）"),
    (r"value \((\d+)\) is lower than the minimum value \((\d+)\)", "{0} 超出范围（最小 {1}）"),
    (r"Increment must be higher than 0", "/ 后面的间隔要大于 0"),
    (r"minimum value in a range must not be higher", "范围的起点不能大于终点"),
    (r'Unrecognized expression "([^"]*)"', "“{0}”不是有效的写法"),
    (r'Invalid (?:month|weekday) name "([^"]*)"', "“{0}”不是有效的月份或星期名称"),
])
_CRON_GENERAL = "请检查每个字段的取值（分 0-59，时 0-23，日 1-31，月 1-12，周 0-6）"


def _yaml_reason(fields: Mapping[str, Any]) -> str:
    detail = str(fields.get("detail") or "")
    return (by_pattern(detail, _YAML_COMMA) or (_TAB if fields.get("tab") else None)
            or by_pattern(detail, _YAML) or _YAML_GENERAL)


def _hint(fields: Mapping[str, Any]) -> str:
    return f"（是不是 `{fields['suggestion']}`？）" if fields.get("suggestion") else ""


def _unsafe(fields: Mapping[str, Any]) -> str:
    """Why a source URL's host is refused (tracker.sources.ssrf.UnsafeURL's code in `check`)."""
    host, address = fields.get("host"), fields.get("address")
    if fields.get("check") == "loopback":
        return f"{host} 指向本机"
    if fields.get("check") == "forbidden_address":
        kind = KINDS.get(str(fields.get("kind")), KINDS["reserved"])
        return f"{host} 指向 {address}，是{kind}" if host else f"{address} 是{kind}"
    return "请换一个公网上能访问的 http(s) 网址"


# Fields some codes' sentences need beyond the problem's own: what third parties' English says.
DERIVED: dict[str, Callable[[Mapping[str, Any]], dict[str, str]]] = {
    "bad_yaml": lambda f: {"reason": _yaml_reason(f)},
    "regex_invalid": lambda f: {"reason": by_pattern(str(f.get("detail") or ""), _RE2)
                                or _RE2_GENERAL},
    "cron_invalid": lambda f: {"reason": by_pattern(str(f.get("detail") or ""), _CRON)
                               or _CRON_GENERAL},
    "unknown_field": lambda f: {"hint": _hint(f)},
    "unsafe_url": lambda f: {"reason": _unsafe(f)},
}


def say(table: Mapping[str, str], problem: Problem, general: str) -> str:
    """The Chinese for `problem`'s code in `table`, its fields filled in; `general` for a code
    the table does not know."""
    template = table.get(problem.code)
    if template is None:
        return general
    fields = dict(problem.fields)
    if problem.code in DERIVED:
        fields.update(DERIVED[problem.code](problem.fields))
    return fill(template, fields, general)


def _with_detail(chinese: str, problem: Problem, detail: bool) -> str:
    return f"{chinese}（{problem.message}）" if detail else chinese


def rule_problem(problem: Problem, detail: bool = True) -> str:
    """A rule file's problem in Chinese, chosen by its code; with `detail` (admin pages) the
    reader's English after it."""
    return _with_detail(say(RULE, problem, RULE_GENERAL), problem, detail)


def source_problem(problem: Problem, detail: bool = True) -> str:
    """A sources.yaml problem in Chinese, chosen by its code; with `detail` (admin pages) the
    checker's English after it."""
    return _with_detail(say(SOURCE, problem, SOURCE_GENERAL), problem, detail)


def problem_json(problem: Problem) -> dict[str, Any]:
    """A problem for the JSON API: where, its code and fields (what a program goes by), and
    its English."""
    return {"file": problem.file, "line": problem.line, "column": problem.column,
            "code": problem.code, "fields": dict(problem.fields), "message": problem.message}


def rule_warnings(text: str) -> list[str]:
    """What is allowed but probably a slip, in Chinese: a word listed twice in one rule's
    keywords, all or exclude (after the same normalising the matcher does: 專業鎮 = 专业镇)."""
    import yaml

    from tracker.text.normalize import normalize_term

    try:
        data = yaml.safe_load(text or "")
    except yaml.YAMLError:
        return []  # the problems say it
    rules = data.get("rules") if isinstance(data, dict) and "rules" in data else [data]
    out = []
    for rule in rules if isinstance(rules, list) else []:
        if not isinstance(rule, dict):
            continue
        for field in ("keywords", "all", "exclude"):
            words = rule.get(field)
            words = words if isinstance(words, list) else [words] if words is not None else []
            seen: dict[str, str] = {}
            for word in words:
                key = normalize_term(str(word))
                if key in seen:
                    out.append(f"规则 {rule.get('id', '')} 的 `{field}` 里“{word}”写了两次"
                               f"（与“{seen[key]}”相同），保存时只算一次；可以删掉重复的一个。")
                else:
                    seen[key] = str(word)
    return out
