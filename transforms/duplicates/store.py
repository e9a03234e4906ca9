"""Append-only numpy arrays kept in files, for the parts of the review index that only grow.

The near-duplicate index needs every distinct text's shingle set, every review's id
and every kept pair, but only a batch's worth of them at a time: the pairs a new batch
is checked against, or one block while clusters are read. :class:`SpilledArray` keeps
such an array in a file, appends to it, and reads back a range or a set of ranges with
plain positioned reads, so the process holds the block it works on and nothing more
(a memory map would keep every page it touched resident). :func:`write_npz` and
:func:`read_npz_member` move these arrays into and out of an ``.npz`` file a buffer at
a time.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np

COPY_BYTES = 1 << 22  # 4 MiB per read or write when a whole array is copied


class SpilledArray:
    """A 1-d array of ``dtype`` in the file ``path``, grown by :meth:`append`.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     a = SpilledArray(Path(d) / "a.bin", np.int32)
    ...     a.append(np.arange(10))
    ...     (len(a), a.read(2, 5).tolist(), a.take([0, 7], [2, 9]).tolist())
    (10, [2, 3, 4], [0, 1, 7, 8])
    """

    def __init__(self, path: Path, dtype: Any) -> None:
        self.path = Path(path)
        self.dtype = np.dtype(dtype)
        self.size = 0
        self.path.write_bytes(b"")

    def __len__(self) -> int:
        return self.size

    @property
    def nbytes(self) -> int:
        """Bytes on disk (none of them held in memory)."""
        return self.size * self.dtype.itemsize

    def append(self, values: Any) -> None:
        data = np.ascontiguousarray(values, dtype=self.dtype)
        if data.ndim != 1:
            raise ValueError("only 1-d arrays are appended")
        with self.path.open("ab") as f:
            f.write(data.tobytes())
        self.size += len(data)

    def replace(self, values: Any) -> None:
        """Make the array ``values``."""
        self.path.write_bytes(b"")
        self.size = 0
        self.append(values)

    def read(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Elements ``start`` to ``stop`` (a copy in memory)."""
        stop = self.size if stop is None else min(stop, self.size)
        count = max(0, stop - start)
        if count == 0:
            return np.zeros(0, self.dtype)
        return np.fromfile(
            self.path, dtype=self.dtype, count=count, offset=start * self.dtype.itemsize
        )

    def take(self, starts: Any, stops: Any) -> np.ndarray:
        """The concatenation of elements ``starts[i]:stops[i]``, in order.

        The ranges must be sorted and must not overlap; ranges that touch are read with
        one positioned read.
        """
        starts = np.asarray(starts, dtype=np.int64)
        stops = np.asarray(stops, dtype=np.int64)
        lengths = stops - starts
        total = int(lengths.sum())
        out = np.empty(total, self.dtype)
        if total == 0:
            return out
        if np.any(lengths < 0) or np.any(starts[1:] < stops[:-1]):
            raise ValueError("ranges must be sorted and must not overlap")
        if int(stops[-1]) > self.size:
            raise IndexError(f"range ends at {int(stops[-1])}, past {self.size} elements")
        nonempty = lengths > 0
        starts, stops = starts[nonempty], stops[nonempty]
        # Runs of touching ranges become one read each.
        cut = np.flatnonzero(starts[1:] != stops[:-1]) + 1
        run_starts = starts[np.concatenate([[0], cut])].tolist()
        run_stops = stops[np.concatenate([cut - 1, [len(stops) - 1]])].tolist()
        item = self.dtype.itemsize
        buffer = memoryview(out.view(np.uint8))
        fd = os.open(self.path, os.O_RDONLY)
        try:
            at = 0
            for lo, hi in zip(run_starts, run_stops):
                want = (hi - lo) * item
                _read_exactly(fd, buffer[at : at + want], lo * item)
                at += want
        finally:
            os.close(fd)
        return out

    def copy_to(self, out: IO[bytes]) -> None:
        """Write the raw elements to ``out``, a buffer at a time."""
        with self.path.open("rb") as f:
            while chunk := f.read(COPY_BYTES):
                out.write(chunk)

    def fill_from(self, source: IO[bytes], count: int) -> None:
        """Make the array the next ``count`` raw elements of ``source``."""
        remaining = count * self.dtype.itemsize
        with self.path.open("wb") as f:
            while remaining:
                chunk = source.read(min(COPY_BYTES, remaining))
                if not chunk:
                    raise ValueError(f"{self.path.name}: the source ended early")
                f.write(chunk)
                remaining -= len(chunk)
        self.size = count


def _read_exactly(fd: int, into: memoryview, offset: int) -> None:
    while len(into):
        got = os.preadv(fd, [into], offset)
        if got <= 0:
            raise OSError(f"short read at byte {offset}")
        into, offset = into[got:], offset + got


def write_npz(path: Path, arrays: Mapping[str, np.ndarray | SpilledArray]) -> None:
    """An uncompressed ``.npz`` that ``np.load`` reads; spilled arrays are copied from
    their files a buffer at a time instead of being read into memory."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, value in arrays.items():
            with zf.open(f"{name}.npy", "w", force_zip64=True) as f:
                if isinstance(value, SpilledArray):
                    header = {
                        "descr": np.lib.format.dtype_to_descr(value.dtype),
                        "fortran_order": False,
                        "shape": (len(value),),
                    }
                    np.lib.format.write_array_header_1_0(f, header)
                    value.copy_to(f)
                else:
                    np.lib.format.write_array(f, np.asanyarray(value), allow_pickle=False)


def read_npz_member(path: Path, name: str, into: SpilledArray) -> None:
    """Copy the 1-d array ``name`` of the ``.npz`` file ``path`` into ``into``."""
    with zipfile.ZipFile(path) as zf, zf.open(f"{name}.npy") as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, _fortran, dtype = np.lib.format.read_array_header_1_0(f)
        else:
            shape, _fortran, dtype = np.lib.format.read_array_header_2_0(f)
        if len(shape) != 1 or dtype != into.dtype:
            raise ValueError(f"{path}: {name} is {dtype}{list(shape)}, not a 1-d {into.dtype}")
        into.fill_from(f, shape[0])
