"""Every page of the app, declared once: file, title, icon, url_path, permission, group.

The navigation (app.py), the permissions (ui.auth.PAGE_PERMISSION, User.can_page), the sign-in
screen's URL paths (ui.gate) and each page's own check (ui.gate.page) all read this list, so a
new page is its file in pages/ plus one entry here. Pure data: no Streamlit import.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PageDecl:
    name: str                  # the page's id (permissions, tests)
    file: str                  # relative to the entrypoint (app.py)
    title: str
    icon: str
    url_path: str              # ASCII; the page's address is /<url_path>
    permission: str | None     # what the user's roles must allow (None: anyone signed in)
    group: str                 # the navigation section
    when: str = "data"         # "data": with a filled warehouse; "empty": without; "always"


PAGES: tuple[PageDecl, ...] = (
    PageDecl("overview", "pages/overview.py", "总览", ":material/dashboard:", "overview", "read", "领导视图"),
    PageDecl("ranking", "pages/ranking.py", "排名", ":material/leaderboard:", "ranking", "read", "分析"),
    PageDecl("region", "pages/region.py", "区域分析", ":material/travel_explore:", "region", "read", "分析"),
    PageDecl("analysis", "pages/analysis.py", "分析工具", ":material/query_stats:", "analysis", "read", "分析"),
    PageDecl("assessment", "pages/assessment.py", "季度考评", ":material/fact_check:", "assessment", "read", "考评"),
    PageDecl("bulletin", "pages/bulletin.py", "通报", ":material/campaign:", "bulletin", "notices", "考评"),
    PageDecl("start", "pages/start.py", "开始使用", ":material/rocket_launch:", "start", None, "开始", when="empty"),
    PageDecl("import", "pages/data_import.py", "数据导入", ":material/upload_file:", "data_import", "import",
             "数据与方法", when="always"),
    PageDecl("method", "pages/method.py", "方法说明", ":material/menu_book:", "method", None, "数据与方法",
             when="always"),
)
BY_NAME = {p.name: p for p in PAGES}
URL_PATHS = tuple(p.url_path for p in PAGES)
PAGE_PERMISSION = {p.name: p.permission for p in PAGES}


def by_file(file: str | Path) -> PageDecl:
    """The declaration of a page file (a page passes its own __file__)."""
    name = Path(file).name
    for p in PAGES:
        if Path(p.file).name == name:
            return p
    raise KeyError(f"{name} is not declared in ui/pages_registry.py")


def visible(has_data: bool) -> list[PageDecl]:
    """The pages the navigation holds for a warehouse with or without data, in order."""
    return [p for p in PAGES if p.when == "always" or p.when == ("data" if has_data else "empty")]


def sections(pages: list[PageDecl]) -> dict[str, list[PageDecl]]:
    """`pages` grouped by section, sections in order of first appearance."""
    out: dict[str, list[PageDecl]] = {}
    for p in pages:
        out.setdefault(p.group, []).append(p)
    return out
