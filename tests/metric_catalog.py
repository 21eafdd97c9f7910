"""The metric names PromQL in alerts/ and dashboards/ may use, read from the source tree, and a
small PromQL scanner that lists the metric names an expression selects.

Known names: every "queuelens_..." literal in the metric_names.h files (what the exporter and the
recommender serve; histogram and summary names also with _bucket, _sum and _count), the series the
recommender reads (recommender/input/queries.h, kube-state-metrics included), the recording rules
in alerts/*.rules.yml, and Prometheus' own `up`.
"""
import glob
import os
import re

PROMETHEUS_SERIES = {"up"}
SERIES_SUFFIXES = ("_bucket", "_sum", "_count")

_STRING_LITERAL = re.compile(r'"((?:[^"\\]|\\.)*)"')
_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_RECORD = re.compile(r"^\s*-?\s*record:\s*(\S+)\s*$", re.M)


def source_metric_names(root):
    """Names served by queuelens binaries or read by the recommender, from the C++ headers."""
    names = set()
    headers = glob.glob(os.path.join(root, "*", "**", "metric_names.h"), recursive=True)
    headers.append(os.path.join(root, "recommender", "input", "queries.h"))
    for path in headers:
        if not os.path.exists(path):
            continue
        with open(path, encoding="utf-8") as f:
            for literal in _STRING_LITERAL.findall(f.read()):
                if _NAME.match(literal) and (literal.startswith("queuelens_") or
                                             literal.startswith("kube_")):
                    names.add(literal)
    return names


def recording_rule_names(root):
    names = set()
    for path in glob.glob(os.path.join(root, "alerts", "*.rules.yml")):
        with open(path, encoding="utf-8") as f:
            names.update(_RECORD.findall(f.read()))
    return names


def known_names(root):
    names = set(PROMETHEUS_SERIES) | recording_rule_names(root)
    for name in source_metric_names(root):
        names.add(name)
        names.update(name + s for s in SERIES_SUFFIXES)
    return names


# PromQL words that look like identifiers but never name a series; aggregation operators may be
# followed by `by (...)` rather than by their parenthesis.
_KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left",
             "group_right", "offset", "bool", "inf", "nan", "atan2", "sum", "min", "max", "avg",
             "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk", "quantile",
             "limitk", "limit_ratio"}
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`|\{[^}]*\}|\[[^\]]*\]|'
                    r'[a-zA-Z_:][a-zA-Z0-9_:]*|\S')


def selected_metrics(expr):
    """Metric names an expression selects: identifiers that are not functions, keywords, or the
    label lists of by/without/on/ignoring/group_left/group_right. Names given as
    {__name__=~"..."} are returned as the regular expression, prefixed with "~"."""
    tokens = _TOKEN.findall(expr)
    names = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        if tok in ("by", "without", "on", "ignoring", "group_left", "group_right") and nxt == "(":
            # Skip the parenthesised label list.
            depth = 0
            while i < len(tokens):
                if tokens[i] == "(":
                    depth += 1
                elif tokens[i] == ")":
                    depth -= 1
                    if depth == 0:
                        break
                i += 1
        elif tok.startswith("{"):
            m = re.search(r'__name__\s*=~?\s*"([^"]*)"', tok)
            if m:
                names.append(("~" if "=~" in tok else "") + m.group(1))
        elif _NAME.match(tok) and tok.lower() not in _KEYWORDS and nxt != "(":
            names.append(tok)
        i += 1
    return names


def unknown_metrics(expr, known):
    """The names `expr` selects that are not in `known` (regex selectors must match one)."""
    unknown = []
    for name in selected_metrics(expr):
        if name.startswith("~"):
            pattern = re.compile(name[1:])
            if not any(pattern.fullmatch(k) for k in known):
                unknown.append(name)
        elif name not in known:
            unknown.append(name)
    return unknown
