"""The one bounded wait: it returns what the check found, reports progress, and fails naming what it awaited."""

import itertools

import pytest

from ecommerce_pipeline.waiting import wait_until


def test_returns_the_first_truthy_answer():
    answers = iter([None, [], "", ["found"]])
    assert wait_until(lambda: next(answers), "the list", timeout=10, every=0) == ["found"]


def test_a_timeout_names_what_was_awaited_and_what_is_pending_in_the_callers_error():
    class Refused(RuntimeError):
        pass

    with pytest.raises(Refused, match=r"^still waiting for every node after \d+s: node-2 disconnected$"):
        wait_until(lambda: False, "every node", timeout=0.05, every=0.01, report=None,
                   pending=lambda: "node-2 disconnected", error=Refused)


def test_progress_is_reported_every_so_often_with_the_elapsed_time():
    reports = []
    calls = itertools.count()
    wait_until(lambda: next(calls) >= 30, "the flow", timeout=10, every=0.01, progress_every=0.05,
               report=reports.append, pending=lambda: "3 queued")
    assert reports and all(r.startswith("waiting for the flow [") and r.endswith("]: 3 queued") for r in reports)


def test_a_check_that_raises_stops_the_wait_at_once():
    def died():
        raise OSError("the service exited")

    with pytest.raises(OSError, match="exited"):
        wait_until(died, "the service", timeout=60)
