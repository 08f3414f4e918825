"""tinygrad_rnn.progress: a bar only when a person watches a terminal; quiet in tests and CI."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import progress as P


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def _terminal(monkeypatch):
    """stderr is a terminal, and neither pytest nor CI is visible in the environment (called in
    the test itself: pytest sets PYTEST_CURRENT_TEST again after the fixtures ran)."""
    err = _Terminal()
    monkeypatch.setattr(sys, "stderr", err)
    monkeypatch.delenv("PYTEST_CURRENT_TEST", raising=False)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv(P.ENV, raising=False)
    return err


def test_quiet_under_pytest_the_iterable_itself():
    items = [1, 2, 3]
    assert P.progress(items, desc="x", total=3) is items
    bar = P.progress(total=10)  # manual bar: calls are accepted and do nothing
    with bar:
        bar.update(3)
        bar.set_postfix_str("loss 1.0")
    assert not P.enabled()


def test_bar_on_a_terminal_and_forced_on_or_off(monkeypatch):
    terminal = _terminal(monkeypatch)
    assert P.enabled()
    assert list(P.progress(range(5), desc="epoch 1", total=5)) == list(range(5))
    assert "epoch 1" in terminal.getvalue() and "/5 " in terminal.getvalue()  # then cleared
    monkeypatch.setenv("CI", "true")
    assert not P.enabled()
    monkeypatch.setenv(P.ENV, "1")  # forced on beats CI
    assert P.enabled()
    monkeypatch.setenv(P.ENV, "0")
    items = [1]
    assert P.progress(items) is items
    monkeypatch.delenv(P.ENV)
    monkeypatch.delenv("CI")
    monkeypatch.setattr(sys, "stderr", io.StringIO())  # not a terminal: quiet
    assert not P.enabled()


def test_echo_prints_to_stdout_while_a_bar_is_live(monkeypatch, capsys):
    _terminal(monkeypatch)
    bar = P.progress(total=3, desc="training")
    bar.update(1)
    P.echo("epoch 1  loss 0.5")
    bar.close()
    P.echo("done")
    assert capsys.readouterr().out.splitlines() == ["epoch 1  loss 0.5", "done"]


def test_bad_arguments_and_import_stays_light():
    for kwargs in ({"iterable": 5}, {"desc": 3}, {"total": -1}, {"total": "10"},
                   {"total": float("inf")}):
        with pytest.raises(tr.TinyGradRNNError):
            P.progress(**kwargs)
    code = "import tinygrad_rnn, sys; print('tqdm' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
