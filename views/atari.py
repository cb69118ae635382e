"""Atari Agents page: widgets only; the work is in demos.atari."""
from __future__ import annotations

import streamlit as st

from core.progress import Progress
from demos import atari as demo
from ui import streamlit_kit as kit

FRESH = "atari_fresh"  # session key: the last fresh episodes (agent, random) survive reruns
RECORDED, FRESH_MODE = "Recorded replay", "Play a fresh episode now"
SHIPPED, UPLOAD = "Shipped", "Upload"
LIVE_EVERY = 10  # decisions between two pictures of the game being played


def live_view(title: str):
    """A progress bar with the score, a picture of the game as it is played, and the callback feeding both."""
    bar, picture = st.progress(0.0, text=title), st.empty()

    def show(progress: Progress) -> None:
        bar.progress(progress.fraction,
                     text=f"{title}: decision {progress.done:,} of at most {progress.total:,}, {progress.note}")
        if progress.done % LIVE_EVERY == 1:
            picture.image(progress.preview, width=420)

    return bar, picture, show


def play_both(play) -> tuple[demo.Episode, demo.Episode]:
    """The PPO agent's episode, then the random agent's, each with its live view."""
    played = []
    for agent in demo.AGENTS:
        bar, picture, show = live_view(f"{demo.AGENTS[agent]} playing")
        with kit.user_errors():
            played.append(play(agent, show))
        bar.empty()
        picture.empty()
    return played[0], played[1]


def forget_fresh() -> None:
    """A new policy choice: the episodes played by the previous one are not shown as its own."""
    st.session_state.pop(FRESH, None)


def chosen_policy(game: str) -> demo.Policy | None:
    """The shipped policy, or the visitor's own once uploaded and checked to fit ``game``; None until then."""
    source = st.segmented_control("PPO policy", [SHIPPED, UPLOAD], default=SHIPPED, key="atari_policy_source",
                                  on_change=forget_fresh) or SHIPPED
    if source == SHIPPED:
        return demo.shipped_policy(game)  # named, not loaded: the model work loads it where it runs
    upload = st.file_uploader(f"Your {demo.GAMES[game]} policy (.safetensors)", type=["safetensors"],
                              key="atari_policy_upload", on_change=forget_fresh)
    if upload is None:
        st.info(f"Watch your own agent: train it with `python scripts/train_atari.py --game {game}`, export it "
                f"with `--export-only --export-dir my_agent` and upload `my_agent/{game}.safetensors` "
                f"(up to {demo.MAX_POLICY_BYTES // demo.MB} MB). Only you see it.")
        return None
    policy = demo.uploaded_policy(game, upload.name, upload.getvalue())
    st.success(f"Your upload {kit.plain(upload.name)} fits the {demo.GAMES[game]} agent: press Play to watch it.")
    return policy


def chosen_episodes(game: str) -> tuple[demo.Episode, demo.Episode] | None:
    mode = st.segmented_control("Replay", [RECORDED, FRESH_MODE], default=RECORDED, key="atari_mode") or RECORDED
    if mode == RECORDED:
        st.caption(f"The shipped policy on seed {demo.REPLAY_SEED}, played once on this server on first use, then "
                   f"kept. To watch your own agent, choose “{FRESH_MODE}” and upload it.")
        return play_both(lambda agent, show: demo.recorded_replay(game, agent, show))
    with kit.user_errors():
        policy = chosen_policy(game)
    seed_column, steps_column, button_column = st.columns([1, 2, 1], vertical_alignment="bottom")
    seed = seed_column.number_input("Seed", 0, demo.MAX_SEED, 1, key="atari_seed",
                                    help="Fixes the no-op start and the actions sampled: same seed, same game.")
    steps = steps_column.slider("Episode length cap (decisions, 15 per second of play)", 100, demo.MAX_STEPS,
                                demo.DEFAULT_STEPS, 100, key="atari_steps")
    if button_column.button("Play", type="primary", icon=":material/play_arrow:", disabled=policy is None):
        st.session_state[FRESH] = (game, *play_both(
            lambda agent, show: demo.play(game, seed, steps, agent, show, policy=policy)))
    stored = st.session_state.get(FRESH)
    if stored is None or stored[0] != game:
        st.info(f"Choose a seed and press Play: the PPO agent, then a random agent, play {demo.GAMES[game]} "
                f"(up to {demo.TIME_LIMIT:.0f} s of computing each).")
        return None
    return stored[1], stored[2]


def replay_column(episode: demo.Episode) -> None:
    st.markdown(f"**{kit.plain(episode.player)}**")
    st.video(episode.video, format="video/mp4")
    kit.key_numbers({"Score": f"{episode.score:+g}", "Decisions": f"{episode.decisions:,}",
                     "Game time": f"{episode.decisions / demo.VIDEO_FPS:.0f} s"})
    if episode.note:
        st.warning(kit.plain(episode.note), icon="⏱️")
    st.caption(f"Played at {episode.decisions_per_second:.0f} decisions/s on **{episode.device.upper()}** "
               f"in {episode.seconds:.1f} s (seed {episode.seed}).")
    st.download_button("Download replay (MP4)", episode.video, file_name=f"{episode.game}_{episode.agent}_"
                       f"seed{episode.seed}.mp4", mime="video/mp4", on_click="ignore",
                       icon=":material/download:", key=f"atari_download_{episode.agent}")


def inspect_moment(episode: demo.Episode) -> None:
    st.subheader("The agent's mind over time")
    st.caption(f"{kit.plain(episode.player)}, seed {episode.seed}.")
    step = 0 if episode.decisions == 1 else st.slider(
        "Decision to inspect (15 per second of play)", 0, episode.decisions - 1, demo.default_step(episode),
        key="atari_step")
    st.pyplot(demo.mind_figure(episode, step))
    st.caption("Orange line: the decision inspected below. The replay shows the same probabilities and value "
               "beside the game, frame by frame.")
    methods = list(demo.SALIENCY_METHODS)
    method = st.radio("Saliency", methods, index=methods.index(demo.DEFAULT_SALIENCY),
                      format_func=demo.SALIENCY_METHODS.get, horizontal=True, key="atari_saliency")
    with kit.user_errors(), st.spinner("Looking where the agent looked…"):
        found = demo.saliency(episode, step, method)
    screen_column, frames_column, decision_column = st.columns([2, 3, 3], gap="medium")
    screen_column.image(demo.saliency_overlay(episode, step, found), width="stretch",
                        caption=f"Decision {step:,}: the screen, and where the choice came from (red)")
    with frames_column:
        st.markdown("**The 4 stacked frames the network received** (84x84, grey)")
        pictures = demo.stacked_frames(episode, step, found)
        for row in (pictures[:2], pictures[2:]):
            for column, (picture, caption) in zip(st.columns(2), row):
                column.image(picture, caption=caption, width="stretch")
        st.caption("Motion, hence where the ball is going, is only in the differences between the frames."
                   + (" The share of the gradient in each frame says how much the older ones mattered."
                      if found.frame_shares is not None else ""))
    with decision_column:
        st.pyplot(demo.decision_figure(episode, step))
        kit.key_numbers(demo.moment_numbers(episode, step))


def training(game: str) -> None:
    st.subheader("How it learned")
    curve, note = demo.learning_curve(game), demo.training_note(game)
    if curve is not None:
        st.image(str(curve), width=640)
    if note:
        st.caption(f"{note} {demo.MODEL_CARD_NOTE}")


kit.page_header(demo.CARD)
games = demo.shipped_games()
missing = [demo.GAMES[game] for game in demo.GAMES if game not in games]
if not games:
    st.warning("No trained policy is shipped yet: the agents are still training. Come back later.", icon="🏋️")
    st.stop()
if missing:
    st.caption(f"Still training, no policy shipped yet: {', '.join(missing)}.")
chosen = st.segmented_control("Game", games, default=games[0], format_func=demo.GAMES.get, key="atari_game")
chosen = chosen or games[0]
episodes = chosen_episodes(chosen)
if episodes is not None:
    agent_episode, random_episode = episodes
    agent_column, random_column = st.columns(2, gap="large")
    with agent_column:
        replay_column(agent_episode)
        kit.download_json(demo.summary(agent_episode), f"{chosen}_seed{agent_episode.seed}_decisions.json",
                          "Download every decision (JSON)")
    with random_column:
        replay_column(random_episode)
        st.caption("A random agent on the same seed: same start, actions drawn uniformly. The trained agent "
                   "began like this.")
    inspect_moment(agent_episode)
training(chosen)
with st.expander("How it works", expanded=False):
    st.markdown(demo.HOW_IT_WORKS)
