"""Computed results (core.memo.RESULTS) kept apart from the model cache: a lock per key, a bound, and
progress reported to the caller who computes, never kept with the result.

Every wait here is bounded (WAIT), so a regression fails these tests instead of hanging them.
"""
import threading

import numpy as np
import pytest

from core.memo import RESULTS, ResultMemo
from core.models import MODELS
from demos import atari, image_generation

WAIT = 120  # seconds: the longest any thread here is waited for
REPLAY_STEPS = 40  # decisions: a short recorded replay, under its own key


@pytest.fixture
def short_replays(monkeypatch):
    """The recorded replay cut to REPLAY_STEPS, played afresh (no earlier test's replay under its key)."""
    monkeypatch.setattr(atari.replay, "REPLAY_STEPS", REPLAY_STEPS)
    RESULTS.clear()
    yield
    RESULTS.clear()


def in_thread(call, *args) -> tuple[threading.Thread, list]:
    """``call(*args)`` started in a thread; its result lands in the list once it returns."""
    returned = []
    thread = threading.Thread(target=lambda: returned.append(call(*args)), daemon=True)
    thread.start()
    return thread, returned


def test_a_long_replay_does_not_delay_another_demos_model_load(short_replays):
    """The replay is held mid-episode (its progress callback blocks) while another demo's model loads."""
    mid_episode, release = threading.Event(), threading.Event()

    def held(progress) -> None:
        if progress.done == REPLAY_STEPS // 2:
            mid_episode.set()
            release.wait(WAIT)

    replay, played = in_thread(atari.recorded_replay, "pong", "policy", held)
    try:
        assert mid_episode.wait(WAIT), "the replay never got half way"
        MODELS.evict("image_generation")  # so that load() really loads, through the model cache's lock
        loading, loaded = in_thread(image_generation.load)
        loading.join(WAIT)
        assert loaded and MODELS.is_loaded("image_generation"), "the model load waited for the replay"
        assert replay.is_alive() and not played  # the replay was still held all along
    finally:
        release.set()
        replay.join(WAIT)
    assert played and played[0].decisions == REPLAY_STEPS
    key = f"atari_replay:pong:policy:{REPLAY_STEPS}"
    assert key in RESULTS and not MODELS.is_loaded(key)  # a result, not a model


def test_two_visitors_of_the_recorded_replay_play_it_once_and_only_the_player_hears_its_progress(short_replays):
    first_reports, second_reports = [], []
    mid_episode, release = threading.Event(), threading.Event()

    def first_progress(progress) -> None:
        first_reports.append(progress)
        if progress.done == REPLAY_STEPS // 2:
            mid_episode.set()
            release.wait(WAIT)

    first, first_episode = in_thread(atari.recorded_replay, "pong", "random", first_progress)
    assert mid_episode.wait(WAIT)
    second, second_episode = in_thread(atari.recorded_replay, "pong", "random", second_reports.append)
    second.join(0.5)
    assert second.is_alive()  # waits for the first visitor's replay instead of playing its own
    release.set()
    first.join(WAIT)
    second.join(WAIT)
    assert first_episode and second_episode and first_episode[0] is second_episode[0]
    assert RESULTS.compute_counts[f"atari_replay:pong:random:{REPLAY_STEPS}"] == 1
    assert [report.done for report in first_reports] == list(range(1, REPLAY_STEPS + 1)) and second_reports == []


def test_two_callers_for_one_key_compute_once_while_other_keys_go_on():
    memo = ResultMemo(max_entries=4, max_bytes=2**20)
    computing, finish = threading.Event(), threading.Event()

    def slow(progress) -> list[str]:
        computing.set()
        finish.wait(WAIT)
        return ["slow result"]

    first, first_result = in_thread(memo.get, "slow", slow)
    assert computing.wait(WAIT)
    second, second_result = in_thread(memo.get, "slow", slow)
    assert memo.get("quick", lambda progress: "quick result") == "quick result"  # not behind the slow key
    second.join(0.5)
    assert second.is_alive()
    finish.set()
    first.join(WAIT)
    second.join(WAIT)
    assert first_result[0] is second_result[0] and memo.compute_counts == {"slow": 1, "quick": 1}


def test_the_bound_drops_the_least_recently_used_results():
    memo = ResultMemo(max_entries=2, max_bytes=2**20)
    for key in ("a", "b", "a", "c"):  # "a" used again after "b": "b" is the least recently used
        memo.get(key, lambda progress, key=key: key.upper())
    assert "a" in memo and "c" in memo and "b" not in memo
    assert memo.get("b", lambda progress: "B again") == "B again" and memo.compute_counts["b"] == 2


def test_the_bound_in_bytes_drops_old_results_and_keeps_none_too_big_to_hold():
    memo = ResultMemo(max_entries=10, max_bytes=3000)
    for key in ("a", "b", "c"):
        memo.get(key, lambda progress: np.zeros(1000, np.uint8))
    assert all(key in memo for key in "abc")
    memo.get("d", lambda progress: np.zeros(1000, np.uint8))
    assert "a" not in memo and all(key in memo for key in "bcd")
    huge = memo.get("huge", lambda progress: np.zeros(4000, np.uint8))
    assert huge.size == 4000 and "huge" not in memo and all(key in memo for key in "bcd")


def test_a_second_callers_progress_callback_is_not_the_first_callers():
    """Progress is passed to each computation by its caller: a result computed again reports to the new one."""
    memo = ResultMemo(max_entries=1, max_bytes=2**20)
    first, second = [], []

    def counted(progress) -> str:
        progress(len(first) + len(second))
        return "result"

    memo.get("key", counted, first.append)
    memo.get("key", counted, second.append)  # kept: nobody computes, nobody hears
    memo.get("other", lambda progress: "other")  # the bound drops "key"
    memo.get("key", counted, second.append)
    assert first == [0] and second == [1] and memo.compute_counts["key"] == 2
