"""Atari agents as a visitor uses them: watch the shipped PPO policy play, inspect a moment, compare with random,
and watch one's own policy (an uploaded .safetensors) play the same way.

Episodes here are cut short (a whole game of Pong is thousands of decisions); learning
itself is measured by benchmarks/bench_atari.py, not tested.
"""
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from gradio_client import handle_file
from PIL import Image
from safetensors.torch import load, save

from conftest import as_shown
from core.validation import InputError
from core.video import opened_video, read_frames
from demos import atari

SHORT = 300  # decisions: 20 s of play, about 5 s of computing here
UPLOAD_NAME = "my pong.safetensors"


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

    # the no-op counts are drawn differently: compare without them
    monkeypatch.setattr(atari.environment, "NOOP_MAX", 0)
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
    assert [report.done for report in episode.reports] == list(range(1, SHORT + 1))
    assert {report.total for report in episode.reports} == {SHORT}
    assert episode.reports[-1].note == f"score {episode.score:+g}" and episode.score == episode.rewards.sum()
    assert episode.reports[-1].preview.shape == frames[-1].shape  # the live view shows the replay's frame


def test_a_fixed_seed_gives_the_same_game_and_another_seed_another(short_episode):
    again = atari.play("pong", seed=3, max_steps=80)
    np.testing.assert_array_equal(again.actions, short_episode.actions[:80])
    np.testing.assert_array_equal(again.frames, short_episode.frames[:81])
    np.testing.assert_allclose(again.values, short_episode.values[:80], rtol=1e-5)
    other = atari.play("pong", seed=4, max_steps=80)
    assert not np.array_equal(other.actions, again.actions)


def test_the_random_agent_starts_from_the_same_screen_and_has_no_critic(short_episode):
    random = atari.play("pong", seed=3, max_steps=40, agent="random")
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


def test_what_travels_to_the_model_work_names_the_network_and_never_holds_it(short_episode):
    """In Ray mode the policy and the episode travel between processes: plain data, the network built where it runs."""
    from core.models import MODELS

    MODELS.evict("atari:pong")
    shipped = atari.shipped_policy("pong")
    assert (shipped.game, shipped.weights, shipped.label) == ("pong", None, "shipped policy")
    assert not MODELS.is_loaded("atari:pong")  # naming the shipped policy loads nothing
    assert short_episode.policy == shipped and short_episode.device == atari.network_of(shipped).device
    mine = atari.uploaded_policy("pong", UPLOAD_NAME, shipped_bytes())
    assert not any(isinstance(value, torch.nn.Module) for value in (*vars(mine).values(), *mine.weights.values()))


def test_the_recorded_replays_are_played_in_the_background_once_for_every_visitor(monkeypatch):
    """What a process (or replica) does as it starts: the first visitor finds the replays played."""
    from core.memo import RESULTS

    monkeypatch.setattr(atari.replay, "REPLAY_STEPS", 20)
    RESULTS.clear()
    try:
        atari.precompute_replays().join(120)
        keys = [f"atari_replay:{game}:{agent}:20" for game in atari.shipped_games() for agent in atari.AGENTS]
        assert keys and all(key in RESULTS and RESULTS.compute_counts[key] == 1 for key in keys)
        heard = []
        episode = atari.recorded_replay("pong", "policy", heard.append)
        assert episode.decisions == 20 and heard == []  # nobody plays it again, so nobody hears of it
        assert RESULTS.compute_counts["atari_replay:pong:policy:20"] == 1
    finally:
        RESULTS.clear()


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
    (lambda: atari.play("Pong"), "Unknown game 'Pong'"),  # the label: the demo takes values
    (lambda: atari.play("pong", agent="PPO agent"), "Unknown agent 'PPO agent'"),
])
def test_bad_requests_get_a_clear_message(call, message):
    with pytest.raises(InputError, match=message):
        call()


def test_a_missing_rom_gets_a_clear_message(monkeypatch, tmp_path):
    monkeypatch.setenv("ALE_ROMS_DIR", str(tmp_path))  # ale-py looks for its ROMs here: none
    with pytest.raises(InputError, match="Pong ROM is missing"):
        atari.make_env("pong")


def test_a_game_without_a_shipped_policy_says_so(monkeypatch, tmp_path):
    monkeypatch.setattr(atari.policy, "MODEL_DIR", tmp_path)
    assert atari.shipped_games() == []
    with pytest.raises(InputError, match="No trained policy for Breakout is shipped yet"):
        atari.play("breakout")
    assert atari.play("breakout", max_steps=5, agent="random").decisions == 5  # the random agent needs no policy


# --- the visitor's own policy -------------------------------------------------------------------

def shipped_bytes() -> bytes:
    """The shipped Pong weights as a visitor would upload them: only bytes, under their own name."""
    return atari.policy_file("pong").read_bytes()


def edited(change) -> bytes:
    """The shipped Pong weights with ``change`` applied to their {name: tensor}, saved again as safetensors."""
    tensors = load(shipped_bytes())
    change(tensors)
    return save(tensors)


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def pickled_checkpoint() -> bytes:
    buffer = io.BytesIO()
    torch.save(load(shipped_bytes()), buffer)  # what train_atari.py's checkpoint.pt is: a pickle
    return buffer.getvalue()


def as_breakout(tensors: dict) -> None:
    """Pong's network cut to Breakout's 4 actions: what a Breakout policy looks like."""
    for name in ("actor.weight", "actor.bias"):
        tensors[name] = tensors[name][:4].clone()


def test_the_shipped_weights_uploaded_replay_the_shipped_game_exactly(short_episode):
    mine = atari.uploaded_policy("pong", UPLOAD_NAME, shipped_bytes())
    assert atari.network_of(mine).network is not atari.network_of(atari.load("pong")).network  # its own network
    episode = atari.play("pong", seed=3, max_steps=80, policy=mine)
    np.testing.assert_array_equal(episode.actions, short_episode.actions[:80])
    np.testing.assert_array_equal(episode.probabilities, short_episode.probabilities[:80])
    np.testing.assert_array_equal(episode.values, short_episode.values[:80])
    np.testing.assert_array_equal(atari.saliency(episode, 40).heat, atari.saliency(short_episode, 40).heat)
    assert episode.player == f"PPO agent: your upload {UPLOAD_NAME}"
    assert short_episode.player == "PPO agent: shipped policy"
    assert atari.summary(episode)["policy"] == f"your upload {UPLOAD_NAME}"


def test_an_uploaded_policy_plays_and_explains_with_its_own_weights():
    def always_fire(tensors: dict) -> None:  # an actor blind to the screen, a critic sure of +100
        tensors["actor.weight"].zero_()
        tensors["actor.bias"][:] = torch.tensor([0.0, 50.0, 0.0, 0.0, 0.0, 0.0])
        tensors["critic.bias"] += 100.0

    episode = atari.play("pong", seed=3, max_steps=20,
                         policy=atari.uploaded_policy("pong", "fire.safetensors", edited(always_fire)))
    assert (episode.actions == 1).all() and episode.probabilities[:, 1].min() > 0.999
    assert episode.values.min() > 50
    found = atari.saliency(episode, 5)  # its own network: no pixel moves a blind actor
    assert not found.heat.any() and found.frame_shares is None
    assert atari.network_of(atari.load("pong")).network.actor.bias.abs().max() < 50  # the shipped model is as it was


@pytest.mark.parametrize("data, message", [
    (lambda: edited(as_breakout), r"actor\.weight is 4x512, expected 6x512; actor\.bias is 4, expected 6\. "
                                  r"Expected the actor-critic .*\(6: NOOP, FIRE, RIGHT, LEFT, RIGHTFIRE, LEFTFIRE\)"),
    (lambda: save({f"agent.{name}": tensor for name, tensor in load(shipped_bytes()).items()}),
     r"torso\.0\.weight is missing; .* \(and 20 more\)\. Expected .*torso\.0\.weight 32x4x8x8"),
    (lambda: shipped_bytes()[:len(shipped_bytes()) // 2], "damaged or incomplete .*incomplete metadata"),
    (png_bytes, "not a safetensors file"),
    (pickled_checkpoint, r"not a safetensors file.*PyTorch checkpoints \(\.pt, \.pth\) are refused"),
    (lambda: b"", r"policy file is empty \(0 bytes\)"),
    (lambda: bytes(atari.MAX_POLICY_BYTES + 1), "policy file is too large .* the limit is 20 MB"),
    (lambda: edited(lambda tensors: tensors["critic.weight"].fill_(float("nan"))), "NaN or infinite weights"),
])
def test_a_bad_policy_file_gets_a_clear_message(data, message):
    with pytest.raises(InputError, match=message):
        atari.uploaded_policy("pong", "mine.safetensors", data())


def test_page_shows_both_replays_and_inspects_a_moment(gallery, monkeypatch):
    monkeypatch.setattr(atari.replay, "REPLAY_STEPS", 60)
    app = gallery.switch_page("views/atari.py").run()
    assert not app.exception
    assert len(app.get("video")) == 2
    assert [metric.label for metric in app.metric][:3] == ["Score", "Decisions", "Game time"]
    assert app.slider[0].max == 59
    app.radio[0].set_value("occlusion").run()
    assert not app.exception
    assert any("stacked frames" in markdown.value for markdown in app.markdown)


def test_page_plays_a_fresh_episode_with_a_seed(gallery):
    app = gallery.switch_page("views/atari.py")
    app.session_state["atari_mode"] = "Play a fresh episode now"
    app.run()
    app.number_input[0].set_value(11)
    app.slider[0].set_value(100)
    next(button for button in app.button if button.label == "Play").click().run()
    assert not app.exception
    assert any("seed 11" in caption.value for caption in app.caption)
    assert app.slider[-1].max == 99  # the moment slider of the fresh episode


def fresh_upload_page(gallery):
    """The page in fresh-episode mode with the policy source on Upload, run once (no file yet)."""
    app = gallery.switch_page("views/atari.py")
    app.session_state["atari_mode"] = "Play a fresh episode now"
    app.session_state["atari_policy_source"] = "Upload"
    return app.run()


def play_button(app):
    return next(button for button in app.button if button.label == "Play")


def test_page_replays_an_uploaded_policy_and_says_whose_it_is(gallery):
    app = fresh_upload_page(gallery)
    assert not app.exception and play_button(app).disabled and "Watch your own agent" in app.info[0].value
    app.file_uploader[0].upload(UPLOAD_NAME, shipped_bytes()).run()
    assert f"Your upload {UPLOAD_NAME} fits the Pong agent" in as_shown(app.success[0].value)
    app.slider[0].set_value(100)
    play_button(app).click().run()
    assert not app.exception
    assert f"PPO agent: your upload {UPLOAD_NAME}" in [as_shown(markdown.value).strip("*") for markdown in app.markdown]
    assert any(as_shown(caption.value) == f"PPO agent: your upload {UPLOAD_NAME}, seed 1." for caption in app.caption)
    assert app.slider[-1].max == 99 and len(app.get("video")) == 2


def test_page_refuses_a_policy_for_another_game_with_a_message(gallery):
    app = fresh_upload_page(gallery)
    app.file_uploader[0].upload("breakout.safetensors", edited(as_breakout)).run()
    assert not app.exception and "does not fit the Pong agent" in app.error[0].value


def test_page_says_when_no_policy_is_shipped(gallery, monkeypatch, tmp_path):
    monkeypatch.setattr(atari.policy, "MODEL_DIR", tmp_path)
    app = gallery.switch_page("views/atari.py").run()
    assert not app.exception and "No trained policy is shipped yet" in app.warning[0].value


def test_gradio_endpoint_returns_the_replay_and_every_decision(gradio_client):
    video, details, *insides = gradio_client.predict("pong", "policy", 5, 50, None, api_name="/atari")
    assert len(decoded(Path(video).read_bytes())) == 50
    assert details["decisions"] == 50 and len(details["steps"]) == 50 and details["stopped_early"] == "steps"
    assert set(details["steps"][0]) == {"action", "reward", "value", "probabilities"}
    assert details["policy"] == "shipped policy"
    mind, overlay, frames, decision, curve, note = insides
    for picture in (mind, overlay, frames, decision, curve):
        with Image.open(picture) as shown:
            assert shown.format == "PNG"
    assert note.startswith("**Decision 49**")  # the last of a short episode


def test_gradio_endpoint_plays_an_uploaded_policy(gradio_client, tmp_path):
    path = tmp_path / "mine.safetensors"
    path.write_bytes(shipped_bytes())
    _, details, *_ = gradio_client.predict("pong", "policy", 5, 20, handle_file(str(path)), api_name="/atari")
    assert details["policy"] == "your upload mine.safetensors" and details["decisions"] == 20
    path.write_bytes(edited(as_breakout))
    with pytest.raises(Exception, match="does not fit the Pong agent"):
        gradio_client.predict("pong", "policy", 5, 20, handle_file(str(path)), api_name="/atari")


def test_gradio_endpoint_explains_an_absurd_seed(gradio_client):
    with pytest.raises(Exception, match="expected a whole number, not 2.5"):
        gradio_client.predict("pong", "policy", 2.5, 50, None, api_name="/atari")


def endpoint_defaults(**changes) -> dict:
    defaults = {field.name: getattr(field, "default", None) for field in atari.ENDPOINTS[0].inputs}
    return defaults | {"max_steps": 60} | changes


def test_the_endpoint_shows_the_pages_insides_of_the_moment_it_inspects_first(short_episode):
    """A moment inspected as the page does at first: its step, gradient saliency, the training record."""
    endpoint = atari.ENDPOINTS[0]
    reported = []
    results = endpoint.run(progress=reported.append, **endpoint_defaults())
    assert all(result is not None and kind.accepts(result) for kind, result in zip(endpoint.results, results))
    _, details, _, overlay, _, _, curve, note = results
    episode = atari.play("pong", atari.REPLAY_SEED, 60)  # what the page shows of the same game
    step = atari.default_step(episode)
    assert step == 59 and atari.default_step(short_episode) == 150
    expected = atari.saliency_overlay(episode, step, atari.saliency(episode, step, "gradient"))
    np.testing.assert_array_equal(np.asarray(overlay), np.asarray(expected))
    assert curve.size == Image.open(atari.learning_curve("pong")).size
    assert all(value in note for value in atari.moment_numbers(episode, step).values())
    assert atari.training_note("pong") in note and details["decisions"] == 60
    assert [report.done for report in reported] == list(range(1, 61)) and reported[-1].preview is not None


def test_the_endpoint_inspects_the_random_agents_moment_too():
    results = atari.ENDPOINTS[0].run(**endpoint_defaults(agent="random", max_steps=5))
    assert all(result is not None for result in results) and results[-1].startswith("**Decision 4**")


@pytest.mark.parametrize("field, label", [("agent", "PPO agent"), ("game", "Pong")])
def test_the_endpoint_takes_values_and_refuses_a_label(field, label):
    with pytest.raises(InputError, match=f"'{label}' is not one of"):
        atari.ENDPOINTS[0].run(**endpoint_defaults(**{field: label}))


def test_training_goes_on_from_the_shipped_policy_when_no_checkpoint_is_left(tmp_path):
    """runs/ is not in a fresh clone: --warm-start carries the shipped weights, counters and episode log on."""
    shipped = atari.MODEL_DIR / "pong.safetensors"
    subprocess.run([sys.executable, "scripts/train_atari.py", "--game", "pong", "--minutes", "0", "--threads", "1",
                    "--warm-start", str(shipped), "--work-dir", str(tmp_path / "run"),
                    "--export-dir", str(tmp_path / "export")], check=True, capture_output=True, timeout=300)
    exported, record = (json.loads(path.read_text()) for path in (tmp_path / "export" / "pong.json",
                                                                   shipped.with_suffix(".json")))
    for key in ("agent_steps", "updates", "training_episodes", "training_minutes"):
        assert exported[key] == record[key]
    assert exported["warm_started_at_agent_steps"] == record["agent_steps"]
    weights = load((tmp_path / "export" / "pong.safetensors").read_bytes())
    assert all(torch.equal(weights[name], tensor) for name, tensor in load(shipped.read_bytes()).items())
    shipped_log = shipped.with_name("pong_episodes.json")
    expected_log = json.loads(shipped_log.read_text()) if shipped_log.exists() else []
    assert json.loads((tmp_path / "export" / "pong_episodes.json").read_text()) == expected_log


def test_training_logs_a_breakout_game_when_its_last_life_is_lost_not_each_life():
    """The training log's scores are whole games although a lost life ends a training episode."""
    from scripts.train_atari import games_over, make_envs

    envs = make_envs("breakout", 2, seed=1, threads=1)
    lives = envs.reset(seed=1)[1]["lives"]
    rng, logged, resets, frame = np.random.default_rng(0), 0, 0, np.zeros(2)
    for _ in range(1500):
        _, _, terminated, truncated, info = envs.step(rng.integers(0, 4, 2))
        resets += int(np.sum(info["episode_frame_number"] < frame))  # a new game starts its frame count again
        frame = info["episode_frame_number"]
        logged += int(games_over(terminated, truncated, lives, info["lives"]).sum())
        lives = info["lives"]
    envs.close()
    assert resets >= 3 and logged == resets
