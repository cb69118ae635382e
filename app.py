"""Neural Gallery: entry point, navigation and the gallery home. Loads no model and imports no demo."""
from __future__ import annotations

import streamlit as st

from demos import CARDS

CARDS_PER_ROW = 3


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
    for start in range(0, len(CARDS), CARDS_PER_ROW):
        columns = st.columns(CARDS_PER_ROW)
        for column, card in zip(columns, CARDS[start:start + CARDS_PER_ROW]):
            with column, st.container(border=True):
                if card.error:
                    st.subheader(f"{card.icon} {card.title}")
                    st.warning("This demo could not be loaded on this server; the others work.")
                    continue
                if card.thumbnail.exists():
                    st.image(str(card.thumbnail), width="stretch")
                st.subheader(f"{card.icon} {card.title}")
                st.write(card.pitch)
                st.caption(" · ".join(card.tags) + "  \n" + input_line(card.inputs))
                st.page_link(card.page, label="Open demo", icon=":material/arrow_forward:")


def main() -> None:
    st.set_page_config(page_title="Neural Gallery", page_icon="🖼️", layout="wide")
    gallery = st.Page(home, title="Gallery", icon="🏠", default=True)
    demo_pages = [st.Page(card.page, title=card.title, icon=card.icon, url_path=card.slug)
                  for card in CARDS if not card.error]
    st.navigation({"Neural Gallery": [gallery], "Demos": demo_pages}).run()


main()
