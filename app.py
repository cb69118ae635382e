"""Neural Gallery: entry point, navigation and the gallery home. Loads no model and imports no demo."""
from __future__ import annotations

import streamlit as st

from core.contract import DemoCard
from demos import CARDS, is_lab

CARDS_PER_ROW = 3
LABS_INTRO = ("The course's labs: the lectures' ideas, from a convolution computed by hand to what a trained "
              "network sees, to try out step by step.")


def groups() -> dict[str, list[DemoCard]]:
    """The cards as the home page and the navigation show them: demos, then labs (a group only if it has cards)."""
    grouped = {"Demos": [card for card in CARDS if not is_lab(card)], "Labs": [card for card in CARDS if is_lab(card)]}
    return {name: cards for name, cards in grouped.items() if cards}


def input_line(inputs: tuple[str, ...]) -> str:
    """ "Input: image, camera"; a demo that runs without one says so and names what it can take."""
    given = [kind for kind in inputs if kind != "none"]
    if "none" not in inputs:
        return "Input: " + ", ".join(given)
    return "Input: none needed" + (f" (optional: {', '.join(given)})" if given else "")


def home() -> None:
    st.title("🖼️ Neural Gallery")
    st.markdown(
        "Live machine-learning demos from the course, each with its insides on show. "
        "Open a demo, give it your own photo, recording or text, and see the answer "
        "and *how* the model got there."
    )
    st.caption("Every model works offline; each demo says whether it ran on a GPU or the CPU.")
    shown = groups()
    for name, cards in shown.items():
        if len(shown) > 1:  # with labs on show, each group under its name
            st.header(name)
            if name == "Labs":
                st.write(LABS_INTRO)
        card_grid(cards)


def card_grid(cards: list[DemoCard]) -> None:
    for start in range(0, len(cards), CARDS_PER_ROW):
        columns = st.columns(CARDS_PER_ROW)
        for column, card in zip(columns, cards[start:start + CARDS_PER_ROW]):
            with column, st.container(border=True):
                show_card(card)


def show_card(card: DemoCard) -> None:
    kind = "lab" if is_lab(card) else "demo"
    if card.error:
        st.subheader(f"{card.icon} {card.title}")
        st.warning(f"This {kind} could not be loaded on this server; the others work.")
        return
    if card.thumbnail.exists():
        st.image(str(card.thumbnail), width="stretch")
    st.subheader(f"{card.icon} {card.title}")
    st.write(card.pitch)
    st.caption(" · ".join(card.tags) + "  \n" + input_line(card.inputs))
    st.page_link(card.page, label=f"Open {kind}", icon=":material/arrow_forward:")


def main() -> None:
    st.set_page_config(page_title="Neural Gallery", page_icon="🖼️", layout="wide")
    gallery = st.Page(home, title="Gallery", icon="🏠", default=True)
    sections = {name: [st.Page(card.page, title=card.title, icon=card.icon, url_path=card.slug)
                       for card in cards if not card.error] for name, cards in groups().items()}
    st.navigation({"Neural Gallery": [gallery], **{name: pages for name, pages in sections.items() if pages}}).run()


main()
