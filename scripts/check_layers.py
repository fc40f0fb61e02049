#!/usr/bin/env python3
"""Fails when top-level modules of a crate import each other in a loop.

For each crate given (its src/ folder), every `crate::x` path in code (comments and the
`#[cfg(test)]` module at the end of a file left out) is an edge from the top-level module of the
file to `x`. Any strongly connected group of two or more modules is a cycle: printed with the
files that make each edge, exit status 1. With --print, the edges are listed too.
"""
import os
import re
import sys


def code_of(text):
    cut = re.search(r"^#\[cfg\(test\)\]\s*\nmod \w+", text, re.M)
    if cut:
        text = text[: cut.start()]
    lines = []
    for line in text.splitlines():
        stripped = line.lstrip()
        if stripped.startswith("//"):
            continue
        lines.append(line.split(" //", 1)[0])
    return "\n".join(lines)


def top_names_in_braces(body):
    """`a, b::{c, d}, e` -> a, b, e: the first segment of each item at depth 0."""
    names, depth, item = [], 0, ""
    for ch in body + ",":
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if ch == "," and depth == 0:
            m = re.match(r"\s*(\w+)", item)
            if m:
                names.append(m.group(1))
            item = ""
        else:
            item += ch
    return names


def braces_after(text, start):
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return text[start + 1 : i]
    return ""


def edges_of(src):
    edges = {}
    for folder, _, files in os.walk(src):
        for name in files:
            if not name.endswith(".rs"):
                continue
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, src)
            top = rel.split(os.sep)[0].removesuffix(".rs")
            if top in ("lib", "main"):
                continue
            code = code_of(open(path, encoding="utf-8").read())
            targets = set(re.findall(r"\bcrate::(\w+)", code))
            for m in re.finditer(r"\bcrate::\{", code):
                targets.update(top_names_in_braces(braces_after(code, m.end() - 1)))
            for t in targets - {top}:
                edges.setdefault(top, {}).setdefault(t, set()).add(rel)
    return edges


def cycles(edges):
    """Tarjan's strongly connected components, those of two or more nodes."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in sorted(set(edges) | {w for t in edges.values() for w in t}):
        if v not in index:
            visit(v)
    return out


def main(args):
    show = "--print" in args
    failed = False
    for src in [a for a in args if a != "--print"]:
        edges = edges_of(src)
        if show:
            for a in sorted(edges):
                print(f"{src}: {a} -> {', '.join(sorted(edges[a]))}")
        for group in cycles(edges):
            failed = True
            print(f"{src}: import cycle between {', '.join(group)}:", file=sys.stderr)
            for a in group:
                for b in group:
                    if b in edges.get(a, {}):
                        print(f"  {a} -> {b} in {', '.join(sorted(edges[a][b]))}", file=sys.stderr)
        if not failed:
            print(f"{src}: {len(edges)} modules import one way")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
