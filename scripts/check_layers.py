#!/usr/bin/env python3
"""Fails when modules of a crate import each other in a loop: the top-level modules, and the
modules side by side in any module folder (s3/transfer/run.rs and s3/transfer/copy.rs...).

    check_layers.py [--print] [--allow FILE] SRC...     SRC: a crate's src/ folder
    check_layers.py --self-test                          the probes below, edge by edge

What counts as an edge. In each file (comments, strings and `#[cfg(test)]` items left out, see
rustsrc.py), every path is resolved the way rustc does it, from the module it is written in:

- the paths of `use` declarations, grouped trees included (`use super::{run::Ctx, plan}`),
  `as` renames and `self` in a group;
- paths in code, anywhere (`super::upload::upload_file(&ctx)`, `crate::s3::check_bucket(b)`),
  when they start with `crate`, `super` or `self`, or with a child module, or with a name that
  a `use` bound to a module (`use super::plan;` ... `plan::folder(...)`).

`crate::` is the crate root, `super::` the parent (as often as written), `self::` the module
itself; a first segment that is neither is looked up in the module (a child module, or a name
bound by `use`) and anything else (std, tokio, a local type) is left alone. Each module a path
names explicitly is a target; when the last module named does not define the item but
re-exports it with `use` (`super::Foo` where the parent has `use plan::Foo`), the module that
does define it is a target too, reported "via" the re-export. Glob imports (`use x::*`) are
followed only to find where a name used in a path lives.

A target T of a file in module S makes an edge between siblings: with P the longest common
prefix of S and T, the edge is S[len P] -> T[len P] among the children of P. Edges between a
module and its own ancestors (a child using `super::Summary` defined in the parent's mod.rs, or
the parent calling into a child) are not sibling edges and are not counted. For each folder,
every strongly connected group of two or more siblings is a cycle: printed with each edge's
file:line and the path written there.

--allow FILE: cycles listed there are known (issue 25) and accepted: printed, status 0. A line:

    crates/cirrus/src crate::s3::transfer: copy, download, run, upload

(the SRC as given, or a path ending with it; the folder as a Rust path; the members). A cycle is
accepted when its members are all in one line for that SRC and folder. A line that no longer
matches any cycle fails the check, so the file only shrinks: remove the line once the cycle is
broken. Without --allow every cycle fails. With --print, every edge is listed.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rustsrc  # noqa: E402


class Module:
    def __init__(self, path, rel):
        self.path = path
        self.rel = rel  # the file it is in
        self.bindings = {}  # name -> Binding, module-level `use` only
        self.globs = []  # Binding of `use x::*`
        self.defs = set()  # names of items defined here (fn, struct, ...)


class Binding:
    def __init__(self, ctx, segs, rel, line):
        self.ctx, self.segs, self.rel, self.line = ctx, segs, rel, line


class Ref:
    """A path as written somewhere: resolved later, when every module is known."""

    def __init__(self, ctx, segs, rel, line, local):
        self.ctx, self.segs, self.rel, self.line, self.local = ctx, segs, rel, line, local


def module_of_file(rel):
    parts = rel[:-3].split(os.sep)
    if parts[-1] in ("mod", "lib", "main") and (parts[-1] == "mod" or len(parts) == 1):
        parts = parts[:-1]
    return tuple(parts)


def parse_use(toks, i, prefix):
    """A use tree from toks[i]: ([(segs, alias, glob, offset)], index after it)."""
    segs = list(prefix)
    while i < len(toks):
        kind, text, off = toks[i]
        if text == "::":
            if not segs:
                segs.append(("::", off))
            i += 1
            continue
        if text == "*":
            return [(segs, None, True, off)], i + 1
        if text == "{":
            i += 1
            leaves = []
            while i < len(toks) and toks[i][1] != "}":
                got, i = parse_use(toks, i, segs)
                leaves += got
                if i < len(toks) and toks[i][1] == ",":
                    i += 1
            return leaves, i + 1
        if kind == "id":
            segs.append((text, off))
            i += 1
            if i < len(toks) and toks[i][1] == "::":
                continue
            alias = None
            if i + 1 < len(toks) and toks[i][1] == "as":
                alias = toks[i + 1][1]
                i += 2
            return [(segs, alias, False, off)], i
        return [], i  # not a use tree after all
    return [], i


def read_crate(src):
    """Modules (by path) and the references written in them."""
    files = []
    for folder, dirs, names in os.walk(src):
        dirs.sort()
        for name in sorted(names):
            if name.endswith(".rs"):
                path = os.path.join(folder, name)
                rel = os.path.relpath(path, src)
                files.append((rel, open(path, encoding="utf-8").read()))
    modules, refs, test_only = {}, [], set()
    parsed = []
    for rel, text in files:
        masked = rustsrc.mask(text)
        spans = rustsrc.test_spans(masked)
        base = module_of_file(rel)
        for name in rustsrc.test_only_mods(masked):
            test_only.add(base + (name,))
        parsed.append((rel, base, rustsrc.blank(masked, spans)))
    modules[()] = Module((), "")
    for rel, base, code in parsed:
        if any(base[: len(t)] == t for t in test_only):
            continue
        for k in range(1, len(base)):
            modules.setdefault(base[:k], Module(base[:k], None))
        modules.setdefault(base, Module(base, rel)).rel = rel
        refs += read_file(rel, base, code, modules)
    return modules, refs


def read_file(rel, base, code, modules):
    toks = rustsrc.tokens(code)
    line = rustsrc.line_of(code)
    refs = []
    scopes = [(base, 0)]  # (module, brace depth of its body)
    local = {}  # module -> name -> Binding, every `use` in this file (fn bodies too)
    depth = 0
    i = 0
    while i < len(toks):
        kind, text, off = toks[i]
        mod, body = scopes[-1]
        if text == "{":
            depth += 1
        elif text == "}":
            depth -= 1
            if len(scopes) > 1 and depth < scopes[-1][1]:
                scopes.pop()
        elif text == "mod" and i + 2 < len(toks) and toks[i + 1][0] == "id" and toks[i + 2][1] == "{":
            inner = mod + (toks[i + 1][1],)
            modules.setdefault(inner, Module(inner, rel))
            depth += 1
            scopes.append((inner, depth))
            i += 3
            continue
        elif text in ("fn", "struct", "enum", "trait", "type", "const", "static", "union") and (
            i + 1 < len(toks) and toks[i + 1][0] == "id"
        ):
            modules[mod].defs.add(toks[i + 1][1])
        elif text == "macro_rules" and i + 2 < len(toks) and toks[i + 1][1] == "!":
            modules[mod].defs.add(toks[i + 2][1])
        elif text == "use" and (i == 0 or toks[i - 1][1] != "::"):
            leaves, j = parse_use(toks, i + 1, [])
            for segs, alias, glob, leaf_off in leaves:
                names = [s for s, _ in segs]
                if not names:
                    continue
                b = Binding(mod, names, rel, line(leaf_off))
                if glob:
                    if depth == body:
                        modules[mod].globs.append(b)
                    refs.append(Ref(mod, names, rel, line(leaf_off), None))
                    continue
                if names[-1] == "self":
                    names = names[:-1]
                    b.segs = names
                bound = alias or (names[-1] if names else None)
                if bound and bound != "_":
                    local.setdefault(mod, {})[bound] = b
                    if depth == body:
                        modules[mod].bindings[bound] = b
                if names:
                    refs.append(Ref(mod, names, rel, line(leaf_off), None))
            i = max(j, i + 1)
            continue
        elif kind == "id" and (i == 0 or toks[i - 1][1] not in ("::", ".")):
            segs = [text]
            j = i + 1
            while j + 1 < len(toks) and toks[j][1] == "::" and toks[j + 1][0] == "id":
                segs.append(toks[j + 1][1])
                j += 2
            if len(segs) >= 2:
                refs.append(Ref(mod, segs, rel, line(off), local))
                i = j
                continue
        i += 1
    return refs


class Resolver:
    def __init__(self, modules):
        self.modules = modules

    def lookup(self, mod, name, local=None, guard=()):
        """What `name` is in module `mod`: ('module', path, via), ('item', module, via) or
        None (not of this crate, or not known)."""
        if (mod, name) in guard:
            return None
        guard = guard + ((mod, name),)
        m = self.modules.get(mod)
        if m is None:
            return None
        b = (local or {}).get(mod, {}).get(name) or m.bindings.get(name)
        if b is not None:
            r = self.resolve(b.ctx, b.segs, None, guard)
            if r is None:
                return None
            kind, target, _, via = r
            return kind, target, [f"{b.rel}:{b.line}"] + via
        if mod + (name,) in self.modules:
            return "module", mod + (name,), []
        if name in m.defs:
            return "item", mod, []
        for g in m.globs:
            r = self.resolve(g.ctx, g.segs, None, guard)
            if r and r[0] == "module":
                found = self.lookup(r[1], name, None, guard)
                if found:
                    return found[0], found[1], [f"{g.rel}:{g.line}"] + found[2]
        return None

    def resolve(self, ctx, segs, local=None, guard=()):
        """(kind, final module, [modules named explicitly], [re-exports followed]) or None."""
        first = segs[0]
        via = []
        if first == "::":
            return None
        if first == "crate":
            cur, rest = (), segs[1:]
        elif first == "super":
            cur, rest = ctx[:-1], segs[1:]
        elif first == "self":
            cur, rest = ctx, segs[1:]
        else:
            r = self.lookup(ctx, first, local, guard)
            if r is None:
                return None
            kind, cur, via = r
            if kind == "item":
                # `Outcome::Failed` in code, `Outcome` bound by a `use` of this file: that use
                # line is the edge already
                return None if local is not None else ("item", cur, [], via)
            rest = segs[1:]
        named = [cur]
        for seg in rest:
            if seg == "super":
                cur = cur[:-1]
                named.append(cur)
                continue
            if seg == "self":
                continue
            r = self.lookup(cur, seg, None, guard)
            if r is None:
                return "item", cur, named, via
            kind, target, more = r
            if kind == "item":
                return "item", target, named, via + more
            cur = target
            if more:
                via = via + more
            else:
                named.append(cur)
        return "module", cur, named, via


def sibling_edge(s, t):
    """(folder, a, b) when modules s and t sit under different children of a common folder."""
    k = 0
    while k < len(s) and k < len(t) and s[k] == t[k]:
        k += 1
    if k < len(s) and k < len(t):
        return s[:k], s[k], t[k]
    return None


def edges_of(src):
    """{folder: {a: {b: [(rel, line, path written, via)]}}}"""
    modules, refs = read_crate(src)
    res = Resolver(modules)
    edges = {}
    for ref in refs:
        r = res.resolve(ref.ctx, ref.segs, ref.local)
        if r is None:
            continue
        kind, final, named, via = r
        targets = [(t, None) for t in named]
        if final not in named:
            targets.append((final, via))
        seen = set()
        for t, how in targets:
            e = sibling_edge(ref.ctx, t)
            if e is None or e in seen:
                continue
            seen.add(e)
            folder, a, b = e
            written = "::".join(ref.segs)
            if how:
                written += " (via " + ", ".join(how) + ")"
            where = edges.setdefault(folder, {}).setdefault(a, {}).setdefault(b, [])
            if (ref.rel, ref.line, written) not in where:
                where.append((ref.rel, ref.line, written))
    return edges


def cycles(edges):
    """Tarjan's strongly connected components, those of two or more nodes."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, {})):
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


def folder_name(folder):
    return "::".join(("crate",) + folder)


def read_allow(path):
    """[(src, folder name, members, line number)]"""
    out = []
    for n, raw in enumerate(open(path, encoding="utf-8"), 1):
        text = raw.split("#", 1)[0].strip()
        if not text:
            continue
        m = re.match(r"(\S+)\s+(crate(?:::\w+)*)\s*:\s*(.*)$", text)
        if not m:
            raise SystemExit(f"{path}:{n}: expected `SRC crate::folder: a, b`, got {text!r}")
        members = {x.strip() for x in m.group(3).split(",") if x.strip()}
        out.append((m.group(1), m.group(2), members, n))
    return out


def same_src(given, listed):
    given, listed = os.path.normpath(given), os.path.normpath(listed)
    return given == listed or given.endswith(os.sep + listed)


def check(srcs, show=False, allow_file=None, out=sys.stdout, err=sys.stderr):
    allowed = read_allow(allow_file) if allow_file else []
    used = set()
    failed = False
    for src in srcs:
        edges = edges_of(src)
        if show:
            for folder in sorted(edges):
                for a in sorted(edges[folder]):
                    for b in sorted(edges[folder][a]):
                        where = ", ".join(f"{r}:{n}" for r, n, _ in edges[folder][a][b])
                        print(f"{src}: {folder_name(folder)}: {a} -> {b}  {where}", file=out)
        found = 0
        for folder in sorted(edges):
            for group in cycles(edges[folder]):
                found += 1
                ok = None
                for k, (s, f, members, n) in enumerate(allowed):
                    if same_src(src, s) and f == folder_name(folder) and set(group) <= members:
                        ok = k
                        used.add(k)
                        break
                stream = out if ok is not None else err
                if ok is None:
                    failed = True
                    print(f"{src}: import cycle in {folder_name(folder)} between {', '.join(group)}:", file=stream)
                else:
                    print(
                        f"{src}: known import cycle in {folder_name(folder)} between {', '.join(group)} "
                        f"(accepted by {allow_file}:{allowed[ok][3]}; break it, then remove that line):",
                        file=stream,
                    )
                for a in group:
                    for b in group:
                        for rel, n, written in edges[folder].get(a, {}).get(b, []):
                            print(f"  {a} -> {b}  {os.path.join(src, rel)}:{n}  {written}", file=stream)
        if not found:
            print(f"{src}: no import cycle, between top-level modules or inside a module folder", file=out)
    for k, (s, f, members, n) in enumerate(allowed):
        if k not in used and any(same_src(src, s) for src in srcs):
            failed = True
            print(
                f"{allow_file}:{n}: no cycle among {', '.join(sorted(members))} in {f} any more: remove the line",
                file=err,
            )
    return 1 if failed else 0


PROBES = [
    # (files, expected edges as "folder: a -> b", expected cycles as "folder: a b")
    (
        {"a.rs": "use crate::b::B;\n", "b.rs": "use crate::{a::A, c};\n", "c.rs": "pub struct C;\n"},
        {"crate: a -> b", "crate: b -> a", "crate: b -> c"},
        {"crate: a b"},
    ),
    (
        # a nested cycle through `super::` in a use line and a path inside an expression
        {
            "lib.rs": "mod t;\n",
            "t/mod.rs": "mod copy;\nmod run;\nmod upload;\npub struct Summary;\n",
            "t/run.rs": "use super::Summary;\nfn go() {\n    let x = super::upload::upload_file(1);\n}\n",
            "t/upload.rs": "use super::run::{Ctx, self as r};\npub fn upload_file() {}\n",
            "t/copy.rs": "// super::run::Ctx in a comment\nfn f() { let s = \"super::run::x\"; }\n",
        },
        {"crate::t: run -> upload", "crate::t: upload -> run"},
        {"crate::t: run upload"},
    ),
    (
        # no cycle: a child and its parent, test modules, strings, std paths, a re-export
        # followed to the module that defines it
        {
            "lib.rs": "pub mod s;\nuse crate::s::Thing;\n",
            "s/mod.rs": "mod a;\nmod b;\npub use a::Thing;\nuse self::b::Other;\npub struct P;\n",
            "s/a.rs": "use super::P;\nuse std::fmt::{self, Write};\npub struct Thing;\n"
            "#[cfg(test)]\nmod tests {\n    use super::super::b::Other;\n}\n",
            "s/b.rs": "use super::Thing;\npub struct Other;\nfn f() -> Vec<u8> { Vec::<u8>::new() }\n"
            "fn g<'a>(c: char) -> bool { c == '{' || c == '\\'' }\n",
        },
        {"crate::s: b -> a"},
        set(),
    ),
    (
        # a deeper folder, a module bound by `use` then used in a path, `crate::` from below
        {
            "lib.rs": "mod x;\nmod y;\n",
            "x/mod.rs": "mod p;\nmod q;\n",
            "x/p.rs": "use super::q;\nfn f() { q::go(); }\n",
            "x/q.rs": "fn go() { crate::y::z(); }\n",
            "y.rs": "fn z() { crate::x::p::f(); }\n",
        },
        {"crate::x: p -> q", "crate: x -> y", "crate: y -> x"},
        {"crate: x y"},
    ),
]


def self_test():
    import tempfile

    failures = 0
    for files, want_edges, want_cycles in PROBES:
        with tempfile.TemporaryDirectory() as d:
            for rel, text in files.items():
                os.makedirs(os.path.dirname(os.path.join(d, rel)), exist_ok=True)
                with open(os.path.join(d, rel), "w", encoding="utf-8") as f:
                    f.write(text)
            edges = edges_of(d)
            got_edges = {
                f"{folder_name(folder)}: {a} -> {b}" for folder in edges for a in edges[folder] for b in edges[folder][a]
            }
            got_cycles = {
                f"{folder_name(folder)}: {' '.join(g)}" for folder in edges for g in cycles(edges[folder])
            }
            if got_edges != want_edges or got_cycles != want_cycles:
                failures += 1
                print(f"check_layers.py --self-test: probe {sorted(files)}", file=sys.stderr)
                print(f"  edges  {sorted(got_edges)}\n  wanted {sorted(want_edges)}", file=sys.stderr)
                print(f"  cycles {sorted(got_cycles)}\n  wanted {sorted(want_cycles)}", file=sys.stderr)
    if not failures:
        print(f"check_layers.py --self-test: {len(PROBES)} probes, every edge and cycle as expected")
    return 1 if failures else 0


def main(args):
    if "--self-test" in args:
        return self_test()
    show = "--print" in args
    allow = None
    rest = []
    it = iter(args)
    for a in it:
        if a == "--print":
            continue
        if a == "--allow":
            allow = next(it, None)
            continue
        rest.append(a)
    if not rest:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    return check(rest, show, allow)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
