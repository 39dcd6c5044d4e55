"""teiten.errors is the one place for exceptions, and its docstring draws the whole tree.

Every exception class defined anywhere in the package must be defined in
``teiten.errors``, be exported by it, and appear in its docstring at the place its
base class says (a subclass indented under its parent).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import teiten
from teiten import errors

# A tree line: "    ├── Name   what it means", "    │   └── Name ...", or a root "    Name ..."
# (a continuation line has neither a branch nor a name in column 4).
_LINE = re.compile(r"^    (?:((?:[│ ]   )*)[├└]── )?([A-Z]\w+)(?:\s|$)")


def _package_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(teiten.__path__, "teiten."):
        if info.name.endswith("__main__"):  # runs the CLI
            continue
        importlib.import_module(info.name)
        names.append(info.name)
    return names


def _drawn_tree() -> dict[str, str | None]:
    """``{class name: parent name}`` as the docstring draws it (roots have ``None``)."""
    parents: dict[str, str | None] = {}
    stack: list[str] = []
    for line in (errors.__doc__ or "").splitlines():
        m = _LINE.match(line)
        if not m:
            continue
        depth = 0 if m.group(1) is None else len(m.group(1)) // 4 + 1
        name = m.group(2)
        del stack[depth:]
        parents[name] = stack[-1] if stack else None
        stack.append(name)
    return parents


def test_every_exception_class_is_defined_in_teiten_errors():
    elsewhere = []
    for name in _package_modules():
        module = importlib.import_module(name)
        for attr, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseException)
                and value.__module__ == name
                and name != "teiten.errors"
            ):
                elsewhere.append(f"{name}.{attr}")
    assert elsewhere == [], "exception classes outside teiten.errors"


def _all_subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub, *_all_subclasses(sub)}
    return found


def test_every_teiten_error_is_in_teiten_errors():
    _package_modules()
    strays = [
        f"{c.__module__}.{c.__qualname__}"
        for c in _all_subclasses(errors.TeitenError)
        if c.__module__.startswith("teiten.") and c.__module__ != "teiten.errors"
    ]
    assert strays == []


def test_the_docstring_draws_the_tree_as_the_classes_are():
    drawn = _drawn_tree()
    defined = {
        name: cls
        for name, cls in vars(errors).items()
        if inspect.isclass(cls)
        and issubclass(cls, BaseException)
        and cls.__module__ == "teiten.errors"
    }
    assert sorted(drawn) == sorted(defined), "classes and the drawn tree differ"
    for name, cls in defined.items():
        (base,) = cls.__bases__
        expected = None if base is Exception else base.__name__
        assert drawn[name] == expected, f"{name} is drawn under {drawn[name]}, not {expected}"
    assert sorted(errors.__all__) == sorted(defined)


def test_the_tree_reader_sees_nesting():
    drawn = _drawn_tree()
    assert drawn["TeitenError"] is None
    assert drawn["CaptureError"] == "TeitenError"
    assert drawn["CorruptCaptureError"] == "CaptureError"
    assert drawn["PeriodError"] == "OptionError"
