"""core.pages: every page described once, in the order Home and the status list show them."""

from __future__ import annotations

from pathlib import Path

from core.pages import DREAM, all_pages
from core.status import all_status

ROOT = Path(__file__).resolve().parent.parent


def test_every_page_is_described_once_and_its_file_exists():
    pages = all_pages()
    assert pages[0] == DREAM and [p.title for p in pages] == ["Dream a Stage", "Flower ID", "Film-Star Lookalike",
                                                              "Bike ID"]
    assert len({p.name for p in pages}) == len(pages) and all((ROOT / p.script).is_file() for p in pages)
    assert sorted(str(path.relative_to(ROOT)) for path in (ROOT / "pages").glob("*.py")) == sorted(
        p.script for p in pages)


def test_the_status_list_follows_the_descriptions(giro_folders):
    assert [s.page for s in all_status()] == [p.title for p in all_pages()]
    assert all(s.setup_part in ("", p.name) for s, p in zip(all_status(), all_pages()))
