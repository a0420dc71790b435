"""Sharding deals every selected binding to exactly one shard, in near-equal parts, the
same way whatever order the names come in."""

from __future__ import annotations

from random import Random

from hypothesis import given
from hypothesis import strategies as st

from harness.sharding import ShardSpec, parse_shard, shard_names

names = st.lists(st.text(min_size=1, max_size=12), max_size=60)


@given(names, st.integers(min_value=1, max_value=12), st.randoms())
def test_shards_partition_the_names_evenly(chosen: list[str], count: int, random: Random) -> None:
    shards = [shard_names(chosen, ShardSpec(index, count)) for index in range(1, count + 1)]
    assert set().union(*shards) == set(chosen)
    assert sum(len(shard) for shard in shards) == len(set(chosen))  # disjoint
    sizes = [len(shard) for shard in shards]
    assert max(sizes) - min(sizes) <= 1
    shuffled = list(chosen)
    random.shuffle(shuffled)
    assert [shard_names(shuffled, ShardSpec(i, count)) for i in range(1, count + 1)] == shards


@given(st.integers(min_value=1, max_value=999), st.integers(min_value=0, max_value=999))
def test_a_shard_spec_reads_back(count: int, offset: int) -> None:
    index = offset % count + 1
    spec = parse_shard(str(ShardSpec(index, count)))
    assert spec == ShardSpec(index, count)
