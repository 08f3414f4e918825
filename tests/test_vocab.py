"""Tests for tinygrad_rnn.data.vocab.Vocab."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tinygrad_rnn.data.trees import load_trees, parse_tree
from tinygrad_rnn.data.vocab import Vocab
from tinygrad_rnn.errors import ArgumentError, DTypeError, ShapeError

SST_TRAIN = Path(__file__).resolve().parents[2] / "shared" / "data" / "sst" / "train.txt"
SENTS = [["the", "cat", "sat"], ["the", "dog", "sat"], ["a", "cat"]]


def test_order_is_count_desc_then_token_asc():
    v = Vocab(SENTS)
    assert v.itos == ["<unk>", "cat", "sat", "the", "a", "dog"]
    assert v.stoi == {t: i for i, t in enumerate(v.itos)}
    assert len(v) == 6 and v.unk_id == 0 and v.pad_id is None
    assert v.counts["the"] == 2 and v.counts["dog"] == 1


def test_deterministic_whatever_the_input_order():
    flat = [t for s in SENTS for t in s]
    assert Vocab(flat).itos == Vocab(list(reversed(flat))).itos == Vocab(SENTS).itos
    assert Vocab(iter(SENTS)).itos == Vocab(SENTS).itos  # generators work too


def test_flat_tokens_and_sentences_can_mix():
    assert Vocab(["x", ["x", "y"]]).itos == ["<unk>", "x", "y"]


def test_specials_pad_and_extra():
    v = Vocab(SENTS, pad="<pad>", specials=["<s>", "</s>"])
    assert v.itos[:4] == ["<unk>", "<pad>", "<s>", "</s>"]
    assert (v.unk_id, v.pad_id) == (0, 1)
    v = Vocab(["<pad>", "<pad>", "a"], pad="<pad>")  # a special seen in data keeps its slot
    assert v.itos == ["<unk>", "<pad>", "a"]


def test_min_count_and_max_size():
    assert Vocab(SENTS, min_count=2).itos == ["<unk>", "cat", "sat", "the"]
    v = Vocab(SENTS, max_size=3, pad="<pad>")
    assert v.itos == ["<unk>", "<pad>", "cat"] and len(v) == 3
    assert Vocab(SENTS, max_size=1).itos == ["<unk>"]


def test_lower():
    v = Vocab([["The", "the", "THE", "Cat"]], lower=True)
    assert v.itos == ["<unk>", "the", "cat"]
    assert v.encode(["CAT", "tHe"]).tolist() == [2, 1]
    assert "Cat" in v and "cat" in v
    assert "Cat" not in Vocab([["cat"]])


def test_encode_returns_int64_and_maps_unknown_to_unk():
    v = Vocab(SENTS)
    ids = v.encode(["the", "zebra", "cat"])
    assert ids.dtype == np.int64 and ids.shape == (3,)
    assert ids.tolist() == [3, 0, 1]
    empty = v.encode([])
    assert empty.dtype == np.int64 and empty.shape == (0,)
    assert v.encode(iter(["dog"])).tolist() == [5]


def test_decode_round_trip():
    v = Vocab(SENTS)
    for sent in SENTS:
        assert v.decode(v.encode(sent)) == sent
    assert v.decode([0, 5]) == ["<unk>", "dog"]
    assert v.decode(np.array([1, 2], dtype=np.int32)) == ["cat", "sat"]
    assert v.decode([]) == []


def test_closed_vocabulary_for_tags():
    tags = Vocab([["NOUN", "VERB", "NOUN"]], unk=None)
    assert tags.itos == ["NOUN", "VERB"] and tags.unk_id is None
    assert tags.encode(["VERB"]).tolist() == [1]
    with pytest.raises(ArgumentError, match=r"tokens\[1\] = 'ADJ'"):
        tags.encode(["NOUN", "ADJ"])


def test_character_vocabulary_via_list():
    v = Vocab(list("hello"), unk=None)
    assert v.itos == ["l", "e", "h", "o"]
    assert v.decode(v.encode(list("hole"))) == list("hole")


def test_bad_constructor_arguments():
    with pytest.raises(DTypeError, match="list"):
        Vocab("just a string")
    with pytest.raises(DTypeError, match=r"tokens\[1\]"):
        Vocab(["a", 3])
    with pytest.raises(DTypeError, match=r"tokens\[0\]\[1\]"):
        Vocab([["a", None]])
    with pytest.raises(ArgumentError, match="min_count"):
        Vocab(SENTS, min_count=0)
    with pytest.raises(DTypeError, match="min_count"):
        Vocab(SENTS, min_count=1.5)
    with pytest.raises(DTypeError, match="max_size"):
        Vocab(SENTS, max_size="10")
    with pytest.raises(ArgumentError, match="max_size"):
        Vocab(SENTS, pad="<pad>", max_size=1)
    with pytest.raises(ArgumentError, match="distinct"):
        Vocab(SENTS, pad="<unk>")
    with pytest.raises(DTypeError, match="special"):
        Vocab(SENTS, specials=[1])


def test_bad_encode_and_decode_arguments():
    v = Vocab(SENTS)
    with pytest.raises(DTypeError, match="list"):
        v.encode("the")
    with pytest.raises(DTypeError, match=r"tokens\[1\]"):
        v.encode(["the", 1])
    with pytest.raises(ArgumentError, match=r"ids\[1\] = 6"):
        v.decode([1, 6])
    with pytest.raises(ArgumentError, match="out of range"):
        v.decode([-1])
    with pytest.raises(ShapeError):
        v.decode(np.zeros((2, 2), dtype=np.int64))
    with pytest.raises(DTypeError):
        v.decode([1.0, 2.0])


def test_from_trees_uses_leaf_words():
    trees = [parse_tree("(3 (2 It) (4 (2 's) (3 good)))"), parse_tree("(1 (2 It) (1 -LRB-))")]
    v = Vocab.from_trees(trees, pad="<pad>")
    assert v.itos == ["<unk>", "<pad>", "It", "'s", "(", "good"]
    assert "Vocab(size=6" in repr(v)


def test_sst_train_vocabulary():
    if not SST_TRAIN.is_file():
        pytest.skip(f"SST not found at {SST_TRAIN}")
    trees = load_trees(SST_TRAIN)
    v = Vocab.from_trees(trees)
    assert v.itos[:4] == ["<unk>", ".", ",", "the"]
    assert len(v) == 1 + len({w for t in trees for w in t.leaves()})
    assert len(Vocab.from_trees(trees, lower=True)) < len(v)
    assert len(Vocab.from_trees(trees, min_count=2)) < len(v)
    ids = v.encode(trees[0].leaves())
    assert (ids > 0).all() and v.decode(ids) == trees[0].leaves()
