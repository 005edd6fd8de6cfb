"""Drop folders: whoever may drop files into a folder source (an upload share) may drop a
symbolic link. A link to a file outside the folder is not read, nothing of that file reaches the
archive, and the administrator is told which file was passed over; a link to a file inside the
folder is read as the file it names. Run by the real worker on a real SQLite archive."""

from __future__ import annotations

from pathlib import Path

from test_security_fetch import PAGE, worker_config
from tracker.store import connect
from tracker.worker.service import Worker


def test_a_symlink_in_a_drop_folder_does_not_read_files_outside_it(tmp_path):
    """Whoever may drop files (an upload share) may drop a symbolic link: `leak.txt` pointing at
    a file of the host's is not read, and nothing of it reaches the archive."""
    config = worker_config(tmp_path)
    outside = tmp_path / "host-secret.txt"
    outside.write_text("内部机密：" + PAGE.read_text(encoding="utf-8"), encoding="utf-8")
    drop = tmp_path / "drop"
    (drop / "leak.txt").symlink_to(outside)
    (drop / "sub").mkdir()
    (drop / "sub" / "inner.txt").symlink_to(outside)
    Worker(config).once()
    db = connect(Path(config["INSTANCE_PATH"]) / "tracker.db")
    texts = [t or "" for (t,) in db.execute("SELECT text FROM articles")]
    assert not any("内部机密" in t for t in texts)
    errors = " ".join(e or "" for (e,) in db.execute("SELECT error FROM runs"))
    assert "leak.txt: a link to a file outside the folder" in errors  # the admin is told


def test_a_symlink_inside_the_drop_folder_is_still_read(tmp_path):
    config = worker_config(tmp_path)
    drop = tmp_path / "drop"
    (drop / "real").mkdir()
    (drop / "real" / PAGE.name).write_bytes(PAGE.read_bytes())
    (drop / "alias.txt").symlink_to(drop / "real" / PAGE.name)
    Worker(config).once()
    db = connect(Path(config["INSTANCE_PATH"]) / "tracker.db")
    assert db.execute("SELECT count(*) FROM articles").fetchone()[0] >= 1
