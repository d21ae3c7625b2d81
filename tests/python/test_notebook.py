"""The example notebook runs end to end against the installed package."""

from __future__ import annotations

import nbformat
from nbclient import NotebookClient

from conftest import ROOT

NOTEBOOK = ROOT / "examples" / "notebooks" / "tuning.ipynb"


def test_the_tuning_notebook_runs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "".join(o.get("text", "") for o in outputs)
    assert "ROC AUC" in text and "wrote" in text
    assert any("image/png" in o.get("data", {}) for o in outputs)
    shown = "".join(o.get("data", {}).get("text/plain", "") for o in outputs)
    assert "unread_column" in shown  # the data checked
    assert "acceptance_rate" in shown and "wins_missed" in shown  # the back-test
