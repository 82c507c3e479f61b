"""chalicelib/metrics.py: CloudWatch EMF lines, and the dashboard shows what the code emits."""

import json
import re
from pathlib import Path

from chalicelib import metrics

ROOT = Path(__file__).resolve().parents[2]


def test_emit_writes_one_emf_line(capsys, monkeypatch):
    monkeypatch.setenv("ECHOMATE_STAGE", "prod")
    metrics.emit(UploadsProcessed=1, ProcessingMs=(118.5, "Milliseconds"))
    (line,) = capsys.readouterr().out.splitlines()
    document = json.loads(line)
    assert document["Stage"] == "prod"
    assert document["UploadsProcessed"] == 1 and document["ProcessingMs"] == 118.5
    (directive,) = document["_aws"]["CloudWatchMetrics"]
    assert directive == {
        "Namespace": "Echomate",
        "Dimensions": [["Stage"]],
        "Metrics": [
            {"Name": "UploadsProcessed", "Unit": "Count"},
            {"Name": "ProcessingMs", "Unit": "Milliseconds"},
        ],
    }
    assert isinstance(document["_aws"]["Timestamp"], int)


def test_the_dashboard_shows_every_metric_the_code_emits():
    emitted = set()
    for module in (ROOT / "chalicelib").glob("*.py"):
        for call in re.findall(r"metrics\.emit\((.*)\)", module.read_text()):
            emitted |= set(re.findall(r"(\w+)=", call))
    template = (ROOT / "infra" / "template.yaml").read_text()
    shown = set(re.findall(r'\["Echomate", "(\w+)"', template))
    shown |= set(re.findall(r'\[\s*"\.", "(\w+)", "\.", "\."', template))
    assert emitted == {"SignUps", "Posts", "Likes", "Comments", "UploadsProcessed"} | {
        "UploadsRejected",
        "ProcessingMs",
        "FanoutWrites",
    }
    assert emitted <= shown, f"not on the dashboard: {emitted - shown}"
