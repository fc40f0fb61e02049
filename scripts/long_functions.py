#!/usr/bin/env python3
"""Lists the functions longer than a limit (80 lines), longest first.

    long_functions.py [--check] [--limit N] [--all] [DIR...]

DIR defaults to crates/cirrus/src, crates/cirrus-sigv4/src, crates/cirrus-cli/src and crates/cirrus-py/src (from the
repository root); files under a `tests/` folder are left out, and so is every item under
`#[cfg(test)]` (the `mod tests` of a file, see rustsrc.py).

A function's length is counted from the line of its `fn` keyword to the line of the brace that
closes its body, both included, blank lines and comments in it too; its attributes and doc
comment above do not count. A function declared inside another is listed on its own, and its
lines count in the outer one as well. Closures are not functions here; functions written by a
macro (`fn $name`) are not seen.

A function is exempt when the comment and attribute lines directly above its `fn` line hold
the marker

    // long: table-like (what the table is)

for code that is one long table (a match with an arm per case, a list of fields); the words
after the marker say what the table is. Exempt functions are listed, marked so.

--check: exit status 1 when a function that is not exempt is over the limit. --all: list every
function, not only the long ones.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rustsrc  # noqa: E402

MARKER = re.compile(r"^\s*//\s*long:\s*table-like\b")
DEFAULT_DIRS = ["crates/cirrus/src", "crates/cirrus-sigv4/src", "crates/cirrus-cli/src", "crates/cirrus-py/src"]
FN = re.compile(r"\bfn\s+([A-Za-z_][A-Za-z0-9_]*)")


def body_start(code, k):
    """From just after a fn's name: the offset of its body's `{`, or None (no body: `;`)."""
    depth = 0
    n = len(code)
    while k < n:
        ch = code[k]
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif depth == 0 and ch == ";":
            return None
        elif depth == 0 and ch == "{":
            return k
        k += 1
    return None


def exempt(lines, fn_line):
    """Whether the comment and attribute lines right above line `fn_line` (1-based) hold the
    marker."""
    k = fn_line - 2
    while k >= 0:
        s = lines[k].strip()
        if MARKER.match(lines[k]):
            return True
        if s.startswith("//") or s.startswith("#[") or s.startswith("#!["):
            k -= 1
            continue
        if s.endswith("]"):  # the end of an attribute over several lines: up to its `#[`
            j = k - 1
            while j >= 0 and not lines[j].strip().startswith(("#[", "#![")):
                j -= 1
            if j < 0:
                break
            k = j - 1
            continue
        break
    return False


def functions(path):
    """[(length, first line, name, exempt)] of the functions of one file."""
    text = open(path, encoding="utf-8").read()
    masked = rustsrc.mask(text)
    code = rustsrc.blank(masked, rustsrc.test_spans(masked))
    line = rustsrc.line_of(code)
    lines = text.splitlines()
    out = []
    for m in FN.finditer(code):
        start = body_start(code, m.end())
        if start is None:
            continue
        end = rustsrc.matching(code, start)
        first, last = line(m.start()), line(end)
        out.append((last - first + 1, first, m.group(1), exempt(lines, first)))
    return out


def rust_files(d):
    for folder, dirs, files in os.walk(d):
        dirs[:] = sorted(x for x in dirs if x not in ("tests", "target"))
        for name in sorted(files):
            if name.endswith(".rs"):
                yield os.path.join(folder, name)


def main(args):
    check = "--check" in args
    show_all = "--all" in args
    limit = 80
    dirs = []
    it = iter(args)
    for a in it:
        if a in ("--check", "--all"):
            continue
        if a == "--limit":
            limit = int(next(it))
            continue
        if a.startswith("-"):
            print(__doc__.split("\n\n")[1], file=sys.stderr)
            return 2
        dirs.append(a)
    if not dirs:
        root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
        dirs = [os.path.relpath(os.path.join(root, d)) for d in DEFAULT_DIRS]
    found = []
    for d in dirs:
        for path in rust_files(d):
            for length, first, name, ok in functions(path):
                if show_all or length > limit:
                    found.append((length, path, first, name, ok))
    found.sort(key=lambda f: (-f[0], f[1], f[2]))
    over = 0
    for length, path, first, name, ok in found:
        flag = ""
        if length > limit:
            if ok:
                flag = "  (exempt: table-like)"
            else:
                over += 1
        print(f"{length:5}  {path}:{first}  {name}{flag}")
    print(f"{over} functions over {limit} lines that are not exempt", file=sys.stderr)
    return 1 if check and over else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
