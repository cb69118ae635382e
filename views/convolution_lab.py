"""Convolutions by Hand page: widgets only; the work is in demos.convolution_lab."""
from __future__ import annotations

import streamlit as st

from demos import convolution_lab as demo
from ui import streamlit_kit as kit
from ui.lab_kit import figure

kit.page_header(demo.CARD)
settings, result_column = st.columns((1, 2), gap="large")

with settings:
    photo = kit.image_input("convolution_photo")
    preset = st.selectbox("Kernel", [value for value, _ in demo.KERNEL_CHOICES],
                          format_func=dict(demo.KERNEL_CHOICES).__getitem__, key="convolution_kernel")
    if preset == demo.CUSTOM:
        typed = st.text_area("Kernel numbers (3 or 5 rows)", demo.DEFAULT_CUSTOM_KERNEL, key="kernel_custom")
    elif len(demo.PRESETS[preset].kernels) == 1:  # the preset's numbers, ready to edit into one's own
        shown = demo.kernel_text(demo.kernels_for(preset)[0])
        typed = st.text_area("Kernel numbers (edit them to make your own)", shown, key=f"kernel_{preset}")
    else:
        typed = ""
    if preset in demo.PRESETS:
        st.caption(demo.PRESETS[preset].note)
    stride = st.slider("Stride", 1, demo.MAX_STRIDE, 1)
    padding = st.slider("Padding (zeros around the image)", 0, demo.MAX_PADDING, 1)
    size = st.select_slider("Photo size (longer side, px)", demo.SIZES, value=demo.DEFAULT_SIZE)

if photo is None:
    st.stop()

with kit.user_errors():
    result = demo.convolve(photo, demo.typed_kernels(preset, typed), stride, padding, size)

with result_column:
    height, width = result.output.shape
    st.image(demo.output_picture(result), caption=f"Output {width}x{height}: {demo.shown_how(result)}",
             width="stretch")
    kit.ran_on("cpu", result.seconds)

st.subheader("One output pixel, by hand")
row_column, column_column = st.columns(2)
row = row_column.slider("Output pixel: row", 0, height - 1, min(80, height - 1))
column = column_column.slider("Output pixel: column", 0, width - 1, min(120, width - 1))
pixel = demo.pixel_sum(result, row, column)
sums, where = st.columns((2, 1), gap="large")
with sums:
    figure(demo.pixel_figure(result, pixel))
with where:
    st.image(demo.where_figure(result, pixel), caption="Where the kernel sat (red square), on the padded image",
             width="stretch")
st.markdown(demo.pixel_words(result, pixel))

st.subheader("A trained CNN's first layer")
with kit.user_errors(), st.spinner("Loading MobileNetV2…"):
    layer = demo.first_layer(photo)
filters, responses = st.columns((2, 3), gap="large")
with filters:
    figure(demo.filters_figure(layer))
with responses:
    figure(demo.responses_figure(layer))
kit.ran_on(layer.device, layer.seconds)

with st.expander("How it works", expanded=True):
    st.markdown(demo.HOW_IT_WORKS)
