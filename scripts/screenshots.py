"""Screenshots of the CRM's pages as each demo user sees them, at a desktop and a phone size, for
looking at what was built (the guide asks for both sizes of every changed page).

    scripts/run &                      # or any running CRM with the demo data
    .venv/bin/python scripts/screenshots.py [--url http://127.0.0.1:8000] [--user ivanov] [PATH ...]

Without paths it takes the main pages and the first record card of each list. PNGs go to
screenshots/ (git-ignored), named <user>-<page>-<width>.png."""

from __future__ import annotations

import argparse
import re
import shutil
from pathlib import Path

from playwright.sync_api import sync_playwright

SIZES = [(1440, 900), (390, 844)]
PAGES = ["/", "/tasks/day/", "/tasks/", "/tasks/board/", "/tasks/new/", "/notifications/", "/leads/", "/leads/kanban/",
         "/deals/", "/deals/list/", "/clients/companies/", "/clients/contacts/", "/profile/", "/admin/",
         "/admin/tasks_app/task/", "/admin/tasks_app/automationrule/"]
CARDS = {"/tasks/": r"/tasks/\d+/$",
         "/leads/": r"/leads/\d+/$", "/deals/list/": r"/deals/\d+/$", "/clients/companies/": r"/clients/companies/\d+/$",
         "/clients/contacts/": r"/clients/contacts/\d+/$"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--user", action="append", help="demo login (repeatable); default: ivanov and head")
    parser.add_argument("--password", default="demo")
    parser.add_argument("--out", default="screenshots")
    parser.add_argument("paths", nargs="*")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(exist_ok=True)
    browser_path = shutil.which("chromium") or shutil.which("chromium-browser")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=browser_path, args=["--no-sandbox"])
        for user in args.user or ["ivanov", "head"]:
            context = browser.new_context(locale="ru-RU", timezone_id="Europe/Moscow")
            page = context.new_page()
            page.goto(f"{args.url}/login/")
            page.fill("input[name=username]", user)
            page.fill("input[name=password]", args.password)
            page.click("button[type=submit]")
            page.wait_for_load_state()
            paths = list(args.paths or PAGES)
            if not args.paths:
                for listing, pattern in CARDS.items():
                    page.goto(args.url + listing)
                    hrefs = [h for h in page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
                             if re.search(pattern, h or "")]
                    if hrefs:
                        paths.append(hrefs[0])
            for path in paths:
                for width, height in SIZES:
                    page.set_viewport_size({"width": width, "height": height})
                    page.goto(args.url + path)
                    page.wait_for_load_state("networkidle")
                    name = re.sub(r"[^\w]+", "_", path.strip("/")) or "home"
                    page.screenshot(path=str(out / f"{user}-{name}-{width}.png"), full_page=True)
            context.close()
        browser.close()


if __name__ == "__main__":
    main()
