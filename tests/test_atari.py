"""Atari agents as a visitor uses them: watch the shipped PPO policy play, inspect a moment, compare with random.

Episodes here are cut short (a whole game of Pong is thousands of decisions); learning
itself is measured by benchmarks/bench_atari.py, not tested.
"""
from pathlib import Path

import numpy as np
import pytest

from core.validation import InputError
from core.video import opened_video, read_frames
from demos import atari

SHORT = 300  # decisions: 20 s of play, about 5 s of computing here


def decoded(video: bytes) -> list[np.ndarray]:
    with opened_video(video) as info:
        return list(read_frames(info, (info.width, info.height)))


@pytest.fixture(scope="module")
def short_episode() -> atari.Episode:
    reports = []
    episode = atari.play("pong", seed=3, max_steps=SHORT, progress=reports.append)
    episode.reports = reports
    return episode


@pytest.mark.parametrize("game", list(atari.GAMES))
def test_the_environment_gives_the_documented_stack_of_frames(game):
    env = atari.make_env(game)
    try:
        stack, _ = env.reset(seed=0)
        stack = np.asarray(stack)
        assert stack.shape == atari.OBSERVATION_SHAPE == (4, 84, 84) and stack.dtype == np.uint8
        assert not stack[:3].any() and stack[3].any()  # black padding before the first frame, as in training
        stepped, *_ = env.step(0)
        stepped = np.asarray(stepped)
        assert stepped.shape == (4, 84, 84) and np.array_equal(stepped[2], stack[3])  # the stack slides by one
        assert env.render().shape == (210, 160, 3)
        assert env.unwrapped.get_action_meanings()[:2] == ["NOOP", "FIRE"]
    finally:
        env.close()


@pytest.mark.parametrize("game", list(atari.GAMES))
def test_the_demo_sees_exactly_the_frames_the_agent_trained_on(game, monkeypatch):
    """Training used ale-py's native vector environment; the demo rebuilds it with gymnasium's wrappers."""
    from ale_py.vector_env import AtariVectorEnv

    monkeypatch.setattr(atari, "NOOP_MAX", 0)  # the no-op counts are drawn differently: compare without them
    native = AtariVectorEnv(game, num_envs=1, num_threads=1, repeat_action_probability=0.0, reward_clipping=False,
                            noop_max=0)  # otherwise as scripts/train_atari.py makes it
    env = atari.make_env(game)
    try:
        ours, theirs = np.asarray(env.reset(seed=0)[0]), native.reset(seed=0)[0][0]
        np.testing.assert_array_equal(ours, theirs)
        for action in np.random.default_rng(0).integers(env.action_space.n, size=200):
            ours, _, over, *_ = env.step(action)
            theirs = native.step(np.array([action]))[0][0]
            np.testing.assert_array_equal(np.asarray(ours), theirs)
            if over:
                break
    finally:
        env.close()
        native.close()


def test_a_short_episode_with_the_shipped_policy_writes_a_playable_video(short_episode):
    episode = short_episode
    assert episode.decisions == SHORT and episode.stop_reason == "steps" and "Stopped after 300" in episode.note
    frames = decoded(episode.video)
    assert len(frames) == SHORT
    assert frames[0].shape == (420, 560, 3) and frames[-1].std() > 10  # the game and the panel, not a blank clip
    assert episode.probabilities.shape == (SHORT, 6)
    np.testing.assert_allclose(episode.probabilities.sum(1), 1, atol=1e-5)
    assert np.isfinite(episode.values).all()
    assert episode.frames.shape == (SHORT + 1, 84, 84) and len(episode.screens) == SHORT + 1
    assert [report.decisions for report in episode.reports] == list(range(1, SHORT + 1))
    assert episode.reports[-1].score == episode.score == episode.rewards.sum()


def test_a_fixed_seed_gives_the_same_game_and_another_seed_another(short_episode):
    again = atari.play("pong", seed=3, max_steps=80)
    np.testing.assert_array_equal(again.actions, short_episode.actions[:80])
    np.testing.assert_array_equal(again.frames, short_episode.frames[:81])
    np.testing.assert_allclose(again.values, short_episode.values[:80], rtol=1e-5)
    other = atari.play("pong", seed=4, max_steps=80)
    assert not np.array_equal(other.actions, again.actions)


def test_the_random_agent_starts_from_the_same_screen_and_has_no_critic(short_episode):
    random = atari.play("pong", seed=3, max_steps=40, agent="Random agent")
    np.testing.assert_array_equal(random.frames[0], short_episode.frames[0])  # same no-op start
    np.testing.assert_allclose(random.probabilities, 1 / 6)
    assert np.isnan(random.values).all() and random.agent == "random"


def test_the_network_sees_the_last_four_frames_black_before_the_start(short_episode):
    first = atari.input_stack(short_episode, 0)
    assert not first[:3].any() and np.array_equal(first[3], short_episode.frames[0])
    np.testing.assert_array_equal(atari.input_stack(short_episode, 10), short_episode.frames[7:11])
    captions = [caption for _, caption in atari.stacked_frames(short_episode, 1)]
    assert captions[-1] == "now" and "before the start" in captions[0]


@pytest.mark.parametrize("method", list(atari.SALIENCY_METHODS))
def test_saliency_maps_cover_the_frame(short_episode, method):
    found = atari.saliency(short_episode, 100, method)
    assert found.heat.ndim == 2 and 0 <= found.heat.min() and found.heat.max() == pytest.approx(1.0)
    if method == "gradient":
        assert len(found.frame_shares) == 4 and sum(found.frame_shares) == pytest.approx(1.0)
    assert atari.saliency_overlay(short_episode, 100, found).size == (480, 630)


def test_the_time_limit_keeps_the_replay_so_far():
    episode = atari.play("pong", seed=0, max_steps=500, agent="random", time_limit=0.0)
    assert episode.decisions == 1 and episode.stop_reason == "time" and "time limit" in episode.note
    assert len(decoded(episode.video)) == 1


@pytest.mark.parametrize("call, message", [
    (lambda: atari.play("tetris"), "Unknown game 'tetris'"),
    (lambda: atari.play("pong", seed=-1), "seed must be a whole number"),
    (lambda: atari.play("pong", seed=2.5), "seed must be a whole number"),
    (lambda: atari.play("pong", seed=10**12), "seed must be a whole number"),
    (lambda: atari.play("pong", seed="lucky"), "seed must be a whole number"),
    (lambda: atari.play("pong", max_steps=0), "episode length"),
    (lambda: atari.play("pong", max_steps=10**7), "episode length"),
    (lambda: atari.play("pong", agent="human"), "Unknown agent"),
])
def test_bad_requests_get_a_clear_message(call, message):
    with pytest.raises(InputError, match=message):
        call()


def test_a_missing_rom_gets_a_clear_message(monkeypatch, tmp_path):
    monkeypatch.setenv("ALE_ROMS_DIR", str(tmp_path))  # ale-py looks for its ROMs here: none
    with pytest.raises(InputError, match="Pong ROM is missing"):
        atari.make_env("pong")


def test_a_game_without_a_shipped_policy_says_so(monkeypatch, tmp_path):
    monkeypatch.setattr(atari, "MODEL_DIR", tmp_path)
    assert atari.shipped_games() == []
    with pytest.raises(InputError, match="No trained policy for Breakout is shipped yet"):
        atari.play("breakout")
    assert atari.play("breakout", max_steps=5, agent="random").decisions == 5  # the random agent needs no policy


def test_page_shows_both_replays_and_inspects_a_moment(gallery, monkeypatch):
    monkeypatch.setattr(atari, "REPLAY_STEPS", 60)
    app = gallery.switch_page("pages/atari.py").run()
    assert not app.exception
    assert len(app.get("video")) == 2
    assert [metric.label for metric in app.metric][:3] == ["Score", "Decisions", "Game time"]
    assert app.slider[0].max == 59
    app.radio[0].set_value("occlusion").run()
    assert not app.exception
    assert any("stacked frames" in markdown.value for markdown in app.markdown)


def test_page_plays_a_fresh_episode_with_a_seed(gallery):
    app = gallery.switch_page("pages/atari.py")
    app.session_state["atari_mode"] = "Play a fresh episode now"
    app.run()
    app.number_input[0].set_value(11)
    app.slider[0].set_value(100)
    next(button for button in app.button if button.label == "Play").click().run()
    assert not app.exception
    assert any("seed 11" in caption.value for caption in app.caption)
    assert app.slider[-1].max == 99  # the moment slider of the fresh episode


def test_page_says_when_no_policy_is_shipped(gallery, monkeypatch, tmp_path):
    monkeypatch.setattr(atari, "MODEL_DIR", tmp_path)
    app = gallery.switch_page("pages/atari.py").run()
    assert not app.exception and "No trained policy is shipped yet" in app.warning[0].value


def test_gradio_endpoint_returns_the_replay_and_every_decision(gradio_client):
    video, details = gradio_client.predict("Pong", "PPO agent", 5, 50, api_name="/atari")
    assert len(decoded(Path(video).read_bytes())) == 50
    assert details["decisions"] == 50 and len(details["steps"]) == 50 and details["stopped_early"] == "steps"
    assert set(details["steps"][0]) == {"action", "reward", "value", "probabilities"}


def test_gradio_endpoint_explains_an_absurd_seed(gradio_client):
    with pytest.raises(Exception, match="seed must be a whole number"):
        gradio_client.predict("Pong", "PPO agent", 2.5, 50, api_name="/atari")
