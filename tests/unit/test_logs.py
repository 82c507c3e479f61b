import json
import logging

from chalicelib import logs


def test_log_lines_are_json_with_the_request_id():
    token = logs.request_id.set("req-42")
    try:
        try:
            raise ValueError("boom")
        except ValueError:
            record = logging.getLogger("echomate").makeRecord(
                "echomate",
                logging.ERROR,
                __file__,
                1,
                "failed %s",
                ("thing",),
                exc_info=__import__("sys").exc_info(),
            )
        line = json.loads(logs.JsonFormatter().format(record))
    finally:
        logs.request_id.reset(token)
    assert line["requestId"] == "req-42"
    assert line["message"] == "failed thing" and line["level"] == "ERROR"
    assert "ValueError: boom" in line["exception"]
    assert line["time"].endswith("Z")
