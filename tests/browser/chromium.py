"""Which Chromium the browser tests drive, wherever this machine keeps one.

In order: the one `GIRO_CHROMIUM` names; Playwright's own (`python -m playwright install
chromium`); the system's (`chromium`, `chromium-browser`, `google-chrome` on the PATH, or the
macOS application). CI installs Debian's package, which needs no download from outside the
package registries.

`python -m tests.browser.chromium --install` (run by `make test`) installs Playwright's own when
none is found, and says so.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

SETTING = "GIRO_CHROMIUM"
ON_PATH = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
MAC_APPS = (
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
)
INSTALL = "python -m playwright install chromium"
MISSING = (f"no Chromium found for the browser tests: run `{INSTALL}`, install your system's "
           f"chromium, or set {SETTING} to one")


def missing(env: Mapping[str, str] | None = None) -> str:
    """Why no Chromium was found, in one line."""
    env = os.environ if env is None else env
    if env.get(SETTING):
        return f"{SETTING} names {env[SETTING]}, which is not a program this machine can run"
    return MISSING


def find_chromium(
    env: Mapping[str, str] | None = None,
    playwright_dir: Path | None = None,
    search_path: str | None = None,
    mac_apps: Sequence[str] = MAC_APPS,
) -> Path | None:
    """The Chromium to launch, or None. The arguments exist for tests; by default this machine's."""
    env = os.environ if env is None else env
    if env.get(SETTING):
        named = Path(env[SETTING]).expanduser()
        return named if _runnable(named) else None  # a setting that names nothing is not overruled
    for candidate in _playwright_builds(playwright_dir or _playwright_dir(env)):
        return candidate
    for name in ON_PATH:
        found = shutil.which(name, path=search_path if search_path is not None else env.get("PATH"))
        if found:
            return Path(found)
    return next((Path(app) for app in mac_apps if _runnable(Path(app))), None)


def _playwright_dir(env: Mapping[str, str]) -> Path:
    """Where `playwright install` puts browsers on this platform (or PLAYWRIGHT_BROWSERS_PATH)."""
    if env.get("PLAYWRIGHT_BROWSERS_PATH"):
        return Path(env["PLAYWRIGHT_BROWSERS_PATH"])
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "ms-playwright"
    return Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ms-playwright"


def _playwright_builds(folder: Path) -> list[Path]:
    """Playwright's Chromium builds in `folder`, newest first."""
    inside = ("chrome-linux/chrome", "chrome-linux64/chrome",
              "chrome-mac/Chromium.app/Contents/MacOS/Chromium",
              "chrome-mac-arm64/Chromium.app/Contents/MacOS/Chromium")
    builds = sorted(folder.glob("chromium-*"), key=lambda p: p.name, reverse=True) if folder.is_dir() else []
    return [build / path for build in builds for path in inside if _runnable(build / path)]


def _runnable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Find the Chromium the browser tests drive.")
    parser.add_argument("--install", action="store_true",
                        help=f"when none is found, install Playwright's own ({INSTALL})")
    args = parser.parse_args(argv)
    found = find_chromium()
    if found is not None:
        print(f"browser tests use {found}")
        return 0
    if not args.install or os.environ.get(SETTING):
        print(missing(), file=sys.stderr)
        return 1
    print(f"No Chromium on this machine: installing Playwright's own ({INSTALL}), once.")
    installed = subprocess.run([sys.executable, "-m", "playwright", "install", "chromium"]).returncode
    if installed != 0 or find_chromium() is None:
        print(missing(), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
