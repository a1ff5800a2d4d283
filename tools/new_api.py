"""``make new-api NAME=widgets``: render a new emulated API's folder and its test file from tools/api_template/.

Why a scaffold: every API package has the same shape (ARCHITECTURE.md, "One API, one folder": a descriptor in
``__init__.py``, ``routes.py``, ``service.py``, ``spec.py``, ``models.py``), and the registry is the only place
outside the folder that names it. The scaffold writes that shape and the one registry line, nothing else, so a
new API starts complete (served, scoped, journaled, documented, deleted with its tenant) and is then grown.

Usage: ``python tools/new_api.py NAME [--title TITLE] [--base /api/NAME/v3] [--root DIR]``; ``--root`` is the
project folder (default: the one this file is in).
"""

from __future__ import annotations

import argparse
import keyword
import re
import subprocess
import sys
from pathlib import Path
from string import Template

TEMPLATES = Path(__file__).resolve().parent / "api_template"
FILES = {"__init__.py.tmpl": "__init__.py", "models.py.tmpl": "models.py", "routes.py.tmpl": "routes.py",
         "service.py.tmpl": "service.py", "spec.py.tmpl": "spec.py"}
NAME = re.compile(r"^[a-z][a-z0-9]{1,30}$")
REGISTRY_END = re.compile(r"^PACKAGES = \((?P<body>.*?)^\)", re.S | re.M)


def render(root: Path, name: str, title: str, base: str) -> list[Path]:
    """Write the folder, the test file and the registry line; the paths written, the registry last."""
    if not NAME.fullmatch(name) or keyword.iskeyword(name):
        raise SystemExit(f"NAME must be 2-31 lowercase letters and digits, starting with a letter: {name!r}")
    package = root / "emulator" / name
    if package.exists():
        raise SystemExit(f"{package} exists already")
    registry = root / "emulator" / "registry.py"
    text = registry.read_text()
    match = REGISTRY_END.search(text)
    if match is None:
        raise SystemExit(f"no PACKAGES tuple in {registry}")
    values = {"name": name, "Name": name[:1].upper() + name[1:], "title": title, "base": base.rstrip("/"),
              "prefix": "/" + "/".join(base.strip("/").split("/")[:2]) + "/"}
    written = []
    package.mkdir()
    for template, target in FILES.items():
        path = package / target
        path.write_text(Template((TEMPLATES / template).read_text()).substitute(values))
        written.append(path)
    test = root / "tests" / f"test_{name}.py"
    test.write_text(Template((TEMPLATES / "test.py.tmpl").read_text()).substitute(values))
    written.append(test)
    line = f'    "emulator.{name}",\n'
    registry.write_text(text[:match.end("body")] + line + text[match.end("body"):])
    written.append(registry)
    _sort_imports(root, written[:-1])
    return written


def _sort_imports(root: Path, paths: list[Path]) -> None:
    """Where the import block sorts depends on the name, so ruff (the project's linter) orders it."""
    config = root / "ruff.toml"
    args = [sys.executable, "-m", "ruff", "check", "--quiet", "--no-cache", "--fix", "--select", "I", *map(str, paths)]
    if config.exists():
        args[4:4] = ["--config", str(config)]
    subprocess.run(args, check=False, capture_output=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name")
    parser.add_argument("--title", default=None, help="the API's title (default: NAME in title case)")
    parser.add_argument("--base", default=None, help="its base path (default: /api/NAME/v3)")
    parser.add_argument("--root", default=str(Path(__file__).resolve().parent.parent))
    args = parser.parse_args(argv)
    written = render(Path(args.root), args.name, args.title or args.name.title(), args.base or f"/api/{args.name}/v3")
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
