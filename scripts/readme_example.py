"""Prints the README's code block marked `<!-- readme_example: NAME -->` (the block after it).

    python3 scripts/readme_example.py python | some-python -
"""

import pathlib
import sys


def example(name: str) -> str:
    text = (pathlib.Path(__file__).resolve().parent.parent / "README.md").read_text()
    marker = f"<!-- readme_example: {name} "
    at = text.find(marker)
    if at < 0:
        sys.exit(f"README.md has no example marked {marker.strip()}")
    start = text.index("```", at)
    body_start = text.index("\n", start) + 1
    end = text.index("\n```", body_start)
    return text[body_start:end] + "\n"


if __name__ == "__main__":
    sys.stdout.write(example(sys.argv[1]))
