"""Release hygiene: one version, named in the changelog."""

import re
from pathlib import Path

from chalicelib import __version__

ROOT = Path(__file__).resolve().parents[2]


def test_the_changelogs_newest_release_is_the_version_health_reports():
    released = re.findall(r"^## (\d+\.\d+\.\d+)", (ROOT / "CHANGELOG.md").read_text(), re.M)
    assert released and released[0] == __version__


def test_every_allowlisted_vulnerability_says_why():
    for line in (ROOT / ".pip-audit-allowlist").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            identifier, _, reason = line.partition(" ")
            assert re.fullmatch(r"[A-Z]+-[A-Za-z0-9-]+", identifier), line
            assert len(reason.strip()) > 20, f"{identifier}: say why it does not apply"
