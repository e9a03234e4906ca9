"""The review index's working files: spilled arrays, their .npz copies, their clean-up."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.duplicates import ReviewClusterIndex, find_review_clusters
from transforms.duplicates.store import SpilledArray, read_npz_member, write_npz

FARMED = "收到货了，包装很严实，打开一看做工非常精细，孩子拿到手就不肯放下，颜色和图片一模一样"


def test_a_spilled_array_appends_and_reads_back(tmp_path):
    a = SpilledArray(tmp_path / "a.bin", np.uint32)
    a.append(np.arange(5))
    a.append([])
    a.append(np.arange(5, 12))
    assert len(a) == 12 and a.nbytes == 48
    assert a.read().tolist() == list(range(12))
    assert a.read(3, 6).tolist() == [3, 4, 5]
    assert a.read(10, 99).tolist() == [10, 11]
    assert a.read(7, 7).tolist() == []
    a.replace([9, 8])
    assert a.read().tolist() == [9, 8]


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.integers(0, 2**32 - 1), max_size=200),
    cuts=st.lists(st.integers(0, 200), max_size=20),
)
def test_take_reads_the_ranges_asked_for(tmp_path_factory, values, cuts):
    a = SpilledArray(tmp_path_factory.mktemp("take") / "a.bin", np.uint32)
    a.append(values)
    bounds = sorted(min(c, len(values)) for c in cuts)
    starts, stops = bounds[0::2], bounds[1::2]
    starts = starts[: len(stops)]
    expected = [v for s, e in zip(starts, stops) for v in values[s:e]]
    assert a.take(starts, stops).tolist() == expected


def test_take_refuses_overlapping_or_out_of_range_reads(tmp_path):
    a = SpilledArray(tmp_path / "a.bin", np.int64)
    a.append(np.arange(10))
    with pytest.raises(ValueError):
        a.take([0, 3], [5, 8])
    with pytest.raises(IndexError):
        a.take([8], [11])


def test_npz_copies_of_spilled_arrays_load_with_numpy(tmp_path):
    a = SpilledArray(tmp_path / "a.bin", np.uint64)
    a.append(np.arange(100_000, dtype=np.uint64) * 3)
    path = tmp_path / "x.npz"
    write_npz(path, {"meta": np.array("{}"), "a": a, "b": np.arange(4, dtype=np.int32)})
    with np.load(path) as data:
        assert data["a"].tolist() == a.read().tolist()
        assert data["b"].dtype == np.int32 and str(data["meta"]) == "{}"
    back = SpilledArray(tmp_path / "back.bin", np.uint64)
    read_npz_member(path, "a", back)
    assert len(back) == 100_000 and np.array_equal(back.read(), a.read())
    with pytest.raises(ValueError):
        read_npz_member(path, "b", SpilledArray(tmp_path / "wrong.bin", np.uint64))


def test_the_index_keeps_its_growing_parts_in_its_working_folder(tmp_path):
    index = ReviewClusterIndex(workdir=tmp_path)
    index.add([(f"r{i}", FARMED + "！" * i) for i in range(4)])
    (folder,) = tmp_path.iterdir()
    assert folder == index.workdir and any(folder.iterdir())
    assert index.disk_bytes > 0 and index.nbytes > 0
    index.close()
    assert not folder.exists()


def test_an_index_goes_away_with_its_working_files(tmp_path):
    assert len(find_review_clusters([("a", FARMED), ("b", FARMED), ("c", FARMED)])) == 3
    index = ReviewClusterIndex(workdir=tmp_path)
    del index
    assert list(tmp_path.iterdir()) == []


def test_a_loaded_index_gets_its_own_working_folder(tmp_path):
    index = ReviewClusterIndex(workdir=tmp_path / "a")
    index.add([(f"r{i}", FARMED) for i in range(3)])
    saved = index.save(tmp_path / "saved")
    again = ReviewClusterIndex.load(saved, workdir=tmp_path / "b")
    assert again.workdir.parent == tmp_path / "b"
    assert again.clusters() == index.clusters()
    assert again.disk_bytes == index.disk_bytes


def test_an_index_of_the_first_format_is_refused(tmp_path):
    path = tmp_path / "v1.npz"
    np.savez(path, meta=np.array('{"format": "ecqm-review-clusters", "version": 1}'))
    with pytest.raises(ValueError, match="version 2"):
        ReviewClusterIndex.load(path)
