"""Tests for tinygrad_rnn.data.conllu: read_conllu / iter_conllu and their error reports."""

from __future__ import annotations

from pathlib import Path

import pytest

from tinygrad_rnn.data.conllu import COLUMNS, Sentence, iter_conllu, read_conllu
from tinygrad_rnn.errors import ArgumentError, DTypeError, ParseError

EWT = Path(__file__).resolve().parents[2] / "shared" / "data" / "ud_english_ewt"


def row(i: str, form: str, upos: str = "NOUN", xpos: str = "NN", lemma: str | None = None) -> str:
    return "\t".join([i, form, lemma or form.lower(), upos, xpos, "_", "0", "root", "_", "_"])


SAMPLE = "\n".join([
    "# newdoc id = d1",
    "# sent_id = s1",
    "# text = I didn't go.",
    row("1", "I", "PRON", "PRP"),
    "2-3\tdidn't\t_\t_\t_\t_\t_\t_\t_\t_",
    row("2", "did", "AUX", "VBD", "do"),
    row("3", "n't", "PART", "RB", "not"),
    row("4", "go", "VERB", "VB"),
    "4.1\tgo\tgo\tVERB\tVB\t_\t_\t_\t2:conj\tCopyOf=4",
    row("5", ".", "PUNCT", "."),
    "",
    "",
    "# sent_id = s2",
    row("1", "Hi", "INTJ", "UH"),
    "",
    row("1", "Bye", "INTJ", "UH"),  # last sentence: no sent_id, no closing blank line
])


def write(tmp_path: Path, data: str | bytes, name: str = "x.conllu") -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def caret_index(err: ParseError) -> int:
    return str(err).split("\n")[-1].index("^")


# ---------------------------------------------------------------- reading


def test_reads_words_and_upos_skipping_comments_ranges_and_empty_nodes(tmp_path):
    sents = read_conllu(write(tmp_path, SAMPLE))
    assert len(sents) == 3
    words, tags = sents[0]
    assert words == ["I", "did", "n't", "go", "."]
    assert tags == ["PRON", "AUX", "PART", "VERB", "PUNCT"]
    assert sents[0].sent_id == "s1" and sents[0].line == 4
    assert (sents[1].words, sents[1].tags, sents[1].sent_id) == (["Hi"], ["INTJ"], "s2")
    assert (sents[2].words, sents[2].sent_id, sents[2].line) == (["Bye"], None, 16)


@pytest.mark.parametrize("column, expected", [
    ("xpos", ["PRP", "VBD", "RB", "VB", "."]),
    ("lemma", ["i", "do", "not", "go", "."]),
    ("UPOS", ["PRON", "AUX", "PART", "VERB", "PUNCT"]),
    ("form", ["I", "did", "n't", "go", "."]),
])
def test_column_selects_the_tag_field(tmp_path, column, expected):
    assert read_conllu(write(tmp_path, SAMPLE), column=column)[0].tags == expected


def test_iter_conllu_is_lazy_and_matches_read(tmp_path):
    path = write(tmp_path, SAMPLE)
    it = iter_conllu(path, column="xpos")
    assert next(it).words == ["I", "did", "n't", "go", "."]
    assert [s.words for s in it] == [["Hi"], ["Bye"]]
    assert list(iter_conllu(path)) == read_conllu(path)


def test_crlf_bom_and_whitespace_only_separator_lines(tmp_path):
    text = "\ufeff" + row("1", "a") + "\r\n \r\n" + row("1", "b") + "\r\n" + row("2", "c") + "\r\n"
    sents = read_conllu(write(tmp_path, text))
    assert [s.words for s in sents] == [["a"], ["b", "c"]]


def test_empty_and_comment_only_files_give_no_sentences(tmp_path):
    assert read_conllu(write(tmp_path, "")) == []
    assert read_conllu(write(tmp_path, "# just a comment\n\n\n", "c.conllu")) == []


def test_sentence_is_a_pair():
    s = Sentence(["a"], ["X"])
    words, tags = s
    assert (words, tags) == (["a"], ["X"]) and len(COLUMNS) == 10


# ---------------------------------------------------------------- errors


def test_too_few_fields_points_past_the_end(tmp_path):
    bad = "1\tcut\tcut\tNOUN"
    path = write(tmp_path, row("1", "ok") + "\n\n" + bad + "\n")
    with pytest.raises(ParseError) as info:
        read_conllu(path)
    err = info.value
    assert str(err).startswith("read_conllu: expected 10 tab-separated fields at ")
    assert f"{path}, line 3, column {len(bad) + 1}; got 4" in str(err)
    assert (err.line, err.column) == (3, len(bad) + 1)
    assert caret_index(err) == len(bad) + 2


def test_too_many_fields_points_at_the_first_extra_one(tmp_path):
    bad = row("1", "a") + "\textra"
    with pytest.raises(ParseError, match="got 11") as info:
        read_conllu(write(tmp_path, bad))
    assert info.value.column == bad.index("extra") + 1


def test_spaces_instead_of_tabs_get_a_hint(tmp_path):
    with pytest.raises(ParseError, match="separated by tabs, not spaces"):
        read_conllu(write(tmp_path, row("1", "a").replace("\t", " ")))


@pytest.mark.parametrize("bad_id, expected", [
    ("x", "an integer token id"), ("1.x", "an integer token id"), ("-1", "an integer token id"),
    ("2", "token id 1"), ("٣", "an integer token id"),
])
def test_bad_token_ids(tmp_path, bad_id, expected):
    with pytest.raises(ParseError, match=expected) as info:
        read_conllu(write(tmp_path, row(bad_id, "a")))
    assert (info.value.line, info.value.column) == (1, 1)


def test_out_of_order_id_inside_a_sentence(tmp_path):
    text = "\n".join([row("1", "a"), row("2", "b"), row("4", "d")])
    with pytest.raises(ParseError, match=r"line 3, column 1; got '4'"):
        read_conllu(write(tmp_path, text))


def test_empty_word_form(tmp_path):
    with pytest.raises(ParseError, match="a word form") as info:
        read_conllu(write(tmp_path, "1\t\t_\tX\t_\t_\t0\troot\t_\t_"))
    assert info.value.column == 3


def test_truncated_file_reports_its_last_line(tmp_path):
    text = SAMPLE.encode("utf-8")
    cut = text[: text.index(b"PUNCT") + 3]  # the file stops in the middle of line 10
    with pytest.raises(ParseError, match="line 10") as info:
        read_conllu(write(tmp_path, cut))
    assert info.value.line == 10


def test_latin1_file_is_a_parse_error(tmp_path):
    data = (row("1", "a") + "\n" + row("2", "café") + "\n").encode("latin-1")
    with pytest.raises(ParseError, match=r"line 2, column 6; got byte 0xe9") as info:
        read_conllu(write(tmp_path, data))
    assert info.value.line == 2


def test_binary_file_is_a_parse_error(tmp_path):
    path = write(tmp_path, bytes(range(256)) * 8)
    with pytest.raises(ParseError, match=str(path)):
        read_conllu(path)
    with pytest.raises(ParseError, match="NUL byte"):
        read_conllu(write(tmp_path, b"1\x00\x00", "nul.conllu"))


def test_bad_arguments(tmp_path):
    path = write(tmp_path, SAMPLE)
    with pytest.raises(ArgumentError, match="column"):
        read_conllu(path, column="pos")
    with pytest.raises(ArgumentError, match="column"):
        iter_conllu(path, column="id")
    with pytest.raises(DTypeError, match="column"):
        read_conllu(path, column=3)
    with pytest.raises(DTypeError, match="path"):
        read_conllu(None)
    with pytest.raises(FileNotFoundError):
        read_conllu(tmp_path / "missing.conllu")


# ---------------------------------------------------------------- the real corpus


@pytest.fixture(scope="module")
def ewt_dev() -> Path:
    path = EWT / "en_ewt-ud-dev.conllu"
    if not path.is_file():
        pytest.skip(f"UD English EWT not found at {path}")
    return path


def test_ewt_dev_counts(ewt_dev):
    sents = read_conllu(ewt_dev)
    assert len(sents) == 2001
    assert sum(len(s.words) for s in sents) == 25_147  # the figure in the data README
    assert all(len(s.words) == len(s.tags) > 0 for s in sents)
    assert all(s.sent_id for s in sents)
    assert sents[0].words == ["From", "the", "AP", "comes", "this", "story", ":"]
    assert sents[0].tags == ["ADP", "DET", "PROPN", "VERB", "DET", "NOUN", "PUNCT"]
    tagset = {t for s in sents for t in s.tags}
    assert tagset <= {"ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART",
                      "PRON", "PROPN", "PUNCT", "SCONJ", "SYM", "VERB", "X"}
    assert len(tagset) == 17


def test_ewt_dev_xpos_are_ptb_tags(ewt_dev):
    sents = read_conllu(ewt_dev, column="xpos")
    assert sents[0].tags == ["IN", "DT", "NNP", "VBZ", "DT", "NN", ":"]
    # multiword tokens ("didn't") never appear as words: their parts do
    assert not any("'" in w and w.endswith("n't") and w != "n't" for s in sents for w in s.words)
