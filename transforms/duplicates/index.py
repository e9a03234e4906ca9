"""Clusters of near-identical reviews (copied or farmed reviews, 刷单), kept across runs.

A review is flagged with a cluster id, never dropped: downstream risk signals decide
what a cluster means. The steps, per batch of (review id, text):

1. normalise (NFKC, lower case, letters and digits only); a text with fewer than
   ``min_shingles`` character 3-grams ("好评", "物流很快") is never clustered;
2. identical normalised texts collapse into one *distinct text*, so a copy posted a
   thousand times costs one comparison, not a million;
3. new distinct texts get MinHash signatures; LSH bands pair each with the earliest
   texts sharing a band, and a pair is kept when the Jaccard similarity of the two
   shingle sets is at least ``threshold - 0.2``;
4. when clusters are read, each kept pair is judged again with shingles weighted
   down by how common they are — built-in stock phrases and shingles found in many
   distinct texts of the index count little — and joins its two texts only when the
   weighted similarity reaches ``threshold`` and the texts share at least
   ``min_weight`` shingles' worth of weight; a text lighter than that is not
   clustered at all, however often it was posted. Joined texts form clusters
   (union-find); a cluster is flagged when it holds ``min_cluster_size`` reviews.

Beyond a batch the index holds no text. In memory it keeps what every new batch is
looked up in: sorted hashes of review ids and of normalised texts, the LSH table, the
offsets of the shingle sets and a fixed-size table of shingle document frequencies —
about 70 bytes per review. What only grows and is read a block at a time — the shingle
sets, the kept pairs, the review ids and each review's text — lives in files in a
working folder (:mod:`.store`), so memory grows with the input a few times more slowly
than the index does. Saving writes one ``.npz`` file; loading copies it back into a
working folder.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import weakref
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from pathlib import Path

import numpy as np

from .minhash import band_keys, candidate_pairs, minhash_signatures
from .similarity import pair_similarity
from .store import SpilledArray, read_npz_member, write_npz
from .text import normalise_review_text, shingle_sets, sorted_unique, stock_shingles

FORMAT = "ecqm-review-clusters"
VERSION = 2
SHINGLE = 3
NUM_PERM = 32
BANDS = 8
HEADS = 8  # earliest texts per LSH bucket that a new text is compared with
CANDIDATE_MARGIN = 0.2
DF_BITS = 22  # document-frequency table: 4M uint32 counters, 16 MiB
FREQUENT_SHARE = 0.002  # a shingle in more than this share of distinct texts weighs less
FREQUENT_FLOOR = 20  # ... and never below this many texts, so small corpora keep weight
STOCK_WEIGHT = 0.2
PAIR_BLOCK = 200_000  # kept pairs judged per block when clusters are read
TEXT_BLOCK = 100_000  # distinct texts weighed per block
# Arrays held in memory, and arrays kept in files (see the module notes).
_IN_MEMORY = ("id_keys", "text_keys", "text_slots", "offsets", "table", "df")
_SPILLED = {
    "shingles": np.uint32,  # CSR rows, one per slot, delimited by ``offsets``
    "edges": np.uint64,  # kept pairs: newer slot << 32 | older slot
    "review_slot": np.int32,  # per clusterable review: its slot
    "first_review": np.int32,  # per slot: its earliest review
    "id_bytes": np.uint8,  # utf-8 review ids, back to back ...
    "id_ends": np.int64,  # ... and where each ends
    "labels": np.int64,  # per review: cluster root slot or -1, as last read
}


class ReviewClusterIndex:
    """Near-duplicate review clusters that grow batch by batch and persist between runs.

    Parameters
    ----------
    threshold : float
        Weighted Jaccard similarity of character 3-gram sets at which two texts are
        near-duplicates (0.7: about two changed characters in a 40-character review).
    min_cluster_size : int
        Reviews a cluster needs before it is flagged.
    min_shingles : int
        Distinct 3-grams a normalised text needs to be considered at all.
    min_weight : float
        Weight, in shingles (stock and frequent ones count less), that a text must
        carry to be clustered even with its own copies, and that two texts must
        share to be joined: a generic 12-character review posted by many buyers is
        not evidence of copying, a 40-character one is.
    seed : int
        Seed of the MinHash permutations.
    workdir : path, optional
        Folder for the index's working files (a new folder is made inside it and
        removed with the index); the system's temporary folder by default.

    Examples
    --------
    >>> index = ReviewClusterIndex()
    >>> text = "宝贝收到了，做工精细颜色鲜艳，孩子爱不释手，和卖家描述的完全一致，以后还会光顾的"
    >>> found = index.add([("r1", text), ("r2", text + "👍"), ("r3", text.replace("，", ","))])
    >>> sorted(found) == ["r1", "r2", "r3"] and len(set(found.values())) == 1
    True
    """

    def __init__(
        self,
        *,
        threshold: float = 0.7,
        min_cluster_size: int = 3,
        min_shingles: int = 10,
        min_weight: float = 20.0,
        seed: int = 0,
        workdir: str | Path | None = None,
    ) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {threshold}")
        if min_cluster_size < 2:
            raise ValueError(f"min_cluster_size must be at least 2, got {min_cluster_size}")
        if min_shingles < 1:
            raise ValueError(f"min_shingles must be at least 1, got {min_shingles}")
        self.threshold = threshold
        self.min_cluster_size = min_cluster_size
        self.min_shingles = min_shingles
        self.min_weight = min_weight
        self.seed = seed
        self.reviews_seen = 0
        self.reviews_ignored = 0
        self.reviews_repeated = 0
        self._stock = stock_shingles(SHINGLE)
        self._id_keys = np.zeros(0, np.uint64)  # sorted hashes of review ids in the index
        self._text_keys = np.zeros(0, np.uint64)  # sorted hashes of distinct normalised texts
        self._text_slots = np.zeros(0, np.int32)  # their slots, parallel to _text_keys
        self._offsets = np.zeros(1, np.int64)  # shingle set of slot i: offsets[i]:offsets[i+1]
        self._table = np.zeros(0, np.uint64)  # LSH heads: band key << 32 | slot
        self._df = np.zeros(1 << DF_BITS, np.uint32)
        if workdir is not None:
            Path(workdir).mkdir(parents=True, exist_ok=True)
        self.workdir = Path(tempfile.mkdtemp(prefix="review-index-", dir=workdir))
        self._cleanup = weakref.finalize(self, shutil.rmtree, self.workdir, True)
        self._shingles = self._spill("shingles")
        self._edges = self._spill("edges")
        self._review_slot = self._spill("review_slot")
        self._first_review = self._spill("first_review")
        self._id_bytes = self._spill("id_bytes")
        self._id_ends = self._spill("id_ends")
        self._labels = self._spill("labels")

    def _spill(self, name: str) -> SpilledArray:
        return SpilledArray(self.workdir / f"{name}.bin", _SPILLED[name])

    def close(self) -> None:
        """Remove the working files; the index cannot be used afterwards."""
        self._cleanup()

    @property
    def distinct_texts(self) -> int:
        return len(self._offsets) - 1

    @property
    def nbytes(self) -> int:
        """Memory held by the index's arrays (its working files not included)."""
        return sum(getattr(self, f"_{name}").nbytes for name in _IN_MEMORY)

    @property
    def disk_bytes(self) -> int:
        """Size of the index's working files."""
        return sum(getattr(self, f"_{name}").nbytes for name in _SPILLED)

    # -- adding ------------------------------------------------------------------

    def add(self, batch: Iterable[tuple[str, str]]) -> dict[str, str]:
        """Add reviews; return the cluster of each review whose flag is new or changed.

        That is every review of ``batch`` in a flagged cluster, and earlier reviews
        whose cluster reached ``min_cluster_size`` or merged into another because of
        this batch. A review id already in the index is skipped (counted in
        ``reviews_repeated``), so a re-run over the same data changes nothing; texts
        may be empty or ``None``. Shingle weights follow the whole index, so a later
        batch that makes a phrase common can also take an earlier pair apart;
        :meth:`clusters` gives the whole current picture.
        """
        self._ingest(batch)
        labels = self._current_labels()
        old = np.full(len(labels), -1, np.int64)
        old[: len(self._labels)] = self._labels.read()
        self._labels.replace(labels)
        return self._mapping(np.flatnonzero((labels >= 0) & (labels != old)), labels)

    def extend(self, reviews: Iterable[tuple[str, str]], batch_size: int = 50_000) -> None:
        """Add any number of reviews, ``batch_size`` at a time, without reading clusters.

        The same as :meth:`add` on each batch, minus the work of reporting; call
        :meth:`clusters` afterwards.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        for batch in _batched(iter(reviews), batch_size):
            self._ingest(batch)

    def clusters(self) -> dict[str, str]:
        """Review id → cluster id for every review in a flagged cluster."""
        labels = self._current_labels()
        self._labels.replace(labels)
        return self._mapping(np.flatnonzero(labels >= 0), labels)

    def _ingest(self, batch: Iterable[tuple[str, str]]) -> None:
        ids: list[str] = []
        texts: list[str] = []
        floor = self.min_shingles + SHINGLE - 1
        for review_id, text in batch:
            self.reviews_seen += 1
            norm = normalise_review_text(text)
            if len(norm) < floor:
                self.reviews_ignored += 1
                continue
            ids.append(str(review_id))
            texts.append(norm)
        ids, texts = self._unseen(ids, texts)
        if not texts:
            return
        keys = _hashes(texts)
        slot = self._lookup(keys)
        # Texts seen for the first time, in order of first appearance.
        unseen = np.flatnonzero(slot == -1)
        new_keys, first = np.unique(keys[unseen], return_index=True)
        order = np.argsort(first, kind="stable")
        new_keys = new_keys[order]
        first = unseen[first[order]]
        shingles, offsets = shingle_sets([texts[i] for i in first], SHINGLE)
        counts = np.diff(offsets)
        enough = counts >= self.min_shingles
        n0 = self.distinct_texts
        new_slots = np.full(len(new_keys), -1, np.int64)
        new_slots[enough] = n0 + np.arange(int(enough.sum()))
        # Every key is remembered, too-short ones with slot -2, so they stay ignored.
        self._remember(new_keys, np.where(enough, new_slots, -2))
        slot = self._lookup(keys)
        keep = slot >= 0
        self.reviews_ignored += int((~keep).sum())
        review0 = len(self._review_slot)
        self._review_slot.append(slot[keep])
        self._append_ids([i for i, k in zip(ids, keep) if k])
        position = np.cumsum(keep) - 1 + review0
        self._first_review.append(position[first[enough]])
        if not enough.any():
            return
        rows = np.repeat(enough, counts)
        shingles = shingles[rows]
        offsets = np.concatenate([[0], np.cumsum(counts[enough])])
        self._shingles.append(shingles)
        self._offsets = np.concatenate([self._offsets[:-1], offsets + self._offsets[-1]])
        np.add.at(self._df, shingles & np.uint32((1 << DF_BITS) - 1), 1)
        signatures = minhash_signatures(shingles, offsets, NUM_PERM, self.seed)
        newer, older, self._table = candidate_pairs(
            self._table, band_keys(signatures, BANDS, self.seed), n0, HEADS
        )
        sim, _ = self._similarity(newer, older)
        kept = sim >= self.threshold - CANDIDATE_MARGIN
        pairs = (newer[kept].astype(np.uint64) << np.uint64(32)) | older[kept].astype(np.uint64)
        self._edges.append(pairs)

    def _append_ids(self, ids: list[str]) -> None:
        encoded = [i.encode() for i in ids]
        ends = np.cumsum(np.fromiter(map(len, encoded), np.int64, count=len(encoded)))
        self._id_ends.append(ends + self._id_bytes.size)
        self._id_bytes.append(np.frombuffer(b"".join(encoded), np.uint8))

    def _review_ids(self, reviews: np.ndarray) -> list[str]:
        """The ids of reviews ``reviews`` (sorted, distinct positions)."""
        if not len(reviews):
            return []
        ends = self._id_ends.take(reviews, reviews + 1)
        starts = np.zeros(len(reviews), np.int64)
        after_first = reviews > 0
        starts[after_first] = self._id_ends.take(reviews[after_first] - 1, reviews[after_first])
        blob = self._id_bytes.take(starts, ends).tobytes()
        cuts = np.concatenate([[0], np.cumsum(ends - starts)]).tolist()
        return [blob[a:b].decode() for a, b in zip(cuts[:-1], cuts[1:])]

    def _similarity(
        self,
        left: np.ndarray,
        right: np.ndarray,
        weight: Callable[[np.ndarray], np.ndarray] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """:func:`pair_similarity` of texts ``left[i]`` and ``right[i]``, their shingle
        sets read from the working file."""
        if not len(left):
            return np.zeros(0, np.float64), np.zeros(0, np.float64)
        slots = sorted_unique(np.concatenate([left, right]))
        values = self._shingles.take(self._offsets[slots], self._offsets[slots + 1])
        offsets = np.concatenate([[0], np.cumsum(self._offsets[slots + 1] - self._offsets[slots])])
        where = np.searchsorted(slots, np.concatenate([left, right]))
        return pair_similarity(values, offsets, where[: len(left)], where[len(left) :], weight)

    def _unseen(self, ids: list[str], texts: list[str]) -> tuple[list[str], list[str]]:
        """Drop reviews already in the index (a re-run over the same data) or repeated."""
        keys = _hashes(ids)
        _, first = np.unique(keys, return_index=True)
        fresh = np.zeros(len(keys), bool)
        fresh[first] = True
        if len(self._id_keys):
            at = np.minimum(np.searchsorted(self._id_keys, keys), len(self._id_keys) - 1)
            fresh &= self._id_keys[at] != keys
        self.reviews_repeated += int((~fresh).sum())
        new = np.sort(keys[fresh])
        self._id_keys = np.insert(self._id_keys, np.searchsorted(self._id_keys, new), new)
        if fresh.all():
            return ids, texts
        keep = fresh.tolist()
        return [i for i, k in zip(ids, keep) if k], [t for t, k in zip(texts, keep) if k]

    def _lookup(self, keys: np.ndarray) -> np.ndarray:
        """Slot of each text hash; -1 when unseen, -2 when seen but too short."""
        if not len(self._text_keys):
            return np.full(len(keys), -1, np.int64)
        pos = np.minimum(np.searchsorted(self._text_keys, keys), len(self._text_keys) - 1)
        return np.where(self._text_keys[pos] == keys, self._text_slots[pos].astype(np.int64), -1)

    def _remember(self, keys: np.ndarray, slots: np.ndarray) -> None:
        order = np.argsort(keys)
        keys, slots = keys[order], slots[order]
        at = np.searchsorted(self._text_keys, keys)
        self._text_keys = np.insert(self._text_keys, at, keys)
        self._text_slots = np.insert(self._text_slots, at, slots)

    # -- reading -----------------------------------------------------------------

    def _weight(self, shingles: np.ndarray) -> np.ndarray:
        df = self._df[shingles & np.uint32((1 << DF_BITS) - 1)].astype(np.float64)
        common = max(FREQUENT_FLOOR, FREQUENT_SHARE * self.distinct_texts)
        w = np.minimum(1.0, common / np.maximum(df, 1.0))
        at = np.minimum(np.searchsorted(self._stock, shingles), len(self._stock) - 1)
        return np.where(self._stock[at] == shingles, np.minimum(w, STOCK_WEIGHT), w)

    def _text_weights(self) -> np.ndarray:
        """Total shingle weight of each distinct text, a block of texts at a time."""
        n = self.distinct_texts
        out = np.zeros(n, np.float64)
        for start in range(0, n, TEXT_BLOCK):
            stop = min(start + TEXT_BLOCK, n)
            lo, hi = self._offsets[start], self._offsets[stop]
            w = self._weight(self._shingles.read(int(lo), int(hi)))
            out[start:stop] = np.add.reduceat(w, self._offsets[start:stop] - lo)
        return out

    def _current_labels(self) -> np.ndarray:
        """Per review: the root slot of its flagged cluster, or -1."""
        n = self.distinct_texts
        newer_joined, older_joined = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
        for start in range(0, len(self._edges), PAIR_BLOCK):
            edges = self._edges.read(start, start + PAIR_BLOCK)
            newer = (edges >> np.uint64(32)).astype(np.int64)
            older = (edges & np.uint64(0xFFFFFFFF)).astype(np.int64)
            sim, shared = self._similarity(newer, older, self._weight)
            joined = (sim >= self.threshold) & (shared >= self.min_weight)
            newer_joined.append(newer[joined])
            older_joined.append(older[joined])
        root = _union_find(n, np.concatenate(newer_joined), np.concatenate(older_joined))
        # A text too generic to join another is too generic to cluster with its own copies.
        root[self._text_weights() < self.min_weight] = -1
        review_slot = self._review_slot.read().astype(np.int64)
        size = np.bincount(root[review_slot] + 1, minlength=n + 1)[1:]
        flagged = (root >= 0) & (size[root] >= self.min_cluster_size)
        return np.where(flagged, root, -1)[review_slot]

    def _mapping(self, reviews: np.ndarray, labels: np.ndarray) -> dict[str, str]:
        if not len(reviews):
            return {}
        roots = labels[reviews]
        distinct = sorted_unique(roots)
        first = self._first_review.take(distinct, distinct + 1).astype(np.int64)
        order = np.argsort(first, kind="stable")
        first_ids = dict(zip(first[order].tolist(), self._review_ids(first[order])))
        names = {r: cluster_name(first_ids[f]) for r, f in zip(distinct.tolist(), first.tolist())}
        ids = self._review_ids(reviews)
        return {i: names[r] for i, r in zip(ids, roots.tolist())}

    # -- persistence -------------------------------------------------------------

    def save(self, path: str | Path) -> Path:
        """Write the index to one ``.npz`` file (the suffix is added if missing)."""
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_name(path.name + ".npz")
        meta = {
            "format": FORMAT,
            "version": VERSION,
            "threshold": self.threshold,
            "min_cluster_size": self.min_cluster_size,
            "min_shingles": self.min_shingles,
            "min_weight": self.min_weight,
            "seed": self.seed,
            "reviews_seen": self.reviews_seen,
            "reviews_ignored": self.reviews_ignored,
            "reviews_repeated": self.reviews_repeated,
        }
        arrays: dict[str, np.ndarray | SpilledArray] = {"meta": np.array(json.dumps(meta))}
        arrays.update({name: getattr(self, f"_{name}") for name in _IN_MEMORY})
        arrays.update({name: getattr(self, f"_{name}") for name in _SPILLED})
        tmp = path.with_name(path.name + ".tmp.npz")
        write_npz(tmp, arrays)
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: str | Path, *, workdir: str | Path | None = None) -> ReviewClusterIndex:
        """Read an index written by :meth:`save`; ``workdir`` as for the constructor."""
        path = Path(path)
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            if meta.get("format") != FORMAT or meta.get("version") != VERSION:
                raise ValueError(f"{path}: not a review cluster index of version {VERSION}")
            index = cls(
                threshold=meta["threshold"],
                min_cluster_size=meta["min_cluster_size"],
                min_shingles=meta["min_shingles"],
                min_weight=meta["min_weight"],
                seed=meta["seed"],
                workdir=workdir,
            )
            index.reviews_seen = meta["reviews_seen"]
            index.reviews_ignored = meta["reviews_ignored"]
            index.reviews_repeated = meta["reviews_repeated"]
            for name in _IN_MEMORY:
                setattr(index, f"_{name}", data[name].copy())
        for name in _SPILLED:
            read_npz_member(path, name, getattr(index, f"_{name}"))
        return index


def find_review_clusters(
    reviews: Iterable[tuple[str, str]],
    *,
    threshold: float = 0.7,
    min_cluster_size: int = 3,
    batch_size: int = 50_000,
) -> dict[str, str]:
    """Review id → cluster id for reviews in clusters of near-identical texts.

    ``reviews`` is any iterable of (review id, text), read ``batch_size`` at a time;
    only hashes stay in memory between batches. The cluster id is derived from the
    id of the cluster's earliest review, so it is the same on every run over the same
    input and stays put as later runs add reviews (see :class:`ReviewClusterIndex`).

    >>> text = "第二次回购了，宝贝收到了，孩子特别喜欢，颜色鲜艳做工精细，以后还会光顾的"
    >>> clusters = find_review_clusters([("a", text), ("b", text + "！！"), ("c", text + "😍"), ("d", "好评")])
    >>> sorted(clusters)
    ['a', 'b', 'c']
    """
    index = ReviewClusterIndex(threshold=threshold, min_cluster_size=min_cluster_size)
    index.extend(reviews, batch_size)
    return index.clusters()


def cluster_name(first_review_id: str) -> str:
    """The cluster id for a cluster whose earliest review is ``first_review_id``."""
    return "dup-" + hashlib.blake2b(first_review_id.encode(), digest_size=8).hexdigest()


def _hashes(texts: list[str]) -> np.ndarray:
    return np.fromiter(
        (int.from_bytes(hashlib.blake2b(t.encode(), digest_size=8).digest()) for t in texts),
        np.uint64,
        count=len(texts),
    )


def _batched(it: Iterator[tuple[str, str]], size: int) -> Iterator[list[tuple[str, str]]]:
    while batch := list(islice(it, size)):
        yield batch


def _union_find(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Root of each of ``n`` nodes joined by edges ``a[i] — b[i]``: the smallest node.

    Array union-find: hook each edge's larger root under the smaller, then compress
    paths by pointer jumping, until every edge has one root at both ends.
    """
    parent = np.arange(n, dtype=np.int64)
    while len(a):
        ra, rb = parent[a], parent[b]
        split = ra != rb
        if not split.any():
            break
        ra, rb = ra[split], rb[split]
        low, high = np.minimum(ra, rb), np.maximum(ra, rb)
        np.minimum.at(parent, high, low)
        while True:
            jumped = parent[parent]
            if np.array_equal(jumped, parent):
                break
            parent = jumped
        a, b = a[split], b[split]
    return parent
