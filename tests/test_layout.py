"""The package layout stays a one-way flow: no module imports a later stage, and no import cycle
(imports inside functions count), as scripts/import_graph.py reads them with ast."""
from pathlib import Path

from scripts.import_graph import cycles, imports, stage, upward

PACKAGE = Path(__file__).resolve().parents[1] / "derive"


def test_no_module_imports_a_later_stage():
    assert upward(imports(PACKAGE)) == []


def test_no_import_cycles():
    assert cycles(imports(PACKAGE)) == []


def test_every_module_has_a_stage():
    for module in imports(PACKAGE):
        stage(module)  # KeyError names a module the stage table does not place


def test_the_checks_can_fail():
    """A model importing rendering (the old notebook display) is both an upward arrow and a cycle."""
    graph = {"derive.model": {"derive.render.notebook"}, "derive.render.notebook": {"derive.model"}}
    assert upward(graph) == [("derive.model", "derive.render.notebook")]
    assert cycles(graph) == [["derive.model", "derive.render.notebook"]]


def test_lazy_imports_inside_functions_count(tmp_path):
    package = tmp_path / "derive"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "model.py").write_text("def show():\n    from .render import page\n")
    (package / "render").mkdir()
    (package / "render" / "__init__.py").write_text("")
    (package / "render" / "page.py").write_text("from ..model import show\n")
    graph = imports(package)
    assert graph["derive.model"] == {"derive.render.page"}
    assert cycles(graph) == [["derive.model", "derive.render.page"]]
