"""Write a new Alembic migration from the difference between tables.py and the migrations.

Usage: .venv/bin/python tools/new_migration.py "add foo to bar" 0002
It builds a scratch database at the current head and lets Alembic compare it
with src/cohort/store/tables.py. Review the file it writes before committing.
"""

import re
import sys
import tempfile
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine

MIGRATIONS = Path(__file__).resolve().parents[1] / "src" / "cohort" / "migrations"


def main(message: str, rev_id: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    engine = create_engine(f"sqlite:///{tempfile.mkdtemp()}/scratch.db")
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
        script = command.revision(cfg, message=message, autogenerate=True, rev_id=rev_id)
    path = Path(script.path)  # type: ignore[union-attr]
    # Migrations must not depend on today's tables module: store the plain column type.
    text = path.read_text().replace("cohort.store.tables.UTCDateTime()", "sa.DateTime()")
    text = re.sub(r"^import cohort\.store\.tables\n", "", text, flags=re.M)
    path.write_text(text)
    print(f"wrote {path}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
