"""Atari agents: watch policies we trained with PPO play, with what they wanted at every frame.

Reinforcement learning in one picture: an *agent* sees the screen, picks a joystick action,
and gets a *reward* (a point won or lost in Pong, bricks in Breakout); it learns to act so
that the rewards add up. The agents here were trained in this project with **PPO**
(proximal policy optimisation, Schulman et al. 2017; ``scripts/train_atari.py``): one
network with a shared Nature-CNN torso (Mnih et al. 2015) and two heads, an *actor* that
gives a probability for each action (the policy) and a *critic* that estimates how much
reward is still to come (the value). Weights and training record ship in ``models/atari/``.

The story of a call: preprocess (the standard Atari pipeline: 84x84 grey frames, 4 emulator
frames per decision with the last two max-pooled, a stack of the last 4 frames, up to 30
no-ops at the start, FIRE to serve; exactly the frames the agent trained on), forward (the
actor's probabilities and the critic's value, one action sampled from the policy),
postprocess (a replay video with the agent's mind drawn beside the game), explain (the
stacked frames the network saw, a saliency map of where it looked, its mind over time, and
a random agent on the same seed for comparison).

A visitor who trained an agent with ``scripts/train_atari.py`` can upload its
``<game>.safetensors`` (``uploaded_policy``): checked to fit the network and the game, it plays
through the same path as the shipped policy, for that visitor's call only.

The package reads in that order: ``environment`` (the game and its frames), ``policy`` (the
network, shipped or uploaded), ``replay`` (playing an episode, the replay video), ``recorded``
(the replays every visitor sees first, played once), ``insides`` (saliency, the agent's mind);
here, the card, the story for the page and the endpoint. Playing and saliency are the demo's model
work (``core.engine``): in Ray mode they run in the demo's replica, which also keeps the recorded
replays (``precompute_replays`` plays them as a process or replica starts).
"""
from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure
from PIL import Image

from core.contract import (ChoiceField, DemoCard, Endpoint, FigureOutput, FileField, ImageOutput, JsonOutput,
                           MarkdownOutput, NumberField, VideoOutput, choices)
from core.progress import ProgressCallback
from core.validation import MB
# the demo's public face, as pages, tests, scripts and benchmarks use it (``demo.X``)
from demos.atari.environment import (AGENTS, DEFAULT_GAME, DEFAULT_STEPS, FRAME_SKIP, GAMES, MAX_SEED, MAX_STEPS,
                                     OBSERVATION_SHAPE, action_names, checked_agent, checked_game, checked_seed,
                                     checked_steps, make_env)
from demos.atari.insides import (DEFAULT_SALIENCY, SALIENCY_METHODS, Saliency, decision_figure, default_step,
                                 input_stack, mind_figure, moment_note, moment_numbers, saliency, saliency_of,
                                 saliency_overlay, stacked_frames, stacked_frames_figure, summary)
from demos.atari.policy import (MAX_POLICY_BYTES, MODEL_CARD_NOTE, MODEL_DIR, Network, Policy, decide,
                                learning_curve, learning_curve_picture, load, network_of, no_policy_message,
                                policy_file, shipped_games, shipped_policy, training_note, training_record,
                                uploaded_policy)
from demos.atari.recorded import kept_replay, precompute_replays, recorded_replay
from demos.atari.replay import REPLAY_SEED, TIME_LIMIT, VIDEO_FPS, Episode, Step, agent_steps, play, played, screen

on_start = precompute_replays  # core.engine.start_shared_work: the recorded replays, before the first visitor

CARD = DemoCard(
    slug="atari",
    title="Atari Agents (PPO)",
    icon="🕹️",
    pitch="Watch agents we trained with a policy-gradient method play Atari, with what they wanted "
          "and where they looked at every frame.",
    tags=("reinforcement learning", "PPO", "actor-critic", "saliency"),
    inputs=("none", "weights"),
)


HOW_IT_WORKS = """
**What the agent sees.** Not the colour screen: the standard Atari preprocessing turns each
screen grey and shrinks it to 84x84 pixels. The agent decides every 4th frame (15 times a
second) and its action is repeated in between; the last two frames are max-pooled (pixel by
pixel), because old consoles draw some objects only every other frame. One frame shows where the ball is
but not where it is going, so the network receives the **last 4 frames stacked**: motion
is in the differences between them. Each game starts with FIRE (to serve) and up to 30
random no-ops, so that games start differently.

**The network.** The Nature-CNN of DQN (Mnih et al. 2015): three convolutions (8x8 stride
4, 4x4 stride 2, 3x3) and a 512-unit layer, shared by two heads. The **actor** gives a
probability for each joystick action: the policy. The **critic** estimates the *value*:
how much reward, discounted by 0.99 per decision, is still to come. In a trained agent it
rises as a point is about to be won and drops before one is lost.

**How it learned: PPO.** The agent played several games at once (8 on a CPU), 128 decisions
each, then learned from that batch. Policy gradients make actions that turned out *better than the critic
expected* (the *advantage*, estimated with GAE) more probable, and worse ones less. PPO
(Schulman et al. 2017) clips the ratio of an action's new to old probability to 0.9-1.1
while learning from a batch, so one lucky batch cannot wreck the policy. Rewards were clipped to +-1 in training (the
scores shown are the real ones); an entropy bonus kept it exploring. It starts as a random
agent: the random agent beside its replay shows where it began.

**Your own agent.** Train one with `python scripts/train_atari.py --game pong --minutes 30` (run
it again to train on: it resumes), write its weights with `--export-only --export-dir my_agent`,
and upload `my_agent/pong.safetensors` under *Play a fresh episode now*. It plays the same
seeds through the same code as ours, with its probabilities, value and saliency on show. The
file holds tensors only (safetensors), so nothing in it runs; only you see your agent.

**Saliency.** The *gradient* map shows which pixels would change the chosen action's score
most if they changed a little (Simonyan et al. 2014); it is quick but noisy. *Occlusion*
(Greydanus et al. 2018) blurs a small patch at each place in turn and measures how much the
policy's outputs move: slower, but it says what the agent actually relies on.
"""


# --- Gradio / HTTP endpoint -------------------------------------------------------------

def _endpoint(game: str, agent: str, seed: int, max_steps: int, policy_file: str | None = None,
              progress: ProgressCallback | None = None) -> tuple[bytes, dict, Figure, Image.Image, Figure, Figure,
                                                                  Image.Image | None, str]:
    policy = uploaded_policy(game, Path(policy_file).name, Path(policy_file)) if policy_file else None
    episode = play(game, seed, max_steps, agent, progress, policy=policy)
    # the page's "inspect a moment" at its first decision and saliency method, then "How it learned"
    step = default_step(episode)
    found = saliency(episode, step, DEFAULT_SALIENCY)
    return (episode.video, summary(episode), mind_figure(episode, step), saliency_overlay(episode, step, found),
            stacked_frames_figure(episode, step, found), decision_figure(episode, step), learning_curve_picture(game),
            moment_note(episode, step))


ENDPOINTS = (Endpoint(
    fn=_endpoint,
    inputs=(
        ChoiceField("game", "Game (the PPO agent needs a trained policy; the random agent plays any)",
                    choices(GAMES, GAMES.get), DEFAULT_GAME),
        ChoiceField("agent", "Agent", choices(AGENTS, AGENTS.get), "policy"),
        NumberField("seed", "Seed (the no-op start and the sampled actions)", 0, MAX_SEED, REPLAY_SEED, integer=True),
        NumberField("max_steps", f"Episode length cap (decisions; 15 per second of play, {TIME_LIMIT:.0f} s of "
                                 "computing at most)", 1, MAX_STEPS, DEFAULT_STEPS, integer=True),
        FileField("policy_file", "Your own policy (optional): the <game>.safetensors scripts/train_atari.py "
                                 f"exports, up to {MAX_POLICY_BYTES // MB} MB; plays instead of ours",
                  (".safetensors",)),
    ),
    outputs=(VideoOutput("Replay, the agent's mind beside the game"), JsonOutput("Score and every decision")),
    insides=(FigureOutput("The agent's mind over the episode: action probabilities, value, score (orange: the "
                          "decision inspected)"),
             ImageOutput("The decision inspected: the screen, and where the choice came from (red, gradient "
                         "saliency)"),
             FigureOutput("The 4 stacked frames the network received then (84x84, grey, oldest first)"),
             FigureOutput("That decision: the probability of each action (the one taken in orange)"),
             ImageOutput("How it learned: the score during training"),
             MarkdownOutput("The decision in numbers, and the training record")),
),)
