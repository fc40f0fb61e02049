#!/usr/bin/env python3
"""Fails when ARCHITECTURE.md names something that is not in the tree, or draws the layers of
`crates/cirrus` other than the code has them.

    check_architecture.py [--doc ARCHITECTURE.md] [--root REPO]
    check_architecture.py --self-test

What is checked, in the text between backticks (and in the fenced blocks, see 4):

1. Files and folders: a name with a `/` or a file extension (`s3/transfer/walk.rs`,
   `crates/cirrus/src/identity/`, `tests/main.rs`, `crates/*/fuzz`, `scripts/test`). A name
   with a `/` must exist under the repository root, a crate folder (`crates/*/`) or a crate's
   `src/`; a bare file name (`walk.rs`) under the folder its section's heading names
   (`## The S3 transfer engine (`s3/transfer/`)`), or when the heading names none, under one
   of those roots. A name ending with `/` must be a folder; `*` is a glob that must match.
2. Rust paths of the crates (`transport::report(&e)`, `cirrus::fuzzing`, `crate::service`,
   `context::Context`): `cirrus::` and `crate::` start at `crates/cirrus/src`, `cirrus_sigv4::`
   at `crates/cirrus-sigv4/src`, and a first segment that is a top-level module of
   `crates/cirrus` starts there. Each segment must be a module (its `.rs` or `mod.rs`) until one
   that the module defines or imports (`fn`, `struct`, ... or a `use` naming it).
3. Types of the crates: `Found::Unseen`, `ServiceConfig::send`, a bare `BodyCheck`. The type
   must be defined (struct, enum, trait, type, union) in `crates/*/src` or `crates/*/tests`;
   the member must be a word of a file that defines the type or has an `impl` of it (a `fn`,
   a variant, a field). `out!`: a `macro_rules!` of that name. Names from other crates go in OUTSIDE below.
4. The layers: the fenced block after `<!-- check_architecture: layers of DIR -->` lists the
   top-level modules of DIR (a crate's src/), one row per line group, rows separated by lines
   of `|`, each line's first column (up to two spaces) the modules. Every module listed must
   exist, every top-level module must be listed, and every import between top-level modules
   (found as scripts/check_layers.py finds them) must go from a row to a lower row.

`<!-- check_architecture: example names: sqs, SendMessage -->`: from there to the end of the
section, names containing one of these words (any case) are examples, not checked.
Single lowercase words (`cp`, `send`, `memory_budget`), environment variables, HTTP names and
code that does not start with a path are not checked. Exit status 1 with one line per thing
missing.
"""
import glob
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_layers  # noqa: E402
import rustsrc  # noqa: E402

# Names between backticks that come from outside this repository's crates.
OUTSIDE = {
    "Debug",  # std
    "Default",  # std
    "Display",  # std
    "Matcher",  # hyper-util's proxy matcher
    "KeyboardInterrupt",  # Python's built-in exceptions (crates/cirrus-py)
    "FileNotFoundError",
}

EXTENSIONS = (".rs", ".md", ".py", ".toml", ".sh", ".json", ".txt", ".yml", ".yaml")
DIRECTIVE = re.compile(r"<!--\s*check_architecture:\s*(.*?)\s*-->")
PATH_START = re.compile(r"[A-Za-z_]\w*(?:::[A-Za-z_]\w*)+")
TYPE_NAME = re.compile(r"[A-Z][A-Za-z0-9]*[a-z][A-Za-z0-9]*$")
FILE_NAME = re.compile(r"[\w.*-]+(?:/[\w.*-]*)*$")


class Tree:
    """What the repository holds: files, the crates' sources, their definitions."""

    def __init__(self, root):
        self.root = root
        self.crates = sorted(d for d in glob.glob(os.path.join(root, "crates", "*")) if os.path.isdir(d))
        self.srcs = [os.path.join(c, "src") for c in self.crates if os.path.isdir(os.path.join(c, "src"))]
        self.code = {}  # path -> masked code, tests left in (a type may live in tests/common.rs)
        for c in self.crates:
            for sub in ("src", "tests"):
                for path in glob.glob(os.path.join(c, sub, "**", "*.rs"), recursive=True):
                    self.code[path] = rustsrc.mask(open(path, encoding="utf-8").read())
        self.types = {}  # name -> [files defining it]
        self.macros = set()
        for path, code in self.code.items():
            for m in re.finditer(r"\b(?:struct|enum|trait|type|union)\s+([A-Za-z_]\w*)", code):
                self.types.setdefault(m.group(1), []).append(path)
            self.macros.update(re.findall(r"\bmacro_rules!\s*([A-Za-z_]\w*)", code))

    def roots(self):
        return [self.root] + self.crates + self.srcs

    def module_file(self, folder, name):
        for candidate in (os.path.join(folder, name + ".rs"), os.path.join(folder, name, "mod.rs")):
            if os.path.isfile(candidate):
                return candidate
        return None

    def crate_src(self, crate_dir_name):
        path = os.path.join(self.root, "crates", crate_dir_name, "src")
        return path if os.path.isdir(path) else None


def sections(text):
    """[(heading, [(line number, line)])] with the text before the first heading as ''."""
    out = [("", [])]
    for n, line in enumerate(text.splitlines(), 1):
        if line.startswith("#"):
            out.append((line, []))
        else:
            out[-1][1].append((n, line))
    return out


def heading_folder(heading):
    for span in re.findall(r"`([^`]+)`", heading):
        if span.endswith("/") and FILE_NAME.match(span):
            return span
    return None


def check_file(tree, name, folder):
    if "*" in name:
        hits = [h for r in tree.roots() for h in glob.glob(os.path.join(r, name))]
        return bool(hits)
    want_dir = name.endswith("/")
    bases = tree.roots()
    if "/" not in name.rstrip("/") and folder:
        bases = [os.path.join(r, folder) for r in tree.roots()]
    for base in bases:
        p = os.path.join(base, name)
        if (os.path.isdir(p) if want_dir else os.path.exists(p)):
            return True
    return False


def module_defines(code, name):
    if re.search(r"\b(?:fn|struct|enum|trait|type|union|const|static|mod)\s+" + re.escape(name) + r"\b", code):
        return True
    if re.search(r"\bmacro_rules!\s*" + re.escape(name) + r"\b", code):
        return True
    for m in re.finditer(r"\buse\s+([^;]*);", code):
        if re.search(r"\b" + re.escape(name) + r"\b", m.group(1)):
            return True
    return False


def check_rust_path(tree, segs):
    """None when fine, else what is missing."""
    cirrus = tree.crate_src("cirrus")
    first = segs[0]
    if first in ("cirrus", "crate"):
        folder, rest = cirrus, segs[1:]
    elif first == "cirrus_sigv4":
        folder, rest = tree.crate_src("cirrus-sigv4"), segs[1:]
    elif cirrus and tree.module_file(cirrus, first):
        folder, rest = cirrus, segs
    elif TYPE_NAME.match(first):
        return check_type(tree, first, segs[1:])
    else:
        return None  # not a path of these crates (a variable, another crate)
    if folder is None:
        return f"no crate for {first}"
    # the module file of the current module, for items
    current = os.path.join(folder, "lib.rs") if os.path.isfile(os.path.join(folder, "lib.rs")) else None
    for k, seg in enumerate(rest):
        f = tree.module_file(folder, seg)
        if f:
            current = f
            folder = os.path.join(folder, seg)
            continue
        code = tree.code.get(current) if current else None
        if code is None or not module_defines(code, seg):
            where = os.path.relpath(current, tree.root) if current else folder
            return f"no module or item `{seg}` in {where}"
        if TYPE_NAME.match(seg) and rest[k + 1 :]:
            return check_type(tree, seg, rest[k + 1 :])
        return None
    return None


def check_type(tree, name, members):
    if name in OUTSIDE:
        return None
    files = tree.types.get(name)
    if not files:
        return f"no type `{name}` in crates/*/src or crates/*/tests"
    impl = re.compile(r"\bimpl\b[^{;]*\b" + re.escape(name) + r"\b")
    files = files + [f for f, code in tree.code.items() if f not in files and impl.search(code)]
    for member in members[:1]:
        if any(re.search(r"\b" + re.escape(member) + r"\b", tree.code[f]) for f in files):
            continue
        return f"no `{member}` in the files defining `{name}`"
    return None


def parse_layers(lines):
    """Rows of module names from a layers block: [(row, name, line number)]."""
    out, row = [], 0
    for n, line in lines:
        if not line.strip():
            continue
        if set(line.strip()) <= {"|"}:
            row += 1
            continue
        if line.startswith(" "):
            continue  # a description going on
        first = re.split(r"\s{2,}", line.strip(), maxsplit=1)[0]
        for word in first.split():
            out.append((row, word.rstrip("/"), n))
    return out


def check_layers_block(tree, src_rel, lines, doc):
    problems = []
    src = os.path.join(tree.root, src_rel)
    listed = parse_layers(lines)
    rows = {}
    for row, name, n in listed:
        if not tree.module_file(src, name):
            problems.append(f"{doc}:{n}: the layers name `{name}`, not a module of {src_rel}")
        rows[name] = row
    actual = set()
    for path in glob.glob(os.path.join(src, "*")):
        base = os.path.basename(path)
        if base.endswith(".rs") and base not in ("lib.rs", "main.rs"):
            actual.add(base[:-3])
        elif os.path.isdir(path) and os.path.isfile(os.path.join(path, "mod.rs")):
            actual.add(base)
    for name in sorted(actual - set(rows)):
        problems.append(f"{doc}: the layers of {src_rel} leave out the module `{name}`")
    edges = check_layers.edges_of(src).get((), {})
    for a in sorted(edges):
        for b in sorted(edges[a]):
            if a in rows and b in rows and rows[b] <= rows[a]:
                where = ", ".join(f"{os.path.join(src_rel, r)}:{line}" for r, line, _ in edges[a][b][:3])
                how = "the same row as" if rows[b] == rows[a] else "above"
                problems.append(f"{doc}: `{a}` imports `{b}`, drawn {how} it ({where})")
    return problems


def check(doc_path, root):
    tree = Tree(root)
    text = open(doc_path, encoding="utf-8").read()
    doc = os.path.relpath(doc_path)
    problems, checked = [], 0
    for heading, lines in sections(text):
        folder = heading_folder(heading)
        examples = []
        layers_of = None
        in_block, block = False, []
        spans = [(lines[0][0] - 1 if lines else 0, heading)] + lines
        for n, line in spans:
            d = DIRECTIVE.search(line)
            if d:
                words = d.group(1)
                if words.startswith("example names:"):
                    examples += [w.strip().lower() for w in words.split(":", 1)[1].split(",") if w.strip()]
                elif words.startswith("layers of "):
                    layers_of = words[len("layers of ") :].strip()
                else:
                    problems.append(f"{doc}:{n}: unknown directive {d.group(0)}")
                continue
            if line.startswith("```"):
                if in_block:
                    if layers_of:
                        problems += check_layers_block(tree, layers_of, block, doc)
                        checked += 1
                        layers_of = None
                    else:
                        for bn, bline in block:  # paths in a diagram: crates/cirrus-cli ...
                            for word in re.findall(r"(?<![\w/])((?:crates|scripts|testdata|examples|bench)/[\w./*-]*)", bline):
                                checked += 1
                                if not check_file(tree, word, None):
                                    problems.append(f"{doc}:{bn}: `{word}` is not in the tree")
                    block = []
                in_block = not in_block
                continue
            if in_block:
                block.append((n, line))
                continue
            for span in re.findall(r"`([^`]+)`", line):
                if any(w in span.lower() for w in examples):
                    continue
                what = check_span(tree, span, folder)
                if what is None:
                    continue
                checked += 1
                if what:
                    problems.append(f"{doc}:{n}: `{span}`: {what}")
    return problems, checked


def check_span(tree, span, folder):
    """None: not a name this script checks; '': fine; else what is wrong."""
    s = span.strip()
    if "://" in s or s in ("/", "..", "."):
        return None
    if FILE_NAME.match(s) and ("/" in s or s.endswith(EXTENSIONS)):
        return "" if check_file(tree, s, folder) else "not in the tree"
    m = re.fullmatch(r"([A-Za-z_]\w*)!", s)
    if m:
        return "" if m.group(1) in tree.macros else f"no macro `{m.group(1)}!`"
    m = PATH_START.match(s)
    if m:
        return check_rust_path(tree, m.group(0).split("::")) or ""
    if TYPE_NAME.match(s):
        return check_type(tree, s, []) or ""
    return None


def self_test():
    """Docs checked against a small made-up tree, each case with what it must report."""
    import tempfile

    files = {
        "crates/cirrus/src/lib.rs": "pub mod low;\npub mod high;\npub mod s3;\npub use low::Thing;\n",
        "crates/cirrus/src/low.rs": "pub struct Thing;\nimpl Thing { pub fn make() -> Thing { Thing } }\n",
        "crates/cirrus/src/high.rs": "use crate::low::Thing;\npub fn report() {}\n",
        "crates/cirrus/src/s3/mod.rs": "pub mod transfer;\n",
        "crates/cirrus/src/s3/transfer/mod.rs": "mod walk;\n",
        "crates/cirrus/src/s3/transfer/walk.rs": "pub enum Found { Unseen }\n",
        "scripts/test": "",
    }
    doc_ok = (
        "# T\n\n## The engine (`s3/transfer/`)\n\n- `walk.rs`, `s3/transfer/mod.rs`, `scripts/test`,"
        " `crates/cirrus/src/s3/`, `crates/*/src`, `high::report(&e)`, `cirrus::low::Thing`,"
        " `Found::Unseen`, `Thing::make()`, `Debug`.\n"
    )
    layers = "# T\n\n<!-- check_architecture: layers of crates/cirrus/src -->\n```\n{}\n```\n"
    cases = [
        (doc_ok, []),
        (doc_ok.replace("`walk.rs`", "`gone.rs`"), ["`gone.rs`: not in the tree"]),
        (doc_ok + "See `crates/cirrus/src/nowhere/`.\n", ["`crates/cirrus/src/nowhere/`: not in the tree"]),
        (doc_ok + "And `high::no_such_fn`.\n", ["no module or item `no_such_fn`"]),
        (doc_ok + "And `NoSuchType`.\n", ["no type `NoSuchType`"]),
        (doc_ok + "And `Found::Gone`.\n", ["no `Gone` in the files defining `Found`"]),
        (doc_ok + "<!-- check_architecture: example names: sqs -->\n`src/sqs/mod.rs`, `SqsClient`\n", []),
        (layers.format("high  top\n  |\ns3/\n  |\nlow  leaf"), []),
        (
            layers.format("low  drawn on top\n  |\nhigh  x\n  |\nnot_a_module"),
            ["`high` imports `low`, drawn above it", "leave out the module `s3`", "`not_a_module`, not a module"],
        ),
        (layers.format("high low s3/  one row"), ["`high` imports `low`, drawn the same row as it"]),
    ]
    failures = 0
    with tempfile.TemporaryDirectory() as root:
        for rel, text in files.items():
            os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
            with open(os.path.join(root, rel), "w", encoding="utf-8") as f:
                f.write(text)
        for k, (text, expect) in enumerate(cases):
            doc = os.path.join(root, f"doc{k}.md")
            with open(doc, "w", encoding="utf-8") as f:
                f.write(text)
            problems, _ = check(doc, root)
            joined = "\n".join(problems)
            missing = [e for e in expect if e not in joined]
            if missing or (not expect and problems):
                failures += 1
                print(f"check_architecture.py --self-test: for {text!r}\n  got {problems}\n  wanted {expect}", file=sys.stderr)
    if not failures:
        print(f"check_architecture.py --self-test: {len(cases)} cases as expected")
    return 1 if failures else 0


def main(args):
    root = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    doc = None
    it = iter(args)
    test = False
    for a in it:
        if a == "--root":
            root = os.path.abspath(next(it))
        elif a == "--doc":
            doc = next(it)
        elif a == "--self-test":
            test = True
        else:
            print(__doc__.split("\n\n")[1], file=sys.stderr)
            return 2
    if test:
        return self_test()
    doc = doc or os.path.join(root, "ARCHITECTURE.md")
    problems, checked = check(doc, root)
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print(f"{os.path.relpath(doc)}: {len(problems)} names or layers not true of the tree", file=sys.stderr)
        return 1
    print(f"{os.path.relpath(doc)}: {checked} names and layers checked against the tree")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
