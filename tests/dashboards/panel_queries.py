#!/usr/bin/env python3
"""Lists the PromQL of every panel target and template variable of the Grafana dashboards in
dashboards/, with Grafana's variables replaced so Prometheus can run them.

usage: panel_queries.py [--dashboards DIR] [--var NAME=VALUE ...] [--rules-file PATH]

Prints a JSON array, one object per query:
  {"dashboard": uid, "panel": title, "refId": "A", "expr": PromQL}        a panel target
  {"dashboard": uid, "variable": name, "label": L, "expr": selector}      label_values(selector, L)
Template variables take their "All" value (allValue) unless --var sets them; $__rate_interval and
$__interval become 1m, $__range 1h. --rules-file also writes the panel expressions as recording
rules (JSON, which promtool reads as YAML) for `promtool check rules`.
"""
import argparse
import glob
import json
import os
import re
import sys

BUILTINS = {"__rate_interval": "1m", "__interval": "1m", "__range": "1h"}
# $name, ${name}, ${name:format}, [[name]]; not label_replace's $1.
_VARIABLE = re.compile(r"\$\{([a-zA-Z_]\w*)(?::\w+)?\}|\$([a-zA-Z_]\w*)|\[\[([a-zA-Z_]\w*)\]\]")
_LABEL_VALUES = re.compile(r"^\s*label_values\((.*),\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*$", re.S)


def load_dashboards(directory):
    dashboards = []
    for path in sorted(glob.glob(os.path.join(directory, "*.json"))):
        with open(path, encoding="utf-8") as f:
            dashboards.append((path, json.load(f)))
    return dashboards


def panels(dashboard):
    """Every panel, those nested in collapsed rows included."""
    for p in dashboard.get("panels", []):
        yield p
        yield from p.get("panels", [])


def variable_values(dashboard, overrides):
    values = dict(BUILTINS)
    for v in dashboard.get("templating", {}).get("list", []):
        if v.get("type") == "query":
            values[v["name"]] = v.get("allValue") or ".*"
    values.update(overrides)
    return values


def substitute(text, values):
    def repl(m):
        name = m.group(1) or m.group(2) or m.group(3)
        return values.get(name, m.group(0))

    return _VARIABLE.sub(repl, text)


def variable_query(variable):
    query = variable.get("query")
    if isinstance(query, dict):
        query = query.get("query", "")
    return query or ""


def queries(directory, overrides=None):
    out = []
    for _, d in load_dashboards(directory):
        values = variable_values(d, overrides or {})
        for v in d.get("templating", {}).get("list", []):
            if v.get("type") != "query":
                continue
            m = _LABEL_VALUES.match(variable_query(v))
            if m:
                out.append({"dashboard": d["uid"], "variable": v["name"], "label": m.group(2),
                            "expr": substitute(m.group(1), values)})
        for p in panels(d):
            for t in p.get("targets", []):
                if "expr" in t:
                    out.append({"dashboard": d["uid"], "panel": p.get("title", ""),
                                "refId": t.get("refId", ""), "expr": substitute(t["expr"], values)})
    return out


def rules_document(entries):
    """One recording rule per panel target, grouped by dashboard."""
    groups = {}
    for i, e in enumerate(entries):
        if "panel" not in e:
            continue
        record = "%s:panel_%d:%s" % (re.sub(r"\W", "_", e["dashboard"]), i, e["refId"] or "A")
        groups.setdefault(e["dashboard"], []).append({"record": record, "expr": e["expr"]})
    return {"groups": [{"name": name, "rules": rules} for name, rules in groups.items()]}


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dashboards", default=os.path.join(here, "..", "..", "dashboards"))
    parser.add_argument("--var", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--rules-file")
    args = parser.parse_args(argv)
    overrides = {}
    for item in args.var:
        name, sep, value = item.partition("=")
        if not sep:
            parser.error("--var wants NAME=VALUE, got " + item)
        overrides[name] = value
    entries = queries(args.dashboards, overrides)
    if args.rules_file:
        with open(args.rules_file, "w", encoding="utf-8") as f:
            json.dump(rules_document(entries), f, indent=1)
    json.dump(entries, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
