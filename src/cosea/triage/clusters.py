"""Near-duplicate clusters by PDQ distance, so a reviewer decides once per cluster.

Pairs within the distance threshold come from a FAISS binary range search (exact:
every pair within the radius is found), and union-find joins them into clusters.
Known files and low-quality hashes (flat or tiny images, whose PDQ says little) are
left out: they would join unrelated pictures.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

DEFAULT_THRESHOLD = 31
_QUERY_BLOCK = 4096


class UnionFind:
    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, item: int) -> int:
        root = item
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[item] != root:  # path compression
            self.parent[item], item = root, self.parent[item]
        return root

    def union(self, a: int, b: int) -> None:
        root_a, root_b = self.find(a), self.find(b)
        if root_a != root_b:
            # The smaller index stays root, so the cluster's first file represents it.
            if root_b < root_a:
                root_a, root_b = root_b, root_a
            self.parent[root_b] = root_a


def pdq_matrix(hashes: Sequence[str]) -> np.ndarray:
    return np.frombuffer(b"".join(bytes.fromhex(h) for h in hashes), dtype=np.uint8).reshape(
        len(hashes), 32
    )


def near_duplicate_groups(
    hashes: Sequence[str], threshold: int = DEFAULT_THRESHOLD
) -> list[tuple[list[int], int]]:
    """Groups (indices into ``hashes``, largest distance to the group's first) of size ≥ 2."""
    if len(hashes) < 2:
        return []
    import faiss

    vectors = pdq_matrix(hashes)
    index = faiss.IndexBinaryFlat(256)
    index.add(vectors)
    union = UnionFind(len(hashes))
    # range_search returns pairs with distance strictly below the radius.
    for start in range(0, len(hashes), _QUERY_BLOCK):
        block = vectors[start : start + _QUERY_BLOCK]
        limits, _distances, labels = index.range_search(block, threshold + 1)
        for row in range(len(block)):
            query = start + row
            for position in range(limits[row], limits[row + 1]):
                other = int(labels[position])
                if other != query:
                    union.union(query, other)
    members: dict[int, list[int]] = {}
    for position in range(len(hashes)):
        members.setdefault(union.find(position), []).append(position)
    groups = []
    for indices in members.values():
        if len(indices) < 2:
            continue
        first = vectors[indices[0]]
        spread = max(
            int(np.unpackbits(np.bitwise_xor(first, vectors[i])).sum()) for i in indices[1:]
        )
        groups.append((sorted(indices), spread))
    groups.sort(key=lambda group: (-len(group[0]), group[0][0]))
    return groups
