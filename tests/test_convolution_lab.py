"""The convolution lab computes what a CNN layer computes, a cross-correlation (checked against scipy and against
MobileNetV2's own first layer), shows every product of a picked pixel, and refuses a bad kernel with a message."""
import json

import numpy as np
import pytest
import torch
from scipy.signal import convolve2d, correlate2d

from conftest import as_shown, image_captions
from core.media import example_photo
from core.validation import InputError
from demos import convolution_lab as lab

RNG = np.random.default_rng(0)
IMAGE = RNG.uniform(0, 255, size=(37, 52))
KERNELS = [np.array(lab.SOBEL_X, float), np.array(lab.PRESETS["gaussian_blur"].kernels[0]),
           RNG.normal(size=(3, 3)), RNG.normal(size=(5, 5))]


@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("padding", [0, 1, 2])
@pytest.mark.parametrize("kernel", KERNELS, ids=["sobel_x", "gaussian", "random3", "random5"])
def test_the_lab_computes_scipys_cross_correlation_with_stride_and_zero_padding(kernel, padding, stride):
    reference = correlate2d(np.pad(IMAGE, padding), kernel, mode="valid")[::stride, ::stride]
    ours = lab.cross_correlate(IMAGE, kernel, stride, padding)
    np.testing.assert_allclose(ours, reference, rtol=1e-10, atol=1e-9)
    assert ours.shape == tuple(lab.output_side(side, kernel.shape[0], stride, padding) for side in IMAGE.shape)
    # a mathematician's convolution is the same with the kernel flipped
    flipped = convolve2d(np.pad(IMAGE, padding), kernel[::-1, ::-1], mode="valid")[::stride, ::stride]
    np.testing.assert_allclose(ours, flipped, rtol=1e-10, atol=1e-9)


def test_a_cnn_does_not_flip_the_kernel_so_sobel_x_differs_from_scipys_convolution():
    sobel = np.array(lab.SOBEL_X, float)
    ours = lab.cross_correlate(IMAGE, sobel)
    np.testing.assert_allclose(convolve2d(IMAGE, sobel, mode="valid"), -ours, atol=1e-9)  # flipped Sobel x = -Sobel x


def test_mobilenets_first_layer_is_the_same_sum_of_products_over_three_colours():
    from demos.networks.mobilenet_v2 import to_input

    layer = lab.first_layer(example_photo("Coffee"))
    batch = to_input(layer.crop, "cpu")
    pixels = batch[0].numpy().astype(np.float64)
    by_hand = sum(lab.cross_correlate(pixels[colour], layer.filters[5, colour].astype(np.float64), stride=2,
                                      padding=1) for colour in range(3))
    with torch.inference_mode():
        convolved = lab.load().network.first_layer(batch.to(lab.load().device))[0, 5].cpu().numpy()
    np.testing.assert_allclose(by_hand, convolved, atol=1e-4)
    assert layer.filters.shape == (32, 3, 3, 3) and layer.responses.shape[0] == 32


def test_the_picked_pixel_is_the_sum_of_its_products_and_its_output_value():
    result = lab.convolve(example_photo("Astronaut"), lab.kernels_for("laplacian"), stride=2, padding=1, size=128)
    pixel = lab.pixel_sum(result, 20, 33)
    assert pixel.value == pytest.approx(result.output[20, 33]) == pytest.approx(pixel.products[0].sum())
    np.testing.assert_array_equal(pixel.patch, np.pad(result.image, 1)[40:43, 66:69])
    assert (pixel.top, pixel.left) == (39, 65)


def test_the_gradient_magnitude_combines_sobel_x_and_y():
    result = lab.convolve(example_photo("Coffee"), lab.kernels_for("gradient_magnitude"), size=64)
    np.testing.assert_allclose(result.output, np.hypot(*result.maps))
    pixel = lab.pixel_sum(result, 10, 12)
    assert pixel.value == pytest.approx(np.hypot(*pixel.sums)) == pytest.approx(result.output[10, 12])


def test_a_pixel_past_the_edge_moves_onto_it_and_says_so():
    result = lab.convolve(example_photo("Coffee"), lab.kernels_for("sobel_y"), stride=4, size=64)
    pixel = lab.pixel_sum(result, 500, 0)
    assert pixel.moved and pixel.row == result.output.shape[0] - 1
    assert "past the output's edge" in lab.pixel_words(result, pixel)


def test_typed_fractions_and_commas_make_a_kernel_and_an_edited_preset_is_the_visitors():
    np.testing.assert_allclose(lab.parse_kernel("1/9, 1/9, 1/9\n1/9 1/9 1/9; 1/9 1/9 1/9"), np.full((3, 3), 1 / 9))
    (blur,) = lab.typed_kernels("box_blur", lab.kernel_text(lab.kernels_for("box_blur")[0]))
    assert blur.sum() == pytest.approx(1.0, abs=1e-12)  # the preset's exact ninths, not the rounded text
    (edited,) = lab.typed_kernels("sharpen", "0 -1 0\n-1 9 -1\n0 -1 0")
    assert edited[1, 1] == 9


@pytest.mark.parametrize("text, message", [
    ("1 2 x\n1 1 1\n1 1 1", "row 1: 'x' is not a number"),
    ("1 1 1\nnan 1 1\n1 1 1", "row 2: 'nan' is not a number"),
    ("1 1 1\n1 1e400 1\n1 1 1", "not a finite number"),
    ("1 1/0 1\n1 1 1\n1 1 1", "not a finite number"),
    ("1 1\n1 1", "3x3 or 5x5; this one has 2 rows of 2 numbers"),
    ("1 1 1\n1 1\n1 1 1", "3x3 or 5x5; this one has 3 rows of 2 or 3 numbers"),
    ("   ", "type 3 or 5 rows"),
])
def test_a_bad_kernel_gets_a_clear_message(text, message):
    with pytest.raises(InputError, match=message):
        lab.ENDPOINTS[0].run(photo=example_photo("Coffee"), kernel="custom", custom_kernel=text, stride=1,
                             padding=1, size="64", row=0, column=0)


def test_a_sharpened_photo_is_shown_as_brightness_and_an_edge_map_around_mid_grey():
    photo = example_photo("Coffee")
    sharpened = lab.convolve(photo, lab.kernels_for("sharpen"), size=64)
    np.testing.assert_array_equal(np.asarray(lab.output_picture(sharpened)),
                                  np.clip(np.round(sharpened.output), 0, 255).astype(np.uint8))
    edges = lab.convolve(photo, lab.kernels_for("sobel_x"), size=64)
    assert "mid-grey is 0" in lab.shown_how(edges)


def test_page_shows_the_output_the_products_and_the_trained_filters(gallery):
    app = gallery.switch_page("views/convolution_lab.py").run()
    assert not app.exception and not app.error
    captions = image_captions(app)
    assert any(caption.startswith("Output 256x256: values") for caption in captions), captions
    assert any("Output pixel (row 80, column 120) reads the patch" in as_shown(text.value) for text in app.markdown)
    assert [heading.value for heading in app.subheader] == ["One output pixel, by hand", "A trained CNN's first layer"]
    next(slider for slider in app.slider if slider.label == "Stride").set_value(2).run()
    assert any(caption.startswith("Output 128x128") for caption in image_captions(app))


def test_page_refuses_a_typed_kernel_with_a_word_in_it(gallery):
    app = gallery.switch_page("views/convolution_lab.py").run()
    app.selectbox(key="convolution_kernel").set_value("custom").run()
    app.text_area(key="kernel_custom").set_value("1 1 1\n1 one 1\n1 1 1").run()
    assert "row 2: 'one' is not a number" in as_shown(app.error[0].value)


def test_gradio_api_convolves_and_explains_a_bad_kernel(gradio_client, tmp_path):
    from gradio_client import handle_file

    example_photo("Astronaut").save(tmp_path / "astronaut.png")
    photo = handle_file(str(tmp_path / "astronaut.png"))
    _, details, *insides = gradio_client.predict(photo, "laplacian", "", 2, 0, "128", 10, 10,
                                                 api_name="/convolution_lab")
    details = details if isinstance(details, dict) else json.loads(details)
    assert details["output"] == [63, 63] and len(insides) == 3
    with pytest.raises(Exception, match="is not a number"):
        gradio_client.predict(photo, "custom", "1 2 3\n4 five 6\n7 8 9", 1, 1, "128", 0, 0,
                              api_name="/convolution_lab")
