"""Cold start: what `import app` loads, and the lazy names it declares routes with."""

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from pydantic import BaseModel

import app as application
from chalicelib import lazy
from infra.stage_settings import stage_environment

ROOT = Path(__file__).resolve().parents[2]

#: what a fresh `import app` may load of the project: chalice and these light modules only
LIGHT = {
    "chalicelib",
    "chalicelib.clock",
    "chalicelib.config",
    "chalicelib.errors",
    "chalicelib.identity",
    "chalicelib.lazy",
    "chalicelib.limits",
    "chalicelib.logs",
    "chalicelib.openapi",
}

_PROBE = """
import json, sys
import app
print(json.dumps(sorted(sys.modules)))
"""


def _loaded_by(code: str) -> set[str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "AWS_REGION": "us-east-1",  # (Lambda sets it)
        **stage_environment("prod"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return set(json.loads(out.stdout.splitlines()[-1]))


def test_import_app_loads_no_pydantic_models_domain_modules_boto3_or_pillow():
    loaded = _loaded_by(_PROBE)
    assert {m for m in loaded if m.startswith("chalicelib")} == LIGHT
    for heavy in ("pydantic", "pydantic_core", "boto3", "botocore", "PIL", "jwt", "dataclasses"):
        assert heavy not in loaded, heavy


def test_the_first_request_loads_what_it_needs():
    code = _PROBE.replace(
        "import app\n",
        "import app\nfrom chalice.test import Client\n"
        "assert Client(app.app).http.get('/health').status_code == 200\n",
    )
    loaded = _loaded_by(code)
    assert {"pydantic", "chalicelib.models", "chalicelib.settings"} <= loaded
    assert "chalicelib.media" not in loaded  # /health needs no domain module


def test_every_route_names_pydantic_models_that_exist():
    for spec in application.ROUTES:
        answered = spec.response if isinstance(spec.response, tuple) else (spec.response,)
        for model in (spec.body, spec.query, *answered):
            assert model is None or issubclass(model, BaseModel), (spec.path, model)


def test_a_model_ref_resolves_once_and_refuses_what_is_not_a_model():
    refs = lazy.ModelRefs("chalicelib.models")
    ref = refs.PostIn
    from chalicelib import models

    assert ref.resolve() is models.PostIn is lazy.resolve(ref) is lazy.resolve(models.PostIn)
    with pytest.raises(TypeError, match="not a pydantic model"):
        refs.page_of.resolve()  # a function of the module, not a model
    with pytest.raises(AttributeError):
        refs.NoSuchModel.resolve()
    with pytest.raises(AttributeError):
        refs.__deepcopy__  # noqa: B018 (a dunder is never a model name)


def test_a_lazy_module_imports_at_first_use_and_sees_patches(monkeypatch):
    name = "tests.unit._lazy_target"
    sys.modules.pop(name, None)
    proxy = lazy.modules("tests.unit", ["_lazy_target"])["_lazy_target"]
    assert name not in sys.modules and "not loaded" in repr(proxy)
    assert proxy.VALUE == 42
    assert name in sys.modules
    monkeypatch.setattr(sys.modules[name], "VALUE", 7)
    assert proxy.VALUE == 7  # forwards to the real module: a test's patch is seen
    with pytest.raises(AttributeError):
        proxy.missing  # noqa: B018


def test_a_lazy_module_first_touched_by_many_threads_loads_once():
    name = "tests.unit._lazy_target"
    sys.modules.pop(name, None)
    proxy = lazy.modules("tests.unit", ["_lazy_target"])["_lazy_target"]
    seen: list[object] = []
    barrier = threading.Barrier(8)

    def touch() -> None:
        barrier.wait()
        seen.append(proxy.LOADED_AT)

    threads = [threading.Thread(target=touch) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 8 and len({id(x) for x in seen}) == 1  # one module, run once


def test_every_lazy_module_is_bound_to_the_module_its_name_says():
    import ast

    tree = ast.parse((ROOT / "app.py").read_text(encoding="utf-8"))
    checked = next(
        node
        for node in tree.body
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING"
    )
    imported = {
        alias.asname or alias.name
        for node in checked.body
        if isinstance(node, ast.ImportFrom) and node.module == "chalicelib"
        for alias in node.names
    }
    assert imported == set(application.LAZY_MODULES)  # what mypy sees is what runs
    for name in application.LAZY_MODULES:
        bound = getattr(application, name)
        assert isinstance(bound, lazy.LazyModule)
        assert bound.__getattr__("__name__") == f"chalicelib.{name}"
