"""The architecture holds, here as well as in ``make lint``: the import contracts in
pyproject.toml (``[tool.importlinter]``: the layers, no cycle between the modules of
a package, only services enqueue tasks, what accounts and billing may import) are
kept, and no module of the project imports itself again through others, across the
four packages too. The only edges allowed to go up are the ones the contracts name
(services enqueueing the tasks that call them)."""

import tomllib
from pathlib import Path

import grimp
from click.testing import CliRunner
from importlinter.cli import lint_imports_command

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def import_linter_config() -> dict:
    return tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]


def test_the_import_contracts_of_the_architecture_are_kept():
    result = CliRunner().invoke(lint_imports_command, ["--config", str(PYPROJECT), "--no-cache", "--no-logo"])
    assert result.exit_code == 0, result.output


def test_no_module_imports_itself_again_through_other_modules():
    config = import_linter_config()
    graph = grimp.build_graph(*config["root_packages"])
    [no_cycles] = [contract for contract in config["contracts"] if contract["id"] == "no-cycles"]
    for allowed in no_cycles["ignore_imports"]:
        importer, imported = (name.strip() for name in allowed.split("->"))
        graph.remove_import(importer=importer, imported=imported)

    cycles = []
    for module in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            back = graph.find_shortest_chain(importer=imported, imported=module)
            if back:
                cycles.append(" -> ".join((module, *back)))
    assert cycles == [], "import cycles:\n" + "\n".join(cycles)
