"""Style Transfer page: widgets only; the work is in demos.style_transfer."""
from __future__ import annotations

import streamlit as st

from core.media import example_texture_names
from demos import style_transfer as demo
from ui import streamlit_kit as kit

STYLE_THUMBNAIL_WIDTH = 104  # px: a name of up to three short words under each picture; three to a phone's row

kit.page_header(demo.CARD)
photo_column, style_column = st.columns(2, gap="large")

with photo_column:
    photo = kit.image_input("style_photo")
    size = st.select_slider("Output size (longer side, px)", demo.OUTPUT_SIZES, value=512)
    strength = st.slider("Style strength", 0.0, 1.0, 1.0, 0.05,
                         help="Built-in styles: blend with your photo. Style pictures: move the style "
                              "vector from your photo's own style towards the target.")

with style_column:
    use_pictures = st.toggle("Use style pictures instead of the 26 built-in styles")
    if use_pictures:
        style_a = kit.image_input("style_a", "Style picture", examples=example_texture_names(), camera=False)
    else:
        st.write("Pick a built-in style")
        style_a = kit.image_choice_grid("style_a", demo.builtin_style_thumbnails(), list(demo.BUILTIN_STYLE_NAMES),
                                        width=STYLE_THUMBNAIL_WIDTH, default=demo.DEFAULT_STYLE)
    style_b, mix = None, 0.0
    if st.checkbox("Blend with a second style"):
        if use_pictures:
            style_b = kit.image_input("style_b", "Second style picture",
                                      examples=example_texture_names()[1:], camera=False)
        else:
            style_b = st.selectbox("Second style", range(demo.BUILTIN_STYLE_COUNT), index=6,
                                   format_func=demo.BUILTIN_STYLE_NAMES.__getitem__)
        mix = st.slider("Mix (0 = first style, 1 = second)", 0.0, 1.0, 0.5, 0.05)

if photo is None or style_a is None:
    st.stop()

with kit.user_errors(), st.spinner("Painting…"):
    result = demo.stylize(photo, style_a, style_b, mix=mix, size=size, strength=strength)

before, after = st.columns(2)
before.image(result.content, caption="Your photo", width="stretch")
after.image(result.image, caption=f"Stylised, {result.image.width}x{result.image.height}", width="stretch")
kit.ran_on(result.device, result.seconds)
kit.download_image(result.image, "stylised.png")

with st.expander("How it works", expanded=True):
    words, chart = st.columns(2, gap="large")  # side by side on a wide screen (the chart at a readable size)
    words.markdown(demo.HOW_IT_WORKS)
    chart.pyplot(demo.explain(result))
