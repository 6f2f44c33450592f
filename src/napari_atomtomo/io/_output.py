"""One output layer for every command: check all outputs first, write all or nothing.

Usage (see ``cli/_sirt.py``)::

    outs = Outputs(force=args.force, inputs=(args.stack, angles_file))
    out = outs.file(args.out)            # checked now, before any work
    ...                                  # the heavy work
    with outs.writing() as stage:        # all-or-nothing
        io.write_mrc(stage(out), volume, voxel_size)
        atomic_write_json(stage(report), {...})

``file`` / ``folder`` refuse, with one sentence, an output that is one of the inputs
(explicit or found implicitly, such as the ``.tlt`` next to a stack), an existing folder
named as a file, a file that exists without ``force``, a folder that does not exist or
cannot be written. Inside ``writing()`` every file is written to a hidden temporary name
beside its target (``stage(path)``); only when the block ends without an error are they
renamed into place (a rename within one folder is atomic), and on an error every
temporary file, and every folder the block created, is removed again.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from ._paths import writable_path

__all__ = ["Outputs", "atomic_write_text", "atomic_write_json", "atomic_savefig",
           "check_folder_writable", "temp_name"]


def temp_name(path) -> Path:
    """The hidden temporary name a file is written under before it is renamed to ``path``."""
    p = Path(path)  # the suffix is kept: writers such as savefig take the format from it
    return p.with_name(f".{p.stem}.atomtomo-part{p.suffix}")


def check_folder_writable(folder, what: str = "output folder", of: str | None = None) -> Path:
    """``folder`` after checking that it exists, is a folder and accepts a new file.

    Sentences name it as ``{what} {folder}``, or ``folder {folder} of {of}`` when ``of``
    (e.g. ``"--out res/v.mrc"``) is given.
    """
    d = Path(folder)
    name = f"folder {d} of {of}" if of else f"{what} {d}"
    if not d.exists():
        raise FileNotFoundError(f"{name} does not exist; create it first")
    if not d.is_dir():
        raise NotADirectoryError(f"{name} is not a folder")
    try:  # a real probe: os.access is wrong for root and for read-only mounts
        with tempfile.NamedTemporaryFile(dir=d, prefix=".atomtomo-probe-"):
            pass
    except OSError as exc:
        raise PermissionError(f"cannot write in {name} ({exc.strerror or exc})") from None
    return d


def _same(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


class Outputs:
    """The files and folders one command will write, checked before the work starts.

    ``inputs`` are every file the command reads, including those it finds by itself
    (pass them too); an output that is an input is refused even with ``force``.
    """

    def __init__(self, force: bool = False, inputs=()):
        self.force = bool(force)
        self.inputs = [Path(p) for p in inputs if p is not None]
        self.files: list[Path] = []
        self._new_folders: list[Path] = []

    def add_inputs(self, *paths) -> None:
        self.inputs += [Path(p) for p in paths if p is not None]

    def _not_input(self, p: Path, option: str) -> None:
        for src in self.inputs:
            if _same(p, src):
                raise ValueError(f"{option} {p} is one of the inputs ({src}); "
                                 "choose another output path")

    def file(self, path, option: str = "output", suffix: str | None = None,
             own: bool = False) -> Path:
        """Register the output file ``path`` after checking it (see the module docstring).

        ``suffix`` (e.g. ``".mrc"``) is required when given. ``own=True`` means the file
        belongs to an output folder registered with :meth:`folder`, whose existence
        (possibly only later) was already checked.
        """
        p = Path(path)
        if suffix is not None and p.suffix.lower() != suffix:
            raise ValueError(f"{option} must name an {suffix} file, got {p.name}")
        if any(_same(p, f) for f in self.files):
            raise ValueError(f"{p} is named as two different outputs; give each its own path")
        self._not_input(p, option)
        if p.is_dir():
            example = p / ("result" + (suffix or p.suffix))
            raise IsADirectoryError(f"{option} {p} is an existing folder; name a file inside "
                                    f"it, e.g. {example}")
        if p.exists() and not p.is_file():
            raise ValueError(f"{option} {p} exists and is not a regular file")
        if p.exists() and not self.force:
            raise FileExistsError(f"{p} exists; pass --force to overwrite it")
        if not own or p.parent.exists():
            check_folder_writable(p.parent, of=f"{option} {p}")
        self.files.append(p)
        return p

    def expect(self, path, option: str = "output") -> Path:
        """Check a file a staged folder (``stage.folder``) will hold, without registering it."""
        p = self.file(path, option, own=True)
        self.files.remove(p)
        return p

    def folder(self, path, option: str = "output folder") -> Path:
        """Register an output folder: an existing folder that accepts files, or a new one
        (missing levels are created, when the results are written, under the nearest
        existing folder, which must accept them).
        """
        d = Path(path)
        self._not_input(d, option)
        if d.exists():
            if not d.is_dir():
                raise NotADirectoryError(f"{option} {d} exists and is not a folder")
            check_folder_writable(d, option)
            return d
        base = d.absolute().parent
        while not base.exists():
            base = base.parent
        if not base.is_dir():
            raise NotADirectoryError(f"{option} {d} lies under {base}, which is not a folder")
        check_folder_writable(base, of=f"{option} {d}")
        self._new_folders.append(d)
        return d

    @contextlib.contextmanager
    def writing(self):
        """Yield ``stage``; every staged file is renamed into place at the end, or removed.

        ``stage(path)`` gives the temporary name to write the registered file ``path``
        under. ``stage.folder(path)`` gives an empty temporary folder for a writer that
        fills a whole folder (a data set, a pipeline's report): at the end each file in
        it is moved to the same place under the registered folder ``path``, after all of
        them were checked like :meth:`file` (existing only with ``force``, never an input).
        """
        created: list[Path] = []
        staged: dict[Path, Path] = {}
        staged_dirs: dict[Path, Path] = {}
        for d in self._new_folders:
            _make_folders(d, created)

        def stage(path) -> Path:
            p = Path(path)
            if not any(_same(p, f) for f in self.files):
                raise RuntimeError(f"{p} was not registered as an output")  # programming error
            tmp = temp_name(p)
            staged[p] = tmp
            return tmp

        def stage_folder(path) -> Path:
            d = Path(path)
            _make_folders(d, created)
            tmp = Path(tempfile.mkdtemp(prefix=f".{d.name}.atomtomo-part-", dir=d))
            staged_dirs[d] = tmp
            return tmp

        stage.folder = stage_folder
        try:
            yield stage
            moves = [(tmp, p) for p, tmp in staged.items()]
            for p, tmp in staged.items():
                if not tmp.exists():
                    raise RuntimeError(f"nothing was written for {p}")
            for d, tmp in staged_dirs.items():
                for src in sorted(tmp.rglob("*")):
                    if src.is_dir():
                        continue
                    dst = d / src.relative_to(tmp)
                    self._not_input(dst, "output")
                    if dst.is_dir():
                        raise IsADirectoryError(f"output {dst} is an existing folder")
                    if dst.exists() and not self.force:
                        raise FileExistsError(f"{dst} exists; pass --force to overwrite it")
                    moves.append((src, dst))
            for src, dst in moves:
                _make_folders(dst.parent, created)
                os.replace(src, dst)
        except OSError as exc:
            self._roll_back(staged, created)
            final = self._final_name(exc.filename, staged, staged_dirs)
            if final is None and exc.filename is None and exc.errno is not None and staged:
                final = list(staged)[-1]  # a write error names no file: the one being written
            if final is None:
                raise
            raise OSError(exc.errno, exc.strerror, str(final)) from exc
        except BaseException:
            self._roll_back(staged, created)
            raise
        finally:
            for tmp in staged_dirs.values():
                shutil.rmtree(tmp, ignore_errors=True)
            if staged_dirs:
                for d in reversed(created):
                    with contextlib.suppress(OSError):
                        if not any(d.iterdir()):
                            d.rmdir()

    @staticmethod
    def _final_name(filename, staged: dict, staged_dirs: dict):
        """The output a temporary file stands for, so that an error names the real path."""
        if not filename:
            return None
        f = Path(str(filename))
        for p, tmp in staged.items():
            if f.parent == tmp.parent and f.name.startswith(tmp.name):
                return p
        for d, tmp in staged_dirs.items():
            with contextlib.suppress(ValueError):
                return d / f.relative_to(tmp)
        return None

    @staticmethod
    def _roll_back(staged: dict, created: list) -> None:
        for tmp in staged.values():
            with contextlib.suppress(OSError):
                tmp.unlink()
        for d in reversed(created):
            with contextlib.suppress(OSError):
                d.rmdir()  # only if still empty: never remove what others put there


class CommitOnExit:
    """Base of the slab writers (MRC, OME-Zarr): used as a context manager, the output is
    committed by ``close()`` when the block ends normally and removed by ``abort()`` on an
    error (the error propagates).
    """

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:
            self.abort()
        return False


def _make_folders(d: Path, created: list) -> None:
    """Create ``d`` and its missing parents, recording each new level (outermost first)."""
    missing = []
    p = d
    while not p.exists():
        missing.append(p)
        p = p.parent
    for q in reversed(missing):
        q.mkdir()
        created.append(q)


def atomic_write_text(path, text: str) -> Path:
    """Write ``text`` to a temporary file beside ``path``, then rename it into place."""
    p = Path(path)
    tmp = temp_name(p)
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, p)
    except OSError as exc:
        if exc.filename is not None or exc.errno is None:
            raise
        raise OSError(exc.errno, exc.strerror, str(p)) from exc
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    return p


def _json_default(o):
    """NumPy scalars and arrays, sets and tuples as plain JSON; anything else as text."""
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (set, tuple)):
        return list(o)
    return str(o)


def atomic_write_json(path, obj, indent: int = 2) -> Path:
    """Write ``obj`` as JSON (numpy values as plain numbers) through a renamed temporary."""
    return atomic_write_text(path, json.dumps(obj, indent=indent, default=_json_default) + "\n")


def write_new_text(path, text: str, force: bool = False) -> Path:
    """Refuse an existing ``path`` unless ``force`` (:func:`~._paths.writable_path`), then
    write ``text`` atomically: the one "refuse to overwrite, then write" of the writers.
    """
    return atomic_write_text(writable_path(path, force=force), text)


def write_new_json(path, obj, force: bool = False, indent: int = 2) -> Path:
    """:func:`write_new_text` of ``obj`` as JSON."""
    return atomic_write_json(writable_path(path, force=force), obj, indent)


def write_new_figure(fig, path, force: bool = False, dpi: int = 150) -> Path:
    """:func:`write_new_text` of a matplotlib figure (:func:`atomic_savefig`)."""
    return atomic_savefig(fig, writable_path(path, force=force), dpi)


def atomic_savefig(fig, path, dpi: int = 150) -> Path:
    """Save a matplotlib figure atomically (format from the suffix, PNG if none)."""
    p = Path(path)
    fmt = p.suffix[1:].lower() or "png"
    tmp = temp_name(p)
    try:
        fig.savefig(tmp, dpi=dpi, format=fmt)
        os.replace(tmp, p)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    return p
