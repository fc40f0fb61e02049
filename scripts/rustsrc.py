"""Just enough of Rust's lexical structure for the scripts in this folder (check_layers.py,
long_functions.py): no dependency beyond the Python standard library.

- `mask(text)`: the text with every comment and every string, byte string, raw string and
  character literal replaced by spaces (newlines kept), so that offsets and line numbers stay
  those of the file and no `crate::x` inside a string or a doc comment is taken for code.
- `test_spans(masked)`: the spans of the items that only exist in tests: each item under
  `#[cfg(test)]` (a `mod tests { ... }`, a `use`, a `fn`, an `impl`), and the whole file under
  `#![cfg(test)]`. `cfg(any(test, ...))` is not test-only and stays.
- `blank(masked, spans)`: those spans replaced by spaces, newlines kept.
- `tokens(masked)`: (kind, text, offset) for identifiers, `::` and single punctuation.
- `line_of(text)`: offset -> 1-based line number.
"""
import bisect
import re

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _is_ident_char(ch):
    return ch.isalnum() or ch == "_"


def mask(text):
    out = list(text)
    n = len(text)
    i = 0

    def blank_range(a, b):
        for k in range(a, b):
            if out[k] != "\n":
                out[k] = " "

    while i < n:
        ch = text[i]
        nxt = text[i + 1] if i + 1 < n else ""
        if ch == "/" and nxt == "/":
            j = text.find("\n", i)
            j = n if j < 0 else j
            blank_range(i, j)
            i = j
            continue
        if ch == "/" and nxt == "*":
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            blank_range(i, j)
            i = j
            continue
        # A literal's prefix (b, r, br, c, cr) is part of an identifier-like run: read the run.
        if _is_ident_char(ch) and (i == 0 or not _is_ident_char(text[i - 1])):
            m = _IDENT.match(text, i)
            if not m:  # a number: skip its digits
                j = i
                while j < n and _is_ident_char(text[j]):
                    j += 1
                i = j
                continue
            word, j = m.group(0), m.end()
            if word in ("r", "br", "cr") and j < n and text[j] in '#"':
                k = j
                while k < n and text[k] == "#":
                    k += 1
                if k < n and text[k] == '"':
                    closing = '"' + "#" * (k - j)
                    end = text.find(closing, k + 1)
                    end = n if end < 0 else end + len(closing)
                    blank_range(i, end)
                    i = end
                    continue
                if word == "r" and k == j + 1 and k < n and _is_ident_char(text[k]):  # r#ident
                    m2 = _IDENT.match(text, k)
                    i = m2.end() if m2 else k
                    continue
            if word in ("b", "c") and j < n and text[j] == '"':
                end = _end_of_string(text, j)
                blank_range(i, end)
                i = end
                continue
            if word == "b" and j < n and text[j] == "'":
                end = _end_of_char(text, j)
                if end:
                    blank_range(i, end)
                    i = end
                    continue
            i = j
            continue
        if ch == '"':
            end = _end_of_string(text, i)
            blank_range(i, end)
            i = end
            continue
        if ch == "'":
            end = _end_of_char(text, i)
            if end:
                blank_range(i, end)
                i = end
                continue
            i += 1  # a lifetime or a label
            continue
        i += 1
    return "".join(out)


def _end_of_string(text, i):
    """`text[i]` is the opening quote; the offset just past the closing one."""
    j, n = i + 1, len(text)
    while j < n:
        if text[j] == "\\":
            j += 2
            continue
        if text[j] == '"':
            return j + 1
        j += 1
    return n


def _end_of_char(text, i):
    """`text[i]` is a quote: the offset past a character literal, or None for a lifetime."""
    n = len(text)
    if i + 1 < n and text[i + 1] == "\\":
        j = text.find("'", i + 3)  # an escape is at least two characters: \\ and one more
        return None if j < 0 else j + 1
    if i + 2 < n and text[i + 2] == "'" and text[i + 1] != "\n":
        return i + 3
    return None


_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d[\w.]*|::|\S")


def tokens(masked):
    """(kind, text, offset): kind is 'id' for identifiers, 'p' for punctuation and numbers."""
    out = []
    for m in _TOKEN.finditer(masked):
        t = m.group(0)
        kind = "id" if (t[0].isalpha() or t[0] == "_") else "p"
        out.append((kind, t, m.start()))
    return out


def line_of(text):
    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    return lambda offset: bisect.bisect_right(starts, offset)


def matching(masked, open_at):
    """Offset of the bracket closing the one at `open_at` (same kind), or len(masked)."""
    pairs = {"{": "}", "(": ")", "[": "]"}
    o = masked[open_at]
    c = pairs[o]
    depth = 0
    for k in range(open_at, len(masked)):
        if masked[k] == o:
            depth += 1
        elif masked[k] == c:
            depth -= 1
            if depth == 0:
                return k
    return len(masked)


def item_end(masked, start):
    """The end (exclusive) of the item starting at `start`: the first `;` outside brackets, or
    the brace that closes its first `{ ... }` block outside parentheses and brackets."""
    depth = 0
    k = start
    n = len(masked)
    while k < n:
        ch = masked[k]
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif depth == 0 and ch == ";":
            return k + 1
        elif depth == 0 and ch == "{":
            return matching(masked, k) + 1
        k += 1
    return n


_CFG_TEST = re.compile(r"#\s*\[\s*cfg\s*\(\s*test\s*\)\s*\]")
_INNER_CFG_TEST = re.compile(r"#\s*!\s*\[\s*cfg\s*\(\s*test\s*\)\s*\]")
_ATTR = re.compile(r"\s*#\s*\[")


def test_spans(masked):
    """[(start, end)] of the test-only items (see the module's doc)."""
    if _INNER_CFG_TEST.search(masked):
        return [(0, len(masked))]
    spans = []
    for m in _CFG_TEST.finditer(masked):
        if spans and m.start() < spans[-1][1]:
            continue
        k = m.end()
        while True:  # further attributes on the same item
            a = _ATTR.match(masked, k)
            if not a:
                break
            k = matching(masked, a.end() - 1) + 1
        spans.append((m.start(), item_end(masked, k)))
    return spans


def test_only_mods(masked):
    """Names of `#[cfg(test)] mod name;` declarations (modules in files of their own)."""
    names = []
    for a, b in test_spans(masked):
        m = re.search(r"\bmod\s+([A-Za-z_]\w*)\s*;", masked[a:b])
        if m and "{" not in masked[a:b]:
            names.append(m.group(1))
    return names


def blank(masked, spans):
    out = list(masked)
    for a, b in spans:
        for k in range(a, min(b, len(out))):
            if out[k] != "\n":
                out[k] = " "
    return "".join(out)
