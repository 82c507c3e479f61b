"""Names bound at import, loaded at first use: how ``app.py`` declares every route and handler
without importing pydantic, the models or the domain modules (cold start).

- ``modules("chalicelib", ["users", ...])``: one ``LazyModule`` per name, which imports the real
  module at its first attribute access and forwards to it from then on (so a test patching the
  real module is seen). ``importlib.import_module`` takes the import lock, so two threads
  touching one first (chalice local serves requests on threads) both get the loaded module; the
  standard library's ``LazyLoader`` is not safe so on Python 3.11.
- ``ModelRefs("chalicelib.models").PostIn``: a ``ModelRef`` naming a model, which ``resolve()``
  imports on the route's first call (or when the OpenAPI document is built).

Type checkers see the real modules and classes (``app.py`` imports them under
``TYPE_CHECKING``), so a misspelt name still fails ``make typecheck``; at run time a test
resolves every route's models.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel


class LazyModule:
    """A module imported at its first attribute access."""

    __slots__ = ("_module", "_name")

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attribute: str) -> Any:
        module = self._module
        if module is None:
            module = self._module = importlib.import_module(self._name)
        return getattr(module, attribute)

    def __repr__(self) -> str:
        state = "loaded" if self._module is not None else "not loaded yet"
        return f"<lazy module {self._name!r}, {state}>"


def modules(package: str, names: Iterable[str]) -> dict[str, LazyModule]:
    """A ``LazyModule`` for each of ``package``'s submodules ``names``, by name."""
    return {name: LazyModule(f"{package}.{name}") for name in names}


class ModelRef:
    """A pydantic model named now and imported at its first ``resolve()``."""

    __slots__ = ("_model", "module", "name")

    def __init__(self, module: str, name: str) -> None:
        self.module = module
        self.name = name
        self._model: type[BaseModel] | None = None

    def resolve(self) -> type[BaseModel]:
        model = self._model
        if model is None:
            found = getattr(importlib.import_module(self.module), self.name)
            if not isinstance(found, type) or not hasattr(found, "model_validate"):
                raise TypeError(f"{self.module}.{self.name} is not a pydantic model")
            model = self._model = found
        return model

    def __repr__(self) -> str:
        return f"ModelRef({self.module}.{self.name})"


class ModelRefs:
    """``ModelRefs(module).Name`` is a ``ModelRef`` to ``module.Name``."""

    __slots__ = ("_module",)

    def __init__(self, module: str) -> None:
        self._module = module

    def __getattr__(self, name: str) -> ModelRef:
        if name.startswith("__"):  # copy, pickle and friends probe dunders: not model names
            raise AttributeError(name)
        return ModelRef(self._module, name)


def resolve(model: type[BaseModel] | ModelRef) -> type[BaseModel]:
    """The model itself, whether given or named."""
    return model.resolve() if isinstance(model, ModelRef) else model
