"""Run one pushed notebook the way Kaggle's batch run does: every cell, in the working folder.

Called by the fake Kaggle server in a subprocess whose environment holds only what
Kaggle's would (see server._run_environment): `runner.py NOTEBOOK WORKING_DIR`.
Exit status 0 when every cell ran; otherwise the failing cell's error is the last line.
"""

from __future__ import annotations

import sys
from pathlib import Path


def main(notebook_path: str, working: str) -> int:
    """Execute the notebook with cwd = working; write the executed copy beside the input."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    notebook = nbformat.read(notebook_path, as_version=4)
    client = NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": working}}
    )
    try:
        client.execute()
    except CellExecutionError as exc:
        name = getattr(exc, "ename", "Error")
        value = getattr(exc, "evalue", str(exc).splitlines()[-1:])
        print(str(exc))
        print(f"{name}: {value}")
        return 1
    finally:
        nbformat.write(notebook, str(Path(notebook_path).with_name("executed.ipynb")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
